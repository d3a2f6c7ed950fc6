"""Home Assistant MQTT discovery for a room, and Home Assistant's commands as device actions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devices.environment.config import I2cEnvironmentConfig
from devices.lighting.config import DimmerZoneConfig, GpioLightingConfig, ZoneConfig
from devices.projector.config import ProjectorSettings
from devices.registry import AnyDeviceConfig
from edge.config import RoomFile
from protocol.messages import Command, utcnow
from protocol.topics import RoomTopics

ISSUER = "homeassistant"
"""The ``issuer`` of every command that comes from Home Assistant."""
COMMAND_TTL_S = 30.0
"""Expiry given to a Home Assistant command (it runs at once; the contract wants one)."""
MANUFACTURER = "smartclass"
ON, OFF = "ON", "OFF"
MAX_PAYLOAD = 64
"""Longest command payload read; Home Assistant's are a word or a number."""


class HomeAssistantPayloadError(ValueError):
    """A message on a Home Assistant command topic that maps to no action (logged and dropped)."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """One retained discovery message: an entity's config topic and its JSON config."""

    topic: str
    config: dict[str, Any]

    @property
    def payload(self) -> bytes:
        return json.dumps(self.config, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class LocalAction:
    """What a Home Assistant command asks of one of the room's devices."""

    device: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


Mapper = Callable[[str], LocalAction]
"""Turns a Home Assistant command's text into an action; raises HomeAssistantPayloadError."""


@dataclass(frozen=True, slots=True)
class _Metric:
    name: str
    device_class: str
    unit: str
    precision: int


METRICS: dict[str, _Metric] = {
    "temperature_c": _Metric("Temperature", "temperature", "°C", 1),
    "humidity_pct": _Metric("Humidity", "humidity", "%", 0),
    "co2_ppm": _Metric("CO2", "carbon_dioxide", "ppm", 0),
    "light_lux": _Metric("Illuminance", "illuminance", "lx", 0),
    "noise_dba": _Metric("Noise", "sound_pressure", "dBA", 1),
}
"""Telemetry metrics shown as Home Assistant sensors."""


def _readings(config: AnyDeviceConfig) -> list[str]:
    """The telemetry metrics a device sends, as far as its config tells."""
    if isinstance(config, I2cEnvironmentConfig):
        co2 = ["temperature_c", "humidity_pct", "co2_ppm"] if config.co2 is not None else []
        return co2 + (["light_lux"] if config.light is not None else [])
    if config.family == "environment":
        return ["temperature_c", "humidity_pct", "co2_ppm", "light_lux"]
    if config.family == "noise":
        return ["noise_dba"]
    return []


def _tpl(expression: str) -> str:
    return "{{ " + expression + " }}"


def _reading_template(device_id: str, metric: str) -> str:
    # One telemetry topic carries every sensor of the room: a message of another device
    # renders nothing, and Home Assistant ignores an empty state for a numeric sensor.
    test = f"value_json.device == {device_id!r} and {metric!r} in value_json.readings"
    return "{% if " + test + " %}" + _tpl(f"value_json.readings[{metric!r}]") + "{% endif %}"


def _text(payload: bytes | bytearray | str) -> str:
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            msg = "payload is not UTF-8 text"
            raise HomeAssistantPayloadError(msg) from None
    if len(payload) > MAX_PAYLOAD:
        msg = f"payload longer than {MAX_PAYLOAD} characters"
        raise HomeAssistantPayloadError(msg)
    return payload.strip()


def _switch(device: str, params: dict[str, Any]) -> Mapper:
    def mapper(text: str) -> LocalAction:
        value = text.upper()
        if value in (ON, OFF):
            return LocalAction(device, "on" if value == ON else "off", dict(params))
        msg = f"expected {ON} or {OFF}, got {text!r}"
        raise HomeAssistantPayloadError(msg)

    return mapper


def _brightness(device: str, zone: str) -> Mapper:
    def mapper(text: str) -> LocalAction:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 100:  # also refuses NaN
            msg = f"brightness must be a number 0..100, got {text!r}"
            raise HomeAssistantPayloadError(msg)
        level = max(1, round(value)) if value > 0 else 0
        if level == 0:
            return LocalAction(device, "off", {"zone": zone})
        return LocalAction(device, "set", {"zone": zone, "level": level})

    return mapper


def _option(device: str, options: Sequence[str]) -> Mapper:
    def mapper(text: str) -> LocalAction:
        if text not in options:
            msg = f"unknown input {text!r} (inputs: {', '.join(options)})"
            raise HomeAssistantPayloadError(msg)
        return LocalAction(device, "input", {"source": text})

    return mapper


@dataclass(frozen=True, slots=True)
class _Entity:
    component: str  # light, switch, select, sensor, binary_sensor
    key: str  # unique within the device: a zone, power, input, a metric
    name: str
    fields: dict[str, Any]


def _numeric(device_class: str, unit: str, state_class: str) -> dict[str, Any]:
    return {"device_class": device_class, "unit_of_measurement": unit, "state_class": state_class}


class HomeAssistantBridge:
    """The room as Home Assistant entities: discovery configs and the command mapping.

    Entities read the contract's own topics: the retained status (availability),
    the retained ``state/{device}`` topics and telemetry. Commands come on
    ``{base}/ha/{device}/{entity}/{verb}`` and become Commands with issuer
    ``homeassistant`` for the normal dispatch.
    """

    def __init__(self, room: RoomFile, *, sw_version: str = "") -> None:
        root = room.mqtt.topic_root
        self.topics = RoomTopics(room.site, room.room, root)
        self.prefix = room.homeassistant.discovery_prefix
        self.node_id = f"{root}_{room.site}_{room.room}"
        self.id_base = f"{MANUFACTURER}:{root}:{room.site}:{room.room}"
        self.area = room.name or room.room
        self.sw_version = sw_version
        self.command_base = f"{self.topics.base}/ha"
        self._mappers: dict[tuple[str, str, str], Mapper] = {}
        self._discovery: dict[str, Discovery] = {}
        for device_id, config in room.devices.items():
            for entity in self._entities(device_id, config):
                self._add(device_id, config, entity)

    @property
    def discovery(self) -> list[Discovery]:
        """Every entity's discovery message, in device order."""
        return list(self._discovery.values())

    @property
    def command_filter(self) -> str:
        """Subscription filter for every Home Assistant command to this room."""
        return f"{self.command_base}/+/+/+"

    def owns(self, topic: str) -> bool:
        """Whether ``topic`` is under this room's Home Assistant command topics."""
        return topic.startswith(f"{self.command_base}/")

    def action(self, topic: str, payload: bytes | bytearray | str) -> LocalAction:
        """The device action a Home Assistant command asks for; raise if there is none."""
        parts = topic.removeprefix(f"{self.command_base}/").split("/")
        mapper = self._mappers.get((parts[0], parts[1], parts[2])) if len(parts) == 3 else None
        if not self.owns(topic) or mapper is None:
            msg = "no Home Assistant entity takes commands on this topic"
            raise HomeAssistantPayloadError(msg)
        return mapper(_text(payload))

    def command(
        self,
        topic: str,
        payload: bytes | bytearray | str,
        *,
        sender: str,
        now: datetime | None = None,
    ) -> Command:
        """A contract Command for a Home Assistant command (issuer ``homeassistant``)."""
        action = self.action(topic, payload)
        now = now or utcnow()
        return Command(
            ts=now,
            sender=sender,
            id=f"ha-{uuid.uuid4().hex[:16]}",
            device=action.device,
            action=action.action,
            params=action.params,
            issuer=ISSUER,
            expires=now + timedelta(seconds=COMMAND_TTL_S),
        )

    # --- entities ------------------------------------------------------------------

    def _entities(self, device_id: str, config: AnyDeviceConfig) -> list[_Entity]:
        state = self.topics.state(device_id)
        entities: list[_Entity] = []
        if isinstance(config, GpioLightingConfig):
            entities = [self._light(device_id, state, z, c) for z, c in config.zones.items()]
        elif isinstance(config, ProjectorSettings):
            entities = self._projector(device_id, state, list(config.inputs))
        elif config.family == "occupancy":
            occupied = _tpl("'ON' if value_json.state.occupied else 'OFF'")
            binary = {"state_topic": state, "value_template": occupied, "device_class": "occupancy"}
            entities = [_Entity("binary_sensor", "occupied", "Occupancy", binary)]
        for metric in _readings(config):
            m = METRICS[metric]
            fields = {
                "state_topic": self.topics.telemetry,
                "value_template": _reading_template(device_id, metric),
                **_numeric(m.device_class, m.unit, "measurement"),
                "suggested_display_precision": m.precision,
            }
            entities.append(_Entity("sensor", metric, m.name, fields))
        return entities

    def _command_topic(self, device_id: str, key: str, verb: str, mapper: Mapper) -> str:
        self._mappers[(device_id, key, verb)] = mapper
        return f"{self.command_base}/{device_id}/{key}/{verb}"

    def _light(self, device_id: str, state: str, zone: str, config: ZoneConfig) -> _Entity:
        fields: dict[str, Any] = {
            "command_topic": self._command_topic(
                device_id, zone, "set", _switch(device_id, {"zone": zone})
            ),
            "state_topic": state,
            "state_value_template": _tpl(f"'ON' if value_json.state[{zone!r}].on else 'OFF'"),
            "qos": 0,
        }
        if isinstance(config, DimmerZoneConfig):
            level = _brightness(device_id, zone)
            fields |= {
                "brightness_command_topic": self._command_topic(
                    device_id, zone, "set_brightness", level
                ),
                "brightness_state_topic": state,
                "brightness_value_template": _tpl(f"value_json.state[{zone!r}].level"),
                "brightness_scale": 100,
                "on_command_type": "last",  # brightness first, then ON (which keeps it)
            }
        return _Entity("light", zone, zone, fields)

    def _projector(self, device_id: str, state: str, options: list[str]) -> list[_Entity]:
        power = {
            "command_topic": self._command_topic(device_id, "power", "set", _switch(device_id, {})),
            "state_topic": state,
            "value_template": _tpl(
                "'ON' if value_json.state.power in ['on', 'warming'] else 'OFF'"
            ),
            "qos": 0,
        }
        current = f"value_json.state.input if value_json.state.input in {options!r} else 'None'"
        source = {
            "command_topic": self._command_topic(
                device_id, "input", "set", _option(device_id, options)
            ),
            "state_topic": state,
            "value_template": _tpl(current),
            "options": options,
            "qos": 0,
        }
        entities = [
            _Entity("switch", "power", "Power", power),
            _Entity("select", "input", "Input", source),
        ]
        for key, name in (("lamp_hours", "Lamp hours"), ("filter_hours", "Filter hours")):
            fields = {
                "state_topic": state,
                "value_template": _tpl(f"value_json.state.{key}"),
                **_numeric("duration", "h", "total_increasing"),
                "entity_category": "diagnostic",
            }
            entities.append(_Entity("sensor", key, name, fields))
        return entities

    def _add(self, device_id: str, config: AnyDeviceConfig, entity: _Entity) -> None:
        both = {"payload_available": "online", "payload_not_available": "offline"}
        available = _tpl("'online' if value_json.available else 'offline'")
        version = {"sw_version": self.sw_version} if self.sw_version else {}
        unique_id = f"{self.id_base}:{device_id}:{entity.key}"
        topic = f"{self.prefix}/{entity.component}/{self.node_id}/{device_id}_{entity.key}/config"
        if topic in self._discovery:
            msg = f"{unique_id} and {self._discovery[topic].config['unique_id']} share {topic}"
            raise ValueError(msg)
        self._discovery[topic] = Discovery(
            topic,
            {
                "unique_id": unique_id,
                "name": entity.name,
                "device": {
                    "identifiers": [f"{self.id_base}:{device_id}"],
                    "name": f"{self.area} {device_id}",
                    "manufacturer": MANUFACTURER,
                    "model": f"{config.family} ({config.backend})",
                    "suggested_area": self.area,
                    **version,
                },
                "origin": {"name": MANUFACTURER, **version},
                "availability": [
                    {
                        "topic": self.topics.status,
                        "value_template": _tpl("value_json.state"),
                        **both,
                    },
                    {"topic": self.topics.state(device_id), "value_template": available, **both},
                ],
                "availability_mode": "all",
                **entity.fields,
            },
        )


__all__ = [
    "COMMAND_TTL_S",
    "ISSUER",
    "METRICS",
    "Discovery",
    "HomeAssistantBridge",
    "HomeAssistantPayloadError",
    "LocalAction",
    "Mapper",
]
