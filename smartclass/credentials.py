"""Broker identities of a deployment: who they are, their ACL lines, their passwords and hashes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from protocol.topics import validate_id
from smartclass.acl import Bindings, Grant, Party, grants

PBKDF2_ITERATIONS = 101
"""What ``mosquitto_passwd`` 2.0 uses (``PW_DEFAULT_ITERATIONS``) for ``$7$`` hashes."""
SALT_BYTES = 12
"""Salt length of ``mosquitto_passwd`` 2.0 (``SALT_LEN``)."""
PASSWORD_BYTES = 32
"""Random bytes per password: 256 bits, 43 URL-safe characters."""
DISCOVERY_PREFIX = "homeassistant"
_PREFIX = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")  # as edge.config checks it

Kind = Literal["edge", "hub", "homeassistant", "user"]


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
        for grant in self.grants:
            if not grant.topic or any(c.isspace() or c == "\0" for c in grant.topic):
                msg = f"invalid topic {grant.topic!r} for {self.username!r}"
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
    extra_users: tuple[ExtraUser, ...] = ()

    def __post_init__(self) -> None:
        try:
            validate_id(self.root, "topic root")
            for hub_id in self.hubs:
                validate_id(hub_id, "hub id")
        except ValueError as exc:
            raise CredentialError(str(exc)) from exc
        if not _PREFIX.match(self.discovery_prefix):
            msg = f"invalid Home Assistant discovery prefix {self.discovery_prefix!r}"
            raise CredentialError(msg)

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
    unique_usernames(out)
    return out


def unique_usernames(identities: Iterable[Identity]) -> set[str]:
    """The usernames of ``identities``; raise CredentialError if one repeats."""
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


__all__ = [
    "DISCOVERY_PREFIX",
    "PASSWORD_BYTES",
    "PBKDF2_ITERATIONS",
    "SALT_BYTES",
    "Credential",
    "CredentialError",
    "Deployment",
    "ExtraUser",
    "Identity",
    "Kind",
    "RoomSpec",
    "agent_username",
    "check_password",
    "ha_node_id",
    "hash_password",
    "hub_username",
    "homeassistant_username",
    "identities_of",
    "unique_usernames",
    "new_password",
    "parse_password_file",
    "render_password_file",
]
