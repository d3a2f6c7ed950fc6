"""``smartclass bench ingest``: the hub's stored rate against a plain subscriber's, in one run.

As in production: the broker refuses anonymous clients, every simulated room and the hub has
its own credential and the per-room ACLs, and the hub publishes its end-to-end
acknowledgements; each round checks that the hub acknowledged every message and that its
extras (usage rollups and alerts) did their work, or none when they are off.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt

from hub.access import Role
from hub.users import provision_token
from protocol import RoomTopics, StoredAck, decode
from protocol.client import SOCKET_OPTIONS
from protocol.ranges import total
from smartclass.acl import Grant
from smartclass.broker import Mosquitto, free_port, mqtt_login
from smartclass.credentials import Deployment, ExtraUser, RoomSpec, hub_username
from smartclass.loadgen import METRICS, SITE, room_ids, write_sites
from smartclass.processes import smartclass_command, spawn, stop


def secure(broker: Mosquitto, root: str, agents: int) -> None:
    """Credentials and ACLs for one round, as in production: one per simulated room, one for
    the hub, and a read-only user for the plain subscriber."""
    if broker.deployment(root).hubs:
        return
    broker.set_deployment(
        Deployment(
            root,
            rooms=tuple(RoomSpec(SITE, room) for room in room_ids(agents)),
            hubs=(f"bench-{root}",),
            extra_users=(ExtraUser(f"plain-{root}", (Grant.read(f"{root}/#"),)),),
        )
    )


class Loadgen:
    """The load generator process, started and waiting for ``go``."""

    def __init__(self, broker: Mosquitto, root: str, agents: int, messages: int) -> None:
        secure(broker, root, agents)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smartclass.loadgen", "--port", str(broker.port),
             "--root", root, "--agents", str(agents), "--messages", str(messages),
             *(["--credentials", str(broker.store.env_dir)] if broker.store else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            msg = "load generator did not start"
            raise RuntimeError(msg)
        self.count = (messages // agents) * agents

    def go(self) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return time.perf_counter()

    def finish(self) -> float:
        """Seconds the publishers took until every message was acknowledged."""
        out, _ = self.proc.communicate(timeout=600)
        return float(out.split()[-1])


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.01)  # polling another process's progress: no event to wait on


async def _plain_subscriber(
    broker: Mosquitto, root: str, load: Loadgen, protocol: aiomqtt.ProtocolVersion
) -> tuple[float, float]:
    """Receive the stream with a bare aiomqtt subscriber; return (seconds, publisher seconds)."""
    received = 0
    user, password = broker.credential(f"plain-{root}")
    async with aiomqtt.Client(
        broker.host, broker.port, socket_options=SOCKET_OPTIONS, protocol=protocol,
        username=user, password=password,
    ) as client:  # fmt: skip
        await client.subscribe(f"{root}/+/+/telemetry", qos=1)
        start = load.go()
        async for _ in client.messages:
            received += 1
            if received == load.count:
                break
        elapsed = time.perf_counter() - start
    return elapsed, await asyncio.to_thread(load.finish)


def _hub_round(
    broker: Mosquitto, root: str, agents: int, messages: int, work: Path, *, extras: bool = True
) -> tuple[float, float]:
    """Run the hub (with its extras or without), let the load through it, and time until
    every point is stored; then check its acknowledgements and extras."""
    db = work / f"hub-{root}.sqlite"
    port = free_port()
    sites = write_sites(work / f"sites-{root}.yaml", agents)  # the hub takes registered rooms only
    secure(broker, root, agents)
    user, password = broker.credential(hub_username(root, f"bench-{root}"))
    token = provision_token(f"sqlite:///{db}", "bench", Role.IT, sites=[SITE], name="bench")
    hub = spawn(
        smartclass_command("--log-level", "WARNING", "hub", "--port", str(port)),
        env={
            "SMARTCLASS_HUB_MQTT_USERNAME": user,
            "SMARTCLASS_HUB_MQTT_PASSWORD": password,
            "SMARTCLASS_HUB_MQTT_PORT": str(broker.port),
            "SMARTCLASS_HUB_TOPIC_ROOT": root,
            "SMARTCLASS_HUB_DATABASE_URL": f"sqlite:///{db}",
            "SMARTCLASS_HUB_HUB_ID": f"bench-{root}",
            "SMARTCLASS_HUB_SITES_FILE": str(sites),
            "SMARTCLASS_HUB_ROLLUPS": str(extras).lower(),
            "SMARTCLASS_HUB_ALERTS": str(extras).lower(),
        },
        log_file=work / "hub.log",
    )
    try:
        _wait(lambda: _hub_connected(port), 30, "the hub to connect")
        load = Loadgen(broker, root, agents, messages)
        points = load.count * len(METRICS)
        cpu = _cpu_s(hub.pid)
        start = load.go()
        _wait(lambda: _stored(db) >= points, 600, "the hub to store every point")
        elapsed = time.perf_counter() - start
        cpu = _cpu_s(hub.pid) - cpu
        load.finish()
        asyncio.run(_acknowledged(broker, root, agents, load.count // agents))
        _check_extras(db, port, token, extras=extras)
        return elapsed, cpu
    finally:
        stop(hub, "hub")


async def _acknowledged(broker: Mosquitto, root: str, agents: int, per_agent: int) -> None:
    """Wait until each room's retained acknowledgement covers all its messages (read as the
    plain subscriber: the ACL gives it the whole root)."""
    user, password = broker.credential(f"plain-{root}")
    covered = dict.fromkeys(room_ids(agents), 0)
    try:
        async with (
            aiomqtt.Client(broker.host, broker.port, username=user, password=password) as client,
            asyncio.timeout(30),
        ):
            for room in covered:
                await client.subscribe(RoomTopics(SITE, room, root).ack, qos=1)
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                ack = decode(StoredAck, message.payload)
                covered[message.topic.value.split("/")[-2]] = sum(map(total, ack.boots.values()))
                if min(covered.values()) >= per_agent:
                    return
    except TimeoutError:
        msg = f"the hub acknowledged {sum(covered.values())} of {per_agent * agents} messages"
        raise RuntimeError(msg) from None


def _check_extras(db: Path, port: int, token: str, *, extras: bool) -> None:
    """With extras, the rollups have rows and the alerts have judged the rooms; without,
    neither runs (health has no alerts)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        hours = int(conn.execute("SELECT count(*) FROM usage_hourly").fetchone()[0])
    alerts = _alerts_health(port, token)
    if (hours > 0, alerts is not None) != (extras, extras):
        msg = f"extras {'on' if extras else 'off'}: {hours} hourly rollups, alerts {alerts}"
        raise RuntimeError(msg)
    if extras:  # the judgement of the last batches may still be under way
        _wait(lambda: _alerts_health(port, token)["judgements"] > 0, 10, "the alerts to judge")


