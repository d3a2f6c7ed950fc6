"""Enrols a student from photos with the room's face engine (``faces.engine``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edge.attendance.vault import ConsentRefused, Vault
from faces.engine import photo_embeddings
from faces.models import FaceEngine
from protocol.attendance import Enrolled


def enrol(
    engine: FaceEngine, vault: Vault, student: str, photos: list[Path], today: dt.date
) -> Enrolled:
    """Store templates from photos; the photos themselves are never stored. Refused (before
    any photo is read) without consent."""
    if not vault.consented(student):
        raise ConsentRefused(f"{student}: no consent recorded; enrolment refused")
    return vault.enrol(student, photo_embeddings(engine, photos), today)


__all__ = ["enrol"]
