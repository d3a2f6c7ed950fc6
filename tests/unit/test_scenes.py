"""Lighting scenes on gpiozero's MockFactory: pin states per scene, defaults and refused scenes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from pydantic import ValidationError

from devices.base import BadCommand
from devices.lighting.config import PROJECTION_LEVEL, GpioLightingConfig
from devices.lighting.gpio import GpioLighting

ZONES: dict[str, Any] = {
    "front": {"kind": "dimmer", "pin": 18},
    "middle": {"kind": "relay", "pin": 23},
    "back": {"kind": "relay", "pin": 24, "active_high": False},
    "side": {"kind": "dimmer", "pin": 12},
}


def config(**scenes: dict[str, Any]) -> GpioLightingConfig:
    return GpioLightingConfig.model_validate({"backend": "gpio", "zones": ZONES, "scenes": scenes})


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory(pin_class=MockPWMPin)


@pytest.fixture
def lights(factory: MockFactory) -> Iterator[GpioLighting]:
    device = GpioLighting(
        "lights", config(reading={"front": 60, "middle": "on", "back": False}), pin_factory=factory
    )
    yield device
    device.close()


def pins(factory: MockFactory) -> tuple[float, float, float, float]:
    """Pin states of front (PWM), middle (relay), back (active-low relay), side (PWM)."""
    return tuple(float(factory.pin(n).state) for n in (18, 23, 24, 12))  # type: ignore[return-value]


async def test_lesson_switches_every_zone_full(lights: GpioLighting, factory: MockFactory) -> None:
    state = await lights.execute("scene", {"name": "lesson"})
    assert all(zone == {"on": True, "level": 100} for zone in state.values())
    assert pins(factory) == (1.0, 1.0, 0.0, 1.0)


async def test_projection_turns_the_front_off_and_dims_the_rest(
    lights: GpioLighting, factory: MockFactory
) -> None:
    await lights.execute("scene", {"name": "lesson"})
    state = await lights.execute("scene", {"name": "projection"})
    assert state["front"] == {"on": False, "level": 0}
    assert state["side"] == {"on": True, "level": PROJECTION_LEVEL}
    assert state["middle"]["on"]  # relays cannot dim: they stay on
    assert state["back"]["on"]
    assert pins(factory) == pytest.approx((0.0, 1.0, 0.0, PROJECTION_LEVEL / 100))


async def test_off_switches_every_zone_off(lights: GpioLighting, factory: MockFactory) -> None:
    await lights.execute("scene", {"name": "lesson"})
    state = await lights.execute("scene", {"name": "off"})
    assert all(zone == {"on": False, "level": 0} for zone in state.values())
    assert pins(factory) == (0.0, 0.0, 1.0, 0.0)


async def test_configured_scene_leaves_unnamed_zones_alone(
    lights: GpioLighting, factory: MockFactory
) -> None:
    await lights.execute("set", {"zone": "side", "level": 70})
    state = await lights.execute("scene", {"name": "reading"})
    assert state["front"] == {"on": True, "level": 60}
    assert state["middle"]["on"] is True
    assert state["back"]["on"] is False
    assert state["side"]["level"] == 70  # not in the scene
    assert pins(factory) == pytest.approx((0.6, 1.0, 1.0, 0.7))
    # "on" after a scene restores the scene's level of a dimmer
    await lights.execute("off", {"zone": "front"})
    assert (await lights.execute("on", {"zone": "front"}))["front"]["level"] == 60


def test_configured_scene_replaces_a_builtin() -> None:
    cfg = config(off={"front": 5})
    assert cfg.all_scenes["off"] == {"front": 5}
    assert set(cfg.all_scenes) == {"lesson", "projection", "off"}


def test_front_is_the_zone_named_front_else_the_first() -> None:
    cfg = GpioLightingConfig.model_validate(
        {"backend": "gpio", "zones": {"board": {"kind": "dimmer", "pin": 5}, **ZONES}}
    )
    assert cfg.all_scenes["projection"]["front"] == 0
    assert cfg.all_scenes["projection"]["board"] == PROJECTION_LEVEL
    other = GpioLightingConfig.model_validate(
        {"backend": "gpio", "zones": {"a": {"kind": "relay", "pin": 5}, "b": ZONES["side"]}}
    )
    assert other.all_scenes["projection"] == {"a": 0, "b": PROJECTION_LEVEL}


@pytest.mark.parametrize(
    ("scenes", "message"),
    [
        ({"dark": {"attic": 0}}, "names zone 'attic'"),
        ({"dark": {"middle": 50}}, "relay zone 'middle' takes 0, 100 or on/off"),
        ({"dark": {"front": 101}}, "less than or equal to 100"),
        ({"dark": {"front": "dim"}}, "valid integer"),
        ({"Dark Room": {"front": 0}}, "pattern"),
    ],
)
def test_bad_scenes_are_config_errors(scenes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**scenes)


@pytest.mark.parametrize("params", [{"name": "disco"}, {}, {"name": "off", "zone": "front"}])
async def test_unknown_scene_or_bad_params_is_refused(
    lights: GpioLighting, factory: MockFactory, params: dict[str, Any]
) -> None:
    with pytest.raises(BadCommand) as info:
        await lights.execute("scene", params)
    assert info.value.code == "bad_params"
    assert pins(factory) == (0.0, 0.0, 1.0, 0.0)  # nothing switched
