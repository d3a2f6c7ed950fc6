"""Home Assistant discovery: configs, templates rendered as Jinja, commands, stale entities."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import ValidationError

from devices.environment.config import I2cEnvironmentConfig
from devices.lighting.config import GpioLightingConfig
from devices.lighting.gpio import GpioLighting
from edge.config import HomeAssistantConfig, RoomFile, load_room_config
from edge.dispatch import run_command
from edge.homeassistant import (
    COMMAND_TTL_S,
    ISSUER,
    HomeAssistantBridge,
    HomeAssistantPayloadError,
    LocalAction,
)
from edge.homeassistant_sync import DiscoveryRecord, sync_discovery
from protocol.messages import DeviceState, Message, Status, Telemetry, encode

SIM_ROOM = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"
NODE = "homeassistant/{}/sc_thcs-nguyen-chi-thanh_6a1/{}/config"
BASE = "sc/thcs-nguyen-chi-thanh/6a1"
JINJA = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
"""Home Assistant renders templates in a sandbox; strict: a template never reads a missing key."""


def render(template: str, message: Message) -> str:
    """A template as Home Assistant's MQTT integration renders it for a received payload."""
    payload = encode(message).decode()
    return JINJA.from_string(template).render(value=payload, value_json=json.loads(payload))


def with_ha(room: RoomFile, **devices: Any) -> RoomFile:
    update: dict[str, Any] = {"homeassistant": HomeAssistantConfig(enabled=True)}
    if devices:
        update["devices"] = devices
    return room.model_copy(update=update)


@pytest.fixture(scope="module")
def room() -> RoomFile:
    return with_ha(load_room_config(SIM_ROOM))


@pytest.fixture(scope="module")
def bridge(room: RoomFile) -> HomeAssistantBridge:
    return HomeAssistantBridge(room, sw_version="1.2.3")


def entity(bridge: HomeAssistantBridge, component: str, object_id: str) -> dict[str, Any]:
    topic = NODE.format(component, object_id)
    found = [d.config for d in bridge.discovery if d.topic == topic]
    assert found, f"no {topic}"
    return found[0]


def state(device: str, family: str, available: bool = True, **values: Any) -> DeviceState:
    return DeviceState(
        sender="edge/x/y", boot="b", device=device, family=family, state=values, available=available
    )


def telemetry(device: str, **readings: float) -> Telemetry:
    return Telemetry(sender="edge/x/y", boot="b", seq=1, device=device, readings=readings)


@pytest.fixture
def lights() -> Iterator[tuple[GpioLighting, MockFactory]]:
    factory = MockFactory(pin_class=MockPWMPin)
    config = load_room_config(SIM_ROOM).devices["lights"]
    assert isinstance(config, GpioLightingConfig)
    device = GpioLighting("lights", config, pin_factory=factory)
    yield device, factory
    device.close()


# --- config ---------------------------------------------------------------------------


def test_off_by_default_with_the_standard_prefix() -> None:
    config = load_room_config(SIM_ROOM).homeassistant
    assert (config.enabled, config.discovery_prefix) == (False, "homeassistant")
    assert HomeAssistantConfig(discovery_prefix="school/ha").discovery_prefix == "school/ha"


@pytest.mark.parametrize("prefix", ["", "home assistant", "ha/#", "ha/+", "/ha", "ha/", "a//b"])
def test_prefix_must_be_a_plain_topic(prefix: str) -> None:
    with pytest.raises(ValidationError):
        HomeAssistantConfig(discovery_prefix=prefix)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        HomeAssistantConfig.model_validate({"enabled": True, "prefix": "ha"})


# --- discovery ------------------------------------------------------------------------


def test_sample_room_entities_and_topics(bridge: HomeAssistantBridge) -> None:
    assert [d.topic for d in bridge.discovery] == [
        NODE.format("sensor", "env_temperature_c"),
        NODE.format("sensor", "env_humidity_pct"),
        NODE.format("sensor", "env_co2_ppm"),
        NODE.format("sensor", "env_light_lux"),
        NODE.format("light", "lights_front"),
        NODE.format("light", "lights_middle"),
        NODE.format("light", "lights_back"),
        NODE.format("switch", "projector_power"),
        NODE.format("select", "projector_input"),
        NODE.format("sensor", "projector_lamp_hours"),
        NODE.format("sensor", "projector_filter_hours"),
        NODE.format("sensor", "noise_noise_dba"),
        NODE.format("binary_sensor", "presence_occupied"),
    ]
    assert bridge.command_filter == f"{BASE}/ha/+/+/+"