def _alerts_health(port: int, token: str) -> Any:
    """The ``alerts`` part of the hub's health (null when the alerts are off)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/health", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - our hub on loopback
        return json.load(r).get("alerts")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used, from ``/proc``: steadier than a
    rate on a machine shared with other work."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hub_connected(port: int) -> bool:
    """``/healthz`` answers 200 once the ingest runs and MQTT is connected (503 before)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return bool(json.load(r).get("status") == "ok")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM telemetry").fetchone()[0])
    except sqlite3.Error:
        return 0


PLAIN = {"MQTT 3.1.1": aiomqtt.ProtocolVersion.V311, "MQTT 5": aiomqtt.ProtocolVersion.V5}
"""Baselines: a bare aiomqtt subscriber with each protocol; the hub speaks MQTT 5."""


WITHOUT = "hub without extras"
EXTRAS = {"on": ("hub",), "off": (WITHOUT,), "both": (WITHOUT, "hub")}
"""``--extras``: the hub rounds of each choice. The extras are the hub's work per message
beyond storing and acknowledging it: the usage rollups and the alerts."""


def run_ingest_bench(agents: int, messages: int, repeat: int, extras: str = "on") -> int:
    """Print the plain subscribers' and the hub's rates and their ratio (best of ``repeat``).

    The baseline is a bare aiomqtt subscriber speaking MQTT 5, like the hub; one speaking
    MQTT 3.1.1 is shown too, since paho builds a property object per MQTT 5 message. With
    ``extras="both"`` each round runs the hub without its extras and with them, and the
    ratio of the two is printed as well.
    """
    hubs = EXTRAS[extras]
    print(f"bench ingest: {agents} agents, {messages} telemetry messages "
          f"({len(METRICS)} points each), best of {repeat} rounds")  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in [*PLAIN, *hubs]}
    cpu: dict[str, list[float]] = {hub: [] for hub in hubs}
    """The hub's CPU microseconds per message stored, per round."""
    with (
        tempfile.TemporaryDirectory(prefix="smartclass-bench-") as tmp,
        Mosquitto(data_dir=Path(tmp) / "broker", auth=[]) as broker,
    ):
        if mqtt_login(broker.host, broker.port, None, None):
            msg = "the bench's broker takes anonymous clients"
            raise RuntimeError(msg)
        print("broker: anonymous clients refused, a credential per room and for the hub, "
              "per-room ACLs; the hub's acknowledgements checked each round; extras: usage "
              "rollups and alerts")  # fmt: skip
        for i in range(repeat):
            for name, protocol in PLAIN.items():
                root = f"b{uuid.uuid4().hex[:8]}"
                load = Loadgen(broker, root, agents, messages)
                seconds, published = asyncio.run(_plain_subscriber(broker, root, load, protocol))
                rates[name].append(load.count / seconds)
                print(f"  round {i + 1}: plain subscriber, {name:10}  {rates[name][-1]:7.0f} msg/s "
                      f"(publishers {load.count / published:.0f} msg/s)", flush=True)  # fmt: skip
            for hub in hubs:
                root = f"b{uuid.uuid4().hex[:8]}"
                seconds, used = _hub_round(
                    broker, root, agents, messages, Path(tmp), extras=hub == "hub"
                )
                rates[hub].append(load.count / seconds)
                cpu[hub].append(used / load.count * 1e6)
                print(f"  round {i + 1}: {hub + ', stored':30} {rates[hub][-1]:7.0f} msg/s "
                      f"= {rates[hub][-1] * len(METRICS):.0f} points/s, "
                      f"{cpu[hub][-1]:.0f} µs CPU/msg", flush=True)  # fmt: skip
    best = {name: max(values) for name, values in rates.items()}
    median = {name: statistics.median(values) for name, values in rates.items()}
    print()
    for name in PLAIN:
        print(f"{'plain aiomqtt subscriber, ' + name:40} {best[name]:7.0f} msg/s "
              f"(median {median[name]:.0f})")  # fmt: skip
    for hub in hubs:
        used = statistics.median(cpu[hub])
        print(f"{hub + ' ingest, stored':40} {best[hub]:7.0f} msg/s = "
              f"{best[hub] * len(METRICS):.0f} points/s (median {median[hub]:.0f}); "
              f"CPU {min(cpu[hub]):.0f} µs/msg (median {used:.0f})")  # fmt: skip
    for hub in hubs:
        print(f"{'ratio ' + hub + ' / plain MQTT 5':40} {best[hub] / best['MQTT 5']:7.2f}")
    print(f"{'ratio hub / plain MQTT 3.1.1':40} {best[hubs[-1]] / best['MQTT 3.1.1']:7.2f}")
    if len(hubs) == 2:
        cpu_ratio = statistics.median(cpu[WITHOUT]) / statistics.median(cpu["hub"])
        print(f"{'ratio with / without extras':40} {best['hub'] / best[WITHOUT]:7.2f} "
              f"(medians {median['hub'] / median[WITHOUT]:.2f}; "
              f"CPU per message {cpu_ratio:.2f})")  # fmt: skip
    return 0


__all__ = ["run_ingest_bench"]
