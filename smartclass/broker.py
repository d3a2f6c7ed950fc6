"""Run a Mosquitto broker as a child process on a chosen port, with low-latency settings."""

from __future__ import annotations

import contextlib
import getpass
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from smartclass.processes import die_with_parent

logger = logging.getLogger(__name__)

BROKER_CONFIG = """\
# Written by smartclass for a broker on loopback.
# Run as the user who started it (as root, Mosquitto would otherwise switch to 'mosquitto').
user {user}
listener {port} {host}
allow_anonymous true
# Nagle's algorithm against delayed acks adds ~90 ms to every request/reply.
set_tcp_nodelay {nodelay}
# Persistent sessions (hub, agents) keep their queues across a restart of the broker.
persistence true
persistence_location {data_dir}/
autosave_interval 5
# A hub that is away must not lose telemetry: queue far more than the default 1000.
max_queued_messages 200000
max_inflight_messages 1000
persistent_client_expiration 7d
log_dest file {data_dir}/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true
"""


class BrokerError(RuntimeError):
    """Mosquitto is missing, or did not start listening."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or BrokerError telling how to install it."""
    for candidate in ("mosquitto", "/usr/sbin/mosquitto"):
        found = shutil.which(candidate)
        if found:
            return found
    msg = (
        "mosquitto not found: install it with 'apt-get install mosquitto' (Debian, Raspberry Pi OS)"
    )
    raise BrokerError(msg)


def wait_listening(host: str, port: int, timeout: float) -> None:
    """Block until ``host:port`` accepts a TCP connection, or raise BrokerError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                msg = f"nothing listens on {host}:{port} after {timeout} s"
                raise BrokerError(msg) from exc
            time.sleep(0.02)  # polling a port: there is no event to wait on


class Mosquitto:
    """A Mosquitto child process; ``start``/``stop``/``kill`` may be called repeatedly."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: Path | None = None,
        extra_config: str = "",
        raw_config: str | None = None,
        *,
        tcp_nodelay: bool = True,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smartclass-mosquitto-")
            data_dir = Path(self._tmp.name)
        self.data_dir = data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.data_dir / "mosquitto.conf"
        if raw_config is None:
            config = BROKER_CONFIG.format(
                port=self.port,
                host=host,
                data_dir=self.data_dir,
                user=getpass.getuser(),
                nodelay=str(tcp_nodelay).lower(),
            )
        else:  # a deployment's file, made to run here: our user, our data folder
            config = (
                f"{raw_config}\nuser {getpass.getuser()}\npersistence_location {self.data_dir}/\n"
            )
        self.config_path.write_text(config + extra_config)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        self._proc = subprocess.Popen(
            [find_mosquitto(), "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches the owner, which stops us in order
            preexec_fn=die_with_parent,
        )
        try:
            wait_listening(self.host, self.port, timeout)
        except BrokerError:
            self._proc.kill()
            _, err = self._proc.communicate()
            why = err.decode(errors="replace")
            msg = f"mosquitto did not start on {self.host}:{self.port}: {why}"
            raise BrokerError(msg) from None
        logger.info("mosquitto listening on %s:%s", self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (SIGTERM): Mosquitto saves its persistent sessions to disk."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "BROKER_CONFIG",
    "BrokerError",
    "Mosquitto",
    "find_mosquitto",
    "free_port",
    "wait_listening",
]