def test_unique_ids_are_stable_and_distinct(room: RoomFile, bridge: HomeAssistantBridge) -> None:
    again = HomeAssistantBridge(room, sw_version="1.2.3")
    assert [d.payload for d in again.discovery] == [d.payload for d in bridge.discovery]
    ids = [d.config["unique_id"] for d in bridge.discovery]
    assert len(set(ids)) == len(ids)
    assert entity(bridge, "light", "lights_front")["unique_id"] == (
        "smartclass:sc:thcs-nguyen-chi-thanh:6a1:lights:front"
    )
    other_root = room.model_copy(update={"mqtt": room.mqtt.model_copy(update={"topic_root": "t"})})
    assert not set(ids) & {d.config["unique_id"] for d in HomeAssistantBridge(other_root).discovery}


def test_prefix_and_payload(room: RoomFile) -> None:
    config = HomeAssistantConfig(enabled=True, discovery_prefix="school/ha")
    bridge = HomeAssistantBridge(room.model_copy(update={"homeassistant": config}))
    assert all(d.topic.startswith("school/ha/") for d in bridge.discovery)
    first = bridge.discovery[0]
    assert json.loads(first.payload) == first.config
    assert "Lớp 6A1".encode() in first.payload  # UTF-8, not escaped


def test_every_entity_names_its_device_and_availability(bridge: HomeAssistantBridge) -> None:
    online = Status(sender="edge/x/y", state="online", boot="b")
    offline = Status(sender="edge/x/y", state="offline", boot="b")
    for d in bridge.discovery:
        device = d.config["device"]
        device_id = device["identifiers"][0].rsplit(":", 1)[1]
        assert device["manufacturer"] == "smartclass"
        assert device["suggested_area"] == device["name"].removesuffix(f" {device_id}")
        assert device["suggested_area"] == "Lớp 6A1"
        assert (device["sw_version"], d.config["origin"]["name"]) == ("1.2.3", "smartclass")
        assert d.config["availability_mode"] == "all"
        status, own = d.config["availability"]
        assert status["topic"] == f"{BASE}/status"
        assert own["topic"] == f"{BASE}/state/{device_id}"
        assert render(status["value_template"], online) == status["payload_available"]
        assert render(status["value_template"], offline) == status["payload_not_available"]
        gone = state(device_id, "x", available=False)
        assert render(own["value_template"], state(device_id, "x")) == "online"
        assert render(own["value_template"], gone) == own["payload_not_available"]
    assert entity(bridge, "light", "lights_front")["device"]["model"] == "lighting (gpio)"


async def test_light_templates_read_the_lighting_state(
    bridge: HomeAssistantBridge, lights: tuple[GpioLighting, MockFactory]
) -> None:
    device, _ = lights
    front = entity(bridge, "light", "lights_front")
    middle = entity(bridge, "light", "lights_middle")
    assert front["brightness_scale"] == 100
    assert front["state_topic"] == front["brightness_state_topic"] == f"{BASE}/state/lights"
    assert "brightness_command_topic" not in middle  # a relay: on and off only
    await device.execute("set", {"zone": "front", "level": 60})
    current = state("lights", "lighting", **await device.state())
    assert render(front["state_value_template"], current) == "ON"
    assert render(front["brightness_value_template"], current) == "60"
    assert render(middle["state_value_template"], current) == "OFF"


def test_projector_templates(bridge: HomeAssistantBridge, room: RoomFile) -> None:
    power = entity(bridge, "switch", "projector_power")
    source = entity(bridge, "select", "projector_input")
    lamp = entity(bridge, "sensor", "projector_lamp_hours")
    projector = room.devices["projector"]
    assert source["options"] == list(getattr(projector, "inputs", {})) != []
    for shown, expected in [("on", "ON"), ("warming", "ON"), ("cooling", "OFF"), ("off", "OFF")]:
        current = state("projector", "projector", power=shown, input="hdmi1", lamp_hours=12)
        assert render(power["value_template"], current) == expected
    assert render(source["value_template"], current) == "hdmi1"
    assert render(lamp["value_template"], current) == "12"
    unknown = state("projector", "projector", power="off", input="33x", lamp_hours=None)
    assert render(source["value_template"], unknown) == "None"  # HA: no current option
    assert render(lamp["value_template"], unknown) == "None"  # HA: unknown
    assert (lamp["device_class"], lamp["unit_of_measurement"]) == ("duration", "h")


