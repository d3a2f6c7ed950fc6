"""Stamps telemetry and events with the boot id and sequence and stores them in the outbox."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from devices.base import DeviceError, Sensor
from edge.outbox import Outbox
from protocol.messages import Event, Sequenced, Telemetry, encode
from protocol.topics import RoomTopics

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
"""Longest a sensor read may take before the sample skips that sensor."""


class Recorder:
    """One boot's sequence of telemetry and events: every message is in the outbox before sending.

    Sequence numbers start at 1 and are shared by telemetry and events, so the
    hub can store each once (by sender, boot and seq) and notice gaps.
    """

    def __init__(
        self,
        outbox: Outbox,
        topics: RoomTopics,
        sender: str,
        *,
        on_stored: Callable[[], None] = lambda: None,
        boot: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.topics = topics
        self.sender = sender
        self.on_stored = on_stored
        self.boot = boot or uuid.uuid4().hex
        self.label = f"{topics.site}/{topics.room}"
        self._seq = 0

    @property
    def last_seq(self) -> int:
        """The last sequence number given out in this boot (0: none yet)."""
        return self._seq

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _store(self, messages: list[tuple[str, Sequenced]]) -> None:
        self.outbox.add_many([(topic, encode(m)) for topic, m in messages])
        dropped = self.outbox.take_dropped()
        if dropped:
            logger.warning("%s: outbox bounds dropped %d unsent messages", self.label, dropped)
            event = self._event(
                "outbox_dropped",
                severity="warning",
                text=f"outbox dropped {dropped} unsent messages",
                data={"count": dropped},
            )
            self.outbox.add(self.topics.event, encode(event))
        self.on_stored()

    def _event(self, kind: str, **fields: Any) -> Event:
        return Event(sender=self.sender, boot=self.boot, seq=self._next_seq(), kind=kind, **fields)

    def emit_event(self, kind: str, **fields: Any) -> Event:
        """Store an event (``severity``, ``device``, ``text``, ``data`` as in protocol.Event)."""
        event = self._event(kind, **fields)
        self._store([(self.topics.event, event)])
        return event

    async def sample(self, sensors: Iterable[Sensor]) -> list[Telemetry]:
        """Read each sensor once (a failing one is logged and skipped); store the readings."""
        batch: list[Telemetry] = []
        for sensor in sensors:
            try:
                async with asyncio.timeout(READ_TIMEOUT_S):
                    readings = await sensor.read()
            except (DeviceError, TimeoutError) as exc:
                logger.warning("%s: reading %s failed: %s", self.label, sensor.id, exc)
                continue
            seq = self._next_seq()
            batch.append(
                Telemetry(
                    sender=self.sender, boot=self.boot, seq=seq, device=sensor.id, readings=readings
                )
            )
        if batch:
            self._store([(self.topics.telemetry, t) for t in batch])
        return batch


__all__ = ["READ_TIMEOUT_S", "Recorder"]
