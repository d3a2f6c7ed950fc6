"""A deployment's secrets made from its inventory: CA, broker certificates, credentials, keys."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from smartclass.certificates import (
    Authority,
    cert_pem,
    issue_server,
    key_pem,
    load_certificate,
    load_key,
    new_authority,
    reissue_reason,
)
from smartclass.certificates import new_key as new_tls_key
from smartclass.credential_store import CredentialStore, write_secret, write_secret_if_changed
from smartclass.credentials import (
    CredentialError,
    Deployment,
    Identity,
    RoomSpec,
    agent_username,
)
from smartclass.inventory import Inventory, School

ATTENDANCE_KEY_ENV = "SMARTCLASS_ATTENDANCE_KEY"
"""The variable a room's attendance reads its template key from (``key_env``'s default)."""
BROKER_DIR = Path("/etc/mosquitto/smartclass")
"""Where ``passwd`` and ``acl`` are on a school's broker (its ``mosquitto.conf`` says so)."""


class DeployError(ValueError):
    """Secrets that cannot be made: a file that cannot be read, an unknown user to rotate."""


class SchoolStore(CredentialStore):
    """A school's broker files in ``SITE/broker/`` and each identity's env file where its
    machine expects it (``SITE/edge/ROOM.env``, ``SITE/hub/hub.env``)."""

    def __init__(self, path: Path, env_files: Mapping[str, Path]) -> None:
        super().__init__(path)
        self._env_files = dict(env_files)

    def env_file(self, username: str) -> Path:
        return self._env_files.get(username) or super().env_file(username)


@dataclass(slots=True)
class DeployReport:
    """What one run made, kept and rotated, and which files it changed."""

    made: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    """Every file written (new or different), relative to the output folder."""


