"""Broker identities of a deployment: random credentials, Mosquitto password and ACL files."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import tempfile
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from protocol.topics import validate_id
from smartclass.acl import Bindings, Grant, Party, grants, render_acl

PBKDF2_ITERATIONS = 101
"""What ``mosquitto_passwd`` 2.0 uses (``PW_DEFAULT_ITERATIONS``) for ``$7$`` hashes."""
SALT_BYTES = 12
"""Salt length of ``mosquitto_passwd`` 2.0 (``SALT_LEN``)."""
PASSWORD_BYTES = 32
"""Random bytes per password: 256 bits, 43 URL-safe characters."""
MAX_PACKET_BYTES = 256 * 1024
"""The broker disconnects a client that sends a larger MQTT packet."""
DISCOVERY_PREFIX = "homeassistant"

Kind = Literal["edge", "hub", "homeassistant", "user"]
ENV_KEYS: dict[Kind, tuple[str, str]] = {
    "edge": ("SMARTCLASS_EDGE_MQTT_USERNAME", "SMARTCLASS_EDGE_MQTT_PASSWORD"),
    "hub": ("SMARTCLASS_HUB_MQTT_USERNAME", "SMARTCLASS_HUB_MQTT_PASSWORD"),
    "homeassistant": ("MQTT_USERNAME", "MQTT_PASSWORD"),
    "user": ("MQTT_USERNAME", "MQTT_PASSWORD"),
}
"""Names of the username and password in each kind of identity's env file."""


class CredentialError(ValueError):
    """A deployment that cannot be turned into broker identities, or unreadable files."""


class Credential(NamedTuple):
    """A broker username and its password; unpacks as ``(username, password)``."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, password=<hidden>)"


def agent_username(root: str, site: str, room: str) -> str:
    """The broker user (and client id) of a room's edge agent."""
    return f"edge-{root}-{site}-{room}"


def hub_username(root: str, hub_id: str) -> str:
    """The broker user (and client id) of one hub."""
    return f"hub-{root}-{hub_id}"


def homeassistant_username(root: str) -> str:
    """The broker user of Home Assistant for one topic root."""
    return f"homeassistant-{root}"


def ha_node_id(root: str, site: str, room: str) -> str:
    """Home Assistant discovery node id of a room, as ``edge.homeassistant`` builds it."""
    return f"{root}_{site}_{room}"


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """A room of the deployment; ``homeassistant`` when its agent publishes discovery."""

    site: str
    room: str
    homeassistant: bool = False

    def __post_init__(self) -> None:
        try:
            validate_id(self.site, "site id")
            validate_id(self.room, "room id")
        except ValueError as exc:
            raise CredentialError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class ExtraUser:
    """A user for tests or operators, with explicit ACL lines."""

    username: str
    grants: tuple[Grant, ...]

    def __post_init__(self) -> None:
        if not self.username or any(c in self.username for c in ": \t\n/#+"):
            msg = f"invalid broker username {self.username!r}"
            raise CredentialError(msg)


