"""A small usage scenario whose report figures were worked out by hand.

Monday 3 March 2025, 07:00 to 10:00 in Hồ Chí Minh City (00:00 to 03:00 UTC), two rooms of
one school; every device is sampled every 10 minutes, each sample standing for the
10 minutes before it (``interval_s`` 600), so 18 samples a device.

Room 6a1 (registry: projector 300 W with a 4000 h lamp; lights 160 W, the front zone 120 W
of it, so the back zone 160 / 2 = 80 W):

- timetable: lesson for samples up to 08:30 local (01:30Z), break up to 09:00, closed after;
- presence: occupied up to 09:00 (02:00Z), empty after;
- projector on for the samples 07:30..08:30 (7 samples: 07:20-08:30 = 70 min; 40 min in the
  00Z hour, 30 in the 01Z hour), lamp 3990 h up to 08:00 and 3991 h after, filter 600 h;
- lights: front at 100 % all the time (3 h), back off until the samples 09:10..10:00 (1 h);
- env: CO2 800 ppm up to 08:00, 1200 up to 09:00, 1600 for 09:10..09:30, 900 after: above
  1000 for 90 min, above 1500 for 30 min; 30.0 °C up to 08:00, 31.0 °C after, so the lesson
  mean over its 9 samples is (6 * 30 + 3 * 31) / 9 = 30.33 °C.

Room 6a2 (defaults: projector 250 W): nobody there all morning; lesson up to 08:00 local
(01:00Z), break after; projector on for the samples 09:10..10:00 (60 min, in an empty room:
waste); noise 50, 52, 54, 56, 58, 60 dBA in the lesson samples (mean 55.0), 40 after.

By hand, for the school and the day:

- projector 70 + 60 min = 2.167 h; lighting 3 + 1 = 4 zone-hours; occupied 2 h;
- energy: projectors 300 * 70/60 + 250 * 1 = 600 Wh, lights 120 * 3 + 80 * 1 = 440 Wh:
  1.04 kWh;
- waste: in 6a1 the front zone for 09:00..10:00 (empty and closed: 120 Wh) and the back zone
  for the same hour (80 Wh); in 6a2 the projector's hour (empty, not closed: 250 Wh):
  projector 1 h, lighting 2 zone-hours, empty room 3 h, outside the timetable 2 h, 0.45 kWh;
- lamp of 6a1 at 3991 of 4000 h, used 70 min a day (the one day with data): due in
  9 / (7/6) = 7.7 days, so on 2025-03-10; its filter at 600 of 1000 h in 342.9 days:
  2026-02-08.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.parsing import Parsed
from hub.ratings import Ratings
from hub.registry import DeviceEntry
from protocol import RoomTopics, Telemetry
from protocol.usage import Schedule
from tests.unit.hub_helpers import ROOT, SITE, parsed

START = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
"""07:00 local on Monday 3 March 2025."""
NOW = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)
"""The hub's clock when the scenario is reported on (12:00 local)."""
STEP_S = 600
RATINGS = Ratings(
    devices={
        (SITE, "6a1", "projector"): DeviceEntry(watts=300, lamp_limit_h=4000),
        (SITE, "6a1", "lights"): DeviceEntry(watts=160, zone_watts={"front": 120}),
    }
)


def sample(
    room: str,
    seq: int,
    ts: datetime,
    device: str,
    readings: dict[str, float],
    *,
    interval_s: float | None = STEP_S,
    occupied: bool | None = None,
    schedule: Schedule | None = None,
    boot: str = "b1",
    now: datetime = NOW,
) -> Parsed:
    """One telemetry message of ``room`` as the hub reads it."""
    msg = Telemetry(
        sender=f"edge/{SITE}/{room}", boot=boot, boot_no=1, seq=seq, ts=ts, device=device,
        readings=readings, interval_s=interval_s, occupied=occupied, schedule=schedule,
    )  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).telemetry, msg, now=now)


def _room_6a1() -> list[Parsed]:
    out: list[Parsed] = []
    seq = 0
    for i in range(1, 19):
        ts = START + timedelta(seconds=i * STEP_S)
        minutes = i * 10  # since 07:00 local
        schedule: Schedule = "lesson" if minutes <= 90 else "break" if minutes <= 120 else "closed"
        occupied = minutes <= 120
        co2 = 800.0 if minutes <= 60 else 1200.0 if minutes <= 120 else 1600.0
        if minutes > 150:
            co2 = 900.0
        devices: dict[str, dict[str, float]] = {
            "presence": {"occupied": float(occupied)},
            "projector": {
                "power_on": float(30 <= minutes <= 90),
                "lamp_hours": 3990.0 if minutes <= 60 else 3991.0,
                "filter_hours": 600.0,
            },
            "lights": {"level_front_pct": 100.0, "level_back_pct": 100.0 if minutes > 120 else 0.0},
            "env": {"co2_ppm": co2, "temperature_c": 30.0 if minutes <= 60 else 31.0},
        }
        for device, readings in devices.items():
            seq += 1
            out.append(sample("6a1", seq, ts, device, readings, occupied=occupied,
                              schedule=schedule))  # fmt: skip
    return out


def _room_6a2() -> list[Parsed]:
    out: list[Parsed] = []
    seq = 0
    for i in range(1, 19):
        ts = START + timedelta(seconds=i * STEP_S)
        minutes = i * 10
        schedule: Schedule = "lesson" if minutes <= 60 else "break"
        devices: dict[str, dict[str, float]] = {
            "presence": {"occupied": 0.0},
            "projector": {"power_on": float(minutes > 120)},
            "noise": {"noise_dba": 48.0 + 2 * i if minutes <= 60 else 40.0},
        }
        for device, readings in devices.items():
            seq += 1
            out.append(sample("6a2", seq, ts, device, readings, occupied=False,
                              schedule=schedule))  # fmt: skip
    return out


def scenario() -> list[Parsed]:
    """Every message of both rooms, in the order the agents sent them."""
    return _room_6a1() + _room_6a2()


__all__ = ["NOW", "RATINGS", "START", "STEP_S", "sample", "scenario"]
