"""Helpers for tests of the whole system: a hub process, agent processes, room files, waiting."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import aiomqtt
import httpx
import yaml
from gpiozero.pins.mock import MockFactory, MockPWMPin
from sqlalchemy import make_url, text

from devices.projector.config import SimProjectorConfig
from devices.registry import AnyDeviceConfig
from edge.agent import Agent
from edge.clock import Clock, FakeClock
from edge.config import load_room_config
from edge.settings import EdgeSettings
from hub.access import Role
from hub.app import create_app
from hub.db import make_engine
from hub.settings import HubSettings
from protocol.aio import wait_within
from protocol.client import session_properties
from smartclass.broker import Mosquitto, free_port
from smartclass.processes import smartclass_command, spawn, stop
from tests.unit.hub_helpers import bearer

REPO = Path(__file__).resolve().parents[2]
SIM_ROOM = REPO / "firmware_configs" / "rooms" / "sim-room.yaml"
QUIET_SUNDAY = datetime.fromisoformat("2025-10-12T12:00:00+07:00")
"""A Sunday noon: the sample room's timetable does nothing all day."""
ROOMS: tuple[tuple[str, str], ...] = (("thcs-nguyen-chi-thanh", "6a1"),)
"""The rooms a test hub registers unless told otherwise (the hub refuses any other)."""


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    msg = f"timed out after {timeout} s waiting for {what} (last: {last!r})"
    raise AssertionError(msg)


class Broker(Protocol):
    """Where a broker listens: Mosquitto, or the MQTT 3.1.1-only broker of the fallback tests."""

    host: str
    port: int


def login(broker: Broker, root: str, name: str = "tester") -> dict[str, Any]:
    """``username``/``password`` for a test client called ``name`` that may read and write
    everything under ``root`` (nothing for a broker that takes anonymous clients).

    Each name is a user of its own: the broker makes the username the client id, so two
    clients of one test must have two names."""
    if not getattr(broker, "secured", False):
        return {}
    assert isinstance(broker, Mosquitto)
    username, password = broker.client(root, name)
    return {"username": username, "password": password}


def mqtt_client(broker: Broker, root: str, name: str = "tester", **kwargs: Any) -> aiomqtt.Client:
    """An MQTT 5 client of the test (see ``login``), with TCP_NODELAY."""
    kwargs.setdefault("protocol", aiomqtt.ProtocolVersion.V5)
    return aiomqtt.Client(broker.host, broker.port, **login(broker, root, name), **kwargs)


def agent_client(
    broker: Broker,
    root: str,
    site: str = "thcs-nguyen-chi-thanh",
    room: str = "6a1",
    **kwargs: Any,
) -> aiomqtt.Client:
    """A client that speaks for one room's agent, with that agent's own credential."""
    kwargs.setdefault("protocol", aiomqtt.ProtocolVersion.V5)
    login: dict[str, Any] = {}
    if getattr(broker, "secured", False):
        assert isinstance(broker, Mosquitto)
        user, password = broker.agent(root, site, room)
        login = {"username": user, "password": password}
    return aiomqtt.Client(broker.host, broker.port, **login, **kwargs)


def hub_login(broker: Broker, root: str, hub_id: str) -> dict[str, Any]:
    """``HubSettings`` fields with the hub's own credential (nothing on an open broker)."""
    if not getattr(broker, "secured", False):
        return {}
    assert isinstance(broker, Mosquitto)
    user, password = broker.hub(root, hub_id)
    return {"mqtt_username": user, "mqtt_password": password}


def hub_settings(broker: Broker, root: str, database_url: str, **overrides: Any) -> HubSettings:
    """Settings of an in-process test hub: the test's broker and root, its own credential,
    quick batches and reconnects."""
    hub_id = overrides.pop("hub_id", f"hub-{root}")
    fields: dict[str, Any] = {
        "mqtt_host": broker.host,
        "mqtt_port": broker.port,
        "topic_root": root,
        "hub_id": hub_id,
        "database_url": database_url,
        "ingest_flush_ms": 5,
        "reconnect_min_s": 0.1,
        **hub_login(broker, root, hub_id),
        **overrides,
    }
    return HubSettings(**fields)


def persistent_subscriber(broker: Broker, name: str, root: str | None = None) -> aiomqtt.Client:
    """A client with a persistent MQTT 5 session named ``name``: what it subscribed to is
    queued by the broker while it is away (and across a clean broker restart)."""
    return aiomqtt.Client(
        broker.host,
        broker.port,
        **(login(broker, root, name) if root else {}),
        identifier=name,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=session_properties(600),
    )


