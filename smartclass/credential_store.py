"""The folder of a deployment's broker files: passwd, acl, broker config, one env file each."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smartclass.acl import render_acl
from smartclass.credentials import (
    Credential,
    CredentialError,
    Identity,
    Kind,
    check_password,
    hash_password,
    new_password,
    parse_password_file,
    render_password_file,
    unique_usernames,
)

MAX_PACKET_BYTES = 256 * 1024
"""The broker disconnects a client that sends a larger MQTT packet."""

ENV_KEYS: dict[Kind, tuple[str, str]] = {
    "edge": ("SMARTCLASS_EDGE_MQTT_USERNAME", "SMARTCLASS_EDGE_MQTT_PASSWORD"),
    "hub": ("SMARTCLASS_HUB_MQTT_USERNAME", "SMARTCLASS_HUB_MQTT_PASSWORD"),
    "homeassistant": ("MQTT_USERNAME", "MQTT_PASSWORD"),
    "user": ("MQTT_USERNAME", "MQTT_PASSWORD"),
}
"""Names of the username and password in each kind of identity's env file."""


LISTENER_SETTINGS = """\
# The client id is the username: nobody can take another identity's client id (and
# so kick that client off, or take over its persistent session).
use_username_as_clientid true
"""
"""What must follow each ``listener`` line. These are listener settings: Mosquitto applies
one written before the first ``listener`` to its default listener, which it then opens on
port 1883 of every address, in plain text, besides the listeners the file names."""


def broker_config(
    password_file: Path, acl_file: Path, *, autosave_interval: int = 60, tcp_nodelay: bool = True
) -> str:
    """Mosquitto's general settings for a smartclass broker with these password and ACL
    files.

    No listener: the deployment adds its own (TLS on the network, or loopback), each
    followed by ``LISTENER_SETTINGS``. Nothing here is a listener setting, so this text
    opens no listener by itself.
    """
    return f"""\
# Written by 'smartclass broker credentials': authentication, per-room ACLs and the
# settings smartclass relies on. Add listeners of your own (TLS on the network), each
# followed by: use_username_as_clientid true
per_listener_settings false
allow_anonymous false
password_file {password_file}
acl_file {acl_file}
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


def write_secret_if_changed(path: Path, text: str) -> bool:
    """``write_secret`` unless ``path`` holds ``text`` already (its mtime then stays, so a
    second run shows no change); whether it wrote."""
    with contextlib.suppress(FileNotFoundError):  # no file yet: written below
        if path.read_text(encoding="utf-8") == text:
            return False
    write_secret(path, text)
    return True


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
        names = unique_usernames(identities)
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
            write_secret_if_changed(self.env_file(user), env)
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
            write_secret_if_changed(path, text)
        return report

    def _old_hashes(self) -> dict[str, str]:
        try:
            return parse_password_file(self.password_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}


__all__ = [
    "LISTENER_SETTINGS",
    "ENV_KEYS",
    "MAX_PACKET_BYTES",
    "CredentialStore",
    "WriteReport",
    "broker_config",
    "env_text",
    "write_secret",
    "write_secret_if_changed",
]
