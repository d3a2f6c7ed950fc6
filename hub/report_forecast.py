"""The forecasts of a room, a school or the district on their own, without a usage range.

The same forecaster as the usage report's (``hub.forecasts``): lamps and filters of the
projectors used or reporting lately, and the coming month's energy. A district's energy is
forecast for every school the caller may read (a school without data says so: method
``none``), where the usage report lists only the schools with data in its range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from hub.report_models import EnergyForecastPublic, LampForecastPublic, ReportScope
from hub.report_places import school_names
from hub.reports import ReportQuery, Reports


class ForecastReportPublic(BaseModel):
    """Lamps, filters and the coming month's energy of a room, a school or the district."""

    scope: ReportScope
    site: str | None
    room: str | None
    today: date
    """The hub's day in the report's time zone: what the forecasts count from."""
    timezone: str
    generated_at: str
    """The hub's clock (ISO 8601, UTC)."""
    lamps: list[LampForecastPublic] = Field(default_factory=list)
    energy: list[EnergyForecastPublic] = Field(default_factory=list)


def forecast_report(reports: Reports, query: ReportQuery, *, now: datetime) -> ForecastReportPublic:
    """The forecasts of ``query``'s room, school or readable schools (its days are unused)."""
    today = now.astimezone(reports.tz).date()
    forecaster = reports.forecaster
    with reports.engine.connect() as conn:
        sites = list(school_names(conn, query.visible)) if query.scope == "district" else []
        lamps = forecaster.lamps(conn, query, today)
        energy = forecaster.energy(conn, query, today, sites)
    return ForecastReportPublic(
        scope=query.scope,
        site=query.site,
        room=query.room,
        today=today,
        timezone=reports.tz.key,
        generated_at=now.astimezone(UTC).isoformat(),
        lamps=lamps,
        energy=energy,
    )


__all__ = ["ForecastReportPublic", "forecast_report"]
