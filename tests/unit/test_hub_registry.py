"""Sites file: valid forms, and errors that name the file, the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.registry import RegistryError, load_sites


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rooms_as_ids_or_with_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sites:\n"
        "  - id: th-vo-thi-sau\n"
        "    name: Trường Tiểu học Võ Thị Sáu\n"
        "    rooms: [1a, {id: library, name: Thư viện}]\n"
        "  - id: empty\n"
        "    name: No rooms yet\n",
    )
    [site, empty] = load_sites(path).specs()
    assert (site.id, site.name) == ("th-vo-thi-sau", "Trường Tiểu học Võ Thị Sáu")
    assert list(site.rooms) == [("1a", "1a"), ("library", "Thư viện")]
    assert list(empty.rooms) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sites:\n  - id: a\n    name: A\n    colour: red\n",
            r"sites.yaml:4: sites.0.colour: Extra",
        ),
        ("sites:\n  - id: a\n", r"sites.yaml:2: sites.0.name: Field required"),
        (
            "sites:\n  - id: a\n    name: A\n    rooms:\n      - 1a\n      - {id: Bad Id}\n",
            r"sites.yaml:6: sites.0.rooms.1.id: .*invalid room id 'Bad Id'",
        ),
        ("sites:\n  - id: _hub\n    name: A\n", r"sites.yaml:2: sites.0.id: .*invalid site id"),
        ("sites:\n  - {id: a, name: A, rooms: [x, x]}\n", r"room listed twice in site 'a': x"),
        ("sites:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", r"site listed twice: a"),
        ("sites: [\n", r"sites.yaml: not valid YAML"),
        ("rooms: []\n", r"sites.yaml:1: sites: Field required"),
    ],
)
def test_errors_name_file_key_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(RegistryError, match=expected):
        load_sites(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read the sites file"):
        load_sites(tmp_path / "nope.yaml")