class SecretsFolder:
    """The output folder of ``smartclass deploy secrets`` (layout in ``deploy_cli.EPILOG``)."""

    def __init__(self, path: Path, *, broker_dir: Path = BROKER_DIR) -> None:
        self.path = path
        self.broker_dir = broker_dir
        self.ca_cert = path / "ca" / "ca.crt"
        self.ca_key = path / "ca" / "ca.key"

    def site(self, site: str) -> Path:
        return self.path / site

    def edge_env(self, site: str, room: str) -> Path:
        return self.path / site / "edge" / f"{room}.env"

    def hub_env(self, site: str) -> Path:
        return self.path / site / "hub" / "hub.env"

    def write(
        self,
        inventory: Inventory,
        *,
        rotate: Collection[str] = (),
        say: Callable[[str], None] | None = None,
    ) -> DeployReport:
        """Make what is missing, keep what exists, rotate ``rotate``; write only what changes.

        ``say`` is told each school's part as it is done (what was made, rotated, kept).
        """
        root = inventory.topic_root
        deployments = {s.site: _deployment(root, s) for s in inventory.schools}
        known = {i.username for d in deployments.values() for i in d.identities()}
        unknown = sorted(set(rotate) - known)
        if unknown:
            msg = f"cannot rotate {', '.join(unknown)}: no such agent or hub in {inventory.path}"
            raise DeployError(msg)
        before = _snapshot(self.path)
        report = DeployReport()
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        ca = self._authority(report)
        if say is not None:
            say(f"CA: {'made' if report.made else 'kept'} {self.ca_cert}")
        for school in inventory.schools:
            start = (len(report.made), len(report.rotated), len(report.kept))
            for folder in ("", "broker", "hub", "edge", "keys"):
                (self.site(school.site) / folder).mkdir(mode=0o700, exist_ok=True)
            self._school(school, deployments[school.site], ca, set(rotate), report)
            if say is not None:
                say(_progress(school.site, report, *start))
        after = _snapshot(self.path)
        report.changed = sorted(p for p in after if before.get(p) != after[p])
        return report

    def _authority(self, report: DeployReport) -> Authority:
        have_cert, have_key = self.ca_cert.exists(), self.ca_key.exists()
        if have_cert != have_key:
            there, missing = (
                (self.ca_cert, self.ca_key) if have_cert else (self.ca_key, self.ca_cert)
            )
            msg = f"{there} is there but {missing} is not: restore it (a new CA means new "
            msg += "certificates on every broker and every machine trusting the new CA)"
            raise DeployError(msg)
        (self.path / "ca").mkdir(mode=0o700, exist_ok=True)
        if not have_cert:
            ca = new_authority(f"smartclass CA {self.path.resolve().name}")
            write_secret(self.ca_key, key_pem(ca.key))
            write_secret(self.ca_cert, cert_pem(ca.certificate))
            report.made.append("the CA")
            return ca
        ca = Authority(
            load_certificate(_read(self.ca_cert), str(self.ca_cert)),
            load_key(_read(self.ca_key), str(self.ca_key)),
        )
        if ca.certificate.public_key() != ca.key.public_key():
            msg = f"{self.ca_key} is not the key of {self.ca_cert}"
            raise DeployError(msg)
        report.kept.append("CA")
        return ca

    def _school(
        self, school: School, deployment: Deployment, ca: Authority, rotate: set[str],
        report: DeployReport,
    ) -> None:  # fmt: skip
        site = self.site(school.site)
        attendance_key = self._attendance_key(site / "keys" / "attendance.key", report)
        self._card_keys(site / "keys", report)
        self._broker_tls(school, site / "broker", ca, report)
        rooms = {agent_username(deployment.root, school.site, r.room): r.room for r in school.rooms}
        identities: list[Identity] = []
        env_files: dict[str, Path] = {}
        for identity in deployment.identities():
            if identity.kind == "edge":
                env_files[identity.username] = self.edge_env(school.site, rooms[identity.username])
                settings = ((ATTENDANCE_KEY_ENV, attendance_key),)
                identity = dataclasses.replace(identity, settings=identity.settings + settings)
            else:
                env_files[identity.username] = self.hub_env(school.site)
            identities.append(identity)
        store = SchoolStore(site, env_files)
        done = store.write(identities, rotate=rotate & set(env_files), broker_dir=self.broker_dir)
        report.made += [f"a credential for {u}" for u in done.created]
        report.rotated += done.rotated
        report.dropped += done.dropped
        report.kept += done.kept
        write_secret_if_changed(site / "hub" / "sites.yaml", sites_yaml(school))

    def _attendance_key(self, path: Path, report: DeployReport) -> str:
        from edge.attendance.vault import KeyMissing, load_key, new_key

        if not path.exists():
            key = new_key()
            write_secret(path, key + "\n")
            report.made.append("the attendance key")
            return key
        try:
            load_key(env=None, file=path, data_dir=path.parent / "attendance")
        except KeyMissing as exc:
            raise DeployError(str(exc)) from exc
        report.kept.append("the attendance key")
        return _read(path).strip()

    def _card_keys(self, folder: Path, report: DeployReport) -> None:
        from edge.attendance import cards

        private, public = folder / "cards.key", folder / "cards.pub.pem"
        if not private.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            cards.new_key_pair(private, public)  # in a 0700 folder; then 0600 like the rest
            private.chmod(0o600)
            public.chmod(0o600)
            report.made.append("the QR-card key pair")
            return
        try:
            key = cards.load_private_key(private)
        except (OSError, ValueError) as exc:
            msg = f"{private}: not the school's Ed25519 card key: {exc}"
            raise DeployError(msg) from exc
        from cryptography.hazmat.primitives import serialization

        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_secret_if_changed(public, pem.decode())
        report.kept.append("the QR-card key pair")

    def _broker_tls(
        self, school: School, folder: Path, ca: Authority, report: DeployReport
    ) -> None:
        write_secret_if_changed(folder / "ca.crt", cert_pem(ca.certificate))
        key_path, cert_path = folder / "server.key", folder / "server.crt"
        if key_path.exists():
            key = load_key(_read(key_path), str(key_path))
        else:
            key = new_tls_key()
            write_secret(key_path, key_pem(key))
        names = school.broker_names
        reason = "new" if not cert_path.exists() else None
        if reason is None:
            current = load_certificate(_read(cert_path), str(cert_path))
            reason = reissue_reason(current, ca, key, names)
        if reason is None:
            report.kept.append("the broker certificate")
            return
        write_secret(cert_path, cert_pem(issue_server(ca, key, names)))
        what = "" if reason == "new" else f" again ({reason})"
        report.made.append(f"the broker certificate{what} for {', '.join(names)}")


def _progress(site: str, report: DeployReport, made: int, rotated: int, kept: int) -> str:
    lines = [f"{site}:"]
    lines += [f"  made {item}" for item in report.made[made:]]
    lines += [f"  rotated {user}" for user in report.rotated[rotated:]]
    if len(report.kept) > kept:
        lines.append(f"  kept {len(report.kept) - kept} (keys, certificate, credentials)")
    return "\n".join(lines)


def _deployment(root: str, school: School) -> Deployment:
    rooms = tuple(RoomSpec(school.site, r.room) for r in school.rooms)
    try:
        return Deployment(root, rooms=rooms, hubs=(school.hub_id,))
    except CredentialError as exc:
        msg = f"site {school.site}: {exc}"
        raise DeployError(msg) from exc


def sites_yaml(school: School) -> str:
    """The hub's sites file (``hub.registry.load_sites``) for one school's rooms."""
    site = {"id": school.site, "name": school.name, "rooms": [r.room for r in school.rooms]}
    data = {"sites": [site]}
    header = "# Written by 'smartclass deploy secrets' from the inventory: regenerate it.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}"
        raise DeployError(msg) from exc


def _snapshot(folder: Path) -> dict[Path, tuple[int, int, int]]:
    """(inode, size, mtime) of every file under ``folder``, by relative path."""
    out: dict[Path, tuple[int, int, int]] = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            st = path.stat()
            out[path.relative_to(folder)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


__all__ = [
    "ATTENDANCE_KEY_ENV",
    "BROKER_DIR",
    "DeployError",
    "DeployReport",
    "SchoolStore",
    "SecretsFolder",
    "sites_yaml",
]
