"""A throwaway PostgreSQL server for the test session, and a fresh schema for each test."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from smartclass.broker import free_port
from smartclass.processes import die_with_parent
from tests.server_process import ServerProcess

INSTALL_HINT = (
    "install the PostgreSQL server with 'apt-get install postgresql' (Debian, Raspberry Pi OS),"
    " or run scripts/bootstrap --dev, which does it"
)
TEST_DATABASE = "smartclass_test"
SERVER_OPTIONS = {
    "fsync": "off",  # a throwaway cluster: durability is not under test here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "unix_socket_directories": "",  # TCP on loopback only
    "listen_addresses": "127.0.0.1",
    "log_min_messages": "warning",
    "timezone": "Asia/Ho_Chi_Minh",  # a school's zone, not UTC, so zone mistakes show
}


class PostgresError(RuntimeError):
    """The server binaries are missing, or the server did not start."""


def find_bin_dir() -> Path:
    """The folder of ``initdb`` and ``postgres``: on PATH, or Debian's newest version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    msg = f"PostgreSQL server binaries (initdb, postgres) not found: {INSTALL_HINT}"
    raise PostgresError(msg)


class PostgresServer(ServerProcess):
    """initdb into a temporary folder, then a ``postgres`` child on a free loopback port.

    PostgreSQL refuses to run as root: as root, both run as the ``postgres`` system user
    (made by the Debian package), who owns the temporary folder. It stops with a fast
    shutdown (SIGINT): open sessions are ended, nothing is waited for.
    """

    stop_signal = signal.SIGINT

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.bin_dir = find_bin_dir()
        self._user = _run_as()
        self.tmp = Path(tempfile.mkdtemp(prefix="smartclass-pg-"))
        self.data_dir = self.tmp / "data"
        self.log_path = self.tmp / "postgres.log"
        if self._user is not None:
            os.chown(self.tmp, self._user.pw_uid, self._user.pw_gid)
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres", *, driver: str = "psycopg") -> str:
        """SQLAlchemy URL of a database on this server (superuser ``postgres``, no password)."""
        return f"postgresql+{driver}://postgres@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={database}"

    def _popen(self, args: list[str], log: int | None = None) -> subprocess.Popen[bytes]:
        user = self._user
        return subprocess.Popen(
            args,
            cwd=self.tmp,
            stdin=subprocess.DEVNULL,
            stdout=log if log is not None else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )

    def start(self, timeout: float = 30.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        if not (self.data_dir / "PG_VERSION").exists():
            init = self._popen(
                [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]
            )  # fmt: skip
            out, _ = init.communicate(timeout=timeout)
            if init.returncode != 0:
                msg = f"initdb failed ({init.returncode}): {out.decode(errors='replace')}"
                raise PostgresError(msg)
        options = [arg for k, v in SERVER_OPTIONS.items() for arg in ("-c", f"{k}={v}")]
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._proc = self._popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                 *options],
                log=fd,
            )  # fmt: skip
        finally:
            os.close(fd)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.conninfo(), connect_timeout=2).close()
                return
            except psycopg.OperationalError as exc:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = self.log_path.read_text(errors="replace")[-2000:]
                    msg = f"postgres did not start on {self.host}:{self.port}: {exc}\n{log}"
                    raise PostgresError(msg) from exc
            time.sleep(0.02)  # polling a server coming up: there is no event to wait on

    def execute(self, statement: sql.Composed, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE needs that)."""
        with psycopg.connect(self.conninfo(database), autocommit=True, connect_timeout=5) as c:
            c.execute(statement)


def _run_as() -> pwd.struct_passwd | None:
    """The ``postgres`` user when we are root (PostgreSQL refuses root), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        msg = f"as root, PostgreSQL runs as the 'postgres' user, which is missing: {INSTALL_HINT}"
        raise PostgresError(msg) from None


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; fails (never skips) when it cannot run."""
    try:
        server = PostgresServer()
    except PostgresError as exc:
        pytest.fail(str(exc), pytrace=False)
    with contextlib.closing(server):
        try:
            server.start()
        except PostgresError as exc:
            pytest.fail(str(exc), pytrace=False)
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DATABASE)))
        yield server


@contextlib.contextmanager
def fresh_schema(postgres: PostgresServer) -> Iterator[str]:
    """URL of the session database with a new schema first on the search path; dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    postgres.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)), TEST_DATABASE)
    yield f"{postgres.url(TEST_DATABASE)}?options=-csearch_path%3D{schema}"
    with contextlib.suppress(psycopg.Error):
        drop = sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
        postgres.execute(drop, TEST_DATABASE)


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """URL of the session database with a schema of the test's own first on the search path."""
    with fresh_schema(postgres) as url:
        yield url


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test runs twice: on a SQLite file, and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'hub.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``database_url`` shared by the tests of a module (one hub app for all of them): the
    module runs twice, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.sqlite'}"
        return
    with fresh_schema(request.getfixturevalue("postgres")) as url:
        yield url


__all__ = [
    "BACKENDS",
    "PostgresError",
    "PostgresServer",
    "database_url",
    "find_bin_dir",
    "fresh_schema",
    "module_database_url",
    "postgres",
    "postgres_url",
]
