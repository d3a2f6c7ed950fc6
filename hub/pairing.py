"""Pairing codes for the teacher's tablet: made by the hub, checked by the room's agent.

IT asks the hub for a code; the hub sends the room's ``panel`` device only the SHA-256 of it
(``pair``), and shows the code once. The tablet types it on the agent's own ``/pair`` page,
and the agent, which alone keeps the hash (single use, with its expiry), makes the tablet's
token. The hub never stores the code, so nothing on the hub can pair a tablet later.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

__all__ = ["ALPHABET", "CODE_LENGTH", "PAIRING_TTL_S", "code_sha256", "new_code"]

ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a code read across a room and typed on a tablet is never ambiguous."""
CODE_LENGTH: Final = 8
"""31^8 ≈ 8.5e11 codes; the agent allows 10 wrong tries per 10 minutes."""
PAIRING_TTL_S: Final = 600
"""How long a code stays valid on the agent (by its clock)."""


def new_code() -> str:
    """A fresh one-time code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_sha256(code: str) -> str:
    """What the agent is given and compares with, in hex."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()
