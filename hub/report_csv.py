"""A usage report as CSV: one line per period, then the total; the forecasts stay in JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.report_models import UsageFigures, UsageReportPublic

FIGURES = (
    "rooms", "covered_h", "projector_on_h", "lighting_on_h", "occupied_h", "energy_kwh",
    "projector_kwh", "lighting_kwh", "co2_over_1000_min", "co2_over_1500_min",
    "lesson_temperature_c", "lesson_temperature_samples", "lesson_noise_dba",
    "lesson_noise_samples",
)  # fmt: skip
WASTE = ("projector_h", "lighting_h", "empty_room_h", "outside_timetable_h", "energy_kwh")
ZONE_PREFIX = "lighting_h:"
"""Each lighting zone has a column of its own: ``lighting_h:lights/front``."""


def _line(period: str, start: Any, end: Any, f: UsageFigures, zones: list[str]) -> list[Any]:
    row: list[Any] = [period, start, end]
    row += ["" if getattr(f, name) is None else getattr(f, name) for name in FIGURES]
    row += [getattr(f.waste, name) for name in WASTE]
    row += [f.lighting_zones_h.get(zone, 0.0) for zone in zones]
    return row


def usage_csv(report: UsageReportPublic) -> str:
    """The report's periods and total as CSV (a header line first)."""
    zones = sorted({z for p in report.periods for z in p.lighting_zones_h})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["period", "start", "end", *FIGURES, *(f"waste_{n}" for n in WASTE),
         *(ZONE_PREFIX + z for z in zones)]
    )  # fmt: skip
    for p in report.periods:
        writer.writerow(_line(p.period, p.start, p.end, p, zones))
    writer.writerow(_line("total", report.from_, report.to, report.total, zones))
    return out.getvalue()


__all__ = ["FIGURES", "WASTE", "ZONE_PREFIX", "usage_csv"]
