"""Stamps telemetry and events with the boot and sequence number and stores them in the outbox."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from devices.base import DeviceError, Sensor
from edge.device_faults import DeviceFaults
from edge.storage import Row, Storage
from protocol.bounds import safe_text
from protocol.messages import INTERVAL_MAX_S, TEXT_MAX, Event, Sequenced, Telemetry, encode
from protocol.topics import RoomTopics
from protocol.usage import OCCUPIED, Schedule

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
"""Longest a sensor read may take before the sample skips that sensor."""


class Recorder:
    """One boot's sequence of telemetry and events: every message goes to the outbox first.

    Sequence numbers start at 1 and are shared by telemetry and events, so the hub can
    store each once (by sender, boot and seq) and notice gaps. The outbox keeps the
    boot number and the last seq on disk, so the next boot can say where this one ended.
    """

    def __init__(
        self,
        storage: Storage,
        topics: RoomTopics,
        sender: str,
        *,
        boot: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        faults: DeviceFaults | None = None,
    ) -> None:
        self.storage = storage
        self.topics = topics
        self.sender = sender
        self.boot = boot or uuid.uuid4().hex
        self.label = f"{topics.site}/{topics.room}"
        self.faults = faults or DeviceFaults(self.label)
        """Devices failing unexpectedly: each is skipped and reported, the others sampled."""
        started = storage.open(self.boot)
        self.boot_no = started.number
        """How many times this room's agent has started, this start included."""
        self.previous_boot = started.previous
        self.previous_last_seq = started.previous_last_seq
        self._seq = 0
        self._clock = clock
        """Monotonic seconds: the intervals samples cover never follow a stepped wall clock."""
        self._sampled_at: dict[str, float] = {}
        """When each device was last sampled in this boot (``clock``)."""

    @property
    def last_seq(self) -> int:
        """The last sequence number given out in this boot (0: none yet)."""
        return self._seq

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _rows(self, messages: Iterable[tuple[str, Sequenced]]) -> list[Row]:
        return [(topic, encode(m), m.boot, m.seq) for topic, m in messages]

    def _event(self, kind: str, **fields: Any) -> Event:
        if "text" in fields:
            fields["text"] = safe_text(fields["text"], TEXT_MAX)
        return Event(
            sender=self.sender,
            boot=self.boot,
            boot_no=self.boot_no,
            seq=self._next_seq(),
            kind=kind,
            **fields,
        )

    def emit_event(self, kind: str, **fields: Any) -> Event:
        """Queue an event for the outbox (``severity``, ``device``, ``text``, ``data`` as in
        protocol.Event); it is written in order with everything else, off the event loop."""
        event = self._event(kind, **fields)
        self.storage.add_soon(self._rows([(self.topics.event, event)]))
        return event

    def _interval(self, device: str, at: float, longest_s: float) -> float:
        """Seconds since the device's previous sample of this boot (0 for its first), at
        most ``longest_s``: what happened in a longer gap is not known."""
        previous = self._sampled_at.get(device)
        return 0.0 if previous is None else round(min(max(at - previous, 0.0), longest_s), 3)

    async def sample(
        self,
        sensors: Iterable[Sensor],
        *,
        schedule: Schedule | None = None,
        longest_s: float = INTERVAL_MAX_S,
    ) -> list[Telemetry]:
        """Read each sensor once and store the readings; a failing sensor is skipped.

        A failure a driver expects (``DeviceError``, a timeout, a value it refuses) is
        logged; any other exception is a fault of that device (``Recorder.faults``: logged
        and reported once, the device shown unavailable until a read works again). Either
        way the other sensors' readings are stored.

        Each message says what it stands for (contract v3): the interval since that device's
        previous sample (at most ``longest_s``), whether any sensor of this sample saw the
        room occupied, and what the timetable says now (``schedule``).
        """
        taken: list[tuple[str, dict[str, float], float]] = []
        for sensor in sensors:
            with self.faults.attempt(sensor.id, "read") as attempt:
                try:
                    async with asyncio.timeout(READ_TIMEOUT_S):
                        readings = await sensor.read()
                except (DeviceError, TimeoutError, ValueError) as exc:
                    logger.warning("%s: reading %s failed: %s", self.label, sensor.id, exc)
                    continue
                if not isinstance(readings, dict):
                    msg = f"readings must be a dict, not {type(readings).__name__}"
                    raise TypeError(msg)
            if attempt.failed:
                continue
            taken.append((sensor.id, readings, self._clock()))
        seen = [r[OCCUPIED] for _, r, _ in taken if isinstance(r.get(OCCUPIED), int | float)]
        occupied = any(v >= 0.5 for v in seen) if seen else None
        longest_s = min(longest_s, INTERVAL_MAX_S)
        batch: list[Telemetry] = []
        for device, readings, at in taken:
            try:
                telemetry = Telemetry(
                    sender=self.sender,
                    boot=self.boot,
                    boot_no=self.boot_no,
                    seq=self._seq + 1,
                    device=device,
                    readings=readings,
                    interval_s=self._interval(device, at, longest_s),
                    occupied=occupied,
                    schedule=schedule,
                )
            except ValueError as exc:  # a reading the contract refuses (NaN, too many)
                logger.warning("%s: %s gave readings that cannot be sent: %s", self.label,
                               device, exc)  # fmt: skip
                continue
            self._next_seq()
            self._sampled_at[device] = at
            batch.append(telemetry)
        if batch:
            await self.storage.add(self._rows((self.topics.telemetry, t) for t in batch))
        return batch


__all__ = ["READ_TIMEOUT_S", "Recorder"]
