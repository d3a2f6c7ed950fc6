"""``smartclass bench memory``: the hub's memory under a sustained fuzz of large and malformed
MQTT messages and large API queries; RSS after a warm-up round against RSS at the end."""

from __future__ import annotations

import json
import random
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from hub.access import Role
from hub.users import provision_token
from protocol import DeviceState, RoomTopics, Status, Telemetry, encode
from smartclass.broker import Mosquitto, free_port
from smartclass.processes import smartclass_command, spawn, stop

SITE = "fuzz"
ROOMS = ("room-a", "room-b")
KiB = 1024


@dataclass(frozen=True, slots=True)
class MemoryResult:
    baseline_kib: int
    """RSS of the hub idle, connected."""
    before_kib: int
    """RSS after the warm-up round."""
    after_kib: int
    """RSS after every round."""
    messages: int
    queries: int

    @property
    def ratio(self) -> float:
        """After every round against after the warm-up: flat is near 1."""
        return self.after_kib / self.before_kib

    @property
    def ratio_idle(self) -> float:
        """After every round against idle."""
        return self.after_kib / self.baseline_kib


def rss_kib(pid: int) -> int:
    """Resident set size of a process (Linux ``/proc``), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    msg = f"no VmRSS for process {pid}"
    raise RuntimeError(msg)


def fuzz(root: str, rng: random.Random, count: int, seq0: int) -> Iterator[tuple[str, bytes, int]]:
    """``count`` (topic, payload, qos): large, malformed, forged and valid messages mixed."""
    topics = [RoomTopics(SITE, room, root) for room in ROOMS]
    for i in range(count):
        t = topics[i % len(topics)]
        sender = f"edge/{SITE}/{t.room}"
        kind = i % 12
        if kind == 0:
            yield t.telemetry, b'{"v": 2, "pad": "' + b"x" * (200 * KiB) + b'"}', 1
        elif kind == 1:
            yield t.event, b"{" + b"y" * (300 * KiB), 1  # over the limit: never parsed
        elif kind == 2:
            yield t.status, b"[" * 20_000, 0  # nested beyond any parser's patience
        elif kind == 3:
            yield t.telemetry, rng.randbytes(8 * KiB), 1
        elif kind == 4:
            rogue = RoomTopics("rogue", f"r{rng.randrange(100_000)}", root)
            yield rogue.telemetry, _telemetry(f"edge/rogue/{rogue.room}", seq0 + i), 1
        elif kind == 5:
            yield t.telemetry, _telemetry(f"edge/{SITE}/other", seq0 + i), 1  # forged sender
        elif kind == 6:
            metric = f"m{rng.randrange(10**9)}"  # a new series each time: bounded per room
            yield t.telemetry, _telemetry(sender, seq0 + i, metric), 1
        elif kind == 7:
            text = "chữ" * 50_000  # far beyond any text the contract allows
            event = {"v": 2, "sender": sender, "boot": "f", "seq": seq0 + i, "kind": "help",
                     "text": text}  # fmt: skip
            yield t.event, json.dumps(event, ensure_ascii=False).encode(), 1
        elif kind == 8:
            state = DeviceState(sender=sender, boot="f", boot_no=1, n=seq0 + i, device="lights",
                                family="lighting", state={"level": i})  # fmt: skip
            yield t.state("lights"), encode(state), 1
        elif kind == 9:
            yield f"{root}/{'z' * 2000}/{t.room}/telemetry", b"{}", 1  # not an id: bad topic
        elif kind == 10:
            status = Status(sender=sender, state="online", boot="f", boot_no=1, conn=seq0 + i,
                            devices=[f"d{n}" for n in range(200)])  # fmt: skip
            yield t.status, encode(status), 1
        else:
            yield t.telemetry, _telemetry(sender, seq0 + i), 1


def _telemetry(sender: str, seq: int, metric: str = "co2_ppm") -> bytes:
    msg = Telemetry(sender=sender, boot="f", boot_no=1, seq=seq, device="env",
                    readings={metric: float(seq % 5000)})  # fmt: skip
    return encode(msg)


_TOKEN: dict[str, str] = {}
"""API → the bench's token on that hub."""


def _get(url: str) -> bytes:
    api = url.split("/api/v1", 1)[0]
    headers = {"Authorization": f"Bearer {_TOKEN[api]}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our loopback URL
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
        body: bytes = r.read()
        return body


def _health(api: str) -> dict[str, object] | None:
    try:
        found: dict[str, object] = json.loads(_get(f"{api}/api/v1/health"))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return found


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.05)  # polling another process's progress: no event to wait on


