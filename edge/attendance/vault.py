"""The encrypted template store: students' face templates (never photos) and their consent
records, sealed with AES-GCM under a key that does not live next to the data."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faces.models import Embedding
from protocol.attendance import ConsentChange, ConsentParams, Enrolled
from protocol.messages import utcnow

MAGIC = b"SCV1"
KEY_BYTES = 32
TEMPLATES_MAX = 20
"""Most templates kept per student."""


class VaultError(Exception):
    """The vault cannot be opened or written."""


class KeyMissing(VaultError, LookupError):  # noqa: N818
    """No key where the config says, or one of the wrong size."""


class VaultLocked(VaultError, PermissionError):  # noqa: N818
    """The vault's file does not open with this key (another key, or tampered with)."""


class ConsentRefused(VaultError, PermissionError):  # noqa: N818
    """Enrolment without the consent it needs, or a consent record that is incomplete."""


def load_key(*, env: str | None, file: Path | None, data_dir: Path) -> bytes:
    """The templates' key: from the file (which must not be in the data folder) or the
    environment variable, 32 bytes in base64."""
    if file is not None:
        resolved, data = file.resolve(), data_dir.resolve()
        if resolved == data or data in resolved.parents:
            msg = f"attendance.key_file {file} is inside the data folder {data_dir}: keep it apart"
            raise KeyMissing(msg)
        try:
            text = file.read_text().strip()
        except OSError as exc:
            msg = f"attendance.key_file {file} cannot be read: {exc.strerror or exc}"
            raise KeyMissing(msg) from exc
        where = f"attendance.key_file {file}"
    elif env is not None:
        text = os.environ.get(env, "").strip()
        if not text:
            msg = f"attendance.key_env: the variable {env} is not set"
            raise KeyMissing(msg)
        where = f"the variable {env}"
    else:
        msg = "attendance: neither key_file nor key_env is set"
        raise KeyMissing(msg)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        msg = f"{where} must hold {KEY_BYTES} bytes in base64 (smartclass attendance key)"
        raise KeyMissing(msg)
    return key


