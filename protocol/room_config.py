"""What the hub may manage of a room: run-time settings, the timetable, the rules and the
device settings that are safe to change remotely.

The agent and the hub validate with these same models: the agent its room file and each
configuration pushed to it, the hub every school and room document before it stores one.
Nothing here names a GPIO pin, a bus, an address or a secret: those stay in the room file.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from protocol.rules import RulesConfig
from protocol.timetable import DeviceRef, TimetableConfig

CONFIG_MAX_BYTES = 64 * 1024
"""Longest configuration message an agent reads (the hub refuses to make a longer one)."""
MANAGED_DEVICES_MAX = 256
"""Most devices one configuration may tune (a room announces at most as many)."""

SceneName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
ZoneName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


def _scene_level(value: object) -> object:
    """``on``/``true`` is 100, ``off``/``false`` is 0; numbers are left to the int check."""
    if isinstance(value, bool):
        return 100 if value else 0
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return 100 if value.strip().lower() == "on" else 0
    return value


SceneLevel = Annotated[
    int,
    BeforeValidator(_scene_level),
    Field(ge=0, le=100, description="Level 0..100, or on (100) / off (0)."),
]
Scene = dict[ZoneName, SceneLevel]
"""Zone name to its level in the scene; zones a scene does not name keep their level."""
Scenes = Annotated[
    dict[SceneName, Scene],
    Field(
        description="Named scenes, zone to level 0..100 or on/off; they add to or replace the "
        "built-in 'lesson' (all full), 'projection' (front zone off, other dimmers low, relays "
        "on; the front zone is the one named 'front', else the first) and 'off'.",
    ),
]

ProjectorTimeoutS = Annotated[
    float, Field(gt=0, le=30, description="Connect and reply timeout of one PJLink exchange, s.")
]
PollIntervalS = Annotated[
    float,
    Field(gt=0, le=3600, description="Seconds between status refreshes; older state is stale."),
]
BusyWaitS = Annotated[
    float,
    Field(
        ge=0,
        le=60,
        description="How long a command refused with ERR3 (warming up, cooling down) is retried "
        "before it fails; keep it under the hub's command timeout (5 s by default), so the "
        "teacher gets the projector's reason rather than a timeout.",
    ),
]
BusyRetryS = Annotated[float, Field(gt=0, le=60, description="Pause between ERR3 retries, s.")]
TransitionPollS = Annotated[
    float,
    Field(
        gt=0,
        le=60,
        description="Seconds between status refreshes while warming up or cooling down, so "
        "the room shows the end of it at once.",
    ),
]


class RoomSettings(BaseModel):
    """What the hub may change on an agent at run time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    telemetry_interval_s: float = Field(default=10.0, ge=0.5, le=3600)
    """How often the agent samples and sends its sensors."""


class ManagedLighting(BaseModel):
    """A lighting device's settings the hub may set: its scenes (the zones' levels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["lighting"] = Field(description="The device's family, as in the room file.")
    scenes: Scenes | None = None


class ManagedProjector(BaseModel):
    """A projector's settings the hub may set: its timeouts and polling, never its address or
    password."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["projector"] = Field(description="The device's family, as in the room file.")
    timeout_s: ProjectorTimeoutS | None = None
    poll_interval_s: PollIntervalS | None = None
    busy_wait_s: BusyWaitS | None = None
    busy_retry_s: BusyRetryS | None = None
    transition_poll_s: TransitionPollS | None = None


ManagedDevice = Annotated[ManagedLighting | ManagedProjector, Field(discriminator="family")]
"""One device's managed settings; a field left out (or null) keeps the room file's value."""
MANAGED_FAMILIES = frozenset(
    get_args(model.model_fields["family"].annotation)[0]
    for model in get_args(get_args(ManagedDevice)[0])
)
"""The families whose devices the hub may tune (``lighting``, ``projector``)."""


class ManagedConfig(BaseModel):
    """A room's managed configuration. A section left out keeps the room file's own; a
    section given replaces it whole (a device entry: the fields it gives)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: RoomSettings | None = Field(
        default=None, description="Run-time settings (the telemetry interval)."
    )
    timetable: TimetableConfig | None = Field(
        default=None, description="Periods, school days, holidays and the lesson plan."
    )
    rules: RulesConfig | None = Field(
        default=None, description="Vacancy, CO2 and projector maintenance rules."
    )
    devices: dict[DeviceRef, ManagedDevice] = Field(
        default_factory=dict,
        max_length=MANAGED_DEVICES_MAX,
        description="Device id to the settings to change (scenes, projector timeouts).",
    )


__all__ = [
    "CONFIG_MAX_BYTES",
    "MANAGED_FAMILIES",
    "MANAGED_DEVICES_MAX",
    "BusyRetryS",
    "BusyWaitS",
    "ManagedConfig",
    "ManagedDevice",
    "ManagedLighting",
    "ManagedProjector",
    "PollIntervalS",
    "ProjectorTimeoutS",
    "RoomSettings",
    "Scene",
    "SceneLevel",
    "SceneName",
    "Scenes",
    "TransitionPollS",
    "ZoneName",
]