def _queries(api: str) -> int:
    """Large API queries: every point of a week, a thousand dead letters, a busy room."""
    room = f"{api}/api/v1/rooms/{SITE}/{ROOMS[0]}"
    urls = [
        f"{room}/telemetry?metric=co2_ppm&start=2000-01-01T00:00:00Z&limit=100000",
        f"{room}/telemetry?metric=co2_ppm&start=2000-01-01T00:00:00Z&interval_s=1",
        f"{api}/api/v1/dead-letters?limit=1000",
        f"{room}?events=500",
        f"{api}/api/v1/rooms",
        f"{api}/api/v1/health",
    ]
    for url in urls:
        _get(url)
    return len(urls)


def _publish(host: str, port: int, messages: list[tuple[str, bytes, int]]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos) for topic, payload, qos in messages]
        for info in infos:
            if info.rc == paho.MQTT_ERR_SUCCESS:
                info.wait_for_publish(60)
    finally:
        client.disconnect()
        client.loop_stop()


def measure_memory(rounds: int, per_round: int, work: Path, seed: int = 12) -> MemoryResult:
    """Run a hub against the fuzz; RSS before (after one warm-up round) and after."""
    rng = random.Random(seed)
    root = f"m{uuid.uuid4().hex[:8]}"
    sites = work / "sites.yaml"
    rooms = list(ROOMS)
    sites.write_text(yaml.safe_dump({"sites": [{"id": SITE, "name": SITE, "rooms": rooms}]}))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{work / 'hub.sqlite'}"
    _TOKEN[api] = provision_token(database_url, "bench", Role.IT, sites=[SITE], name="bench")
    with Mosquitto(data_dir=work / "broker") as broker:
        hub = spawn(
            smartclass_command("--log-level", "ERROR", "hub", "--port", str(port)),
            env={
                "SMARTCLASS_HUB_MQTT_PORT": str(broker.port),
                "SMARTCLASS_HUB_TOPIC_ROOT": root,
                "SMARTCLASS_HUB_DATABASE_URL": database_url,
                "SMARTCLASS_HUB_HUB_ID": f"bench-{root}",
                "SMARTCLASS_HUB_SITES_FILE": str(sites),
                "SMARTCLASS_HUB_DEAD_LETTERS_MAX": "2000",
            },
            log_file=work / "hub.log",
        )
        try:
            _wait(lambda: bool((_health(api) or {}).get("mqtt_connected")), 30, "the hub")
            baseline = rss_kib(hub.pid)
            sent = queries = 0
            before = 0
            for n in range(rounds + 1):
                batch = list(fuzz(root, rng, per_round, seq0=n * per_round + 1))
                _publish(broker.host, broker.port, batch)
                sent += len(batch)

                def drained(expected: int = sent) -> bool:
                    health = _health(api) or {}
                    counters: dict[str, int] = health.get("counters") or {}  # type: ignore[assignment]
                    received = counters.get("received", 0)
                    return received >= expected and health.get("ingest_pending") == 0

                _wait(drained, 120, "the hub to read every message")
                queries += _queries(api)
                if n == 0:
                    before = rss_kib(hub.pid)
            after = rss_kib(hub.pid)
        finally:
            stop(hub, "hub")
    return MemoryResult(baseline, before, after, sent, queries)


def run_memory_bench(rounds: int, per_round: int) -> int:
    """Print the hub's RSS before and after the fuzz; 0 if it stayed under 1.5 times."""
    print(f"bench memory: {rounds} rounds of {per_round} fuzzed messages (a twelfth each: "
          "200 KiB, 300 KiB, deep nesting, random bytes, unknown rooms, forged senders, new "
          "series, huge texts, states, long topics, statuses, valid telemetry) and large API "
          "queries")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="smartclass-bench-") as tmp:
        result = measure_memory(rounds, per_round, Path(tmp))
    print(f"hub RSS idle:             {result.baseline_kib / KiB:7.1f} MiB")
    print(f"hub RSS after warm-up:    {result.before_kib / KiB:7.1f} MiB")
    print(f"hub RSS after {result.messages} messages and {result.queries} queries: "
          f"{result.after_kib / KiB:.1f} MiB")  # fmt: skip
    print(f"ratio after / warm-up:    {result.ratio:7.2f}")
    print(f"ratio after / idle:       {result.ratio_idle:7.2f}")
    return 0 if result.ratio < 1.5 else 1


__all__ = ["MemoryResult", "measure_memory", "rss_kib", "run_memory_bench"]
