"""The panel's HTTP server: uvicorn inside the agent's own event loop, one more agent part.

The agent runs ``PanelServer.run`` under its supervisor like its other parts, so an error
in the server restarts the server (with the supervisor's backoff) and never the room. The
server binds its socket itself: a port that is taken is an ``OSError`` the supervisor
retries, not uvicorn's ``sys.exit``; and uvicorn's own signal handlers are left out (the
agent's process handles SIGINT and SIGTERM). A port of 0 picks a free port once; restarts
keep it, so a page reconnects to the same address. When the agent stops, the server stops
taking connections, ends its streams and is gone within about a second.

The views and the live feed belong to the room (``RoomView``), not to one run of the
server: a page that reconnects after a restart of the server catches up on what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import uvicorn

from devices.base import Device
from edge.panel.app import make_app
from edge.panel.control import Controls
from edge.panel.room import RoomView
from protocol.client import NODELAY
from protocol.messages import Telemetry

if TYPE_CHECKING:
    from edge.agent import Agent

logger = logging.getLogger(__name__)

STOP_S = 3.0
"""Longest the server may take to stop before it is left behind."""
GRACE_S = 1
"""How long open requests (a page's stream among them) may run on when the server stops."""


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the agent's process has its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


class PanelServer:
    """One room's panel: its views and controls, the app, and the server that serves it."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        config = agent.room.panel
        self.bind = config.bind
        self.port = config.port
        """The port it listens on (a free one once it has started, for a configured 0)."""
        self.view = RoomView(agent)
        self.controls = Controls(agent, self.view)
        self.app = make_app(self)
        self.listening = asyncio.Event()
        """Set while the server accepts connections (tests wait on it)."""
        self.closing = False
        """True while the server stops: streams end."""
        self.starts = 0
        self._server: _Server | None = None
        self._seeded = False

    @property
    def url(self) -> str:
        """Where this machine reaches the panel."""
        host = self.bind
        if ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1" if ipaddress.ip_address(host).version == 4 else "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # --- what the agent tells the panel (never raises) --------------------------------

    def state_changed(self, device: Device, state: Mapping[str, Any]) -> None:
        self._safely("state", self.view.device_state, device, state)

    def sampled(self, batch: Iterable[Telemetry]) -> None:
        self._safely("sample", self.view.sampled, list(batch))

    def link_changed(self, up: bool) -> None:
        self._safely("link", self.view.link_changed, up)

    def hub_changed(self, online: bool) -> None:
        self._safely("hub", self.view.hub_changed, online)

    def published_panel(self) -> None:
        """The panel device changed (a tablet paired): publish its state as any other."""
        self.agent.publish_state_soon(self.agent.panel)

    def _safely(self, what: str, call: Any, *args: Any) -> None:
        try:
            call(*args)
        except Exception:  # the panel must never break what called it (the agent's parts)
            logger.exception("%s: panel: taking the %s failed", self.agent.label, what)

    # --- running ----------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until cancelled; serve again after ``restart``."""
        try:
            if not self._seeded:
                self._seeded = True
                await self.view.seed()
            while True:
                await self._serve_once()
        finally:
            self.controls.close()
            self.view.close()

    def restart(self) -> None:
        """Stop the server and start it again (its pages reconnect and catch up)."""
        if self._server is not None:
            self.closing = True
            self._server.should_exit = True

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if ipaddress.ip_address(self.bind).version == 6 else socket.AF_INET
        # TCP as the protocol, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it an answer written in two parts waits for a delayed ACK (+40 ms a tap)
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(*NODELAY)  # accepted connections inherit it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.bind, self.port))
            sock.listen(64)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        return sock

    async def _serve_once(self) -> None:
        try:
            sock = self._socket()
        except OSError as exc:
            msg = f"the panel cannot listen on {self.bind}:{self.port}: {exc.strerror or exc}"
            raise OSError(msg) from exc
        config = uvicorn.Config(
            self.app, lifespan="off", log_config=None, access_log=False, http="h11",
            ws="none", timeout_graceful_shutdown=GRACE_S, timeout_keep_alive=30,
        )  # fmt: skip
        server = _Server(config)
        self._server, self.closing = server, False
        self.starts += 1
        task = asyncio.create_task(server.serve(sockets=[sock]), name=f"panel {self.agent.label}")
        self.listening.set()  # the socket listens: a connection waits in its backlog
        logger.info("%s: panel on %s", self.agent.label, self.url)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            self.closing, server.should_exit = True, True
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(STOP_S):
                    await task
            raise
        except SystemExit as exc:  # uvicorn gives up this way; the supervisor restarts us
            raise RuntimeError(f"the panel's server stopped: exit {exc.code}") from exc
        finally:
            self.listening.clear()
            self._server = None
            sock.close()
        logger.info("%s: panel stopped on %s", self.agent.label, self.url)


__all__ = ["GRACE_S", "STOP_S", "PanelServer"]
