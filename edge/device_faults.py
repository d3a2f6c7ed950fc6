"""One device's unexpected failure never stops the others: it is logged and reported once per
fault, the device is shown unavailable while it lasts, and its recovery is reported too.

A driver is meant to turn what goes wrong into ``DeviceError`` (or a timeout); anything else
from it (a ``RuntimeError``, an ``OSError`` it never translated) is a bug or a fault nobody
foresaw. Whoever calls into a device for the room as a whole (the telemetry sample, a state
read for publishing) does it inside ``DeviceFaults.attempt``, so that such an exception
costs only that device, only that call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from devices.family import Alert
from protocol.bounds import safe_text
from protocol.messages import TEXT_MAX

logger = logging.getLogger(__name__)

FAULT_EVENT = "device_unavailable"
RECOVERY_EVENT = "device_available"
"""The event kinds a device's own availability changes use (a projector's, say)."""


@dataclass(slots=True)
class Attempt:
    """What came of one call into a device: ``error`` is set if it failed unexpectedly."""

    error: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


class DeviceFaults:
    """The devices failing in an unexpected way now, by device and by what failed.

    ``report(device_id, kind, severity, text, data)`` gets a ``device_unavailable`` event
    when a device's first fault begins and a ``device_available`` one when its last ends;
    ``changed(device_id)`` is told both times, so the device's state (unavailable, with
    the reason) is published again.
    """

    def __init__(
        self,
        label: str,
        *,
        report: Alert | None = None,
        changed: Callable[[str], None] | None = None,
    ) -> None:
        self.label = label
        self.report = report
        self.changed = changed
        self._faults: dict[str, dict[str, str]] = {}
        """device → what failed (``read``, ``state``) → why."""
        self.errors: dict[str, int] = {}
        """Unexpected exceptions by device, every one counted (only the first is logged)."""

    def reason(self, device_id: str) -> str | None:
        """Why the device counts as unavailable now (None: no fault of this kind)."""
        faults = self._faults.get(device_id)
        return "; ".join(faults.values()) if faults else None

    @property
    def faulty(self) -> list[str]:
        """The devices with a fault now."""
        return sorted(self._faults)

    @contextlib.contextmanager
    def attempt(self, device_id: str, what: str) -> Iterator[Attempt]:
        """Run the block as one call ``what`` into ``device_id``: an exception from it (not a
        cancellation) ends the block and is recorded; one that returns ends that fault."""
        outcome = Attempt()
        try:
            yield outcome
        except Exception as exc:
            outcome.error = exc
            self.failed(device_id, what, exc)
        else:
            self.succeeded(device_id, what)

    def failed(self, device_id: str, what: str, exc: BaseException) -> None:
        """``device_id`` raised ``exc`` during ``what``: logged with its traceback and
        reported the first time; while the fault lasts it is only counted."""
        self.errors[device_id] = self.errors.get(device_id, 0) + 1
        faults = self._faults.setdefault(device_id, {})
        first = not faults
        if what in faults:
            logger.debug("%s: %s %s failed again: %r", self.label, device_id, what, exc)
            return
        why = safe_text(f"{what} failed: {type(exc).__name__}: {exc}", 300)
        faults[what] = why
        logger.error("%s: %s %s; skipped until it recovers", self.label, device_id, why,
                     exc_info=exc)  # fmt: skip
        if first:
            text = safe_text(f"{device_id} is unavailable: {why}", TEXT_MAX)
            data: dict[str, Any] = {"available": False, "error": type(exc).__name__[:64]}
            self._tell(device_id, FAULT_EVENT, "warning", text, data)

    def succeeded(self, device_id: str, what: str) -> None:
        """``what`` worked on ``device_id``: that fault, if there was one, is over."""
        faults = self._faults.get(device_id)
        if not faults or what not in faults:
            return
        del faults[what]
        logger.warning("%s: %s %s works again", self.label, device_id, what)
        if not faults:
            del self._faults[device_id]
            text = f"{device_id} works again"
            self._tell(device_id, RECOVERY_EVENT, "info", text, {"available": True})

    def _tell(
        self, device_id: str, kind: str, severity: str, text: str, data: dict[str, Any]
    ) -> None:
        try:
            if self.report is not None:
                self.report(device_id, kind, severity, text, data)
            if self.changed is not None:
                self.changed(device_id)
        except Exception:
            logger.exception("%s: reporting a change of %s failed", self.label, device_id)

    def mark(self, device_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` as it should be published: unavailable, with the reason, during a fault."""
        why = self.reason(device_id)
        return state if why is None else {**state, "available": False, "reason": why}


__all__ = ["FAULT_EVENT", "RECOVERY_EVENT", "Attempt", "DeviceFaults"]
