"""Room files and process settings: valid files load; bad ones name file, key path and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devices.environment.config import SimEnvironmentConfig
from devices.lighting.config import GpioLightingConfig
from edge.config import ConfigError, load_room_config
from edge.settings import EdgeSettings, make_pin_factory

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"

GOOD = """\
site: thcs-nguyen-chi-thanh
room: 6a1
name: "Lớp 6A1"
devices:
  env:
    family: environment
    backend: sim
  lights:
    family: lighting
    backend: gpio
    zones:
      front:
        kind: relay
        pin: 17
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "6a1.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_room_file_loads() -> None:
    room = load_room_config(SAMPLE)
    assert (room.site, room.room, room.name) == ("thcs-nguyen-chi-thanh", "6a1", "Lớp 6A1")
    assert isinstance(room.devices["env"], SimEnvironmentConfig)
    assert isinstance(room.devices["lights"], GpioLightingConfig)


def test_good_file_gets_defaults(tmp_path: Path) -> None:
    room = load_room_config(write(tmp_path, GOOD))
    assert room.timezone == "Asia/Ho_Chi_Minh"
    assert room.telemetry_interval_s == 10
    assert (room.mqtt.keepalive_s, room.mqtt.session_expiry_s, room.mqtt.topic_root) == (
        30,
        86400,
        "sc",
    )
    assert (room.mqtt.reconnect_min_s, room.mqtt.reconnect_max_s) == (0.5, 30)
    assert (room.outbox.max_messages, room.outbox.max_age_h) == (100_000, 168)


def test_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("room: 6a1\n", "room: 6a1\ncolour: blue\n"))
    with pytest.raises(ConfigError) as info:
        load_room_config(path)
    assert str(info.value) == f"{path}:3: colour: Extra inputs are not permitted"


def test_wrong_type_names_key_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("pin: 17", "pin: seventeen"))
    with pytest.raises(ConfigError) as info:
        load_room_config(path)
    assert str(info.value).startswith(
        f"{path}:14: devices.lights.zones.front.pin: Input should be a valid integer"
    )


def test_several_errors_are_all_listed(tmp_path: Path) -> None:
    text = GOOD.replace("room: 6a1", "room: 6A 1").replace("backend: sim", "backend: i2c")
    path = write(tmp_path, text + "telemetry_interval_s: -1\n")
    with pytest.raises(ConfigError) as info:
        load_room_config(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:2: room: ")
    assert lines[1].startswith(f"{path}:15: telemetry_interval_s: ")
    assert lines[2].startswith(f"{path}:6: devices.env: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read room file"):
        load_room_config(tmp_path / "nope.yaml")


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("name: ", "name: [unclosed\n  "))
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:\d+: not valid YAML"):
        load_room_config(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_room_config(write(tmp_path, "- a\n- b\n"))


def test_bad_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match=r":15: timezone: .*unknown time zone"):
        load_room_config(path)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCLASS_EDGE_MQTT_PORT", "18830")
    monkeypatch.setenv("SMARTCLASS_EDGE_MQTT_PASSWORD", "s3cret")
    monkeypatch.setenv("SMARTCLASS_EDGE_PIN_FACTORY", "mock")
    settings = EdgeSettings()
    assert settings.mqtt_port == 18830
    assert settings.mqtt_password is not None
    assert "s3cret" not in repr(settings)
    assert settings.mqtt_password.get_secret_value() == "s3cret"
    assert type(make_pin_factory(settings.pin_factory)).__name__ == "MockFactory"
    assert make_pin_factory(None) is None


def test_two_devices_on_one_gpio_pin_are_refused_with_the_line(tmp_path: Path) -> None:
    text = (SAMPLE.read_text(encoding="utf-8")).replace(
        "devices:\n", "devices:\n  pir:\n    family: occupancy\n    backend: gpio\n    pin: 23\n", 1
    )
    path = tmp_path / "room.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"GPIO23 is used twice: by pir and by lights\.zones\.middle"
    ):
        load_room_config(path)
