"""The hub under systemd: READY once it serves, WATCHDOG while its event loop turns, its
ingest runs and its database takes the writes; a broker away is no fault (the hub serves
its API and stores again once the broker is back)."""

from __future__ import annotations

from typing import Any


class HubWatch:
    """The watchdog's account of a hub app (``edge.watchdog.Watched``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.serving = False
        """Set once the server listens and the app's start-up is done."""

    def _hub(self) -> Any:
        return getattr(self.app.state, "hub", None)

    def started(self) -> bool:
        return self.serving and self._hub() is not None

    def problems(self) -> list[str]:
        hub = self._hub()
        if hub is None:
            return ["not started"]
        found: list[str] = []
        if hub.ingest is None:
            return found  # no MQTT: the API alone
        supervisor = hub.supervisor
        if supervisor is None or not supervisor.running:
            why = (supervisor.last_error if supervisor else None) or "restarting"
            found.append(f"ingest not running ({why})")
        if hub.ingest.stats.db_failing:
            found.append(f"database writes failing ({hub.ingest.stats.last_write_error})")
        return found

    def status(self) -> str:
        problems = self.problems()
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            return f"unhealthy: {problems[0]}{more}"
        hub = self._hub()
        if hub.ingest is None:
            return "serving the API (no MQTT ingest)"
        broker = "connected to" if hub.ingest.connected else "not connected to"
        return f"serving, {broker} the broker"


__all__ = ["HubWatch"]
