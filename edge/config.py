"""The room file: what one classroom has (YAML, validated), with errors that name file and line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from devices.lighting.config import GpioLightingConfig
from devices.occupancy.config import PirOccupancyConfig
from devices.registry import DeviceConfig
from edge.attendance.config import AttendanceConfig
from edge.help import PANEL_ID
from edge.panel.config import PanelConfig
from protocol.rules import RulesConfig
from protocol.timetable import TimetableConfig
from protocol.topics import validate_id


def _id(what: str) -> AfterValidator:
    return AfterValidator(lambda v: validate_id(v, what))


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {name!r}"
        raise ValueError(msg) from None
    return name


class MqttConfig(BaseModel):
    """How the agent keeps its MQTT session (the broker address is a process setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keepalive_s: int = Field(
        default=30,
        ge=2,
        le=3600,
        description="MQTT keepalive, s; the broker drops us after 1.5x.",
    )
    session_expiry_s: int = Field(
        default=86400, ge=0, description="How long the broker keeps our session while we are away."
    )
    topic_root: str = Field(
        default="sc", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="First level of every topic."
    )
    reconnect_min_s: float = Field(default=0.5, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="Cap of the reconnect delay.")
    resend_after_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Send a message again if the hub, online, has not stored it after this long.",
    )
    clock_alert_s: float = Field(
        default=60.0,
        gt=0,
        description="Alert when the agent's clock is this far from the hub's, seconds.",
    )


class OutboxConfig(BaseModel):
    """Bounds of the durable outbox; beyond them the oldest messages are dropped and reported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_messages: int = Field(default=100_000, ge=10, description="Most messages kept unsent.")
    max_age_h: float = Field(default=168.0, gt=0, description="Oldest unsent message kept, hours.")
    refused_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Sends of a message the broker refuses before it is parked (kept, reported).",
    )
    refused_retry_s: float = Field(
        default=1.0, gt=0, le=3600, description="First pause before a refused message is sent "
        "again; it doubles with each refusal (at most 5 minutes).",
    )  # fmt: skip


class HomeAssistantConfig(BaseModel):
    """Home Assistant MQTT discovery for the room's lights, projector and sensors (optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=False, description="Publish discovery configs and take Home Assistant's commands."
    )
    discovery_prefix: str = Field(
        default="homeassistant",
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="Home Assistant's discovery prefix (its MQTT integration setting).",
    )


