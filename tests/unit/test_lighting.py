"""GPIO lighting on gpiozero's MockFactory: pin states after each action, and refused commands."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.base import BadCommand
from devices.lighting.config import GpioLightingConfig
from devices.lighting.gpio import GpioLighting

CONFIG: dict[str, Any] = {
    "backend": "gpio",
    "zones": {
        "front": {"kind": "dimmer", "pin": 18, "frequency_hz": 800},
        "middle": {"kind": "relay", "pin": 23},
        "back": {"kind": "relay", "pin": 24, "active_high": False},
    },
}


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory(pin_class=MockPWMPin)


@pytest.fixture
def lights(factory: MockFactory) -> Iterator[GpioLighting]:
    device = GpioLighting("lights", GpioLightingConfig.model_validate(CONFIG), pin_factory=factory)
    yield device
    device.close()


def pin(factory: MockFactory, number: int) -> MockPWMPin:
    p: MockPWMPin = factory.pin(number)
    return p


async def test_starts_off_with_every_pin_inactive(
    lights: GpioLighting, factory: MockFactory
) -> None:
    assert await lights.state() == {
        "front": {"on": False, "level": 0},
        "middle": {"on": False, "level": 0},
        "back": {"on": False, "level": 0},
    }
    assert pin(factory, 18).state == 0
    assert pin(factory, 18).frequency == 800
    assert pin(factory, 23).state == 0
    assert pin(factory, 24).state == 1  # active low: high means the relay is open


async def test_on_and_off_switch_all_zones(lights: GpioLighting, factory: MockFactory) -> None:
    state = await lights.execute("on", {})
    assert all(zone == {"on": True, "level": 100} for zone in state.values())
    assert (pin(factory, 18).state, pin(factory, 23).state, pin(factory, 24).state) == (1, 1, 0)
    await lights.execute("off", {})
    assert (pin(factory, 18).state, pin(factory, 23).state, pin(factory, 24).state) == (0, 0, 1)
    pin(factory, 23).assert_states([0, 1, 0])


async def test_one_zone_only(lights: GpioLighting, factory: MockFactory) -> None:
    state = await lights.execute("on", {"zone": "middle"})
    assert state["middle"]["on"] is True
    assert state["front"]["on"] is False
    assert pin(factory, 23).state == 1
    assert pin(factory, 18).state == 0


async def test_dimmer_level_and_on_restores_last_level(
    lights: GpioLighting, factory: MockFactory
) -> None:
    state = await lights.execute("set", {"zone": "front", "level": 40})
    assert state["front"] == {"on": True, "level": 40}
    assert pin(factory, 18).state == pytest.approx(0.4)
    await lights.execute("off", {"zone": "front"})
    assert pin(factory, 18).state == 0
    state = await lights.execute("on", {"zone": "front"})
    assert state["front"] == {"on": True, "level": 40}
    assert pin(factory, 18).state == pytest.approx(0.4)


async def test_relay_set_by_on_flag_or_full_level(
    lights: GpioLighting, factory: MockFactory
) -> None:
    await lights.execute("set", {"zone": "back", "on": True})
    assert pin(factory, 24).state == 0
    await lights.execute("set", {"zone": "back", "level": 0})
    assert pin(factory, 24).state == 1


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("dance", {}, "unknown_action"),
        ("on", {"zone": "attic"}, "bad_params"),
        ("on", {"zones": "front"}, "bad_params"),
        ("set", {"zone": "front"}, "bad_params"),
        ("set", {"zone": "front", "level": 101}, "bad_params"),
        ("set", {"zone": "middle", "level": 50}, "bad_params"),
    ],
)
async def test_bad_commands_are_refused_with_a_code(
    lights: GpioLighting, action: str, params: dict[str, Any], code: str
) -> None:
    with pytest.raises(BadCommand) as info:
        await lights.execute(action, params)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_config_refuses_shared_pins() -> None:
    zones = {"a": {"kind": "relay", "pin": 5}, "b": {"kind": "dimmer", "pin": 5}}
    with pytest.raises(ValueError, match="same pin 5"):
        GpioLightingConfig.model_validate({"backend": "gpio", "zones": zones})


def test_close_twice_releases_pins(factory: MockFactory) -> None:
    config = GpioLightingConfig.model_validate(CONFIG)
    first = GpioLighting("lights", config, pin_factory=factory)
    first.close()
    first.close()
    second = GpioLighting("lights", config, pin_factory=factory)  # pins are free again
    second.close()
