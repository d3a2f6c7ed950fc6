"""Every device config a room file may hold, and the factory of each, from the families' tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import Field

from devices import camera, environment, lighting, noise, occupancy, projector
from devices.base import Clock, Device, DeviceError
from devices.family import (
    Alert,
    BackendConfig,
    DeviceContext,
    DeviceHooks,
    Factory,
    Family,
    tag,
    union,
)

FAMILIES: tuple[Family, ...] = (
    environment.FAMILY,
    lighting.FAMILY,
    projector.FAMILY,
    noise.FAMILY,
    occupancy.FAMILY,
    camera.FAMILY,
)
"""Every device family a room file may use: a new family adds its package's table here."""


class UnknownBackend(DeviceError, LookupError):  # noqa: N818 - gpiozero-style names
    """A config whose family and backend no family's table lists."""


class Registry:
    """Device families by name: the union of their configs, and the factory of each backend."""

    def __init__(self, families: Iterable[Family]) -> None:
        self.families: dict[str, Family] = {}
        self._factories: dict[type[BackendConfig], Factory] = {}
        for family in families:
            if family.name in self.families:
                msg = f"two families are named {family.name!r}"
                raise ValueError(msg)
            self.families[family.name] = family
            self._factories.update(family.backends)
        if not self.families:
            msg = "a registry needs at least one family"
            raise ValueError(msg)
        self.config_type: Any = Annotated[
            union(f.config_type for f in self.families.values()), Field(discriminator="family")
        ]
        """The pydantic type of a device's config: ``family`` picks the family, then
        ``backend`` the implementation."""

    @property
    def backends(self) -> dict[tuple[str, str], type[BackendConfig]]:
        """``(family, backend)`` to the config class of every registered backend."""
        return {
            (family.name, tag(config, "backend")): config
            for family in self.families.values()
            for config in family.backends
        }

    def create(
        self, device_id: str, config: BackendConfig, context: DeviceContext | None = None
    ) -> Device:
        """Build the device a config describes with the factory its family registered."""
        factory = self._factories.get(type(config))
        if factory is None:
            family = getattr(config, "family", None)
            backend = getattr(config, "backend", None)
            known = "; ".join(
                f"{f.name}: {', '.join(f.backend_names)}" for f in self.families.values()
            )
            msg = (
                f"device {device_id!r}: no factory for family {family!r}, backend {backend!r} "
                f"({type(config).__name__}); registered: {known}"
            )
            raise UnknownBackend(msg)
        return factory(device_id, config, context or DeviceContext())


REGISTRY = Registry(FAMILIES)
"""The registry of every family in FAMILIES."""

if TYPE_CHECKING:
    DeviceConfig: TypeAlias = BackendConfig
else:
    DeviceConfig = REGISTRY.config_type
"""A device's config: ``family`` picks the family, then ``backend`` the implementation."""

AnyDeviceConfig: TypeAlias = BackendConfig
"""Any one member of DeviceConfig."""


def create_device(
    device_id: str,
    config: AnyDeviceConfig,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
    now: Callable[[], datetime] | None = None,
    hooks: DeviceHooks | None = None,
) -> Device:
    """Build the device a config describes (GPIO: ``pin_factory``; simulators: ``clock``,
    and ``now`` for those that follow the time of day)."""
    context = DeviceContext(
        pin_factory=pin_factory, clock=clock, now=now, hooks=hooks or DeviceHooks()
    )
    return REGISTRY.create(device_id, config, context)


__all__ = [
    "FAMILIES",
    "REGISTRY",
    "Alert",
    "AnyDeviceConfig",
    "DeviceConfig",
    "DeviceHooks",
    "Registry",
    "UnknownBackend",
    "create_device",
]