def write_room(
    directory: Path,
    *,
    root: str,
    site: str = "thcs-nguyen-chi-thanh",
    room: str = "6a1",
    interval: float = 0.5,
    keepalive: int = 5,
) -> Path:
    """A room file from the sample simulated room, on the test's topic root."""
    config = yaml.safe_load(SIM_ROOM.read_text(encoding="utf-8"))
    config.update(site=site, room=room, telemetry_interval_s=interval)
    config["panel"] = {"enabled": True, "bind": "127.0.0.1", "port": 0}  # a free port
    config.setdefault("mqtt", {}).update(topic_root=root, keepalive_s=keepalive)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{site}--{room}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def make_agent(
    broker: Broker,
    topic_root: str,
    data_dir: Path,
    interval: float = 0.2,
    *,
    site: str = "thcs-nguyen-chi-thanh",
    room: str = "6a1",
    clock: Clock | None = None,
    devices: Mapping[str, AnyDeviceConfig] | None = None,
    mqtt: Mapping[str, Any] | None = None,
    auth: Mosquitto | None = None,
    panel: Mapping[str, Any] | None = None,
    device_clock: Callable[[], float] | None = None,
    attendance: Mapping[str, Any] | None = None,
) -> tuple[Agent, MockFactory]:
    """An in-process agent of the sample room on mock pins, with fast reconnects.

    Its timetable and rules run on ``clock``; by default a FakeClock stopped on
    a Sunday, so the timetable never switches the lights under another test. On a
    secured broker (or with ``auth``, the broker behind a proxy) it uses the room's own
    credential. Its tablet panel listens on a free port of 127.0.0.1 (``panel`` changes it).
    ``device_clock`` is the simulators' monotonic clock (a projector's warm-up).
    """
    config = load_room_config(SIM_ROOM)
    mqtt = {
        "topic_root": topic_root,
        "keepalive_s": 5,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
        **(mqtt or {}),
    }
    # The simulated projector warms up in real time; tests of its timing live in
    # test_projector.py on a fake clock, so here it switches at once.
    room_devices = {
        name: device.model_copy(update={"warmup_s": 0, "cooldown_s": 0})
        if isinstance(device, SimProjectorConfig)
        else device
        for name, device in config.devices.items()
    }
    room_devices.update(devices or {})
    config = config.model_copy(
        update={
            "site": site,
            "room": room,
            "telemetry_interval_s": interval,
            "mqtt": config.mqtt.model_copy(update=mqtt),
            "devices": room_devices,
            "panel": config.panel.model_copy(
                update={"bind": "127.0.0.1", "port": 0, **(panel or {})}
            ),
        }
    )
    if attendance is not None:  # validated with the devices it names
        config = type(config).model_validate({**config.model_dump(), "attendance": attendance})
    credentials = auth or broker
    user, password = None, None
    if getattr(credentials, "secured", False):
        assert isinstance(credentials, Mosquitto)
        user, password = credentials.agent(topic_root, site, room)
    settings = EdgeSettings(
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        data_dir=data_dir,
        mqtt_username=user,
        mqtt_password=password,
    )
    factory = MockFactory(pin_class=MockPWMPin)
    wall_clock = clock or FakeClock(QUIET_SUNDAY)
    agent = Agent(config, settings, pin_factory=factory, clock=device_clock, wall_clock=wall_clock)
    return agent, factory


