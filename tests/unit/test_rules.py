"""Rules engine: vacancy, CO2 and projector maintenance, each just below, at and above its limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.rules import Outcome, RuleAction, RuleEngine, RulesConfig

T0 = datetime(2025, 10, 6, 1, 0, tzinfo=UTC)
FAMILIES = {
    "pir": "occupancy",
    "pir2": "occupancy",
    "lights": "lighting",
    "proj": "projector",
    "env": "environment",
    "env2": "environment",
    "fan": "relay",
}
LIGHTS_ON = {"front": {"on": True, "level": 100}, "back": {"on": False, "level": 0}}
LIGHTS_OFF = {"front": {"on": False, "level": 0}, "back": {"on": False, "level": 0}}
PROJ_OFF = {"available": True, "power": "off", "lamp_hours": 10, "filter_hours": 10, "errors": {}}
FAN = {"device": "fan", "on": {"action": "set", "params": {"on": True}}}


def engine(**config: Any) -> RuleEngine:
    return RuleEngine(RulesConfig.model_validate(config), FAMILIES)


def kinds(out: Outcome) -> list[str]:
    return [e.kind for e in out.events]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- (a) vacancy ---------------------------------------------------------------


def vacant_room(**config: Any) -> RuleEngine:
    """Lights on, projector off, someone in the room until T0, then no one."""
    rules = engine(**config)
    rules.observe(at(-60), "lights", state=LIGHTS_ON)
    rules.observe(at(-60), "proj", state=PROJ_OFF)
    rules.observe(at(-60), "pir", state={"occupied": True})
    assert not rules.observe(T0, "pir", state={"occupied": False})
    return rules


@pytest.mark.parametrize(("minutes", "warned"), [(14.99, False), (15, True), (15.01, True)])
def test_vacancy_warns_at_vacancy_min(minutes: float, warned: bool) -> None:
    rules = vacant_room()
    assert rules.next_deadline() == at(15)
    out = rules.tick(at(minutes))
    assert kinds(out) == (["vacancy_warning"] if warned else [])
    assert out.actions == []
    if warned:
        assert out.events[0].severity == "warning"
        assert out.events[0].data["vacant_since"] == T0.isoformat()


@pytest.mark.parametrize(("minutes", "off"), [(4.99, False), (5, True), (5.01, True)])
def test_vacancy_switches_off_grace_min_after_the_warning(minutes: float, off: bool) -> None:
    rules = vacant_room()
    rules.tick(at(16))  # the warning comes a minute late: the grace still counts from it
    assert rules.next_deadline() == at(21)
    out = rules.tick(at(16 + minutes))
    if not off:
        assert not out
        return
    assert out.actions == [RuleAction("vacancy", "lights", "off")]  # the projector was off
    assert kinds(out) == ["vacancy_off"]
    assert out.events[0].data["devices"] == ["lights"]
    assert not rules.tick(at(60))  # once
    assert rules.next_deadline() is None


def test_vacancy_switches_the_projector_off_too_and_zero_grace_is_immediate() -> None:
    rules = vacant_room(vacancy={"grace_min": 0})
    rules.observe(at(1), "proj", state=PROJ_OFF | {"power": "on"})
    out = rules.tick(at(15))
    assert kinds(out) == ["vacancy_warning", "vacancy_off"]
    assert [a.device for a in out.actions] == ["lights", "proj"]


def test_occupancy_returning_cancels_the_warning() -> None:
    rules = vacant_room()
    rules.tick(at(15))
    out = rules.observe(at(17), "pir", state={"occupied": True})
    assert kinds(out) == ["vacancy_cancelled"]
    assert rules.next_deadline() is None
    assert not rules.tick(at(30))


def test_occupancy_returning_before_the_warning_resets_the_timer() -> None:
    rules = vacant_room()
    assert not rules.observe(at(10), "pir", readings={"occupied": 1})  # telemetry works too
    assert not rules.tick(at(15))
    rules.observe(at(16), "pir", readings={"occupied": 0})
    assert rules.next_deadline() == at(31)


def test_no_warning_when_nothing_is_on() -> None:
    rules = vacant_room()
    rules.observe(at(1), "lights", state=LIGHTS_OFF)
    assert rules.next_deadline() is None
    assert not rules.tick(at(600))


def test_switching_everything_off_during_the_grace_withdraws_the_warning() -> None:
    rules = vacant_room()
    rules.tick(at(15))
    out = rules.observe(at(16), "lights", state=LIGHTS_OFF)
    assert kinds(out) == ["vacancy_cancelled"]
    assert out.actions == []


def test_lights_switched_on_in_an_empty_room_get_the_full_vacancy_time() -> None:
    rules = vacant_room()
    rules.observe(at(1), "lights", state=LIGHTS_OFF)
    rules.observe(at(120), "lights", state=LIGHTS_ON)  # e.g. the timetable prepares the room
    assert rules.next_deadline() == at(135)
    assert not rules.tick(at(134.9))
    assert kinds(rules.tick(at(135))) == ["vacancy_warning"]


def test_switched_on_again_after_the_switch_off_rearms() -> None:
    rules = vacant_room(vacancy={"grace_min": 0})
    rules.tick(at(15))
    rules.observe(at(15), "lights", state=LIGHTS_OFF)
    rules.observe(at(40), "lights", state=LIGHTS_ON)
    assert rules.next_deadline() == at(55)


def test_any_sensor_seeing_someone_means_occupied() -> None:
    rules = vacant_room()
    rules.observe(at(1), "pir2", state={"occupied": True})
    assert not rules.tick(at(60))
    rules.observe(at(61), "pir2", state={"occupied": False})
    assert rules.next_deadline() == at(76)


def test_vacancy_rule_disabled() -> None:
    rules = vacant_room(vacancy={"enabled": False})
    assert rules.next_deadline() is None
    assert not rules.tick(at(600))


# --- (b) CO2 -------------------------------------------------------------------


@pytest.mark.parametrize(("ppm", "high"), [(1199, False), (1200, True), (1201, True)])
def test_co2_alert_at_the_threshold(ppm: float, high: bool) -> None:
    rules = engine(co2={"co2_ppm": 1200, "fan": FAN})
    out = rules.observe(T0, "env", readings={"co2_ppm": ppm, "temperature_c": 30})
    if not high:
        assert not out
        return
    assert kinds(out) == ["co2_high"]
    event = out.events[0]
    assert (event.severity, event.device, event.data["co2_ppm"]) == ("warning", "env", ppm)
    assert out.actions == [RuleAction("co2", "fan", "set", {"on": True})]
    assert not rules.observe(at(1), "env", readings={"co2_ppm": ppm + 50})  # once


@pytest.mark.parametrize(("ppm", "cleared"), [(1101, False), (1100, False), (1099, True)])
def test_co2_clears_only_below_the_hysteresis(ppm: float, cleared: bool) -> None:
    rules = engine(co2={"co2_ppm": 1200, "hysteresis_ppm": 100, "fan": FAN})
    rules.observe(T0, "env", readings={"co2_ppm": 1300})
    out = rules.observe(at(1), "env", readings={"co2_ppm": ppm})
    if not cleared:
        assert not out
        return
    assert kinds(out) == ["co2_ok"]
    assert out.events[0].severity == "info"
    assert out.actions == [RuleAction("co2", "fan", "off", {})]


def test_co2_hovering_around_the_threshold_does_not_flap() -> None:
    rules = engine(co2={"co2_ppm": 1200, "hysteresis_ppm": 100})
    seen = [
        kinds(rules.observe(at(i), "env", readings={"co2_ppm": ppm}))
        for i, ppm in enumerate([1190, 1200, 1180, 1210, 1150, 1205, 1120, 1090, 1150, 1199])
    ]
    assert [k for ks in seen for k in ks] == ["co2_high", "co2_ok"]


def test_fan_stays_on_until_every_sensor_is_fine() -> None:
    rules = engine(co2={"co2_ppm": 1200, "fan": FAN})
    assert len(rules.observe(T0, "env", readings={"co2_ppm": 1300}).actions) == 1
    second = rules.observe(T0, "env2", readings={"co2_ppm": 1250})
    assert kinds(second) == ["co2_high"]
    assert second.events[0].device == "env2"
    assert second.actions == []  # already on
    first_ok = rules.observe(at(1), "env", readings={"co2_ppm": 900})
    assert kinds(first_ok) == ["co2_ok"]
    assert first_ok.actions == []
    assert rules.observe(at(2), "env2", readings={"co2_ppm": 900}).actions[0].action == "off"


def test_co2_only_from_the_listed_sensors_and_without_a_fan_no_action() -> None:
    rules = engine(co2={"co2_ppm": 1200, "sensors": ["env2"]})
    assert not rules.observe(T0, "env", readings={"co2_ppm": 5000})
    out = rules.observe(T0, "env2", readings={"co2_ppm": 5000})
    assert kinds(out) == ["co2_high"]
    assert out.actions == []


# --- (c) projector maintenance -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "limit"), [("lamp_hours", 4000), ("filter_hours", 1000)], ids=["lamp", "filter"]
)
@pytest.mark.parametrize(("delta", "due"), [(-1, False), (0, True), (1, True)])
def test_maintenance_alert_at_the_hours_limit(
    source: str, limit: int, delta: int, due: bool
) -> None:
    rules = engine()
    state = PROJ_OFF | {source: limit + delta}
    out = rules.observe(T0, "proj", state=state)
    if not due:
        assert not out
        return
    assert kinds(out) == ["maintenance"]
    event = out.events[0]
    assert (event.severity, event.device) == ("warning", "proj")
    assert event.data == {"condition": source, "hours": limit + delta, "limit": limit}
    assert not rules.observe(at(1), "proj", state=state | {source: limit + delta + 5})  # once


def test_maintenance_alert_again_after_service() -> None:
    rules = engine(maintenance={"lamp_hours": 100})
    assert kinds(rules.observe(T0, "proj", state=PROJ_OFF | {"lamp_hours": 100})) == ["maintenance"]
    assert not rules.observe(at(1), "proj", state=PROJ_OFF | {"lamp_hours": 0})  # new lamp
    assert kinds(rules.observe(at(2), "proj", state=PROJ_OFF | {"lamp_hours": 101})) == [
        "maintenance"
    ]


def test_projector_errors_alert_once_per_category_and_level() -> None:
    rules = engine()
    ok = {
        "fan": "ok",
        "lamp": "ok",
        "temperature": "ok",
        "cover": "ok",
        "filter": "ok",
        "other": "ok",
    }
    assert not rules.observe(T0, "proj", state=PROJ_OFF | {"errors": ok})
    warning = rules.observe(at(1), "proj", state=PROJ_OFF | {"errors": ok | {"lamp": "warning"}})
    assert [(e.kind, e.severity, e.data["condition"]) for e in warning.events] == [
        ("maintenance", "warning", "lamp:warning")
    ]
    assert not rules.observe(at(2), "proj", state=PROJ_OFF | {"errors": ok | {"lamp": "warning"}})
    worse = rules.observe(at(3), "proj", state=PROJ_OFF | {"errors": ok | {"lamp": "error"}})
    assert [(e.severity, e.data["condition"]) for e in worse.events] == [("critical", "lamp:error")]
    assert not rules.observe(at(4), "proj", state=PROJ_OFF | {"errors": ok})
    again = rules.observe(at(5), "proj", state=PROJ_OFF | {"errors": ok | {"lamp": "warning"}})
    assert kinds(again) == ["maintenance"]


def test_an_unreachable_projector_neither_clears_nor_repeats_alerts() -> None:
    rules = engine()
    state = PROJ_OFF | {"lamp_hours": 5000, "errors": {"fan": "error"}}
    assert kinds(rules.observe(T0, "proj", state=state)) == ["maintenance", "maintenance"]
    gone = {"available": False, "power": "unavailable", "errors": None, "lamp_hours": None}
    assert not rules.observe(at(1), "proj", state=gone)
    assert not rules.observe(at(2), "proj", state=state)


def test_maintenance_disabled_or_errors_ignored() -> None:
    state = PROJ_OFF | {"lamp_hours": 5000, "errors": {"fan": "error"}}
    assert not engine(maintenance={"enabled": False}).observe(T0, "proj", state=state)
    out = engine(maintenance={"errors": False}).observe(T0, "proj", state=state)
    assert [e.data["condition"] for e in out.events] == ["lamp_hours"]


def test_device_references_for_the_room_file_checks() -> None:
    config = RulesConfig.model_validate(
        {"vacancy": {"sensors": ["pir"]}, "co2": {"fan": FAN}, "maintenance": {"projectors": ["p"]}}
    )
    assert config.device_refs() == [
        ("vacancy.sensors", "pir", "occupancy"),
        ("maintenance.projectors", "p", "projector"),
        ("co2.fan.device", "fan", None),
    ]