def test_sensors_take_only_their_device_telemetry(bridge: HomeAssistantBridge) -> None:
    co2 = entity(bridge, "sensor", "env_co2_ppm")
    noise = entity(bridge, "sensor", "noise_noise_dba")
    assert co2["state_topic"] == noise["state_topic"] == f"{BASE}/telemetry"
    assert (co2["device_class"], co2["unit_of_measurement"]) == ("carbon_dioxide", "ppm")
    assert (noise["device_class"], noise["unit_of_measurement"]) == ("sound_pressure", "dBA")
    env = telemetry("env", co2_ppm=812, temperature_c=29.5)
    loud = telemetry("noise", noise_dba=61.5)
    assert render(co2["value_template"], env) == "812.0"
    # Empty for another device or a missing reading: HA ignores an empty numeric state.
    assert render(co2["value_template"], loud) == ""
    assert render(co2["value_template"], telemetry("env", temperature_c=29.5)) == ""
    assert render(noise["value_template"], loud) == "61.5"
    assert render(noise["value_template"], env) == ""


def test_occupancy_binary_sensor(bridge: HomeAssistantBridge) -> None:
    presence = entity(bridge, "binary_sensor", "presence_occupied")
    assert presence["device_class"] == "occupancy"
    occupied = state("presence", "occupancy", occupied=True, last_motion=None)
    assert render(presence["value_template"], occupied) == "ON"
    empty = state("presence", "occupancy", occupied=False, last_motion=None)
    assert render(presence["value_template"], empty) == "OFF"


def test_i2c_sensors_follow_the_chips_present(room: RoomFile) -> None:
    light_only = I2cEnvironmentConfig.model_validate(
        {"backend": "i2c", "light": {"chip": "bh1750"}}
    )
    one = room.model_copy(update={"devices": {"air": light_only}})
    assert [d.topic for d in HomeAssistantBridge(one).discovery] == [
        NODE.format("sensor", "air_light_lux")
    ]


# --- commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "payload", "expected"),
    [
        ("lights/front/set", "ON", LocalAction("lights", "on", {"zone": "front"})),
        ("lights/back/set", b"OFF", LocalAction("lights", "off", {"zone": "back"})),
        ("lights/middle/set", "on\n", LocalAction("lights", "on", {"zone": "middle"})),
        (
            "lights/front/set_brightness",
            "60",
            LocalAction("lights", "set", {"zone": "front", "level": 60}),
        ),
        (
            "lights/front/set_brightness",
            "0.4",
            LocalAction("lights", "set", {"zone": "front", "level": 1}),
        ),
        ("lights/front/set_brightness", "0", LocalAction("lights", "off", {"zone": "front"})),
        ("projector/power/set", "ON", LocalAction("projector", "on", {})),
        ("projector/power/set", "OFF", LocalAction("projector", "off", {})),
        ("projector/input/set", "hdmi2", LocalAction("projector", "input", {"source": "hdmi2"})),
    ],
)
def test_commands_map_to_actions(
    bridge: HomeAssistantBridge, path: str, payload: str | bytes, expected: LocalAction
) -> None:
    assert bridge.action(f"{BASE}/ha/{path}", payload) == expected


def test_command_topics_in_discovery_are_the_mapped_ones(bridge: HomeAssistantBridge) -> None:
    topics = [
        d.config[key]
        for d in bridge.discovery
        for key in ("command_topic", "brightness_command_topic")
        if key in d.config
    ]
    assert len(topics) == 6
    for topic in topics:
        assert bridge.owns(topic)
        payload = "50" if topic.endswith("set_brightness") else "ON"
        if topic.endswith("input/set"):
            payload = "vga1"
        assert bridge.action(topic, payload).device in ("lights", "projector")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("lights/front/set", "MAYBE"),
        ("lights/front/set", ""),
        ("lights/front/set", b"\xff\xfe"),
        ("lights/front/set", "ON" * 40),
        ("lights/front/set_brightness", "bright"),
        ("lights/front/set_brightness", "101"),
        ("lights/front/set_brightness", "-1"),
        ("lights/front/set_brightness", "nan"),
        ("lights/middle/set_brightness", "50"),  # a relay has no brightness
        ("lights/attic/set", "ON"),
        ("projector/input/set", "hdmi9"),
        ("projector/power/toggle", "ON"),
        ("env/co2_ppm/set", "400"),
        ("lights/front", "ON"),
        ("lights/front/set/more", "ON"),
    ],
)
def test_malformed_commands_are_refused(
    bridge: HomeAssistantBridge, path: str, payload: str | bytes
) -> None:
    with pytest.raises(HomeAssistantPayloadError):
        bridge.action(f"{BASE}/ha/{path}", payload)


