"""The projector family: projectors driven over PJLink, on the network or simulated."""

from __future__ import annotations

from devices.base import Device
from devices.family import DeviceContext, Family
from devices.projector.config import PjlinkProjectorConfig, SimProjectorConfig
from devices.projector.driver import PjlinkProjector


def _pjlink(
    device_id: str, config: PjlinkProjectorConfig | SimProjectorConfig, context: DeviceContext
) -> Device:
    def on_availability(available: bool, reason: str) -> None:
        kind, severity = (
            ("device_available", "info") if available else ("device_unavailable", "warning")
        )
        context.alert(device_id, kind, severity, reason, {"available": available})
        context.changed(device_id)

    return PjlinkProjector(
        device_id,
        config,
        on_availability=on_availability,
        on_change=lambda: context.changed(device_id),
        clock=context.clock,
    )


FAMILY = Family("projector", {PjlinkProjectorConfig: _pjlink, SimProjectorConfig: _pjlink})
"""``pjlink``: a projector on the network; ``sim``: the same driver against a SimProjector.

Both report a change of availability as an alert and a state change."""

__all__ = ["FAMILY"]
