"""Builders of hub test data: contract messages turned into parsed ingest items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.parsing import Parsed, Rejected, classify
from protocol import (
    ConfigApplied,
    DeviceState,
    Event,
    Message,
    RoomTopics,
    Status,
    Telemetry,
    encode,
)

ROOT = "sc"
SITE = "thcs-nguyen-chi-thanh"
ROOM = "6a1"
AGENT = f"{SITE}/{ROOM}"
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def item(topic: str, message: Message | bytes) -> Parsed | Rejected:
    payload = message if isinstance(message, bytes) else encode(message)
    return classify(topic, payload, ROOT)


def parsed(topic: str, message: Message) -> Parsed:
    result = item(topic, message)
    assert isinstance(result, Parsed), result
    return result


def telemetry(
    seq: int,
    *,
    boot: str = "b1",
    ts: float = 0,
    site: str = SITE,
    room: str = ROOM,
    **readings: float,
) -> Parsed:
    topics = RoomTopics(site, room, ROOT)
    msg = Telemetry(
        sender=f"edge/{site}/{room}", boot=boot, seq=seq, ts=at(ts), device="env",
        readings=readings or {"co2_ppm": 400.0 + seq, "temperature_c": 25.0},
    )  # fmt: skip
    return parsed(topics.telemetry, msg)


def event(seq: int, *, boot: str = "b1", ts: float = 0, kind: str = "help") -> Parsed:
    msg = Event(sender=f"edge/{AGENT}", boot=boot, seq=seq, ts=at(ts), kind=kind, text="hi")
    return parsed(RoomTopics(SITE, ROOM, ROOT).event, msg)


def status(state: str, *, boot: str = "b1", ts: float = 0, **extra: Any) -> Parsed:
    msg = Status(sender=f"edge/{AGENT}", state=state, boot=boot, ts=at(ts), keepalive=5, **extra)
    return parsed(RoomTopics(SITE, ROOM, ROOT).status, msg)


def state(device: str, *, ts: float = 0, **values: Any) -> Parsed:
    msg = DeviceState(
        sender=f"edge/{AGENT}", boot="b1", device=device, family="lights", state=values, ts=at(ts)
    )
    return parsed(RoomTopics(SITE, ROOM, ROOT).state(device), msg)


def applied(version: int, *, ts: float = 0) -> Parsed:
    msg = ConfigApplied(sender=f"edge/{AGENT}", boot="b1", version=version, ts=at(ts))
    return parsed(RoomTopics(SITE, ROOM, ROOT).config_applied, msg)
