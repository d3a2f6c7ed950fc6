"""What the panel shows, from confirmed states: scenes the lights are in, a projector's
countdown, the air's level, the timetable's period now and next, the lesson; and the room
file's ``panel:`` section, whose errors name the file, the line and the key."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devices.lighting.config import GpioLightingConfig
from edge.config import ConfigError, load_room_config, parse_room_config
from edge.panel.progress import Progress
from edge.panel.views import (
    Busy,
    co2_level,
    lesson_view,
    lighting_view,
    projector_view,
    timetable_view,
)

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOM = load_room_config(SAMPLE)


def lights(levels: dict[str, int]) -> dict[str, Any]:
    config = ROOM.devices["lights"]
    assert isinstance(config, GpioLightingConfig)
    state = {zone: {"on": level > 0, "level": level} for zone, level in levels.items()}
    dimmable = {zone: z.kind == "dimmer" for zone, z in config.zones.items()}
    return lighting_view("lights", state, scenes=config.all_scenes, dimmable=dimmable)


def test_the_lights_show_the_scene_their_levels_make() -> None:
    assert lights({"front": 100, "middle": 100, "back": 100})["scenes"] == ["lesson"]
    assert lights({"front": 70, "middle": 100, "back": 0})["scenes"] == ["reading"]
    assert lights({"front": 0, "middle": 0, "back": 0})["scenes"] == ["off"]
    view = lights({"front": 40, "middle": 100, "back": 0})
    assert view["scenes"] == []  # set by hand: no scene claimed
    assert view["zones"]["front"] == {"on": True, "level": 40}


def test_a_device_that_does_not_answer_says_so() -> None:
    gone = {"available": False, "reason": "GPIO busy"}
    view = lighting_view("lights", gone, scenes={"lesson": {"front": 100}}, dimmable={})
    assert (view["available"], view["zones"], view["scenes"]) == (False, {}, [])
    view = projector_view("projector", {"available": False, "power": "unavailable"}, inputs=[],
                          busy=None)  # fmt: skip
    assert (view["available"], view["power"]) == (False, "unavailable")
    assert lights({"front": 0})["layout"] != view["layout"]


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_warm_up_counts_down_from_when_it_was_first_seen() -> None:
    ticks = Ticks()
    progress = Progress(ticks)
    progress.observe("p", "warming", warmup_s=20, cooldown_s=30)
    ticks.now += 5
    progress.observe("p", "warming", warmup_s=20, cooldown_s=30)  # seen again: same start
    assert progress.busy("p") == Busy("warming", 15.0, 20.0)
    ticks.now += 30  # longer than expected: still busy, nothing left to count
    assert progress.busy("p") == Busy("warming", 0.0, 20.0)
    progress.observe("p", "on", warmup_s=20, cooldown_s=30)
    assert progress.busy("p") is None
    progress.observe("p", "cooling", warmup_s=20, cooldown_s=30)
    assert progress.busy("p") == Busy("cooling", 30.0, 30.0)


def test_an_input_switch_holds_until_its_time_and_its_command_are_done() -> None:
    ticks = Ticks()
    progress = Progress(ticks)
    progress.input_started("p", 3)
    ticks.now += 4  # the command still runs (busy retries): still busy
    assert progress.busy("p") == Busy("input", 0.0, 3.0)
    assert progress.input_done("p") == 0.0
    assert progress.busy("p") is None
    progress.input_started("p", 3)
    ticks.now += 1
    assert progress.input_done("p") == pytest.approx(2.0)
    assert progress.busy("p") == Busy("input", 2.0, 3.0)
    ticks.now += 2
    assert progress.busy("p") is None


@pytest.mark.parametrize(
    ("ppm", "before", "level"),
    [
        (420, None, "good"),
        (999, None, "good"),
        (1000, None, "stuffy"),
        (1199, None, "stuffy"),
        (1200, None, "open_windows"),
        (1150, "open_windows", "open_windows"),  # within the rule's hysteresis: still open
        (1099, "open_windows", "stuffy"),
        (1150, "stuffy", "stuffy"),
    ],
)
def test_the_air_is_good_stuffy_or_calls_for_open_windows(
    ppm: float, before: Any, level: str
) -> None:
    rule = ROOM.rules.co2
    assert (rule.co2_ppm, rule.hysteresis_ppm, ROOM.panel.co2_stuffy_ppm) == (1200, 100, 1000)
    got = co2_level(ppm, stuffy_ppm=1000, limit_ppm=1200, hysteresis_ppm=100, before=before)
    assert got == level


def test_a_stuffy_threshold_over_the_limit_leaves_no_stuffy_band() -> None:
    assert co2_level(850, stuffy_ppm=1000, limit_ppm=800, hysteresis_ppm=0) == "open_windows"
    assert co2_level(799, stuffy_ppm=1000, limit_ppm=800, hysteresis_ppm=0) == "good"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_the_timetable_says_the_period_now_and_the_next() -> None:
    assert ROOM.timetable is not None
    monday_period_3 = timetable_view(ROOM.timetable, at("2025-10-13T09:00"), TZ, "Lớp 6A1")
    assert monday_period_3["class"] == "Lớp 6A1"
    current, following = monday_period_3["current"], monday_period_3["next"]
    assert (current["period"], current["subject"]) == (3, "Ngữ văn")
    assert current["start"] == "2025-10-13T01:50:00+00:00"  # 08:50 in Ho Chi Minh City
    assert (following["period"], following["day"]) == (4, "2025-10-13")
    in_a_break = timetable_view(ROOM.timetable, at("2025-10-13T08:40"), TZ, "6A1")
    assert in_a_break["current"] is None
    assert in_a_break["next"]["period"] == 3
    saturday_evening = timetable_view(ROOM.timetable, at("2025-10-18T18:00"), TZ, "6A1")
    assert saturday_evening["next"]["day"] == "2025-10-20"  # Monday: Sunday is no school day
    tet = timetable_view(ROOM.timetable, at("2026-02-16T09:00"), TZ, "6A1")
    assert tet["holiday"] == {"name": "Tết Nguyên đán"}
    assert (tet["current"], tet["next"]["day"]) == (None, "2026-02-23")
    assert timetable_view(None, at("2025-10-13T09:00"), TZ, "6A1")["timetable"] is False


def test_the_lesson_runs_when_the_lights_and_the_projector_say_so() -> None:
    lit = lights({"front": 100, "middle": 100, "back": 100})
    dark = lights({"front": 0, "middle": 0, "back": 0})

    def projector(power: str) -> dict[str, Any]:
        return projector_view("projector", {"power": power}, inputs=["hdmi1"], busy=None)

    def state(lights: Any, power: str, routine: Any = None) -> str:
        view = lesson_view([lights], [projector(power)], lesson_scene="lesson", routine=routine)
        return str(view["state"])

    assert state(lit, "warming") == "running"
    assert state(lit, "on") == "running"
    assert state(lit, "off") == "idle"
    assert state(dark, "on") == "idle"
    assert state(dark, "off", "starting") == "starting"
    gone = projector_view("projector", {"available": False}, inputs=[], busy=None)
    view = lesson_view([lit], [gone], lesson_scene="lesson", routine=None)
    assert view["state"] == "running"  # a projector that does not answer does not hold it up


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("  port: 8080", "  port: 70000", "panel.port"),
        ("  port: 8080", "  port: 8080\n  bind: school.lan", "panel.bind"),
        ("  port: 8080", "  port: 8080\n  colour: blue", "panel.colour"),
        ("    default_input: hdmi1", "    default_input: usb1",
         "devices.projector.default_input"),
        ("    warmup_s: 20", "    warmup_s: -1", "devices.projector.warmup_s"),
    ],
)  # fmt: skip
def test_a_wrong_panel_or_projector_setting_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError, match=rf"room\.yaml:\d+: {re.escape(where)}:"):
        parse_room_config(text.replace(old, new, 1), tmp_path / "room.yaml")


def test_the_panel_is_off_unless_the_room_file_says_so(tmp_path: Path) -> None:
    room = parse_room_config("site: s\nroom: r\n", tmp_path / "room.yaml")
    assert (room.panel.enabled, room.panel.bind, room.panel.port) == (False, "0.0.0.0", 8080)
    assert (ROOM.panel.enabled, ROOM.panel.port) == (True, 8080)
