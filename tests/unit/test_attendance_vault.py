"""The template vault: consent first, withdrawal deletes, sealed so the key is needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from edge.attendance.vault import (
    ConsentRefused,
    KeyMissing,
    Vault,
    VaultLocked,
    load_key,
    new_key,
)
from protocol.attendance import ConsentParams

TODAY = dt.date(2026, 12, 2)


def _vault(path: Path, key: str | None = None) -> Vault:
    import base64

    return Vault(path / "templates.sealed", base64.b64decode(key or KEY), label="s/r")


KEY = new_key()


def _consent(student: str, **over: object) -> ConsentParams:
    fields: dict[str, object] = {"student": student, "parent": True, "age_7_or_over": True,
                                 "student_own": True, "by": "it-lan"}  # fmt: skip
    fields.update(over)
    return ConsentParams.model_validate(fields)


def _embeddings(n: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.normal(size=128).astype(np.float32) for _ in range(n)]


def test_enrolment_is_refused_without_consent(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    with pytest.raises(ConsentRefused, match="no consent"):
        vault.enrol("hs-1", _embeddings(), TODAY)
    assert vault.templates() == {}


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"parent": False}, "parent"),
        ({"student_own": None}, "own"),
        ({"student_own": False}, "own"),
    ],
)
def test_consent_needs_the_parent_and_from_seven_the_student(
    tmp_path: Path, over: dict[str, object], why: str
) -> None:
    with pytest.raises(ConsentRefused, match=why):
        _vault(tmp_path).record_consent(_consent("hs-1", **over))


def test_under_seven_the_parent_alone_consents(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    change = vault.record_consent(_consent("hs-1", age_7_or_over=False, student_own=None))
    assert change.state == "recorded"
    assert change.student_own is None
    assert vault.enrol("hs-1", _embeddings(), TODAY).templates == 2


def test_withdrawal_deletes_the_templates_at_once(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.record_consent(_consent("hs-1"))
    vault.record_consent(_consent("hs-2"))
    vault.enrol("hs-1", _embeddings(), TODAY)
    vault.enrol("hs-2", _embeddings(), TODAY)
    change = vault.withdraw("hs-1", "parent-call")
    assert change.state == "withdrawn"
    assert change.templates_deleted == 2
    reopened = _vault(tmp_path)  # what is on disk now
    assert set(reopened.templates()) == {"hs-2"}
    assert not reopened.consented("hs-1")
    kinds = [(h["kind"], h["data"].get("state")) for h in reopened.take_history()]
    assert kinds[-1] == ("consent", "withdrawn")
    assert reopened.take_history() == []  # reported once


def test_templates_on_disk_are_unreadable_without_the_key(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.record_consent(_consent("hs-1"))
    embedding = _embeddings(1)
    vault.enrol("hs-1", embedding, TODAY)
    blob = (tmp_path / "templates.sealed").read_bytes()
    assert b"hs-1" not in blob
    assert f"{round(float(embedding[0][0]), 6)}".encode() not in blob
    assert np.asarray(embedding[0]).tobytes()[:16] not in blob
    with pytest.raises(VaultLocked):
        _vault(tmp_path, new_key()).templates()
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    (tmp_path / "templates.sealed").write_bytes(bytes(tampered))
    with pytest.raises(VaultLocked):
        _vault(tmp_path).templates()


def test_templates_expire_at_the_end_of_the_school_year(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.record_consent(_consent("hs-1"))
    assert vault.enrol("hs-1", _embeddings(), TODAY).expires == dt.date(2027, 5, 31)
    assert vault.expire(dt.date(2027, 5, 30)) == []
    [expired] = vault.expire(dt.date(2027, 5, 31))
    assert (expired.state, expired.templates_deleted) == ("expired", 2)
    assert vault.templates() == {}


def test_the_key_never_lives_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "data" / "key"
    inside.parent.mkdir()
    inside.write_text(KEY)
    with pytest.raises(KeyMissing, match="inside the data folder"):
        load_key(env=None, file=inside, data_dir=tmp_path / "data")
    outside = tmp_path / "attendance.key"
    outside.write_text(KEY)
    assert len(load_key(env=None, file=outside, data_dir=tmp_path / "data")) == 32
    with pytest.raises(KeyMissing, match="SC_TEST_KEY"):
        load_key(env="SC_TEST_KEY", file=None, data_dir=tmp_path)
    monkeypatch.setenv("SC_TEST_KEY", "c2hvcnQ=")
    with pytest.raises(KeyMissing, match="32 bytes"):
        load_key(env="SC_TEST_KEY", file=None, data_dir=tmp_path)
