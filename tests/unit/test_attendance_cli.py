"""``smartclass attendance``: consent first, photos never kept, withdrawal, cards, an offline
take over a folder of frames."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import yaml

from edge.attendance.cards import QrReader, load_public_key, verify
from smartclass.cli import main
from smartclass.faceset import CLASS_A
from tests import attendance_faces as faces


def _room(tmp_path: Path) -> Path:
    key = tmp_path / "keys" / "attendance.key"
    key.parent.mkdir()
    assert main(["attendance", "key"]) == 0
    from edge.attendance.vault import new_key

    key.write_text(new_key())
    room = {
        "site": "thcs-a", "room": "6a1",
        "devices": {"cam": {"family": "camera", "backend": "sim"}},
        "attendance": {"camera": "cam", "class_id": "6a1", "key_file": str(key),
                       "students": dict.fromkeys(CLASS_A)},
    }  # fmt: skip
    path = tmp_path / "room.yaml"
    path.write_text(yaml.safe_dump(room))
    return path


def _photos(tmp_path: Path, person: str) -> list[str]:
    out = []
    for i, image in enumerate(faces.faceset().enrol[person]):
        path = tmp_path / f"{person}-{i}.jpg"
        cv2.imwrite(str(path), image)
        out.append(str(path))
    return out


def test_enrol_is_refused_without_consent_then_works_and_withdraw_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room = _room(tmp_path)
    base = ["attendance"]
    where = ["--config", str(room), "--data-dir", str(tmp_path / "data")]
    photos = _photos(tmp_path, "obama")
    assert main([*base, "enrol", *where, "--student", "obama", *photos]) == 2
    assert "no consent" in capsys.readouterr().err
    assert main([*base, "consent", *where, "--student", "obama", "--parent",
                 "--age-7-or-over", "--by", "it-lan"]) == 2  # fmt: skip
    assert "own consent" in capsys.readouterr().err
    assert main([*base, "consent", *where, "--student", "obama", "--parent", "--student-own",
                 "--age-7-or-over", "--by", "it-lan"]) == 0  # fmt: skip
    assert main([*base, "enrol", *where, "--student", "obama", *photos]) == 0
    assert "2 templates stored" in capsys.readouterr().out
    assert all(Path(p).exists() for p in photos)  # the user's own files, untouched
    vault = tmp_path / "data" / "thcs-a--6a1" / "attendance" / "templates.sealed"
    assert vault.exists()
    assert not list(vault.parent.glob("*.jpg"))
    capsys.readouterr()
    assert main([*base, "status", *where]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["obama"]["templates"] == 2
    assert status["obama"]["by"] == "it-lan"
    assert main([*base, "withdraw", *where, "--student", "obama", "--by", "it-lan"]) == 0
    assert "2 templates deleted" in capsys.readouterr().out
    assert main([*base, "status", *where]) == 0
    assert json.loads(capsys.readouterr().out) == {}


def test_an_offline_take_over_a_folder_of_frames_prints_the_marks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room = _room(tmp_path)
    where = ["--config", str(room), "--data-dir", str(tmp_path / "data")]
    for person in ("obama", "biden"):
        assert main(["attendance", "consent", *where, "--student", person, "--parent",
                     "--by", "it"]) == 0  # fmt: skip
        assert main(["attendance", "enrol", *where, "--student", person,
                     *_photos(tmp_path, person)]) == 0  # fmt: skip
    frames = tmp_path / "frames"
    frames.mkdir()
    classroom = faces.classroom(seed=4)
    for i in range(2):
        cv2.imwrite(str(frames / f"{i}.png"), classroom.compose(["obama", "t1-e"])[0])
    capsys.readouterr()
    assert main(["attendance", "take", *where, "--frames", str(frames)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    marks = {x["student"]: x["status"] for x in lines if x["kind"] == "attendance"}
    assert marks == {s: "present" if s == "obama" else "absent" for s in CLASS_A}


def test_cards_print_a_sheet_the_camera_reads_and_the_agent_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "school.key"
    assert main(["attendance", "cards", "--new-key", str(key)]) == 0
    out = tmp_path / "cards.png"
    assert main(["attendance", "cards", "--class", "6a1", "--key", str(key), "--students",
                 "hs-001,hs-002", "--first-serial", "7", "--out", str(out)]) == 0  # fmt: skip
    assert "2 cards" in capsys.readouterr().out
    sheet = cv2.imread(str(out))
    tokens = QrReader().read(sheet)
    assert len(tokens) == 2
    public = load_public_key(key.with_suffix(".pub"))
    import datetime as dt

    cards = [verify(public, t, revoked=set(), class_id="6a1", today=dt.date(2026, 12, 2))
             for t in tokens]  # fmt: skip
    assert sorted((c.student, c.serial) for c in cards) == [("hs-001", 7), ("hs-002", 8)]  # type: ignore[union-attr]
    assert all("Nguy" not in t for t in tokens)


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["attendance", "--help"])
    text = capsys.readouterr().out
    for command in ("consent", "enrol", "withdraw", "cards", "take", "status"):
        assert command in text
