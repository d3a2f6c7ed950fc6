"""Load generator: N simulated agents publishing telemetry as fast as the broker takes it."""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from protocol import RoomTopics, Telemetry, encode, utcnow
from protocol.usage import zone_metric

METRICS = ("temperature_c", "humidity_pct", "co2_ppm", "light_lux")
"""The environment sensor's readings; every message has as many (the lights: four zones)."""
SITE = "bench"
"""The site of every simulated room; rooms are ``room-000``, ``room-001``, …"""


def room_ids(agents: int) -> list[str]:
    return [f"room-{i:03d}" for i in range(agents)]


def write_sites(path: Path, agents: int) -> Path:
    """A sites file registering the simulated rooms, for a hub to take their messages."""
    data = {"sites": [{"id": SITE, "name": "Load generator", "rooms": room_ids(agents)}]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


ZONES = ("front", "middle", "back", "board")
INTERVAL_S = 10.0
"""A simulated room's devices are sampled every 10 s of their ``ts``, which ends now: an
agent's samples span hours, as an outbox replayed after a long time offline would."""


def payloads(site: str, room: str, count: int) -> tuple[str, list[bytes]]:
    """The telemetry topic of one simulated room and ``count`` payloads with seq 1..count:
    contract v3 samples of its environment sensor and its lights (four zones), taken in turn,
    each with the interval it covers and the room's context, so the hub's rollups do work."""
    boot = uuid.uuid4().hex
    sender = f"edge/{site}/{room}"
    start = utcnow() - timedelta(seconds=INTERVAL_S * (count // 2 + 1))
    out = []
    for seq in range(1, count + 1):
        if seq % 2:
            device, readings = "env", {m: 20.0 + (seq % 17) + i for i, m in enumerate(METRICS)}
        else:
            device = "lights"
            readings = {zone_metric(z): float(100 * ((seq // 2 + i) % 3 > 0))
                        for i, z in enumerate(ZONES)}  # fmt: skip
        message = Telemetry(
            sender=sender, boot=boot, boot_no=1, seq=seq, device=device, readings=readings,
            ts=start + timedelta(seconds=INTERVAL_S * (seq // 2)), interval_s=INTERVAL_S,
            occupied=seq % 7 > 1, schedule="lesson" if seq % 5 else "closed",
        )  # fmt: skip
        out.append(encode(message))
    return RoomTopics(site, room).telemetry, out


def credential(directory: Path, root: str, room: str) -> tuple[str, str]:
    """A simulated room's broker username and password, from its env file in ``directory``."""
    username = f"edge-{root}-{SITE}-{room}"
    values = dict(
        line.split("=", 1)
        for line in (directory / f"{username}.env").read_text().splitlines()
        if "=" in line
    )
    return username, values["SMARTCLASS_EDGE_MQTT_PASSWORD"]


def publish_all(
    host: str,
    port: int,
    topic: str,
    messages: list[bytes],
    root: str,
    login: tuple[str, str] | None = None,
) -> None:
    """Publish the messages at QoS 1 from one client and wait for every acknowledgement."""
    topic = topic.replace("sc/", f"{root}/", 1)
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    if login is not None:
        client.username_pw_set(*login)
    client.max_inflight_messages_set(1000)
    done = threading.Event()
    acked = 0

    def on_publish(*_: object) -> None:
        nonlocal acked
        acked += 1
        if acked == len(messages):
            done.set()

    def on_socket_open(_c: paho.Client, _u: object, sock: paho.SocketLike) -> None:
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    client.on_publish = on_publish
    client.on_socket_open = on_socket_open
    client.connect(host, port)
    client.loop_start()
    for payload in messages:
        client.publish(topic, payload, qos=1)
    if not done.wait(300):
        print(f"loadgen: only {acked}/{len(messages)} acknowledged", file=sys.stderr)
    client.disconnect()
    client.loop_stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", default="sc")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20000, help="in all, across agents")
    parser.add_argument(
        "--credentials", type=Path, help="folder of the rooms' credential files (secured broker)"
    )
    args = parser.parse_args(argv)
    per_agent = max(1, args.messages // args.agents)
    rooms = room_ids(args.agents)
    work = [payloads(SITE, room, per_agent) for room in rooms]
    logins = [
        credential(args.credentials, args.root, room) if args.credentials else None
        for room in rooms
    ]
    print("ready", flush=True)
    sys.stdin.readline()  # the caller starts the clock and says go
    start = time.perf_counter()
    threads = [
        threading.Thread(target=publish_all, args=(args.host, args.port, t, m, args.root, login))
        for (t, m), login in zip(work, logins, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"published {per_agent * args.agents} in {time.perf_counter() - start:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
