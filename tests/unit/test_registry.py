"""The device registry is built from the families' tables: every backend, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from pydantic import Field, TypeAdapter, ValidationError

from devices.base import Action, Device, DeviceError
from devices.family import BackendConfig, DeviceContext, DeviceHooks, Family
from devices.registry import (
    FAMILIES,
    REGISTRY,
    DeviceConfig,
    Registry,
    UnknownBackend,
    create_device,
)
from tests.fakes import FakeClock
from tests.unit.audio_doubles import FakePyAudioModule

REPO = Path(__file__).resolve().parents[2]

MINIMAL: dict[tuple[str, str], dict[str, Any]] = {
    ("environment", "sim"): {},
    ("environment", "i2c"): {"co2": {"chip": "scd4x"}},
    ("lighting", "gpio"): {"zones": {"front": {"kind": "dimmer", "pin": 12}}},
    ("projector", "pjlink"): {"host": "127.0.0.1"},
    ("projector", "sim"): {},
    ("noise", "pyaudio"): {},
    ("noise", "sim"): {},
    ("occupancy", "gpio"): {"pin": 17},
    ("occupancy", "sim"): {},
    ("camera", "opencv"): {"source": 0},
    ("camera", "folder"): {"path": "/nonexistent-frames"},
    ("camera", "sim"): {},
    ("camera", "picamera2"): {},
}
"""A smallest valid config of every backend: a new backend adds its own here."""

ADAPTER: TypeAdapter[Any] = TypeAdapter(DeviceConfig)


def union_members(config_type: Any) -> list[Any]:
    """The classes at the leaves of nested Annotated unions, in order."""
    if get_origin(config_type) is Annotated:
        return union_members(get_args(config_type)[0])
    members = get_args(config_type)
    if not members:
        return [config_type]
    return [leaf for member in members for leaf in union_members(member)]


def test_every_backend_in_the_union_has_a_factory() -> None:
    in_union = union_members(DeviceConfig)
    in_tables = [config for family in FAMILIES for config in family.backends]
    assert in_union == in_tables
    assert list(REGISTRY.backends.values()) == in_tables
    assert list(REGISTRY.backends) == list(MINIMAL)


def test_families_and_backends_keep_the_room_file_names() -> None:
    assert {name: f.backend_names for name, f in REGISTRY.families.items()} == {
        "environment": ["sim", "i2c"],
        "lighting": ["gpio"],
        "projector": ["pjlink", "sim"],
        "noise": ["pyaudio", "sim"],
        "occupancy": ["gpio", "sim"],
        "camera": ["opencv", "folder", "sim", "picamera2"],
    }


@pytest.mark.parametrize(("family", "backend"), list(MINIMAL))
async def test_every_backend_builds_its_device_from_the_union(
    family: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyaudio", FakePyAudioModule())
    config = ADAPTER.validate_python(
        {"family": family, "backend": backend, **MINIMAL[family, backend]}
    )
    assert type(config) is REGISTRY.backends[family, backend]
    device = create_device(
        "dev", config, pin_factory=MockFactory(pin_class=MockPWMPin), clock=FakeClock()
    )
    try:
        assert isinstance(device, Device)
        assert (device.id, device.family) == ("dev", family)
    finally:
        device.close()


async def test_factories_pass_the_hooks_on() -> None:
    changed: list[str] = []
    config = ADAPTER.validate_python({"family": "occupancy", "backend": "sim"})
    device = create_device("presence", config, hooks=DeviceHooks(changed=changed.append))
    await device.execute("set_occupied", {"occupied": True})
    assert changed == ["presence"]


def test_an_unknown_backend_or_family_is_refused_naming_the_key() -> None:
    with pytest.raises(ValidationError) as backend:
        ADAPTER.validate_python({"family": "lighting", "backend": "dali"})
    assert "'dali'" in str(backend.value)
    assert "'backend'" in str(backend.value)
    with pytest.raises(ValidationError) as family:
        ADAPTER.validate_python({"family": "doorbell", "backend": "sim"})
    assert "'doorbell'" in str(family.value)
    assert "'family'" in str(family.value)


class DaliLightingConfig(BackendConfig):
    family: Literal["lighting"] = "lighting"
    backend: Literal["dali"]


def test_a_config_outside_every_table_is_refused_naming_family_and_backend() -> None:
    with pytest.raises(UnknownBackend) as refused:
        create_device("lights", DaliLightingConfig(backend="dali"))
    message = str(refused.value)
    assert "'lights'" in message
    assert "family 'lighting', backend 'dali'" in message
    assert "lighting: gpio" in message  # what is registered
    assert isinstance(refused.value, DeviceError)  # the agent starts the room without it
    assert isinstance(refused.value, LookupError)


class FakeCameraConfig(BackendConfig):
    family: Literal["doorbell"] = "doorbell"
    backend: Literal["sim"]
    fps: int = Field(default=5, ge=1)


class FakeCamera(Device):
    family: ClassVar[str] = "doorbell"

    def __init__(self, device_id: str, config: FakeCameraConfig, clock: Any) -> None:
        super().__init__(device_id)
        self.config = config
        self.clock = clock

    @property
    def actions(self) -> Mapping[str, Action]:
        return {}

    async def state(self) -> dict[str, Any]:
        return {"fps": self.config.fps}


def _camera(device_id: str, config: FakeCameraConfig, context: DeviceContext) -> Device:
    return FakeCamera(device_id, config, context.clock)


async def test_a_family_added_to_the_list_is_picked_up_without_editing_the_registry() -> None:
    camera = Family("doorbell", {FakeCameraConfig: _camera})
    registry = Registry([*FAMILIES, camera])
    adapter: TypeAdapter[Any] = TypeAdapter(registry.config_type)
    config = adapter.validate_python({"family": "doorbell", "backend": "sim", "fps": 12})
    assert isinstance(config, FakeCameraConfig)
    clock = FakeClock()
    device = registry.create("cam", config, DeviceContext(clock=clock))
    assert isinstance(device, FakeCamera)
    assert device.clock is clock
    assert await device.state() == {"fps": 12}
    assert registry.backends["doorbell", "sim"] is FakeCameraConfig
    lights = adapter.validate_python(
        {"family": "lighting", "backend": "gpio", **MINIMAL["lighting", "gpio"]}
    )
    assert type(lights) is REGISTRY.backends["lighting", "gpio"]  # the others are still there
    with pytest.raises(ValidationError, match="'doorbell'"):
        ADAPTER.validate_python({"family": "doorbell", "backend": "sim"})  # not in the real list


def test_a_family_table_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="FakeCameraConfig says family 'doorbell'"):
        Family("lighting", {FakeCameraConfig: _camera})
    with pytest.raises(ValueError, match="backend 'sim' is both"):
        Family("doorbell", {FakeCameraConfig: _camera, SecondSimCamera: _camera})
    with pytest.raises(TypeError, match="must be a Literal of one string"):
        Family("doorbell", {LooseCameraConfig: _camera})
    with pytest.raises(ValueError, match="has no backend"):
        Family("doorbell", {})
    with pytest.raises(ValueError, match="two families are named 'lighting'"):
        Registry([*FAMILIES, Family("lighting", {DaliLightingConfig: _camera})])


class SecondSimCamera(BackendConfig):
    family: Literal["doorbell"] = "doorbell"
    backend: Literal["sim"]


class LooseCameraConfig(BackendConfig):
    family: Literal["doorbell"] = "doorbell"
    backend: str


def test_pyaudio_is_imported_only_when_a_microphone_is_built() -> None:
    script = (
        "import sys\n"
        "from edge.config import load_room_config\n"
        "room = load_room_config('firmware_configs/rooms/pi-room.yaml')\n"
        "assert room.devices['noise'].backend == 'pyaudio'\n"
        "lazy = [m for m in ('pyaudio', 'devices.noise.microphone') if m in sys.modules]\n"
        "assert not lazy, lazy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
