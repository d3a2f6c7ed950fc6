"""``smartclass demo`` says when the live hub's ingest loses the broker, and when it is well
again: the hub process never died, so only its ``/healthz`` could tell."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smartclass.broker import find_mosquitto, free_port, wait_listening

pytestmark = pytest.mark.integration


class Output:
    """The demo's output, read line by line on a thread of its own."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.stream = proc.stdout
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.stream:
            self._queue.put(line)
        self._queue.put(None)

    def close(self) -> None:
        """Once the demo has ended: the rest is read, the pipe closed."""
        self._thread.join(timeout=10)
        self.stream.close()

    def until(self, text: str, timeout: float) -> str:
        """Wait for a line holding ``text``; fail with the output so far after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        pytest.fail(f"no line with {text!r} within {timeout} s:\n{''.join(self.lines)}")


def _broker_pid(data_dir: Path) -> int:
    config = str(data_dir / "broker" / "mosquitto.conf")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if config.encode() in cmdline and b"mosquitto" in cmdline[0]:
            return int(entry.name)
    pytest.fail(f"no mosquitto of the demo running with {config}")


def test_the_demo_says_when_the_hub_loses_its_ingest_and_when_it_is_well_again(
    tmp_path: Path,
) -> None:
    port, mqtt_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "smartclass", "demo", "--rooms", "1", "--port", str(port),
         "--mqtt-port", str(mqtt_port), "--data-dir", str(tmp_path), "--interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    out = Output(demo)
    ours: subprocess.Popen[bytes] | None = None
    try:
        out.until("Press Ctrl-C to stop.", 60)
        os.kill(_broker_pid(tmp_path), signal.SIGKILL)  # the hub process lives on
        said = out.until("the hub reports problems", 20)
        assert "MQTT not connected" in said
        ours = subprocess.Popen(  # the broker back, with the demo's own configuration
            [find_mosquitto(), "-c", str(tmp_path / "broker" / "mosquitto.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_listening("127.0.0.1", mqtt_port, 10)
        out.until("the hub is well again", 60)
        shown = "".join(out.lines)
        assert shown.count("the hub reports problems") == 1, shown
        assert "the hub stopped" not in shown, "nothing was restarted"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        out.close()
        if ours is not None:
            ours.terminate()
            ours.wait(timeout=10)
    assert demo.returncode == 0
