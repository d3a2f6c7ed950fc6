"""The Ansible inventory reader: the sample district, Ansible's variable precedence, and errors
that name the file, the host and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from smartclass.inventory import InventoryError, read_inventory

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "ansible" / "inventory" / "district12" / "hosts.yml"


def school_inventory(**server_vars: Any) -> dict[str, Any]:
    """One school: a server (broker and hub) and one Pi."""
    return {
        "all": {
            "children": {
                "hubs": {"hosts": {"srv": None}},
                "brokers": {"hosts": {"srv": None}},
                "edges": {"hosts": {"pi-1": None}},
                "school_s1": {
                    "vars": {"smartclass_site": "s1"},
                    "hosts": {
                        "srv": {"ansible_host": "10.0.0.1", **server_vars},
                        "pi-1": {"smartclass_room": "r1"},
                    },
                },
            }
        }
    }


def write(folder: Path, inventory: object, all_vars: str | None = None) -> Path:
    path = folder / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    if all_vars is not None:
        (folder / "group_vars").mkdir()
        (folder / "group_vars" / "all.yml").write_text(all_vars, encoding="utf-8")
    return path


def test_the_sample_district_reads_as_four_schools_with_their_rooms_and_broker_names() -> None:
    inventory = read_inventory(DISTRICT)
    assert inventory.topic_root == "sc"
    assert [s.site for s in inventory.schools] == [
        "thcs-nguyen-chi-thanh", "th-vo-thi-sau", "thcs-nguyen-an-ninh", "tthtcd-tan-thoi-nhat",
    ]  # fmt: skip
    assert sum(len(s.rooms) for s in inventory.schools) == 18
    first = inventory.schools[0]
    assert [r.room for r in first.rooms][:3] == ["6a1", "6a2", "7a1"]
    assert first.broker_host == first.hub_host == "srv-thcs-nguyen-chi-thanh"
    assert first.broker_names == (
        "srv-thcs-nguyen-chi-thanh", "10.12.1.10", "srv-thcs-nguyen-chi-thanh.q12.edu.vn",
    )  # fmt: skip
    assert first.hub_id == "hub-srv-thcs-nguyen-chi-thanh"


def test_the_topic_root_comes_from_group_vars_all_yml(tmp_path: Path) -> None:
    path = write(tmp_path, school_inventory(), "smartclass_topic_root: district9\n")
    assert read_inventory(path).topic_root == "district9"


def test_inner_groups_win_over_outer_ones_and_a_hosts_own_variables_over_both(
    tmp_path: Path,
) -> None:
    data = school_inventory(smartclass_hub_id="hub-main")
    data["all"]["vars"] = {"smartclass_site": "wrong"}
    data["all"]["children"]["school_s1"]["hosts"]["pi-1"]["smartclass_site"] = "s1"
    data["all"]["children"]["school_s1"]["children"] = {
        "wing_b": {"vars": {"smartclass_site": "s1"}, "hosts": {"pi-2": {"smartclass_room": "r2"}}}
    }
    data["all"]["children"]["edges"]["hosts"]["pi-2"] = None
    (school,) = read_inventory(write(tmp_path, data)).schools
    assert [(r.host, r.room) for r in school.rooms] == [("pi-1", "r1"), ("pi-2", "r2")]
    assert school.hub_id == "hub-main"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["all"]["children"]["school_s1"]["hosts"]["pi-1"].pop("smartclass_room"),
         "host pi-1: in group 'edges' but no smartclass_room"),
        (lambda d: d["all"]["children"]["school_s1"]["hosts"]["pi-1"].update(smartclass_room="R 1"),
         "host pi-1: smartclass_room"),
        (lambda d: d["all"]["children"]["school_s1"]["vars"].clear(),
         "host srv: in group 'brokers' but no smartclass_site"),
        (lambda d: d["all"]["children"]["brokers"]["hosts"].clear(),
         "site s1: no broker"),
        (lambda d: d["all"]["children"]["school_s1"]["hosts"]["srv"].update(
            smartclass_broker_names=["good.example", "bad name"]),
         "host srv: smartclass_broker_names: 'bad name' is neither a DNS name nor an address"),
        (lambda d: d["all"]["children"]["school_s1"]["hosts"]["srv"].update(
            smartclass_broker_names="srv.example"),
         "host srv: smartclass_broker_names: must be a list"),
        (lambda d: d["all"]["children"].update(school_s1=["srv"]),
         "group school_s1: must be a mapping"),
        (lambda d: d["all"]["children"]["edges"].update(host={"pi-1": None}),
         "group edges: unknown key 'host'"),
    ],
)  # fmt: skip
def test_an_inventory_error_names_the_file_the_host_and_the_key(
    tmp_path: Path, change: Any, expected: str
) -> None:
    data = school_inventory()
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(InventoryError) as caught:
        read_inventory(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_a_room_twice_and_a_second_broker_are_refused(tmp_path: Path) -> None:
    data = school_inventory()
    data["all"]["children"]["edges"]["hosts"]["pi-2"] = None
    data["all"]["children"]["school_s1"]["hosts"]["pi-2"] = {"smartclass_room": "r1"}
    with pytest.raises(InventoryError, match="host pi-2: room s1/r1 is already pi-1's"):
        read_inventory(write(tmp_path, data))
    data = school_inventory()
    data["all"]["children"]["brokers"]["hosts"]["pi-1"] = None
    with pytest.raises(InventoryError, match="a second broker for s1"):
        read_inventory(write(tmp_path, data))


def test_unreadable_files_and_a_bad_topic_root_name_their_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"no-such\.yml: cannot read the inventory"):
        read_inventory(tmp_path / "no-such.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("all: [\n", encoding="utf-8")
    with pytest.raises(InventoryError, match=r"broken\.yml: not valid YAML"):
        read_inventory(broken)
    with pytest.raises(InventoryError, match="is a mapping of groups"):
        read_inventory(write(tmp_path, ["all"]))
    with pytest.raises(InventoryError, match="no school in it"):
        read_inventory(write(tmp_path, {"all": {"hosts": {"srv": None}}}))
    path = write(tmp_path, school_inventory(), "smartclass_topic_root: 'sc/x'\n")
    with pytest.raises(InventoryError, match="smartclass_topic_root"):
        read_inventory(path)
    (tmp_path / "group_vars" / "all.yml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(InventoryError, match=r"group_vars/all\.yml: variables of group all"):
        read_inventory(path)


def test_a_schools_name_comes_from_smartclass_site_name_else_its_id(tmp_path: Path) -> None:
    (school,) = read_inventory(write(tmp_path, school_inventory())).schools
    assert school.name == "s1"
    data = school_inventory()
    data["all"]["children"]["school_s1"]["vars"]["smartclass_site_name"] = "THCS Nguyễn Chí Thanh"
    (school,) = read_inventory(write(tmp_path, data)).schools
    assert school.name == "THCS Nguyễn Chí Thanh"
