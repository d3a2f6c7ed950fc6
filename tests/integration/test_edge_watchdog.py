"""A real ``smartclass edge`` process under a systemd stand-in: a notify socket the test binds.

READY comes once the room has started, WATCHDOG keeps coming while the room is healthy, stops
while the event loop is blocked or a part of the room fails, and goes on with the broker away.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import pytest
import yaml

from edge.config import load_room_config
from protocol.topics import RoomTopics
from smartclass.broker import Mosquitto, free_port
from smartclass.processes import die_with_parent, smartclass_command, stop
from tests.integration.notify import PING_S, QUIET_S, NotifySocket
from tests.integration.system import AgentProcess, mqtt_client, write_room

pytestmark = pytest.mark.integration

START_S = 30.0
FLOOD = 500
"""Bad messages sent while the agent's log is not read: far more lines than its pipe holds."""


@contextlib.asynccontextmanager
async def agent_process(
    broker: Mosquitto, root: str, work: Path, notify: NotifySocket, room_file: Path | None = None
) -> AsyncIterator[AgentProcess]:
    room_file = room_file or write_room(work / "rooms", root=root)
    process = AgentProcess(room_file, broker, work, env=notify.env())
    try:
        yield process
    finally:
        process.close()


async def test_ready_comes_once_the_room_runs_then_pings_and_stopping_at_the_end(
    broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    async with agent_process(broker, topic_root, tmp_path, notify) as agent:
        ready = await notify.until("READY", START_S)
        assert ready["READY"] == "1"
        assert "1 room running" in ready["STATUS"]
        mean = await notify.pings(6, 5 * PING_S)
        assert 0.5 * PING_S < mean < 2 * PING_S, mean
        await notify.status("1 room running, 1 connected to the broker", 10)
        agent.proc.send_signal(signal.SIGTERM)
        stopping = await notify.until("STOPPING", 10)
        assert stopping["STOPPING"] == "1"
        assert await asyncio.to_thread(agent.proc.wait, 15) == 0


async def test_no_pings_while_a_part_of_the_room_fails_and_pings_once_it_runs_again(
    broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    # The room's tablet panel wants a port another program listens on: it fails at each start
    held = socket.create_server(("127.0.0.1", free_port()))
    port = held.getsockname()[1]
    room_file = write_room(tmp_path / "rooms", root=topic_root)
    config = yaml.safe_load(room_file.read_text(encoding="utf-8"))
    config["panel"]["port"] = port
    room_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    async with agent_process(broker, topic_root, tmp_path, notify, room_file):
        try:
            ready = await notify.until("READY", START_S)
            statuses = [ready["STATUS"], *await notify.quiet(QUIET_S, 30)]
            assert not any("WATCHDOG" in fields for fields in notify.received)
            assert any("panel restarting" in status for status in statuses), statuses
        finally:
            held.close()
        # The panel restarts within its back-off (at most 8 s by now) and the pings begin
        await notify.pings(3, 30)
        await notify.status("1 room running", 10)


async def test_pings_stop_while_the_event_loop_is_blocked_and_resume_after(
    broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    # A real way a loop blocks: its log goes to a pipe (journald's, say) that nobody reads,
    # and a flood of bad messages is logged one line each. The pipe holds one page; then
    # each line written by the loop's thread waits for room.
    room_file = write_room(tmp_path / "rooms", root=topic_root)
    room = load_room_config(room_file)
    proc = logging_to_a_pipe(broker, room_file, tmp_path / "edge", notify)
    assert proc.stderr is not None
    fcntl.fcntl(proc.stderr.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    reader = LogReader(proc.stderr)
    try:
        await notify.until("READY", START_S)
        await notify.pings(3, 5 * PING_S)
        reader.pause()
        topics = RoomTopics(room.site, room.room, topic_root)
        async with mqtt_client(broker, topic_root, "hub") as hub:
            for n in range(FLOOD):
                await hub.publish(topics.command("lights"), b"not json %d" % n, qos=0)
        await notify.quiet(QUIET_S, 30)
        assert proc.poll() is None  # blocked, not dead
        reader.resume()
        await notify.pings(3, 10)
    finally:
        reader.resume()
        stop(proc, "edge")
        reader.join()
        proc.stderr.close()
    assert reader.lines > FLOOD


def logging_to_a_pipe(
    broker: Mosquitto, room_file: Path, data_dir: Path, notify: NotifySocket
) -> subprocess.Popen[bytes]:
    """``smartclass edge`` with its log (standard error) on a pipe the test reads."""
    room = load_room_config(room_file)
    user, password = broker.agent(room.mqtt.topic_root, room.site, room.room)
    return subprocess.Popen(
        smartclass_command("edge", "--config", str(room_file)),
        env={
            **os.environ,
            **notify.env(),
            "SMARTCLASS_EDGE_MQTT_HOST": broker.host,
            "SMARTCLASS_EDGE_MQTT_PORT": str(broker.port),
            "SMARTCLASS_EDGE_MQTT_USERNAME": user,
            "SMARTCLASS_EDGE_MQTT_PASSWORD": password,
            "SMARTCLASS_EDGE_DATA_DIR": str(data_dir),
            "SMARTCLASS_EDGE_PIN_FACTORY": "mock",
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


class LogReader(threading.Thread):
    """Reads a child's log pipe, or stops reading it while paused."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.reading = threading.Event()
        self.reading.set()
        self.lines = 0
        self.start()

    def pause(self) -> None:
        self.reading.clear()

    def resume(self) -> None:
        self.reading.set()

    def run(self) -> None:
        while self.reading.wait() and self.pipe.readline():
            self.lines += 1


async def test_pings_go_on_while_the_broker_is_away(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    async with agent_process(own_broker, topic_root, tmp_path, notify):
        await notify.until("READY", START_S)
        await notify.status("1 connected to the broker", 10)
        own_broker.stop()
        await notify.status("0 connected to the broker", 30)
        mean = await notify.pings(6, 5 * PING_S)
        assert mean < 2 * PING_S