def new_key() -> str:
    """A new random key, as base64."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent: bool
    student_own: bool | None
    age_7_or_over: bool
    by: str
    at: dt.datetime


class Student(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: Consent | None = None
    templates: list[list[float]] = Field(default_factory=list)
    expires: dt.date | None = None


class Contents(BaseModel):
    model_config = ConfigDict(extra="forbid")

    students: dict[str, Student] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list)
    """ConsentChange and Enrolled records not yet reported to the hub (kind, data)."""


class Vault:
    """One room's templates and consent, in one sealed file; every change is written at once.

    Safe to use from several threads; a CLI and the agent may share the file (each change
    re-reads it first)."""

    def __init__(self, path: Path, key: bytes, *, label: str = "", retention_end: str = "05-31"):
        self.path = path
        self._aead = AESGCM(key)
        self._aad = b"smartclass-templates:" + label.encode()
        self._lock = threading.RLock()
        self.retention_end = retention_end

    # --- the sealed file ----------------------------------------------------------------

    def _read(self) -> Contents:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return Contents()
        except OSError as exc:
            raise VaultError(f"{self.path} cannot be read: {exc.strerror or exc}") from exc
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
            raise VaultLocked(f"{self.path} is not a template vault")
        nonce, sealed = blob[len(MAGIC) : len(MAGIC) + 12], blob[len(MAGIC) + 12 :]
        try:
            plain = self._aead.decrypt(nonce, sealed, self._aad)
        except InvalidTag as exc:
            raise VaultLocked(f"{self.path} does not open with this key") from exc
        try:
            return Contents.model_validate_json(plain)
        except ValidationError as exc:
            raise VaultError(f"{self.path} holds an unreadable vault: {exc}") from exc

    def _write(self, contents: Contents) -> None:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, contents.model_dump_json().encode(), self._aad)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + nonce + sealed)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    # --- consent ------------------------------------------------------------------------

    def record_consent(self, params: ConsentParams) -> ConsentChange:
        """Record a consent; refuse one without the parent's, or the student's own from 7."""
        if not params.parent:
            raise ConsentRefused(f"{params.student}: the parent's consent is required")
        if params.age_7_or_over and params.student_own is not True:
            raise ConsentRefused(
                f"{params.student}: from age 7 the student's own consent is required"
            )
        at = params.at or utcnow()
        with self._lock:
            contents = self._read()
            student = contents.students.setdefault(params.student, Student())
            student.consent = Consent(
                parent=True, student_own=params.student_own if params.age_7_or_over else None,
                age_7_or_over=params.age_7_or_over, by=params.by, at=at,
            )  # fmt: skip
            change = ConsentChange(
                student=params.student, state="recorded", parent=True,
                student_own=student.consent.student_own, by=params.by, at=at,
            )  # fmt: skip
            contents.history.append({"kind": "consent", "data": change.model_dump(mode="json")})
            self._write(contents)
        return change

    def withdraw(self, student_id: str, by: str) -> ConsentChange:
        """Consent withdrawn: the student's templates are deleted now, the record kept."""
        with self._lock:
            contents = self._read()
            student = contents.students.pop(student_id, None) or Student()
            deleted = len(student.templates)
            change = ConsentChange(
                student=student_id, state="withdrawn", parent=False, student_own=None,
                by=by, at=utcnow(), templates_deleted=deleted,
            )  # fmt: skip
            contents.history.append({"kind": "consent", "data": change.model_dump(mode="json")})
            self._write(contents)
        return change

    def consented(self, student_id: str) -> bool:
        with self._lock:
            student = self._read().students.get(student_id)
        return student is not None and student.consent is not None

    # --- templates ----------------------------------------------------------------------

    def _expiry(self, today: dt.date) -> dt.date:
        month, day = (int(x) for x in self.retention_end.split("-"))
        for year in (today.year, today.year + 1):
            try:
                end = dt.date(year, month, day)
            except ValueError:  # 02-29 in a common year
                end = dt.date(year, month, 28)
            if end > today:
                return end
        return today + dt.timedelta(days=365)

    def enrol(self, student_id: str, embeddings: list[Embedding], today: dt.date) -> Enrolled:
        """Store templates for a student whose consent is recorded; refuse otherwise."""
        if not embeddings:
            raise VaultError(f"{student_id}: no face found in the photos")
        with self._lock:
            contents = self._read()
            student = contents.students.get(student_id)
            if student is None or student.consent is None:
                raise ConsentRefused(f"{student_id}: no consent recorded; enrolment refused")
            student.templates = [
                [round(float(x), 6) for x in e] for e in embeddings
            ][-TEMPLATES_MAX:]  # fmt: skip
            student.expires = self._expiry(today)
            done = Enrolled(student=student_id, templates=len(student.templates),
                            expires=student.expires)  # fmt: skip
            contents.history.append({"kind": "enrolled", "data": done.model_dump(mode="json")})
            self._write(contents)
        return done

    def expire(self, today: dt.date) -> list[ConsentChange]:
        """Delete the templates past their retention; their consent records go with them."""
        changes: list[ConsentChange] = []
        with self._lock:
            contents = self._read()
            for student_id, student in list(contents.students.items()):
                if student.expires is not None and student.expires <= today:
                    changes.append(ConsentChange(
                        student=student_id, state="expired", parent=False, student_own=None,
                        by="retention", at=utcnow(), templates_deleted=len(student.templates),
                    ))  # fmt: skip
                    del contents.students[student_id]
            if changes:
                contents.history.extend(
                    {"kind": "consent", "data": c.model_dump(mode="json")} for c in changes
                )
                self._write(contents)
        return changes

    def templates(self, students: list[str] | None = None) -> dict[str, list[Embedding]]:
        """The templates of the given students (all if None) that have consent."""
        with self._lock:
            contents = self._read()
        wanted = set(students) if students is not None else None
        return {
            sid: [np.asarray(t, dtype=np.float32) for t in s.templates]
            for sid, s in contents.students.items()
            if s.templates and s.consent is not None and (wanted is None or sid in wanted)
        }

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per student: consent (who, when) and how many templates; no template itself."""
        with self._lock:
            contents = self._read()
        return {
            sid: {
                "consent": s.consent is not None,
                "by": s.consent.by if s.consent else None,
                "at": s.consent.at.isoformat() if s.consent else None,
                "templates": len(s.templates),
                "expires": s.expires.isoformat() if s.expires else None,
            }
            for sid, s in sorted(contents.students.items())
        }

    def take_history(self) -> list[dict[str, Any]]:
        """The changes not yet reported to the hub, now taken out of the vault."""
        with self._lock:
            contents = self._read()
            if not contents.history:
                return []
            taken, contents.history = contents.history, []
            self._write(contents)
        return taken


__all__ = [
    "ConsentRefused",
    "KeyMissing",
    "Vault",
    "VaultError",
    "VaultLocked",
    "load_key",
    "new_key",
]
