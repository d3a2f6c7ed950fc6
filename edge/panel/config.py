"""The room file's ``panel:`` section: whether the agent serves the tablet panel, and where."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the panel is for the tablets on the room's network
"""The default address: every interface of the Pi."""


class PanelConfig(BaseModel):
    """The teacher's tablet panel, served by the agent itself (docs/panel.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=False,
        description="Serve the panel. Off unless the room file says so: an agent upgraded from "
        "before the panel opens no new port on the network by itself.",
    )
    bind: str = Field(
        default=ALL_INTERFACES,
        description="IP address the panel listens on: 0.0.0.0 every interface (the tablets on "
        "the room's network), 127.0.0.1 this machine only.",
    )
    port: int = Field(
        default=8080, ge=0, le=65535, description="TCP port of the panel; 0: a free one."
    )
    co2_stuffy_ppm: float = Field(
        default=1000,
        gt=0,
        le=10000,
        description="From this CO2 the panel says the air is getting stuffy; from the CO2 rule's "
        "co2_ppm (1200 by default) it says to open the windows.",
    )

    @field_validator("bind")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            msg = f"{value!r} is not an IP address (0.0.0.0: every interface, 127.0.0.1: local)"
            raise ValueError(msg) from None
        return value


__all__ = ["ALL_INTERFACES", "PanelConfig"]
