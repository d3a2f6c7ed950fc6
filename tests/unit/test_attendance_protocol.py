"""The attendance contract: versioned, bounded, no field that could carry an image."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from protocol.attendance import (
    COMMAND_PARAMS,
    EVENT_DATA,
    KIND_MARK,
    AttendanceMark,
    ConsentParams,
    as_data,
    event_data,
    read_data,
)
from protocol.messages import DATA_MAX_BYTES, PARAMS_MAX_BYTES, Event


def _mark(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "class_id": "6a1", "date": "2026-12-02", "period": 1, "student": "hs-001",
        "status": "present", "method": "face", "confidence": 0.93,
        "at": "2026-12-02T00:05:00+00:00",
    }  # fmt: skip
    base.update(over)
    return base


def test_a_mark_reads_back_and_fits_an_event() -> None:
    mark = read_data(AttendanceMark, _mark())
    assert mark.av == 1
    assert mark.date == date(2026, 12, 2)
    event = Event(sender="edge/s/r", boot="b", seq=1, kind=KIND_MARK, data=as_data(mark))
    assert event_data(event.kind, event.data) == mark


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("student", "Nguyễn Văn An"),  # a name, not an id
        ("student", "x" * 33),
        ("status", "maybe"),
        ("confidence", 1.5),
        ("period", 0),
        ("av", 99),
        ("photo", "aGVsbG8="),  # unknown keys refused: no room for pixels
    ],
)
def test_a_bad_mark_is_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field if field != "photo" else "photo"):
        read_data(AttendanceMark, _mark(**{field: value}))


def test_every_model_is_closed_and_small() -> None:
    for model in [*EVENT_DATA.values(), *COMMAND_PARAMS.values()]:
        assert model.model_config.get("extra") == "forbid", model
    assert DATA_MAX_BYTES <= 8192
    assert PARAMS_MAX_BYTES <= 4096


def test_consent_needs_the_recorder() -> None:
    with pytest.raises(ValueError, match="by"):
        read_data(ConsentParams, {"student": "hs-1", "parent": True, "age_7_or_over": False})
    ok = read_data(
        ConsentParams,
        {"student": "hs-1", "parent": True, "age_7_or_over": False, "by": "it-lan",
         "at": datetime(2026, 9, 5, tzinfo=UTC).isoformat()},
    )  # fmt: skip
    assert ok.student_own is None
