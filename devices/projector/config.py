"""Projector config models: a PJLink projector on the network, or a simulated one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from devices.family import BackendConfig
from devices.projector.pjlink import INPUT_CODE, PJLINK_PORT
from protocol.room_config import (
    BusyRetryS,
    BusyWaitS,
    PollIntervalS,
    ProjectorTimeoutS,
    TransitionPollS,
)

DEFAULT_INPUTS = {
    "vga1": "11",
    "vga2": "12",
    "video1": "21",
    "hdmi1": "31",
    "hdmi2": "32",
    "hdmi3": "33",
    "usb1": "41",
    "network1": "51",
}
InputName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,30}$")]
InputCode = Annotated[str, Field(pattern=INPUT_CODE.pattern)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class ProjectorSettings(BackendConfig):
    """What every projector backend shares: secrets by name, timeouts, busy handling, inputs.

    The timeouts and polling are the hub's to change too (``protocol.room_config``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["projector"] = Field(default="projector", description="Device family.")
    password_env: EnvName | None = Field(
        default=None,
        description="Name of the environment variable holding the PJLink password; omit if none.",
    )
    timeout_s: ProjectorTimeoutS = 3.0
    poll_interval_s: PollIntervalS = 30.0
    busy_wait_s: BusyWaitS = 4.0
    busy_retry_s: BusyRetryS = 1.0
    transition_poll_s: TransitionPollS = 1.0
    inputs: dict[InputName, InputCode] = Field(
        default_factory=lambda: dict(DEFAULT_INPUTS),
        description="Input names teachers use, to PJLink input codes (e.g. hdmi1: '31').",
    )
    default_input: InputName | None = Field(
        default=None,
        description="Input the panel's 'start the lesson' switches to once the projector is "
        "on (one of inputs); omitted: the input stays as it is.",
    )
    warmup_s: float = Field(
        default=30.0, ge=0, le=600, description="How long the projector takes to warm up, s: "
        "the panel counts down from it (the simulator takes this long).",
    )  # fmt: skip
    cooldown_s: float = Field(
        default=30.0, ge=0, le=600, description="How long the projector takes to cool down, s "
        "(the panel counts down; the simulator takes this long).",
    )  # fmt: skip
    input_switch_s: float = Field(
        default=3.0, ge=0, le=60, description="How long the projector takes to show a new "
        "input, s: the panel counts down from it and takes no other input tap meanwhile.",
    )  # fmt: skip

    @field_validator("default_input")
    @classmethod
    def _default_input_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        inputs = info.data.get("inputs")
        if value is not None and inputs is not None and value not in inputs:
            msg = f"{value!r} is not one of the inputs ({', '.join(inputs) or 'none'})"
            raise ValueError(msg)
        return value


class PjlinkProjectorConfig(ProjectorSettings):
    """A real projector on the room's network."""

    backend: Literal["pjlink"] = Field(description="PJLink over TCP.")
    host: str = Field(min_length=1, description="Projector's host name or IP address.")
    port: int = Field(default=PJLINK_PORT, ge=1, le=65535, description="PJLink TCP port.")


class SimProjectorConfig(ProjectorSettings):
    """A simulated projector: a PJLink server on 127.0.0.1, driven by the real client."""

    backend: Literal["sim"] = Field(description="Simulated PJLink projector.")
    port: int = Field(default=0, ge=0, le=65535, description="Port to listen on; 0: a free one.")
    pjlink_class: Literal[1, 2] = Field(default=2, description="PJLink class it implements.")
    name: str = Field(default="SIM-PROJECTOR", max_length=64, description="PJLink NAME.")
    manufacturer: str = Field(default="smartclass", max_length=32, description="PJLink INF1.")
    product: str = Field(default="SimProjector 1", max_length=32, description="PJLink INF2.")
    available_inputs: list[InputCode] = Field(
        default_factory=lambda: ["11", "31", "32", "51"],
        min_length=1,
        description="Input codes the simulated projector has.",
    )
    lamp_hours: float = Field(default=0.0, ge=0, description="Lamp hours at start.")
    filter_hours: float = Field(default=0.0, ge=0, description="Filter hours at start.")


__all__ = [
    "DEFAULT_INPUTS",
    "PjlinkProjectorConfig",
    "ProjectorSettings",
    "SimProjectorConfig",
]
