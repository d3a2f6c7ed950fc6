"""Two hours of a school's messages as the hub stores them, for the InfluxDB export's tests.

Every room sends what a real one sends: environment, noise and motion telemetry every
minute, its lights', projector's and motion sensor's states as they change, events of each
severity, its status (online, a lost link, online again) and its health.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.parsing import Parsed
from protocol import (
    BootLosses,
    DeviceState,
    Event,
    Health,
    Kind,
    Message,
    OutboxHealth,
    ParsedTopic,
    Status,
    Telemetry,
)

SCHOOL: dict[str, tuple[str, ...]] = {
    "thcs-nguyen-chi-thanh": ("6a1", "6a2"),
    "thcs-an-nhon-tay": ("7a1",),
}
"""Sites and their rooms."""
MINUTES = 120
BOOT = "b00t0000"

_KINDS = {
    Telemetry: Kind.TELEMETRY,
    DeviceState: Kind.STATE,
    Event: Kind.EVENT,
    Status: Kind.STATUS,
    Health: Kind.HEALTH,
}


def stored(
    site: str,
    room: str,
    message: Message,
    received_at: datetime | None = None,
    skew_s: float | None = None,
) -> Parsed:
    """``message`` as the ingest hands it to its observers (``skew_s``: its time was
    flagged as that far from the hub's clock)."""
    device = message.device if isinstance(message, DeviceState) else None
    topic = ParsedTopic(site, room, _KINDS[type(message)], device)
    return Parsed(topic, message, received_at or message.ts, skew_s)


def school_day(start: datetime) -> list[Parsed]:
    """MINUTES minutes of every room of SCHOOL from ``start``."""
    out: list[Parsed] = []
    for site, rooms in SCHOOL.items():
        for r, room in enumerate(rooms):
            out.extend(_room(site, room, r, start))
    return out


def _room(site: str, room: str, r: int, start: datetime) -> list[Parsed]:
    sender = f"edge/{site}/{room}"
    common = {"sender": sender, "boot": BOOT, "boot_no": 3}
    out: list[Parsed] = []
    seq = 0

    def at(minute: float) -> datetime:
        return start + timedelta(minutes=minute)

    def status(minute: float, state: str, conn: int) -> None:
        message = Status(
            **common, ts=at(minute), state=state, conn=conn, agent_version="0.1.0",  # type: ignore[arg-type]
            keepalive=30, devices=["env", "noise", "presence", "lights", "projector"],
        )  # fmt: skip
        out.append(stored(site, room, message))

    status(0, "online", 1)
    status(60, "offline", 1)
    status(70, "online", 2)
    for minute in range(MINUTES):
        people = 30 + r if 10 <= minute < 100 else 0
        readings = {
            "env": {
                "co2_ppm": 450.0 + 8 * people + minute,
                "temperature_c": 28.0 + 0.05 * people,
                "humidity_pct": 65.0 + 0.1 * people,
                "light_lux": 300.0 + minute,
            },
            "noise": {"noise_dba": 35.0 + people / 2},
            "presence": {"occupied": float(people > 0)},
        }
        for device, values in readings.items():
            seq += 1
            message = Telemetry(**common, ts=at(minute), seq=seq, device=device, readings=values)
            out.append(stored(site, room, message))
        if minute % 10 == 0:
            lit = 10 <= minute < 100
            states = {
                ("lights", "lighting"): {
                    "front": {"on": lit, "level": 70 if lit else 0},
                    "back": {"on": lit and minute % 20 == 0, "level": 100 if lit else 0},
                },
                ("projector", "projector"): {
                    "available": True,
                    "power": "on" if lit and minute % 20 == 0 else "off",
                    "lamp_hours": 1500 + minute // 10,
                    "errors": {"lamp": "ok", "fan": "ok"},
                },
                ("presence", "occupancy"): {"occupied": people > 0, "last_motion": None},
            }
            for (device, family), state in states.items():
                message = DeviceState(
                    **common, n=minute + 1, ts=at(minute), device=device, family=family,
                    state=state,
                )  # fmt: skip
                out.append(stored(site, room, message))
        if minute % 5 == 0:
            health = Health(
                **common,
                n=minute + 1,
                ts=at(minute),
                started_at=start - timedelta(hours=1),
                last_seq=seq,
                outbox=OutboxHealth(backlog=minute % 7, oldest_s=minute / 10, storage_ok=True),
                losses=[BootLosses(boot=BOOT, dropped=[(1, 2)], count=2)] if minute > 60 else [],
                clock_offset_s=0.25 * r,
            )
            out.append(stored(site, room, health))
        if minute % 15 == 0:
            for kind, severity, device in (
                ("help_request", "info", None),
                ("co2_high", "warning", "env"),
                ("device_unavailable", "critical", "projector"),
            ):
                seq += 1
                event = Event(
                    **common, ts=at(minute), seq=seq, kind=kind, severity=severity,  # type: ignore[arg-type]
                    device=device, text=f"{kind} in {room}",
                )  # fmt: skip
                out.append(stored(site, room, event))
    return out


__all__ = ["BOOT", "MINUTES", "SCHOOL", "school_day", "stored"]
