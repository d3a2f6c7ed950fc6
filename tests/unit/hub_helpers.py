"""Builders of hub test data: contract messages turned into parsed ingest items, and a store
whose registry knows the rooms the tests use."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.access import Role
from hub.db import create_schema, make_engine
from hub.parsing import Classifier, Ignored, Parsed, Rejected
from hub.roster import Roster
from hub.store import SiteSpec, Store
from hub.users import Users
from protocol import (
    ConfigApplied,
    DeviceState,
    Event,
    Health,
    Message,
    RoomTopics,
    Status,
    Telemetry,
    encode,
)
from protocol.messages import BootLosses

ROOT = "sc"
SITE = "thcs-nguyen-chi-thanh"
ROOM = "6a1"
AGENT = f"{SITE}/{ROOM}"
ROOMS = (ROOM, "6a2", "9a1")
"""The registered rooms of SITE."""
SITES = [SiteSpec(SITE, "THCS Nguyễn Chí Thanh", [(r, r) for r in ROOMS])]
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=30)
"""The hub's clock in these tests: messages at ``at(0)``..``at(60)`` are on time."""
CLASSIFY = Classifier(ROOT, Roster((SITE, r) for r in ROOMS), hub_id="hub-test")


_names = itertools.count(1)


def users_of(target: Any) -> Users:
    """The ``Users`` of a hub app, a test client of one, or a database URL."""
    if isinstance(target, Users):
        return target
    if isinstance(target, str):
        engine = make_engine(target)
        create_schema(engine)
        return Users(engine)
    app = getattr(target, "app", target)
    users: Users = app.state.hub.users
    return users


def bearer(
    target: Any,
    role: Role = Role.IT,
    *,
    sites: Iterable[str] | None = None,
    rooms: Iterable[tuple[str, str]] | None = None,
    username: str | None = None,
) -> dict[str, str]:
    """Headers with a real token of a new user of ``role``: by default IT staff or an
    admin of SITE, a teacher of SITE/ROOM, a district user (``target``: see ``users_of``)."""
    if sites is None:
        sites = (SITE,) if role in (Role.IT, Role.ADMIN) else ()
    if rooms is None:
        rooms = ((SITE, ROOM),) if role is Role.TEACHER else ()
    users = users_of(target)
    try:
        name = username or f"{role.value}-{next(_names)}-{secrets.token_hex(3)}"
        user = users.add(name, role, None, sites=sites, rooms=rooms)  # tokens only
        _, secret = users.create_token(user.id, "tests")
    finally:
        if isinstance(target, str):
            users.engine.dispose()
    return {"Authorization": f"Bearer {secret}"}


def make_store(url: str) -> Store:
    """A store on ``url`` with its schema and the test registry (SITE with ROOMS)."""
    engine = make_engine(url)
    create_schema(engine)
    store = Store(engine)
    store.upsert_sites(SITES)
    return store


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def item(topic: str, message: Message | bytes, *, now: datetime = NOW) -> Parsed | Rejected:
    payload = message if isinstance(message, bytes) else encode(message)
    result = CLASSIFY(topic, payload, now=now)
    assert not isinstance(result, Ignored)
    return result


def parsed(topic: str, message: Message, *, now: datetime = NOW) -> Parsed:
    result = item(topic, message, now=now)
    assert isinstance(result, Parsed), result
    return result


def telemetry(
    seq: int,
    *,
    boot: str = "b1",
    boot_no: int = 0,
    ts: float = 0,
    site: str = SITE,
    room: str = ROOM,
    device: str = "env",
    **readings: float,
) -> Parsed:
    topics = RoomTopics(site, room, ROOT)
    msg = Telemetry(
        sender=f"edge/{site}/{room}", boot=boot, boot_no=boot_no, seq=seq, ts=at(ts),
        device=device, readings=readings or {"co2_ppm": 400.0 + seq, "temperature_c": 25.0},
    )  # fmt: skip
    return parsed(topics.telemetry, msg)


def event(
    seq: int, *, boot: str = "b1", boot_no: int = 0, ts: float = 0, kind: str = "help",
    text: str = "hi",
) -> Parsed:  # fmt: skip
    msg = Event(
        sender=f"edge/{AGENT}", boot=boot, boot_no=boot_no, seq=seq, ts=at(ts), kind=kind,
        text=text,
    )  # fmt: skip
    return parsed(RoomTopics(SITE, ROOM, ROOT).event, msg)


def status(state: str, *, boot: str = "b1", ts: float = 0, **extra: Any) -> Parsed:
    msg = Status(sender=f"edge/{AGENT}", state=state, boot=boot, ts=at(ts), keepalive=5, **extra)
    return parsed(RoomTopics(SITE, ROOM, ROOT).status, msg)


def state(
    device: str, *, ts: float = 0, boot: str = "b1", family: str = "lights", boot_no: int = 0,
    n: int = 0, **values: Any,
) -> Parsed:  # fmt: skip
    msg = DeviceState(
        sender=f"edge/{AGENT}", boot=boot, boot_no=boot_no, n=n, device=device, family=family,
        state=values, ts=at(ts),
    )  # fmt: skip
    return parsed(RoomTopics(SITE, ROOM, ROOT).state(device), msg)


def applied(version: int, *, ts: float = 0, boot_no: int = 0, n: int = 0) -> Parsed:
    msg = ConfigApplied(
        sender=f"edge/{AGENT}", boot="b1", boot_no=boot_no, n=n, version=version, ts=at(ts)
    )
    return parsed(RoomTopics(SITE, ROOM, ROOT).config_applied, msg)


def health(
    *, boot: str = "b1", boot_no: int = 1, n: int = 1, last_seq: int = 0,
    previous_boot: str | None = None, previous_last_seq: int = 0,
    losses: list[BootLosses] | None = None, clock_offset_s: float | None = None,
) -> Parsed:  # fmt: skip
    msg = Health(
        sender=f"edge/{AGENT}", boot=boot, boot_no=boot_no, n=n, ts=at(0), started_at=at(0),
        last_seq=last_seq, previous_boot=previous_boot, previous_last_seq=previous_last_seq,
        losses=losses or [], clock_offset_s=clock_offset_s,
    )  # fmt: skip
    return parsed(RoomTopics(SITE, ROOM, ROOT).health, msg)
