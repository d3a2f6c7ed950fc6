"""A small I2C bus interface: the real bus through smbus2, and a simulated bus of chip models."""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Protocol, SupportsBytes, TypeVar, cast

from smbus2 import SMBus, i2c_msg

from devices.base import DeviceError, DeviceTimeout, DeviceUnavailable, Sensor

T = TypeVar("T")

Conditions = Mapping[str, float]
"""Physical quantities around a simulated chip, by metric name (``co2_ppm``, ``light_lux`` ...)."""


class ChecksumError(DeviceError, ValueError):
    """Data from a chip failed its checksum: it must not be used."""


def nack(address: int, what: str) -> OSError:
    """The error Linux reports when a chip does not acknowledge (EREMOTEIO)."""
    return OSError(errno.EREMOTEIO, f"no acknowledge from 0x{address:02x} ({what})")


class I2CBus(ABC):
    """One I2C bus: plain blocking transfers, run by drivers through :meth:`run`, one at a time.

    A driver puts a whole command sequence (write, wait, read) in one function
    and hands it to ``run``, which executes it in a worker thread with the bus
    held, under a timeout, and translates library errors. ``clock`` and
    ``sleep`` are the bus's notion of time, so a simulated bus can run on a
    fake clock.
    """

    label = "i2c"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @abstractmethod
    def write(self, address: int, data: bytes) -> None:
        """One write transfer (blocking); OSError if the chip does not acknowledge."""

    @abstractmethod
    def read(self, address: int, length: int) -> bytes:
        """One read transfer of ``length`` bytes (blocking); OSError on a NACK."""

    def clock(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait between two transfers (called in the worker thread)."""
        time.sleep(seconds)

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release the bus; safe to call more than once."""

    async def _prepare(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Hook run on the event loop before each transaction (the simulator samples its room)."""

    async def run(self, transaction: Callable[[], T], *, timeout: float, what: str) -> T:
        """Run ``transaction`` in a worker thread holding the bus; translate its errors.

        OSError becomes DeviceUnavailable, running past ``timeout`` DeviceTimeout,
        both raised ``from`` the original; DeviceError passes through. A timed-out
        transaction keeps its thread until the bus lets go; while it does, further
        transactions fail at once rather than pile up threads behind it.
        """
        if self._lock.locked():
            msg = f"{self.label}: {what}: the bus is still busy with an earlier transaction"
            raise DeviceTimeout(msg)
        await self._prepare()
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.to_thread(self._locked, transaction)
        except DeviceError:
            raise
        except TimeoutError as exc:
            msg = f"{self.label}: {what} took longer than {timeout:g} s"
            raise DeviceTimeout(msg) from exc
        except OSError as exc:
            msg = f"{self.label}: {what} failed: {exc}"
            raise DeviceUnavailable(msg) from exc

    def _locked(self, transaction: Callable[[], T]) -> T:
        with self._lock:
            return transaction()


class SmbusI2CBus(I2CBus):
    """A Linux I2C bus (``/dev/i2c-N``) through smbus2, opened at the first transfer."""

    def __init__(self, bus: int) -> None:
        super().__init__()
        self.number = bus
        self.label = f"i2c-{bus}"
        self._smbus: SMBus | None = None

    def _open(self) -> SMBus:
        if self._smbus is None:
            self._smbus = SMBus(self.number)
        return self._smbus

    def write(self, address: int, data: bytes) -> None:
        self._open().i2c_rdwr(i2c_msg.write(address, data))

    def read(self, address: int, length: int) -> bytes:
        msg = i2c_msg.read(address, length)
        self._open().i2c_rdwr(msg)
        return bytes(cast(SupportsBytes, msg))

    def close(self) -> None:
        smbus, self._smbus = self._smbus, None
        if smbus is not None:
            smbus.close()


class SimChip(Protocol):
    """A chip model on a :class:`SimI2CBus`, speaking its real command protocol."""

    def write(self, data: bytes, now: float, conditions: Conditions) -> None:
        """Take one write transfer; raise OSError (see :func:`nack`) to refuse it."""

    def read(self, length: int, now: float, conditions: Conditions) -> bytes:
        """Answer one read transfer; raise OSError to refuse it."""


class SimI2CBus(I2CBus):
    """A simulated bus whose chips measure a simulated room.

    Before each transaction the bus samples ``room`` (any Sensor, e.g.
    ``SimEnvironmentSensor``) on the event loop, so the room model is only
    touched from the loop; the chips turn those values into their registers.
    ``clock`` and ``sleep`` drive the chips' timing (a fake clock in tests).
    """

    label = "sim-i2c"

    def __init__(
        self,
        room: Sensor,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.room = room
        self._clock = clock
        self._sleep = sleep
        self._chips: dict[int, SimChip] = {}
        self._conditions: Conditions = {}
        self.transfers = 0
        """Transfers made so far (writes and reads, refused ones included)."""

    def attach(self, address: int, chip: SimChip) -> None:
        """Put ``chip`` on the bus at ``address``."""
        if address in self._chips:
            msg = f"address 0x{address:02x} is taken"
            raise ValueError(msg)
        self._chips[address] = chip

    def detach(self, address: int) -> SimChip:
        """Take the chip at ``address`` off the bus (as if unplugged); return it."""
        return self._chips.pop(address)

    def clock(self) -> float:
        return self._clock()

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    async def _prepare(self) -> None:
        self._conditions = dict(await self.room.read())

    def _chip(self, address: int, what: str) -> SimChip:
        self.transfers += 1
        chip = self._chips.get(address)
        if chip is None:
            raise nack(address, f"{what}: no chip at this address")
        return chip

    def write(self, address: int, data: bytes) -> None:
        self._chip(address, "write").write(bytes(data), self._clock(), self._conditions)

    def read(self, address: int, length: int) -> bytes:
        data = self._chip(address, "read").read(length, self._clock(), self._conditions)
        if len(data) != length:
            msg = f"chip at 0x{address:02x} answered {len(data)} bytes, not {length}"
            raise AssertionError(msg)
        return data


__all__ = [
    "ChecksumError",
    "Conditions",
    "I2CBus",
    "SimChip",
    "SimI2CBus",
    "SmbusI2CBus",
    "nack",
]
