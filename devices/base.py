"""The device interface every family implements, and the exceptions drivers raise."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

Action = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""An action handler: takes the command's params, returns the device's new state."""

Clock = Callable[[], float]
"""Seconds from an arbitrary origin, monotonic (``time.monotonic`` by default)."""

BadCommandCode = Literal["unknown_action", "bad_params"]

P = TypeVar("P", bound=BaseModel)


class DeviceError(Exception):
    """A device could not do what was asked."""


class DeviceUnavailable(DeviceError, ConnectionError):  # noqa: N818 - gpiozero-style names
    """The device does not answer or is not connected."""


class DeviceTimeout(DeviceError, TimeoutError):  # noqa: N818 - gpiozero-style names
    """The device did not answer in time."""


class BadCommand(DeviceError, ValueError):  # noqa: N818 - gpiozero-style names
    """A command the device cannot take: an unknown action or bad parameters."""

    def __init__(self, code: BadCommandCode, message: str) -> None:
        super().__init__(message)
        self.code: BadCommandCode = code


def parse_params(model: type[P], params: dict[str, Any]) -> P:
    """Validate a command's params against ``model``; raise BadCommand("bad_params") if invalid."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(params)'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:5]
        )
        raise BadCommand("bad_params", problems) from exc


class Device(ABC):
    """One controllable thing in a room, with a state and a table of actions."""

    family: ClassVar[str]
    """The device family, e.g. ``lighting`` or ``environment``; sent with its state."""

    def __init__(self, device_id: str) -> None:
        self.id = device_id

    @property
    @abstractmethod
    def actions(self) -> Mapping[str, Action]:
        """Action name to handler."""

    @abstractmethod
    async def state(self) -> dict[str, Any]:
        """The device's current state as JSON-ready values."""

    async def execute(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one action; return the new state; raise BadCommand for an unknown action."""
        handler = self.actions.get(action)
        if handler is None:
            known = ", ".join(sorted(self.actions)) or "none"
            msg = f"{self.family} device {self.id!r} has no action {action!r} (known: {known})"
            raise BadCommand("unknown_action", msg)
        return await handler(params)

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release the hardware; safe to call more than once."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"


class UnavailableDevice(Device):
    """Stands in for a device that could not be opened: it says why and refuses every action.

    Make one with ``UnavailableDevice.of(family, device_id, reason)``, so it reports the
    family of the device it replaces.
    """

    family: ClassVar[str] = "unknown"

    def __init__(self, device_id: str, reason: str) -> None:
        super().__init__(device_id)
        self.reason = reason

    @staticmethod
    def of(family: str, device_id: str, reason: str) -> UnavailableDevice:
        cls: type[UnavailableDevice] = type(
            f"Unavailable_{family}", (UnavailableDevice,), {"family": family}
        )
        return cls(device_id, reason)

    @property
    def actions(self) -> Mapping[str, Action]:
        return {}

    async def state(self) -> dict[str, Any]:
        return {"available": False, "reason": self.reason}

    async def execute(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        raise DeviceUnavailable(f"{self.family} device {self.id!r} is unavailable: {self.reason}")


@runtime_checkable
class Background(Protocol):
    """A device with work of its own to do while the agent runs (e.g. polling its status)."""

    async def run(self) -> None:
        """Run until cancelled; never raise for a device that stops answering."""
        ...


@runtime_checkable
class Reconfigurable(Protocol):
    """A device that takes new settings while it runs (those the hub manages: scenes,
    timeouts); its hardware (pins, address) never changes this way."""

    def reconfigure(self, config: Any) -> None:
        """Use ``config`` from now on; raise DeviceError if it changes more than settings."""
        ...


@runtime_checkable
class Sensor(Protocol):
    """Something that can be sampled for numeric readings."""

    id: str

    async def read(self) -> dict[str, float]:
        """One sample: metric name to value."""
        ...


__all__ = [
    "Action",
    "Background",
    "BadCommand",
    "BadCommandCode",
    "Clock",
    "Device",
    "DeviceError",
    "DeviceTimeout",
    "DeviceUnavailable",
    "Reconfigurable",
    "Sensor",
    "UnavailableDevice",
    "parse_params",
]
