"""The shape of a device family: its backends' config base, their factories and its table."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from devices.base import Clock, Device


class BackendConfig(BaseModel):
    """The config of one backend of a family: unknown keys refused, frozen once read.

    Each subclass declares ``family`` and ``backend`` as one-value ``Literal`` fields
    (``family`` with that value as its default); a room file names both, and the registry
    reads them to pick the family, then the backend.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    if TYPE_CHECKING:  # declared by each subclass, as a Literal of one value
        family: str
        backend: str


Alert = Callable[[str, str, str, str, dict[str, Any]], None]
"""``alert(device_id, kind, severity, text, data)``: something the room should report."""


@dataclass(frozen=True, slots=True)
class DeviceHooks:
    """What a device may tell its owner, whatever its family: alerts and state changes."""

    alert: Alert | None = None
    changed: Callable[[str], None] | None = None
    """``changed(device_id)``: the device's state changed on its own (not by a command)."""


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What a factory may hand to the device it builds, besides its id and config."""

    pin_factory: Any = None
    """A gpiozero pin factory for GPIO backends (MockFactory in tests); None: gpiozero's."""
    clock: Clock | None = None
    """Monotonic time for simulators and timed drivers; None: ``time.monotonic``."""
    now: Callable[[], datetime] | None = None
    """The time of day for simulators that follow it (the simulated occupancy's schedule):
    the demo's school clock; None: the real clock."""
    hooks: DeviceHooks = field(default_factory=DeviceHooks)

    def alert(
        self, device_id: str, kind: str, severity: str, text: str, data: dict[str, Any]
    ) -> None:
        """Report something about ``device_id`` to the owner, if it listens."""
        if self.hooks.alert is not None:
            self.hooks.alert(device_id, kind, severity, text, data)

    def changed(self, device_id: str) -> None:
        """Tell the owner that ``device_id`` changed state on its own, if it listens."""
        if self.hooks.changed is not None:
            self.hooks.changed(device_id)


Factory = Callable[[str, Any, DeviceContext], Device]
"""``factory(device_id, config, context)``: the device that one backend's config describes."""


def tag(config: type[BaseModel], key: Literal["family", "backend"]) -> str:
    """The one value of a config's ``family`` or ``backend`` Literal field."""
    info = config.model_fields.get(key)
    values = get_args(info.annotation) if info is not None else ()
    if (
        info is None
        or get_origin(info.annotation) is not Literal
        or len(values) != 1
        or not isinstance(values[0], str)
    ):
        msg = f"{config.__name__}.{key} must be a Literal of one string, e.g. Literal['sim']"
        raise TypeError(msg)
    return values[0]


def union(members: Iterable[Any]) -> Any:
    """``A | B | …`` of the given types (a single type stays itself)."""
    return functools.reduce(operator.or_, members)


@dataclass(frozen=True)
class Family:
    """A device family: its name (the ``family`` key) and the table of its backends.

    The table maps each backend's config class to the factory of its device; the config
    classes name the family and their ``backend`` key. A backend whose driver needs a
    library that may be absent imports it inside its factory.
    """

    name: str
    backends: Mapping[type[BackendConfig], Factory]

    def __post_init__(self) -> None:
        if not self.backends:
            msg = f"family {self.name!r} has no backend"
            raise ValueError(msg)
        seen: dict[str, str] = {}
        for config in self.backends:
            if not (isinstance(config, type) and issubclass(config, BackendConfig)):
                msg = f"family {self.name!r}: {config!r} is not a BackendConfig subclass"
                raise TypeError(msg)
            family, backend = tag(config, "family"), tag(config, "backend")
            if family != self.name:
                msg = f"family {self.name!r}: {config.__name__} says family {family!r}"
                raise ValueError(msg)
            if backend in seen:
                msg = (
                    f"family {self.name!r}: backend {backend!r} is both "
                    f"{seen[backend]} and {config.__name__}"
                )
                raise ValueError(msg)
            seen[backend] = config.__name__

    @property
    def backend_names(self) -> list[str]:
        """The ``backend`` keys of this family, in table order."""
        return [tag(config, "backend") for config in self.backends]

    @property
    def config_type(self) -> Any:
        """The pydantic type of this family's configs: one of them, picked by ``backend``."""
        return Annotated[union(self.backends), Field(discriminator="backend")]


__all__ = [
    "Alert",
    "BackendConfig",
    "DeviceContext",
    "DeviceHooks",
    "Factory",
    "Family",
    "tag",
    "union",
]
