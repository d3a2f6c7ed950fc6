"""The configuration the hub manages, on the agent's side: its models, laid over the room
file, what does not fit the room refused by field, and the last good one kept on disk."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from devices.lighting.config import GpioLightingConfig
from devices.projector.config import SimProjectorConfig
from edge.config import load_room_config
from edge.managed import ConfigRefused, SavedConfig, overlay, starting_config
from protocol import ConfigApplied, RoomConfig, decode, encode
from protocol.room_config import MANAGED_FAMILIES, ManagedConfig
from protocol.timetable import TimetableConfig
from tests.integration.system import SIM_ROOM

ROOM = load_room_config(SIM_ROOM)
EARLY = {
    "morning": [
        {"period": 1, "start": "06:30", "end": "07:15"},
        {"period": 2, "start": "07:20", "end": "08:05"},
    ],
    "school_days": ["mon", "tue", "wed", "thu", "fri"],
    "lead_min": 0,
}


def config(**sections: Any) -> ManagedConfig:
    return ManagedConfig.model_validate(sections)


def refusal(**sections: Any) -> str:
    with pytest.raises(ConfigRefused) as caught:
        overlay(ROOM, config(**sections))
    return str(caught.value)


def test_sections_given_replace_the_room_file_s_and_the_others_stay() -> None:
    room = overlay(ROOM, config(timetable=EARLY, settings={"telemetry_interval_s": 3}))
    assert room.timetable == TimetableConfig.model_validate(EARLY)
    assert room.telemetry_interval_s == 3
    assert (room.rules, room.devices, room.mqtt) == (ROOM.rules, ROOM.devices, ROOM.mqtt)


def test_each_push_is_laid_over_the_room_file_not_over_the_previous_push() -> None:
    first = overlay(ROOM, config(timetable=EARLY, rules={"co2": {"co2_ppm": 900}}))
    assert first.rules.co2.co2_ppm == 900
    second = overlay(ROOM, config(rules={"co2": {"co2_ppm": 1000}}))
    assert second.timetable == ROOM.timetable, "a section no longer managed: the room file's"
    assert second.rules.co2.co2_ppm == 1000
    assert second.rules.vacancy == ROOM.rules.vacancy.model_copy(), "a section given is whole"


def test_a_device_entry_changes_only_the_settings_it_gives() -> None:
    scenes = {"exam": {"front": 100, "middle": "on", "back": "off"}, "reading": {"front": 70}}
    room = overlay(
        ROOM,
        config(
            devices={
                "lights": {"family": "lighting", "scenes": scenes},
                "projector": {"family": "projector", "busy_wait_s": 2, "poll_interval_s": 10},
            }
        ),
    )
    lights, projector = room.devices["lights"], room.devices["projector"]
    assert isinstance(lights, GpioLightingConfig)
    assert isinstance(projector, SimProjectorConfig)
    old_lights = ROOM.devices["lights"]
    assert isinstance(old_lights, GpioLightingConfig)
    assert lights.scenes == {
        "exam": {"front": 100, "middle": 100, "back": 0},
        "reading": {"front": 70},
    }
    assert lights.zones == old_lights.zones, "pins are never the hub's"
    assert (projector.busy_wait_s, projector.poll_interval_s) == (2, 10)
    assert projector.warmup_s == 20, "the room file's own"
    without = refusal(devices={"lights": {"family": "lighting", "scenes": {"exam": {}}}})
    assert "no scene 'reading'" in without, "scenes are replaced whole; the timetable uses it"


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"devices": {"board": {"family": "lighting", "scenes": {}}}},
            "devices.board: no such device in this room (has env, lights, projector, noise, "
            "presence)",
        ),
        (
            {"devices": {"projector": {"family": "lighting", "scenes": {}}}},
            "devices.projector: a projector device, not lighting",
        ),
        (
            {"devices": {"lights": {"family": "lighting", "scenes": {"disco": {"stage": 50}}}}},
            "devices.lights: Value error, scene 'disco' names zone 'stage', which is not one of"
            " the zones",
        ),
        (
            {"devices": {"lights": {"family": "lighting", "scenes": {"dim": {"middle": 50}}}}},
            "devices.lights: Value error, scene 'dim': relay zone 'middle' takes 0, 100 or on/off"
            " only",
        ),
        (
            {"timetable": {**EARLY, "lesson_scene": "disco"}},
            "timetable: Value error, lighting 'lights' has no scene 'disco' (has lesson,"
            " projection, off, reading)",
        ),
        (
            {"rules": {"vacancy": {"sensors": ["lights"]}}},
            "rules: Value error, vacancy.sensors: 'lights' is a lighting device, not occupancy",
        ),
    ],
)
def test_what_does_not_fit_the_room_is_refused_naming_the_field(
    sections: dict[str, Any], expected: str
) -> None:
    assert refusal(**sections) == expected


def test_the_models_refuse_what_the_hub_may_never_set() -> None:
    with pytest.raises(ValidationError) as caught:
        config(devices={"lights": {"family": "lighting", "zones": {"front": {"pin": 5}}}})
    assert [e["loc"] for e in caught.value.errors()] == [("devices", "lights", "lighting", "zones")]
    with pytest.raises(ValidationError):
        config(devices={"projector": {"family": "projector", "host": "10.0.0.9"}})
    with pytest.raises(ValidationError):
        config(devices={"env": {"family": "environment"}})
    assert {"lighting", "projector"} == MANAGED_FAMILIES


def test_a_pushed_configuration_round_trips_as_a_message() -> None:
    message = RoomConfig(sender="hub/h", version=4, timetable=EARLY, rules={"co2": {}})
    back = decode(RoomConfig, encode(message))
    assert back == message
    assert b'"start":"06:30"' in encode(message), "times as the room file writes them"
    assert set(RoomConfig.model_fields) == {"v", "ts", "sender", "version"} | set(
        ManagedConfig.model_fields
    )
    applied = ConfigApplied(sender="edge/s/r", boot="b", version=3, ok=False, refused=4)
    assert decode(ConfigApplied, encode(applied)).refused == 4


def test_the_last_good_configuration_is_saved_whole_and_read_back(tmp_path: Path) -> None:
    saved = SavedConfig(tmp_path / "room" / "config.json")
    assert saved.load() is None
    first = RoomConfig(sender="hub/h", version=1, timetable=EARLY)
    saved.save(first)
    saved.save(
        second := RoomConfig(sender="hub/h", version=2, settings={"telemetry_interval_s": 5})
    )
    assert saved.load() == second != first
    assert [p.name for p in saved.path.parent.iterdir()] == ["config.json"], "no temporary left"
    room, version = starting_config(ROOM, saved, "s/r")
    assert (version, room.telemetry_interval_s) == (2, 5)


def test_a_saved_configuration_that_no_longer_fits_is_left_for_the_room_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    saved = SavedConfig(tmp_path / "config.json")
    saved.save(RoomConfig(sender="hub/h", version=3, timetable={**EARLY, "lesson_scene": "x"}))
    with caplog.at_level(logging.WARNING):
        assert starting_config(ROOM, saved, "s/r") == (ROOM, 0)
    assert "lighting 'lights' has no scene 'x'" in caplog.text
    saved.path.write_bytes(b'{"version": 3, "timet')  # torn by hand: never by save
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert starting_config(ROOM, saved, "s/r") == (ROOM, 0)
    assert "config.json: invalid RoomConfig payload" in caplog.text