def test_topics_outside_the_room_are_not_owned(bridge: HomeAssistantBridge) -> None:
    assert not bridge.owns(f"{BASE}/cmd/lights")
    assert not bridge.owns("sc/thcs-nguyen-chi-thanh/6a2/ha/lights/front/set")
    with pytest.raises(HomeAssistantPayloadError):
        bridge.action("sc/other/6a1/ha/lights/front/set", "ON")


async def test_a_command_runs_through_dispatch_and_switches_the_pin(
    bridge: HomeAssistantBridge, lights: tuple[GpioLighting, MockFactory]
) -> None:
    device, factory = lights
    now = datetime(2025, 10, 13, 1, 0, tzinfo=UTC)
    command = bridge.command(
        f"{BASE}/ha/lights/front/set_brightness", "40", sender="edge/a/b", now=now
    )
    assert (command.issuer, command.sender, command.device) == (ISSUER, "edge/a/b", "lights")
    assert command.id.startswith("ha-")
    assert command.expires == now + timedelta(seconds=COMMAND_TTL_S)
    reply = await run_command({"lights": device}, command, sender="edge/a/b", now=now)
    assert reply.ok
    assert factory.pin(18).state == pytest.approx(0.4)
    second = bridge.command(f"{BASE}/ha/lights/middle/set", "ON", sender="edge/a/b", now=now)
    assert second.id != command.id
    assert (await run_command({"lights": device}, second, sender="x", now=now)).ok
    assert factory.pin(23).state == 1


# --- stale entities -------------------------------------------------------------------


class Recorder:
    def __init__(self, fail_after: int | None = None) -> None:
        self.published: list[tuple[str, bytes]] = []
        self.fail_after = fail_after

    async def __call__(self, topic: str, payload: bytes) -> None:
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            raise aiomqtt.MqttError("broker refused publish")
        self.published.append((topic, payload))


async def test_sync_publishes_then_clears_what_the_room_no_longer_has(
    room: RoomFile, bridge: HomeAssistantBridge, tmp_path: Path
) -> None:
    record = DiscoveryRecord(tmp_path / "room" / "homeassistant.json")
    first = Recorder()
    assert await sync_discovery(bridge, record, first, label="r")
    assert first.published == [(d.topic, d.payload) for d in bridge.discovery]
    assert record.load() == {d.topic for d in bridge.discovery}

    without_projector = {k: v for k, v in room.devices.items() if k != "projector"}
    smaller = HomeAssistantBridge(room.model_copy(update={"devices": without_projector}))
    second = Recorder()
    assert await sync_discovery(smaller, record, second, label="r")
    cleared = [topic for topic, payload in second.published if payload == b""]
    assert cleared == sorted(d.topic for d in bridge.discovery if "/projector_" in d.topic)
    assert len(second.published) == len(smaller.discovery) + 4
    assert record.load() == {d.topic for d in smaller.discovery}

    third = Recorder()
    assert await sync_discovery(None, record, third, label="r")  # Home Assistant switched off
    assert sorted(third.published) == sorted((d.topic, b"") for d in smaller.discovery)
    assert not record.path.exists()
    assert await sync_discovery(None, record, Recorder(), label="r")


async def test_sync_failure_keeps_every_topic_that_may_be_retained(
    room: RoomFile, bridge: HomeAssistantBridge, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = DiscoveryRecord(tmp_path / "homeassistant.json")
    record.save(["homeassistant/light/old/old_zone/config"])
    with caplog.at_level(logging.WARNING):
        assert not await sync_discovery(bridge, record, Recorder(fail_after=2), label="6a1")
    assert "not brought up to date" in caplog.text
    assert record.load() == {d.topic for d in bridge.discovery} | {
        "homeassistant/light/old/old_zone/config"
    }


def test_unreadable_record_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "homeassistant.json"
    path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert DiscoveryRecord(path).load() == set()
    path.write_text('{"topics": [1, 2]}', encoding="utf-8")
    assert DiscoveryRecord(path).load() == set()
    assert caplog.text.count("ignored") == 2
