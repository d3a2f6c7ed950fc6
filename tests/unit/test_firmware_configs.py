"""The shipped room files and boot profiles: each validates, and the Pi room fits its profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.environment.config import I2cEnvironmentConfig
from devices.lighting.config import DimmerZoneConfig, GpioLightingConfig
from devices.noise.config import PyAudioNoiseConfig
from devices.occupancy.config import PirOccupancyConfig
from devices.projector.config import PjlinkProjectorConfig
from edge.config import load_room_config
from smartclass.bootconfig import check_room, load_boot_config, room_pins
from smartclass.run import validate

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware_configs"
ROOMS = sorted((FIRMWARE / "rooms").glob("*.yaml"))
BOOTS = sorted((FIRMWARE / "boot").glob("*.txt"))
PI_ROOM = FIRMWARE / "rooms" / "pi-room.yaml"
I2C_PINS, I2S_PINS, HARDWARE_PWM = {2, 3}, {18, 19, 20, 21}, {12, 13, 18, 19}


def test_the_shipped_files_are_there() -> None:
    assert PI_ROOM in ROOMS
    assert {p.name for p in BOOTS} >= {"classroom-standard.txt", "classroom-usb-mic.txt"}


@pytest.mark.parametrize("path", ROOMS + BOOTS, ids=lambda p: p.name)
def test_every_shipped_file_validates_alone(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate([path]) == 0
    captured = capsys.readouterr()
    assert f"{path}: ok" in captured.out
    assert captured.err == ""  # not even a warning


@pytest.mark.parametrize("boot", BOOTS, ids=lambda p: p.name)
def test_the_pi_room_runs_on_every_boot_profile(
    boot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validate([boot, PI_ROOM]) == 0
    assert f"{boot}: ok (boot profile:" in capsys.readouterr().out
    assert check_room(load_boot_config(boot), load_room_config(PI_ROOM), PI_ROOM) == []


def test_the_pi_room_is_the_simulated_room_on_real_hardware() -> None:
    pi, sim = load_room_config(PI_ROOM), load_room_config(FIRMWARE / "rooms" / "sim-room.yaml")
    assert (pi.site, pi.room, pi.name, pi.timezone) == (sim.site, sim.room, sim.name, sim.timezone)
    assert pi.timetable == sim.timetable
    assert pi.rules == sim.rules
    assert set(pi.devices) == set(sim.devices)
    assert {d: c.family for d, c in pi.devices.items()} == {
        d: c.family for d, c in sim.devices.items()
    }
    assert not [c for c in pi.devices.values() if c.backend == "sim"]


def test_the_pi_room_wiring() -> None:
    room = load_room_config(PI_ROOM)
    env, lights = room.devices["env"], room.devices["lights"]
    assert isinstance(env, I2cEnvironmentConfig)
    assert env.bus == 1
    assert env.co2 is not None
    assert env.co2.address == 0x62
    assert env.light is not None
    assert env.light.address == 0x23
    assert isinstance(lights, GpioLightingConfig)
    dimmers = [z.pin for z in lights.zones.values() if isinstance(z, DimmerZoneConfig)]
    assert dimmers
    assert set(dimmers) <= HARDWARE_PWM - I2S_PINS
    assert isinstance(room.devices["presence"], PirOccupancyConfig)
    assert isinstance(room.devices["noise"], PyAudioNoiseConfig)
    pins = [pin for pin, _ in room_pins(room)]
    assert len(pins) == len(set(pins))
    assert not set(pins) & (I2C_PINS | I2S_PINS | {4, 14, 15})  # 1-Wire, serial console


def test_the_projector_password_comes_from_the_environment() -> None:
    projector = load_room_config(PI_ROOM).devices["projector"]
    assert isinstance(projector, PjlinkProjectorConfig)
    assert projector.password_env
    assert "password:" not in PI_ROOM.read_text()
