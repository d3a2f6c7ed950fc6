"""``smartclass deploy secrets``: what it writes, that a run again changes only what the
inventory changed, rotation of one agent, certificates and their names, nothing shared."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from edge.attendance.cards import load_private_key, load_public_key
from hub.registry import load_sites
from smartclass.certificates import names_of
from smartclass.cli import main
from smartclass.credentials import check_password, parse_password_file

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "ansible" / "inventory" / "district12"
SITE = "thcs-nguyen-chi-thanh"
SERVER = "srv-thcs-nguyen-chi-thanh"


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """A copy of the sample district's inventory (with its group_vars) to change."""
    folder = tmp_path / "inventory"
    shutil.copytree(DISTRICT, folder)
    return folder / "hosts.yml"


def deploy(inventory: Path, out: Path, *args: str) -> int:
    return main(["deploy", "secrets", "--inventory", str(inventory), "--out", str(out), *args])


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime, by relative path."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def edit(inventory: Path, change: Any) -> None:
    data = yaml.safe_load(inventory.read_text())
    change(data["all"]["children"])
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))


def changed(before: dict[str, tuple[bytes, int]], after: dict[str, tuple[bytes, int]]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def test_it_writes_each_schools_files_0600_in_folders_0700(inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    site = out / SITE
    expected = {
        "ca/ca.crt", "ca/ca.key",
        *(f"{SITE}/broker/{n}" for n in ("ca.crt", "server.crt", "server.key", "passwd", "acl",
                                         "mosquitto.conf")),
        f"{SITE}/hub/hub.env", f"{SITE}/hub/sites.yaml",
        *(f"{SITE}/edge/{r}.env" for r in ("6a1", "6a2", "7a1", "8a1", "9a1", "lab-stem",
                                           "library")),
        f"{SITE}/keys/attendance.key", f"{SITE}/keys/cards.key", f"{SITE}/keys/cards.pub.pem",
    }  # fmt: skip
    assert expected <= set(files(out))
    assert {p.name for p in out.iterdir()} == {
        "ca", "thcs-nguyen-chi-thanh", "th-vo-thi-sau", "thcs-nguyen-an-ninh",
        "tthtcd-tan-thoi-nhat",
    }  # fmt: skip
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    # the school's broker knows its own agents and its hub, and nobody of another school
    users = set(parse_password_file((site / "broker" / "passwd").read_text()))
    assert users == {f"edge-sc-{SITE}-{r}" for r in ("6a1", "6a2", "7a1", "8a1", "9a1",
                                                     "lab-stem", "library")} | {
        f"hub-sc-hub-{SERVER}"
    }  # fmt: skip
    assert "th-vo-thi-sau" not in (site / "broker" / "acl").read_text()
    hub = env(site / "hub" / "hub.env")
    assert hub["SMARTCLASS_HUB_MQTT_USERNAME"] == f"hub-sc-hub-{SERVER}"
    assert hub["SMARTCLASS_HUB_HUB_ID"] == f"hub-{SERVER}"
    assert hub["SMARTCLASS_HUB_TOPIC_ROOT"] == "sc"
    registry = load_sites(site / "hub" / "sites.yaml")
    assert [(s.id, [r.id for r in s.room_entries()]) for s in registry.sites] == [
        (SITE, ["6a1", "6a2", "7a1", "8a1", "9a1", "lab-stem", "library"])
    ]
    agent = env(site / "edge" / "6a1.env")
    assert agent["SMARTCLASS_EDGE_MQTT_USERNAME"] == f"edge-sc-{SITE}-6a1"
    key = (site / "keys" / "attendance.key").read_text().strip()
    assert agent["SMARTCLASS_ATTENDANCE_KEY"] == key
    assert len(base64.b64decode(key, validate=True)) == 32
    card_key = load_private_key(site / "keys" / "cards.key")
    assert load_public_key(site / "keys" / "cards.pub.pem") == card_key.public_key()


def test_nothing_is_shared_between_agents_hubs_or_schools(inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    passwords = [
        env(p).get("SMARTCLASS_EDGE_MQTT_PASSWORD") or env(p)["SMARTCLASS_HUB_MQTT_PASSWORD"]
        for p in [*out.glob("*/edge/*.env"), *out.glob("*/hub/hub.env")]
    ]
    assert len(passwords) == 18 + 4
    assert len(set(passwords)) == len(passwords)
    for kind in ("attendance.key", "cards.key"):
        keys = [p.read_bytes() for p in out.glob(f"*/keys/{kind}")]
        assert len(keys) == 4
        assert len(set(keys)) == 4
    servers = [p.read_bytes() for p in out.glob("*/broker/server.key")]
    assert len(set(servers)) == 4


def test_a_run_with_nothing_new_changes_no_file_and_says_so(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    before = files(out)
    capsys.readouterr()
    assert deploy(inventory, out) == 0
    assert files(out) == before
    said = capsys.readouterr().out
    assert "nothing new: no file changed" in said
    assert "made 0, rotated 0, kept 35" in said  # the CA, 4 x (2 keys, 1 certificate), 22 users


def test_a_new_room_adds_only_its_credential_and_its_schools_lines(
    inventory: Path, tmp_path: Path
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    before = files(out)

    def add_room(groups: dict[str, Any]) -> None:
        groups["edges"]["hosts"]["pi-thcs-nguyen-chi-thanh-6a3"] = None
        school = groups["school_thcs_nguyen_chi_thanh"]["hosts"]
        school["pi-thcs-nguyen-chi-thanh-6a3"] = {"smartclass_room": "6a3"}

    edit(inventory, add_room)
    assert deploy(inventory, out) == 0
    after = files(out)
    assert changed(before, after) == {
        f"{SITE}/edge/6a3.env", f"{SITE}/broker/passwd", f"{SITE}/broker/acl",
        f"{SITE}/hub/sites.yaml",  # the hub must know the new room too
    }  # fmt: skip
    old_lines = set(before[f"{SITE}/broker/passwd"][0].decode().splitlines())
    new_lines = set(after[f"{SITE}/broker/passwd"][0].decode().splitlines())
    assert old_lines < new_lines
    assert len(new_lines - old_lines) == 1
    acl = after[f"{SITE}/broker/acl"][0].decode()
    assert f"user edge-sc-{SITE}-6a3\n" in acl
    assert acl.startswith(before[f"{SITE}/broker/acl"][0].decode().split("\nuser ")[0])


def test_a_broker_name_added_issues_only_that_schools_certificate_again(
    inventory: Path, tmp_path: Path
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    before = files(out)

    def add_name(groups: dict[str, Any]) -> None:
        server = groups["school_thcs_nguyen_chi_thanh"]["hosts"][SERVER]
        server["smartclass_broker_names"].append("mqtt.thcs-nct.q12.edu.vn")

    edit(inventory, add_name)
    assert deploy(inventory, out) == 0
    assert changed(before, files(out)) == {f"{SITE}/broker/server.crt"}
    cert = x509.load_pem_x509_certificate((out / SITE / "broker" / "server.crt").read_bytes())
    assert "mqtt.thcs-nct.q12.edu.vn" in names_of(cert)


def test_rotating_one_agent_changes_only_its_env_file_and_its_passwd_line(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    user = f"edge-sc-{SITE}-6a1"
    old = env(out / SITE / "edge" / "6a1.env")["SMARTCLASS_EDGE_MQTT_PASSWORD"]
    before = files(out)
    capsys.readouterr()
    assert deploy(inventory, out, "--rotate", user) == 0
    after = files(out)
    assert changed(before, after) == {f"{SITE}/edge/6a1.env", f"{SITE}/broker/passwd"}
    for path in before.keys() - {f"{SITE}/edge/6a1.env", f"{SITE}/broker/passwd"}:
        assert after[path] == before[path], path  # byte for byte, same mtime
    new = env(out / SITE / "edge" / "6a1.env")["SMARTCLASS_EDGE_MQTT_PASSWORD"]
    assert new != old
    old_hashes = parse_password_file(before[f"{SITE}/broker/passwd"][0].decode())
    new_hashes = parse_password_file(after[f"{SITE}/broker/passwd"][0].decode())
    assert {u for u in new_hashes if new_hashes[u] != old_hashes[u]} == {user}
    assert check_password(new, new_hashes[user])
    assert not check_password(old, new_hashes[user])
    assert f"rotated {user}" in capsys.readouterr().out


def test_an_unknown_user_to_rotate_is_refused_before_anything_is_written(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out, "--rotate", "edge-sc-nowhere-1a") == 2
    assert "cannot rotate edge-sc-nowhere-1a" in capsys.readouterr().err
    assert not out.exists()


def test_it_refuses_a_folder_inside_a_git_work_tree(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert deploy(inventory, tmp_path / "repo" / "secrets") == 2
    assert "inside the git work tree" in capsys.readouterr().err
    assert not (tmp_path / "repo" / "secrets").exists()


def test_an_inventory_error_exits_2_naming_the_file(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(inventory, lambda g: g["school_th_vo_thi_sau"]["hosts"]["pi-th-vo-thi-sau-1a"].pop(
        "smartclass_room"))  # fmt: skip
    assert deploy(inventory, tmp_path / "secrets") == 2
    err = capsys.readouterr().err
    assert f"{inventory}: host pi-th-vo-thi-sau-1a: in group 'edges' but no smartclass_room" in err


def test_a_ca_certificate_without_its_key_is_refused_not_replaced(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    (out / "ca" / "ca.key").unlink()
    before = files(out)
    assert deploy(inventory, out) == 2
    assert "ca.key is not" in capsys.readouterr().err
    assert files(out) == before


def test_the_certificates_are_a_ca_and_a_server_certificate_naming_the_broker(
    inventory: Path, tmp_path: Path
) -> None:
    out = tmp_path / "secrets"
    assert deploy(inventory, out) == 0
    ca = x509.load_pem_x509_certificate((out / "ca" / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((out / SITE / "broker" / "server.crt").read_bytes())
    assert (out / SITE / "broker" / "ca.crt").read_bytes() == (out / "ca" / "ca.crt").read_bytes()
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)
    server.verify_directly_issued_by(ca)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    days = (server.not_valid_after_utc - server.not_valid_before_utc).days
    assert 730 <= days <= 731
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [SERVER, f"{SERVER}.q12.edu.vn"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.12.1.10")]


def test_an_output_folder_that_cannot_be_written_exits_2_naming_it(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder\n")
    assert deploy(inventory, taken) == 2
    assert f"{taken}: cannot write there" in capsys.readouterr().err


def test_the_help_lists_what_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["deploy", "secrets", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for item in ("DIR/ca/ca.crt", "DIR/SITE/broker/server.crt", "DIR/SITE/hub/sites.yaml",
                 "DIR/SITE/edge/ROOM.env", "DIR/SITE/keys/cards.key", "--rotate USER"):  # fmt: skip
        assert item in text
