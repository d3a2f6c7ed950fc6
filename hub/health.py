"""What is wrong with a running hub right now, in words an operator can act on."""

from __future__ import annotations

import time

from hub.alerts.service import AlertService
from hub.ingest import Ingest
from hub.supervisor import Supervisor

RESTART_WINDOW_S = 600.0
"""A restart of the ingest counts as a problem for this long after it."""
DB_ERROR_WINDOW_S = 60.0
"""A failed database write counts as a problem for this long after it."""


def problems(
    ingest: Ingest | None,
    supervisor: Supervisor | None,
    *,
    database_error: str | None = None,
    now: float | None = None,
    alerts: AlertService | None = None,
) -> list[str]:
    """The hub's problems; empty when all is well. Without MQTT (``ingest`` None) only the
    database (and the alerts judged from it) counts."""
    now = time.monotonic() if now is None else now
    out: list[str] = []
    if database_error is not None:
        out.append(f"database unreachable: {database_error}")
    if alerts is not None:
        out += alerts.problems(now)
    if ingest is None:
        return out
    if supervisor is None or not supervisor.running:
        error = supervisor.last_error if supervisor else None
        out.append(f"ingest not running (last error: {error})" if error else "ingest not running")
    if not ingest.connected:
        out.append("MQTT not connected")
    st = ingest.stats
    if st.db_failing:
        out.append(f"database errors: writes failing, retried ({st.last_write_error})")
    elif st.last_write_error_at is not None and now - st.last_write_error_at < DB_ERROR_WINDOW_S:
        ago = now - st.last_write_error_at
        out.append(
            f"database errors: {st.write_errors} failed writes, the last {ago:.0f} s ago "
            f"({st.last_write_error})"
        )
    if supervisor is not None and supervisor.last_restart_at is not None:
        ago = now - supervisor.last_restart_at
        if ago < RESTART_WINDOW_S:
            out.append(
                f"ingest restarted {supervisor.restarts} times, the last {ago:.0f} s ago "
                f"({supervisor.last_error})"
            )
    return out


def warnings(alerts: AlertService | None, *, now: float | None = None) -> list[str]:
    """What an operator should see that does not make the hub unwell (so ``/healthz`` stays
    200): alert notifications the webhook gave up or dropped."""
    if alerts is None:
        return []
    return alerts.warnings(time.monotonic() if now is None else now)


__all__ = ["DB_ERROR_WINDOW_S", "RESTART_WINDOW_S", "problems", "warnings"]
