"""Configuration documents on the hub: a room's overrides over its school's (JSON Merge
Patch), the effective configuration checked with the agent's models, and differences."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config_docs import Change, ConfigInvalid, check_document, diff, effective, merge

PERIODS = [
    {"period": 1, "start": "07:00", "end": "07:45"},
    {"period": 2, "start": "07:50", "end": "08:35"},
]
SCHOOL = {
    "timetable": {"morning": PERIODS, "holidays": ["2026-01-01"]},
    "rules": {"co2": {"co2_ppm": 1100}},
    "devices": {"lights": {"family": "lighting", "scenes": {"reading": {"front": 70}}}},
}


@pytest.mark.parametrize(
    ("base", "patch", "expected"),
    [  # the examples of RFC 7386, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_a_room_document_is_a_json_merge_patch_of_its_school_s(
    base: Any, patch: Any, expected: Any
) -> None:
    before = repr(base)
    assert merge(base, patch) == expected
    assert repr(base) == before, "the school's document is left as it was"


def test_maps_merge_lists_replace_and_null_removes() -> None:
    room = {
        "timetable": {"lead_min": 10, "holidays": [], "lesson_plan": {"mon": {"2": {}}}},
        "rules": None,
        "devices": {"lights": {"scenes": {"exam": {"front": 100}}}},
    }
    result = effective(SCHOOL, room)
    assert result["timetable"]["morning"] == PERIODS, "inherited"
    assert (result["timetable"]["lead_min"], result["timetable"]["holidays"]) == (10, [])
    assert "rules" not in result, "null: the room file's own rules"
    assert result["devices"]["lights"]["scenes"] == {
        "reading": {"front": 70},
        "exam": {"front": 100},
    }
    assert result["timetable"]["school_days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert effective({}, {}) == effective({"devices": {}}, {"rules": None}) == {}, "nothing"


def problems(school: dict[str, Any], room: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ConfigInvalid) as caught:
        effective(school, room)
    return [(p["loc"], p["msg"]) for p in caught.value.problems]


def test_problems_name_the_field_path() -> None:
    assert problems(SCHOOL, {"timetable": {"lead_min": -1}}) == [
        (("timetable", "lead_min"), "Input should be greater than or equal to 0")
    ]
    assert problems(SCHOOL, {"timetable": {"lesson_plan": {"mon": {"7": {}}}}}) == [
        (("timetable",), "Value error, lesson_plan.mon: no period 7 in the timetable")
    ]
    assert problems({}, {"devices": {"lights": {"family": "lighting", "pin": 18}}}) == [
        (("devices", "lights", "pin"), "Extra inputs are not permitted")
    ]
    assert problems({}, {"timetable": {"lead_min": 5}}) == [
        (
            ("timetable",),
            "Value error, the timetable has no periods (give morning and/or afternoon)",
        )
    ]
    assert problems({}, {"settings": {"telemetry_interval_s": "often"}})[0][0] == (
        "settings",
        "telemetry_interval_s",
    )


def test_a_document_is_a_bounded_json_object() -> None:
    assert check_document({"a": [1]}) == {"a": [1]}
    for bad in ([], "x", {"a": "\x00"}, {"a": [[[[[[[[[[[[[1]]]]]]]]]]]]]}):
        with pytest.raises(ConfigInvalid):
            check_document(bad)
    holidays = [{"start": f"2026-01-{d % 28 + 1:02d}", "name": "x" * 90} for d in range(700)]
    with pytest.raises(ConfigInvalid) as caught:
        effective({}, {"timetable": {"morning": PERIODS, "holidays": holidays}})
    assert "over the agent's 65536" in caught.value.problems[0]["msg"]


def test_differences_path_by_path() -> None:
    old = {"timetable": {"lead_min": 5, "morning": PERIODS}, "rules": {"co2": {}}}
    new = {
        "timetable": {"lead_min": 10, "morning": [*PERIODS[:1], {**PERIODS[1], "end": "08:40"}]},
        "devices": {"lights": {"family": "lighting"}},
    }
    assert diff(old, new) == [
        Change(("timetable", "lead_min"), "changed", 5, 10),
        Change(("timetable", "morning", 1, "end"), "changed", "08:35", "08:40"),
        Change(("rules",), "removed", old={"co2": {}}),
        Change(("devices",), "added", new={"lights": {"family": "lighting"}}),
    ]
    assert diff({"a": [1, 2]}, {"a": [1]}) == [Change(("a", 1), "removed", old=2)]
    assert diff({"a": 1}, {"a": 1.0}) == [], "one number"
    assert diff({"a": 1}, {"a": True}) == [Change(("a",), "changed", 1, True)]
    assert diff(new, new) == []