@dataclass(frozen=True, slots=True)
class Identity:
    """One broker user: its kind, its ACL lines and the non-secret settings that go with it."""

    username: str
    kind: Kind
    grants: tuple[Grant, ...]
    settings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Deployment:
    """What one topic root needs on the broker: its rooms, hubs and other users."""

    root: str
    rooms: tuple[RoomSpec, ...] = ()
    hubs: tuple[str, ...] = ()
    homeassistant_user: bool = False
    discovery_prefix: str = DISCOVERY_PREFIX
    extra_users: tuple[ExtraUser, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            validate_id(self.root, "topic root")
            for hub_id in self.hubs:
                validate_id(hub_id, "hub id")
        except ValueError as exc:
            raise CredentialError(str(exc)) from exc

    def identities(self) -> list[Identity]:
        """Every broker user of this deployment, agents first."""
        root, prefix = self.root, self.discovery_prefix
        out = []
        for r in self.rooms:
            bound = {"root": root, "site": r.site, "room": r.room}
            parties: dict[Party, Mapping[str, str]] = {Party.AGENT: bound}
            if r.homeassistant:
                node = ha_node_id(root, r.site, r.room)
                parties[Party.HA_AGENT] = {**bound, "prefix": prefix, "node_id": node}
            out.append(Identity(agent_username(root, r.site, r.room), "edge", grants(parties)))
        for hub_id in self.hubs:
            hub: Bindings = {
                Party.HUB: {"root": root},
                Party.THE_HUB: {"root": root, "hub_id": hub_id},
            }
            settings = (("SMARTCLASS_HUB_HUB_ID", hub_id), ("SMARTCLASS_HUB_TOPIC_ROOT", root))
            out.append(Identity(hub_username(root, hub_id), "hub", grants(hub), settings))
        if self.homeassistant_user:
            ha: Bindings = {Party.HOMEASSISTANT: {"root": root, "prefix": prefix}}
            out.append(Identity(homeassistant_username(root), "homeassistant", grants(ha)))
        out += [Identity(u.username, "user", u.grants) for u in self.extra_users]
        return out


def identities_of(deployments: Iterable[Deployment]) -> list[Identity]:
    """The identities of several deployments; raise CredentialError if a username repeats."""
    out = [identity for d in deployments for identity in d.identities()]
    _unique_names(out)
    return out


def _unique_names(identities: Iterable[Identity]) -> set[str]:
    counts = Counter(i.username for i in identities)
    twice = sorted(u for u, n in counts.items() if n > 1)
    if twice:  # e.g. site a-b room c and site a room b-c
        msg = f"two identities share the broker username {', '.join(twice)}"
        raise CredentialError(msg)
    return set(counts)


# --- passwords ---------------------------------------------------------------------


def new_password() -> str:
    """A fresh random password (256 bits)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``password`` as Mosquitto 2.0 stores it: ``$7$101$<salt>$<hash>``, PBKDF2-SHA512.

    Both salt (12 random bytes) and hash (64 bytes) are standard base64, exactly
    as ``mosquitto_passwd`` writes them.
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"$7${PBKDF2_ITERATIONS}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, hashed: str) -> bool:
    """Whether ``hashed`` (a ``$7$`` line's hash part) is the hash of ``password``."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        raw = base64.b64decode(digest, validate=True)
        mine = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt, validate=True), int(iterations)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(raw, mine)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def render_password_file(hashes: Mapping[str, str]) -> str:
    """A Mosquitto password file, one ``user:hash`` line per user, sorted by username."""
    return "".join(f"{user}:{hashes[user]}\n" for user in sorted(hashes))


def parse_password_file(text: str) -> dict[str, str]:
    """Username to hash of a Mosquitto password file (blank and comment lines skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            user, _, hashed = line.partition(":")
            out[user] = hashed
    return out


def broker_config(
    password_file: Path, acl_file: Path, *, autosave_interval: int = 60, tcp_nodelay: bool = True
) -> str:
    """Mosquitto settings for a smartclass broker with these password and ACL files.

    No listener: the deployment adds its own (TLS on the network, or loopback).
    """
    return f"""\
# Written by 'smartclass broker credentials': authentication, per-room ACLs and the
# settings smartclass relies on. Add a listener of your own (TLS on the network).
per_listener_settings false
allow_anonymous false
password_file {password_file}
acl_file {acl_file}
# The client id is the username: nobody can take another identity's client id (and
# so kick that client off, or take over its persistent session).
use_username_as_clientid true
# The largest MQTT packet a client may send (payload, topic and headers).
max_packet_size {MAX_PACKET_BYTES}
# Nagle's algorithm against delayed acks adds ~90 ms to every request/reply.
set_tcp_nodelay {str(tcp_nodelay).lower()}
# Persistent sessions (hub, agents) keep their queues across a restart of the broker.
persistence true
autosave_interval {autosave_interval}
# A hub that is away must not lose telemetry: queue far more than the default 1000.
max_queued_messages 200000
max_inflight_messages 1000
persistent_client_expiration 7d
"""


# --- files -------------------------------------------------------------------------


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (its folder made 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def env_text(identity: Identity, password: str) -> str:
    """The env file of one identity: its username, its password and its settings."""
    user_key, password_key = ENV_KEYS[identity.kind]
    lines = [f"{user_key}={identity.username}", f"{password_key}={password}"]
    lines += [f"{k}={v}" for k, v in identity.settings]
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class WriteReport:
    """What one ``CredentialStore.write`` did, by username."""

    created: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    """In the password file before, not in the deployment now (env files are kept)."""


class CredentialStore:
    """A folder of broker files: ``broker/passwd``, ``broker/acl``, ``broker/mosquitto.conf``
    and one ``env/{username}.env`` per identity, which holds its password.

    Writing again keeps every existing password and its hash line; only new,
    rotated (and dropped) identities change lines.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.broker_dir = path / "broker"
        self.env_dir = path / "env"
        self.password_file = self.broker_dir / "passwd"
        self.acl_file = self.broker_dir / "acl"
        self.config_file = self.broker_dir / "mosquitto.conf"

    def env_file(self, username: str) -> Path:
        return self.env_dir / f"{username}.env"

    def password(self, username: str) -> str | None:
        """The stored password of ``username``, or None."""
        try:
            text = self.env_file(username).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.endswith("MQTT_PASSWORD") and value:
                return value
        msg = f"{self.env_file(username)}: no MQTT password in it"
        raise CredentialError(msg)

    def credential(self, username: str) -> Credential:
        password = self.password(username)
        if password is None:
            msg = f"no credential for {username!r} in {self.path}"
            raise CredentialError(msg)
        return Credential(username, password)

    def write(
        self,
        identities: Iterable[Identity],
        *,
        rotate: Collection[str] = (),
        extra_hashes: Mapping[str, str] | None = None,
        broker_dir: Path | None = None,
        autosave_interval: int = 60,
    ) -> WriteReport:
        """Write every file for ``identities``; new passwords for new users and ``rotate``.

        ``extra_hashes`` go into the password file only (no env file, no ACL: no
        access). ``broker_dir`` is where the broker will find passwd and acl
        (default: here).
        """
        identities = list(identities)
        names = _unique_names(identities)
        unknown = sorted(set(rotate) - names)
        if unknown:
            msg = f"cannot rotate {', '.join(unknown)}: not in the deployment"
            raise CredentialError(msg)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        old = self._old_hashes()
        report = WriteReport(dropped=sorted(set(old) - names - set(extra_hashes or {})))
        hashes: dict[str, str] = {}
        for identity in identities:
            user = identity.username
            password = self.password(user)
            if password is None or user in rotate:
                (report.rotated if password else report.created).append(user)
                password = new_password()
            else:
                report.kept.append(user)
                if user in old and check_password(password, old[user]):
                    hashes[user] = old[user]  # the same line again: diffs show only changes
            hashes.setdefault(user, hash_password(password))
            env = env_text(identity, password)
            if not self._same(self.env_file(user), env):
                write_secret(self.env_file(user), env)
        hashes.update(extra_hashes or {})
        where = broker_dir or self.broker_dir
        files = {
            self.password_file: render_password_file(hashes),
            self.acl_file: render_acl({i.username: i.grants for i in identities}),
            self.config_file: broker_config(
                where / "passwd", where / "acl", autosave_interval=autosave_interval
            ),
        }
        for path, text in files.items():
            if not self._same(path, text):
                write_secret(path, text)
        return report

    def _old_hashes(self) -> dict[str, str]:
        try:
            return parse_password_file(self.password_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    @staticmethod
    def _same(path: Path, text: str) -> bool:
        try:
            return path.read_text(encoding="utf-8") == text
        except FileNotFoundError:
            return False


__all__ = [
    "DISCOVERY_PREFIX",
    "ENV_KEYS",
    "MAX_PACKET_BYTES",
    "PASSWORD_BYTES",
    "PBKDF2_ITERATIONS",
    "SALT_BYTES",
    "Credential",
    "CredentialError",
    "CredentialStore",
    "Deployment",
    "ExtraUser",
    "Identity",
    "Kind",
    "RoomSpec",
    "WriteReport",
    "agent_username",
    "broker_config",
    "check_password",
    "env_text",
    "ha_node_id",
    "hash_password",
    "hub_username",
    "homeassistant_username",
    "identities_of",
    "new_password",
    "parse_password_file",
    "render_password_file",
    "write_secret",
]
