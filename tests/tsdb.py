"""Throwaway time-series servers for the InfluxDB export's tests, on free loopback ports.

- ``VictoriaMetrics`` (Debian's ``victoria-metrics``) accepts InfluxDB's v2 write API
  (``/api/v2/write``) and shows what it stored through its export API: the exporter's
  real writer is tested against it.
- ``InfluxQL`` (Debian's ``influxdb``, 1.6) runs the dashboards' InfluxQL queries.

Both fail the test (never skip it) when their binary is missing.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartclass.broker import free_port
from smartclass.processes import die_with_parent
from tests.server_process import ServerProcess

INSTALL_HINT = "run scripts/bootstrap --dev, which installs it (Debian, Raspberry Pi OS)"


class ServerError(RuntimeError):
    """The binary is missing, or the server did not start."""


def _find(binary: str, package: str) -> str:
    found = shutil.which(binary)
    if found is None:
        msg = f"{binary} not found: install Debian's {package} package, or {INSTALL_HINT}"
        raise ServerError(msg)
    return found


class _Server(ServerProcess):
    """A child process on a free loopback port with a temporary folder of its own."""

    name = "server"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"smartclass-{self.name}-"))
        self.log_path = self.tmp / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @abstractmethod
    def command(self) -> list[str]:
        """The server's command line."""

    @abstractmethod
    def ready(self, http: httpx.Client) -> bool:
        """True once the server answers."""

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if self.ready(http):
                        return
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log_text = self.log_path.read_text(errors="replace")[-2000:]
                    msg = f"{self.name} did not start on {self.url}:\n{log_text}"
                    raise ServerError(msg)
                time.sleep(0.02)  # polling a server coming up: there is no event to wait on


class VictoriaMetrics(_Server):
    """VictoriaMetrics on its own port and data folder; ``stop`` and ``start`` keep both, so
    a test can take it away and bring it back."""

    name = "victoria-metrics"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.binary = _find("victoria-metrics", "victoria-metrics")
        super().__init__(host)

    def command(self) -> list[str]:
        return [
            self.binary,
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.tmp / 'data'}",
            "-retentionPeriod=100y",
            "-loggerLevel=WARN",
            "-search.disableCache",
        ]

    def ready(self, http: httpx.Client) -> bool:
        return http.get(f"{self.url}/health").text.strip() == "OK"

    def export(self, match: str = '{__name__=~".+"}') -> list[dict[str, Any]]:
        """Every series matching ``match`` with its samples (times in ms since the epoch);
        what was just written is made searchable first (else new series take ~10 s)."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": match}, timeout=10)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def samples(
        self, match: str = '{__name__=~".+"}'
    ) -> set[tuple[str, frozenset[Any], float, int]]:
        """(metric, labels, value, time in ms) of every sample matching ``match``."""
        out = set()
        for series in self.export(match):
            labels = dict(series["metric"])
            name = labels.pop("__name__")
            for value, ts in zip(series["values"], series["timestamps"], strict=True):
                out.add((name, frozenset(labels.items()), float(value), int(ts)))
        return out


INFLUXDB_CONFIG = """\
reporting-disabled = true
bind-address = "{host}:{rpc_port}"
[meta]
  dir = "{tmp}/meta"
[data]
  dir = "{tmp}/data"
  wal-dir = "{tmp}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "{host}:{port}"
  auth-enabled = false
  log-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
"""
"""No authentication: the server listens on loopback only and lives for one test session."""


class InfluxQL(_Server):
    """InfluxDB 1.x (``influxd``) with a temporary configuration, for InfluxQL queries."""

    name = "influxd"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.binary = _find("influxd", "influxdb")
        super().__init__(host)
        self.config_path = self.tmp / "influxdb.conf"
        config = INFLUXDB_CONFIG.format(
            host=host, port=self.port, rpc_port=free_port(host), tmp=self.tmp
        )
        self.config_path.write_text(config, encoding="utf-8")

    def command(self) -> list[str]:
        return [self.binary, "-config", str(self.config_path)]

    def ready(self, http: httpx.Client) -> bool:
        return http.get(f"{self.url}/ping").status_code == 204

    def query(self, q: str, db: str | None = None, epoch: str = "ms") -> dict[str, Any]:
        """The server's answer to ``q`` (times as ``epoch``: ms, u); raises on an HTTP error."""
        params = {"q": q, "epoch": epoch, **({"db": db} if db else {})}
        response = httpx.post(f"{self.url}/query", data=params, timeout=30)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def write(self, db: str, lines: list[str], precision: str = "u") -> None:
        response = httpx.post(
            f"{self.url}/write",
            params={"db": db, "precision": precision},
            content="\n".join(lines).encode(),
            timeout=30,
        )
        if response.status_code != 204:
            msg = f"influxd refused the points ({response.status_code}): {response.text}"
            raise ServerError(msg)


@pytest.fixture
def victoria() -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics of the test's own (tests stop and start it)."""
    try:
        server = VictoriaMetrics()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    with contextlib.closing(server):
        try:
            server.start()
        except ServerError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield server


@pytest.fixture(scope="session")
def influxql() -> Iterator[InfluxQL]:
    """One InfluxDB 1.x server for the session."""
    try:
        server = InfluxQL()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    with contextlib.closing(server):
        try:
            server.start()
        except ServerError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield server


__all__ = ["InfluxQL", "ServerError", "VictoriaMetrics", "influxql", "victoria"]