@contextlib.asynccontextmanager
async def running(
    agent: Agent, *, wait_connected: bool = True
) -> AsyncIterator[asyncio.Task[None]]:
    """Run the agent in a task for the block; cancel it (a clean stop) afterwards."""
    task = asyncio.create_task(agent.run())
    try:
        if wait_connected:
            await wait_within(agent.connected.wait(), 10)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def write_sites(path: Path, rooms: Iterable[tuple[str, str]]) -> Path:
    """A sites file registering ``rooms`` ((site, room) pairs) for a hub."""
    sites: dict[str, list[str]] = {}
    for site, room in rooms:
        sites.setdefault(site, []).append(room)
    data = {"sites": [{"id": s, "name": s, "rooms": r} for s, r in sites.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def it_staff(target: object, rooms: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers of a new IT user of every school of ``rooms`` (``target``: a hub app or the
    hub's database URL)."""
    return bearer(target, Role.IT, sites=sorted({site for site, _ in rooms}))


@contextlib.asynccontextmanager
async def running_hub(
    settings: HubSettings, rooms: Iterable[tuple[str, str]] = ROOMS
) -> AsyncIterator[httpx.AsyncClient]:
    """The hub app in this process with its lifespan, and an HTTP client on it, once its
    MQTT link is up (for tests that need no separate hub process). ``rooms`` are registered
    from a sites file before the hub connects, unless ``settings`` names a sites file."""
    with tempfile.TemporaryDirectory(prefix="smartclass-sites-") as tmp:
        if settings.sites_file is None:
            sites = write_sites(Path(tmp) / "sites.yaml", rooms)
            settings = settings.model_copy(update={"sites_file": sites})
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://hub", headers=it_staff(app, rooms)
            ) as http:

                async def connected() -> bool:
                    return bool((await http.get("/api/v1/health")).json()["mqtt_connected"])

                await eventually(connected, 10, "the hub to connect")
                yield http


class HubProcess:
    """``smartclass hub`` as a child process with its own database and port.

    It registers ``rooms`` (a sites file in ``work``); ``database_url`` defaults to a SQLite
    file in ``work``; ``env`` adds ``SMARTCLASS_HUB_*`` settings (a share group, say).
    """

    def __init__(
        self,
        broker: Broker,
        root: str,
        work: Path,
        hub_id: str = "hub-test",
        *,
        rooms: Iterable[tuple[str, str]] = ROOMS,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.broker = broker
        self.root = root
        self.work = work
        self.port = free_port()
        self.db = work / "hub.sqlite"
        self.database_url = database_url or f"sqlite:///{self.db}"
        self.hub_id = hub_id
        self.rooms = tuple(rooms)
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers: dict[str, str] | None = None

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        login: dict[str, str] = {}
        if getattr(self.broker, "secured", False):
            assert isinstance(self.broker, Mosquitto)
            user, password = self.broker.hub(self.root, self.hub_id)
            login = {"SMARTCLASS_HUB_MQTT_USERNAME": user, "SMARTCLASS_HUB_MQTT_PASSWORD": password}
        sites = write_sites(self.work / "sites.yaml", self.rooms)
        self.proc = spawn(
            smartclass_command("hub", "--port", str(self.port)),
            env={
                **login,
                "SMARTCLASS_HUB_MQTT_HOST": self.broker.host,
                "SMARTCLASS_HUB_MQTT_PORT": str(self.broker.port),
                "SMARTCLASS_HUB_TOPIC_ROOT": self.root,
                "SMARTCLASS_HUB_DATABASE_URL": self.database_url,
                "SMARTCLASS_HUB_HUB_ID": self.hub_id,
                "SMARTCLASS_HUB_SITES_FILE": str(sites),
                **self.env,
            },
            log_file=self.work / "hub.log",
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc, "hub")

    def client(self) -> httpx.AsyncClient:
        """An HTTP client on the hub, signed in as IT staff of every school of ``rooms``."""
        if self.headers is None:
            self.headers = it_staff(self.database_url, self.rooms)
        return httpx.AsyncClient(base_url=self.url, timeout=10, headers=self.headers)

    async def wait_connected(self, timeout: float = 30) -> None:
        async with self.client() as http:

            async def connected() -> bool:
                if self.proc is not None and self.proc.poll() is not None:
                    log = (self.work / "hub.log").read_text(errors="replace")
                    msg = f"hub exited with {self.proc.returncode}:\n{log[-3000:]}"
                    raise AssertionError(msg)
                try:
                    r = await http.get("/api/v1/health")
                except httpx.TransportError:
                    return False
                return r.status_code == 200 and bool(r.json().get("mqtt_connected"))

            await eventually(connected, timeout, "the hub to connect to the broker")

    def stored_seqs(self, agent: str) -> list[tuple[str, int, int]]:
        """(boot, seq, copies) of every telemetry message and event stored for ``agent``
        (in the hub's database: its SQLite file or PostgreSQL)."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            with sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=5) as conn:
                rows = conn.execute(STORED_SEQS.replace(":agent", "?"), (agent, agent)).fetchall()
        else:
            engine = make_engine(self.database_url)
            try:
                with engine.connect() as conn:
                    rows = conn.execute(text(STORED_SEQS), {"agent": agent}).all()  # type: ignore[assignment]
            finally:
                engine.dispose()
        return [(str(b), int(s), int(n)) for b, s, n in rows]


STORED_SEQS = (
    "SELECT boot, seq, count(*) FROM ("
    " SELECT boot, seq FROM telemetry WHERE agent = :agent GROUP BY boot, seq"
    " UNION ALL SELECT boot, seq FROM events WHERE agent = :agent"
    ") AS stored GROUP BY boot, seq ORDER BY boot, seq"
)
"""Every (boot, seq) stored for an agent and how many times."""


class AgentProcess:
    """``smartclass edge`` as a child process (for tests that kill it); ``auth`` is the
    broker that knows the room's credential when ``broker`` is a proxy in front of it."""

    def __init__(
        self,
        room_file: Path,
        broker: Broker,
        work: Path,
        *,
        auth: Mosquitto | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.work = work
        login: dict[str, str] = {}
        credentials = auth or broker
        if getattr(credentials, "secured", False):
            assert isinstance(credentials, Mosquitto)
            room = load_room_config(room_file)
            user, password = credentials.agent(room.mqtt.topic_root, room.site, room.room)
            login = {
                "SMARTCLASS_EDGE_MQTT_USERNAME": user,
                "SMARTCLASS_EDGE_MQTT_PASSWORD": password,
            }
        self.proc = spawn(
            smartclass_command("edge", "--config", str(room_file)),
            env={
                **login,
                "SMARTCLASS_EDGE_MQTT_HOST": broker.host,
                "SMARTCLASS_EDGE_MQTT_PORT": str(broker.port),
                "SMARTCLASS_EDGE_DATA_DIR": str(work / "edge"),
                "SMARTCLASS_EDGE_PIN_FACTORY": "mock",
                **(env or {}),
            },
            log_file=work / "edge.log",
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        stop(self.proc, "edge")


__all__ = [
    "ROOMS",
    "AgentProcess",
    "HubProcess",
    "agent_client",
    "hub_login",
    "hub_settings",
    "login",
    "mqtt_client",
    "persistent_subscriber",
    "eventually",
    "make_agent",
    "running",
    "running_hub",
    "write_room",
    "write_sites",
]