class RoomFile(BaseModel):
    """One classroom: identity, timing, MQTT session, outbox bounds, devices, timetable, rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Annotated[str, _id("site id")] = Field(description="School id (thcs-...).")
    room: Annotated[str, _id("room id")] = Field(description="Room id within the school, e.g. 6a1.")
    name: str = Field(default="", max_length=200, description="Display name, e.g. 'Lớp 6A1'.")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        default="Asia/Ho_Chi_Minh", description="IANA time zone of the school."
    )
    telemetry_interval_s: float = Field(
        default=10.0, ge=0.1, le=3600, description="How often sensors are sampled and sent."
    )
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT session settings.")
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Outbox bounds.")
    devices: dict[Annotated[str, _id("device id")], DeviceConfig] = Field(
        default_factory=dict, description="Device id to its config (family and backend)."
    )
    timetable: TimetableConfig | None = Field(
        default=None, description="Periods, holidays and lesson plan; omitted: no schedule."
    )
    rules: RulesConfig = Field(
        default_factory=RulesConfig, description="Vacancy, CO2 and projector maintenance rules."
    )
    homeassistant: HomeAssistantConfig = Field(
        default_factory=HomeAssistantConfig, description="Home Assistant discovery; off by default."
    )
    panel: PanelConfig = Field(
        default_factory=PanelConfig, description="The teacher's tablet panel; off by default."
    )
    attendance: AttendanceConfig | None = Field(
        default=None, description="Attendance by the room's camera (docs/attendance.md)."
    )

    @field_validator("devices")
    @classmethod
    def _panel_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Every agent has its own help panel under this id."""
        if PANEL_ID in value:
            msg = f"device id {PANEL_ID!r} is the agent's own help panel; name the device otherwise"
            raise ValueError(msg)
        if "attendance" in value:
            msg = "device id 'attendance' is the agent's attendance pipeline; name it otherwise"
            raise ValueError(msg)
        return value

    @field_validator("attendance")
    @classmethod
    def _attendance_camera(
        cls, value: AttendanceConfig | None, info: ValidationInfo
    ) -> AttendanceConfig | None:
        devices = info.data.get("devices")
        if value is not None and devices is not None:
            camera = devices.get(value.camera)
            if camera is None or camera.family != "camera":
                cameras = [d for d, c in devices.items() if c.family == "camera"]
                msg = (
                    f"camera: {value.camera!r} is not a camera of the room "
                    f"(cameras: {', '.join(cameras) or 'none'})"
                )
                raise ValueError(msg)
        return value

    @field_validator("devices")
    @classmethod
    def _gpio_pins_once(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Two devices on one GPIO pin would fight over it: refuse the file."""
        owners: dict[int, str] = {}
        for device_id, config in value.items():
            for where, pin in _gpio_pins(device_id, config):
                if pin in owners:
                    msg = f"GPIO{pin} is used twice: by {owners[pin]} and by {where}"
                    raise ValueError(msg)
                owners[pin] = where
        return value

    @field_validator("timetable")
    @classmethod
    def _timetable_devices(
        cls, value: TimetableConfig | None, info: ValidationInfo
    ) -> TimetableConfig | None:
        devices: Mapping[str, Any] | None = info.data.get("devices")
        if value is None or devices is None:
            return value
        _check_refs(value.device_refs(), devices)
        names = value.lights if value.lights is not None else list(devices)
        for device in names:
            scenes = getattr(devices[device], "all_scenes", None)  # backends without scenes: None
            missing = sorted(value.scene_names() - set(scenes or ()))
            if devices[device].family == "lighting" and scenes is not None and missing:
                msg = f"lighting {device!r} has no scene {missing[0]!r} (has {', '.join(scenes)})"
                raise ValueError(msg)
        return value

    @field_validator("rules")
    @classmethod
    def _rules_devices(cls, value: RulesConfig, info: ValidationInfo) -> RulesConfig:
        devices: Mapping[str, Any] | None = info.data.get("devices")
        if devices is not None:
            _check_refs(value.device_refs(), devices)
        return value


def _gpio_pins(device_id: str, config: Any) -> list[tuple[str, int]]:
    """(where, BCM pin) of every GPIO pin a device config claims."""
    if isinstance(config, GpioLightingConfig):
        return [(f"{device_id}.zones.{zone}", z.pin) for zone, z in config.zones.items()]
    if isinstance(config, PirOccupancyConfig):
        return [(device_id, config.pin)]
    return []


def _check_refs(refs: Iterable[tuple[str, str, str | None]], devices: Mapping[str, Any]) -> None:
    for key, device, family in refs:
        if device not in devices:
            msg = f"{key}: no device {device!r} in this room (devices: {', '.join(devices)})"
            raise ValueError(msg)
        if family is not None and devices[device].family != family:
            msg = f"{key}: {device!r} is a {devices[device].family} device, not {family}"
            raise ValueError(msg)


class ConfigError(ValueError):
    """A room file that is missing, not YAML, or not valid; the message names file and line."""


def _find_node(root: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[yaml.Node | None, str]:
    """The deepest YAML node along ``loc`` and the dotted key path, skipping union tags."""
    node, path = root, []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                continue  # a discriminator tag pydantic puts into the location
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        path.append(str(part))
    return node, ".".join(path) or "(top)"


def _describe(path: Path, exc: ValidationError, root: yaml.Node | None) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        node, keys = _find_node(root, tuple(err["loc"]))
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        lines.append(f"{path}{line}: {keys}: {err['msg']}")
    return "\n".join(lines)


def parse_room_config(text: str, path: Path) -> RoomFile:
    """Validate a room file's text; ``path`` is used in error messages only."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        msg = f"{path}{where}: not valid YAML: {exc.problem or exc}"
        raise ConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: a room file must be a mapping of keys (site, room, devices, ...)"
        raise ConfigError(msg)
    try:
        return RoomFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, root)) from exc


def load_room_config(path: str | Path) -> RoomFile:
    """Read and validate a room file; raise ConfigError naming the file, key path and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read room file: {exc}"
        raise ConfigError(msg) from exc
    return parse_room_config(text, path)


__all__ = [
    "ConfigError",
    "HomeAssistantConfig",
    "MqttConfig",
    "OutboxConfig",
    "RoomFile",
    "load_room_config",
    "parse_room_config",
]
