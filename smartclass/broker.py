"""Run a Mosquitto broker as a child process on a chosen port, with low-latency settings."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from smartclass.acl import Grant
from smartclass.credential_store import LISTENER_SETTINGS, CredentialStore, broker_config
from smartclass.credentials import (
    Credential,
    CredentialError,
    Deployment,
    ExtraUser,
    Identity,
    RoomSpec,
    agent_username,
    hash_password,
    hub_username,
    identities_of,
    new_password,
)
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


AUTH_BROKER_CONFIG = """\
# Written by smartclass for a broker on loopback, with per-identity credentials and ACLs.
user {user}
listener {port} {host}
persistence_location {data_dir}/
log_dest file {data_dir}/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true
"""
"""Followed by ``credentials.broker_config``: no anonymous clients, password file, ACL file."""

RELOAD_PROBE_USER = "smartclass-reload-probe"
"""A user without any access whose password changes at every reload: once the broker
accepts the new one, it has loaded the new files."""


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


def mqtt_login(
    host: str, port: int, username: str | None, password: str | None, timeout: float = 2.0
) -> bool:
    """Whether the broker accepts this login (one MQTT 3.1.1 CONNECT; None: anonymous)."""

    def string(text: str) -> bytes:
        data = text.encode()
        return len(data).to_bytes(2, "big") + data

    flags = 0b0000_0010  # clean session
    payload = string(username or "smartclass-login")  # client id (the username, if forced)
    if username is not None:
        flags |= 0b1000_0000
        payload += string(username)
    if password is not None:
        flags |= 0b0100_0000
        payload += string(password)
    body = string("MQTT") + bytes([4, flags]) + (10).to_bytes(2, "big") + payload  # keepalive 10 s
    length, size = b"", len(body)
    while True:
        size, digit = divmod(size, 128)
        length += bytes([digit | (0x80 if size else 0)])
        if not size:
            break
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(b"\x10" + length + body)
        connack = b""
        while len(connack) < 4:
            chunk = sock.recv(4 - len(connack))
            if not chunk:
                return False  # closed without a CONNACK
            connack += chunk
        accepted = connack[0] == 0x20 and connack[3] == 0
        if accepted:
            sock.sendall(b"\xe0\x00")  # DISCONNECT: a clean goodbye
        return accepted


class Mosquitto:
    """A Mosquitto child process; ``start``/``stop``/``kill`` may be called repeatedly.

    With ``auth`` (deployments, possibly none yet) the broker refuses anonymous
    clients and gives each identity its own password and ACL lines, generated
    into ``data_dir/auth`` (see ``smartclass.credentials``); ``add_room``,
    ``add_hub``, ``add_user``, ``rotate`` and the getters ``agent``, ``hub`` and
    ``operator`` change them and reload the running broker. Without ``auth``
    the broker takes anonymous clients and has no ACL.
    """

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: Path | None = None,
        extra_config: str = "",
        raw_config: str | None = None,
        *,
        tcp_nodelay: bool = True,
        auth: Iterable[Deployment] | None = None,
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
        self.store: CredentialStore | None = None
        self._deployments: dict[str, Deployment] = {}
        self._users: dict[str, ExtraUser] = {}
        self._probe = self._probe_hash = ""
        if auth is not None:
            if raw_config is not None:
                msg = "give either raw_config or auth, not both"
                raise ValueError(msg)
            self.store = CredentialStore(self.data_dir / "auth")
            for deployment in auth:
                if deployment.root in self._deployments:
                    msg = f"two deployments for topic root {deployment.root!r}"
                    raise ValueError(msg)
                self._deployments[deployment.root] = deployment
            self._write_auth()
            config = (
                AUTH_BROKER_CONFIG.format(
                    port=self.port, host=host, data_dir=self.data_dir, user=getpass.getuser()
                )
                + LISTENER_SETTINGS
                + broker_config(
                    self.store.password_file,
                    self.store.acl_file,
                    autosave_interval=5,
                    tcp_nodelay=tcp_nodelay,
                )
            )
        elif raw_config is None:
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

    # --- authentication (with ``auth`` only) ---------------------------------------

    @property
    def secured(self) -> bool:
        """Whether clients need a credential (``auth`` was given)."""
        return self.store is not None

    def _auth(self) -> CredentialStore:
        if self.store is None:
            msg = "this broker takes anonymous clients: start it with auth=[...] for credentials"
            raise BrokerError(msg)
        return self.store

    def deployment(self, root: str) -> Deployment:
        """What the broker knows of topic root ``root`` (empty if nothing yet)."""
        self._auth()
        return self._deployments.get(root) or Deployment(root)

    def set_deployment(self, deployment: Deployment, *, reload: bool = True) -> None:
        """Put (or replace) everything of ``deployment.root``; passwords already made stay."""
        self._auth()
        previous = self._deployments.get(deployment.root)
        self._deployments[deployment.root] = deployment
        self._apply(reload, undo=lambda: self._restore(deployment.root, previous))

    def _restore(self, root: str, previous: Deployment | None) -> None:
        if previous is None:
            del self._deployments[root]
        else:
            self._deployments[root] = previous

    def _apply(self, reload: bool, undo: Callable[[], None]) -> None:
        """Write the files (and reload); on a refused change, undo it and raise."""
        try:
            self._write_auth()
        except CredentialError:
            undo()
            raise
        if reload:
            self.reload()

    def add_room(
        self, root: str, site: str, room: str, *, homeassistant: bool = False, reload: bool = True
    ) -> Credential:
        """Add (or change) one room's agent and return its credential."""
        d = self.deployment(root)
        spec = RoomSpec(site, room, homeassistant=homeassistant)
        rooms = (*(r for r in d.rooms if (r.site, r.room) != (site, room)), spec)
        self.set_deployment(dataclasses.replace(d, rooms=rooms), reload=reload)
        return self.credential(agent_username(root, site, room))

    def add_hub(self, root: str, hub_id: str, *, reload: bool = True) -> Credential:
        """Add one hub and return its credential."""
        d = self.deployment(root)
        if hub_id not in d.hubs:
            self.set_deployment(dataclasses.replace(d, hubs=(*d.hubs, hub_id)), reload=reload)
        return self.credential(hub_username(root, hub_id))

    def add_user(
        self, username: str, grants: Iterable[Grant], *, reload: bool = True
    ) -> Credential:
        """Add (or change) a user with explicit ACL lines and return its credential."""
        self._auth()
        previous = self._users.get(username)
        self._users[username] = ExtraUser(username, tuple(grants))

        def undo() -> None:
            if previous is None:
                del self._users[username]
            else:
                self._users[username] = previous

        self._apply(reload, undo)
        return self.credential(username)

    def agent(self, root: str, site: str, room: str) -> Credential:
        """The credential of a room's agent, the room added if the broker does not know it."""
        username = agent_username(root, site, room)
        known = any((r.site, r.room) == (site, room) for r in self.deployment(root).rooms)
        return self.credential(username) if known else self.add_room(root, site, room)

    def hub(self, root: str, hub_id: str) -> Credential:
        """The credential of a hub, added if the broker does not know it."""
        return self.add_hub(root, hub_id)

    def operator(self, root: str) -> Credential:
        """A user that may read and write everything under ``root`` (for tests and tools)."""
        username = f"operator-{root}"
        if username in self._users:
            return self.credential(username)
        return self.add_user(username, [Grant.readwrite(f"{root}/#")])

    def client(self, root: str, name: str) -> Credential:
        """A client of its own (its own username, so its own client id and session) that may
        read and write everything under ``root``: for tests and tools."""
        username = f"{name}-{root}"
        if username in self._users:
            return self.credential(username)
        return self.add_user(username, [Grant.readwrite(f"{root}/#")])

    def credential(self, username: str) -> Credential:
        """The current credential of ``username``."""
        return self._auth().credential(username)

    def rotate(self, username: str, *, reload: bool = True) -> Credential:
        """Give ``username`` a new password, reload, and return it; the old one stops working.

        At the reload Mosquitto 2.0 checks connected clients again: a connection
        made with the old password is closed, the others stay.
        """
        self._write_auth(rotate=[username])
        if reload:
            self.reload()
        return self.credential(username)

    def reload(self, timeout: float = 10.0) -> None:
        """Write the auth files and make the running broker load them (SIGHUP).

        Returns once the broker has: it accepts the probe user's new password.
        """
        self._probe = ""  # a new probe password, so the broker's acceptance means it reloaded
        self._write_auth()
        if not self.running or self._proc is None:
            return
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while not self._accepts_probe():
            if not self.running:
                msg = f"mosquitto on {self.host}:{self.port} exited at the reload"
                raise BrokerError(msg)
            if time.monotonic() > deadline:
                msg = f"mosquitto on {self.host}:{self.port} did not reload within {timeout} s"
                raise BrokerError(msg)
            time.sleep(0.005)  # polling the broker: it tells nobody when it has reloaded
        logger.info("mosquitto on %s:%s reloaded its users and ACLs", self.host, self.port)

    def _accepts_probe(self) -> bool:
        try:
            return mqtt_login(self.host, self.port, RELOAD_PROBE_USER, self._probe)
        except OSError:
            return False

    def _write_auth(self, rotate: Iterable[str] = ()) -> None:
        identities = identities_of(self._deployments.values())
        identities += [Identity(u.username, "user", u.grants) for u in self._users.values()]
        if not self._probe:
            self._probe = new_password()
            self._probe_hash = hash_password(self._probe)
        probe = {RELOAD_PROBE_USER: self._probe_hash}
        self._auth().write(identities, rotate=set(rotate), extra_hashes=probe)

    def kill(self) -> None:
        """Crash the broker (SIGKILL): what it had not saved to disk is gone."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
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
    "AUTH_BROKER_CONFIG",
    "BROKER_CONFIG",
    "RELOAD_PROBE_USER",
    "BrokerError",
    "Mosquitto",
    "find_mosquitto",
    "free_port",
    "mqtt_login",
    "wait_listening",
]
