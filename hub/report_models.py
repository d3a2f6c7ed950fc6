"""The usage report as the API sends it (JSON; the CSV has the same figures, one line a period)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReportScope = Literal["room", "school", "district"]
ReportGroup = Literal["hour", "day", "week", "month"]


class WastePublic(BaseModel):
    """Projector and lights on in an empty room, or outside the timetable's sessions."""

    projector_h: float = 0.0
    """Projector hours that were waste."""
    lighting_h: float = 0.0
    """Lighting zone-hours that were waste."""
    empty_room_h: float = 0.0
    """Device- and zone-hours on while the room's occupancy sensors saw nobody."""
    outside_timetable_h: float = 0.0
    """Device- and zone-hours on outside the timetable's sessions (days off included)."""
    energy_kwh: float = 0.0
    """The energy of the waste hours."""


class UsageFigures(BaseModel):
    """What the rooms of a report did over some time."""

    rooms: int = 0
    """Rooms with data."""
    covered_h: float = 0.0
    """Room-hours the samples cover (for each room, its device that covers most)."""
    projector_on_h: float = 0.0
    lighting_on_h: float = 0.0
    """Zone-hours: a zone lit for an hour counts one."""
    lighting_zones_h: dict[str, float] = Field(default_factory=dict)
    """Hours each zone was lit, by ``device/zone`` (added over the rooms of the report)."""
    occupied_h: float = 0.0
    """Room-hours occupied (for each room, its occupancy sensor that saw it longest)."""
    energy_kwh: float = 0.0
    projector_kwh: float = 0.0
    lighting_kwh: float = 0.0
    co2_over_1000_min: float = 0.0
    """Room-minutes with CO2 above 1000 ppm (for each room, its sensor that saw most)."""
    co2_over_1500_min: float = 0.0
    lesson_temperature_c: float | None = None
    """Mean temperature of the samples taken during lessons (None: none)."""
    lesson_temperature_samples: int = 0
    lesson_noise_dba: float | None = None
    """Mean noise level of the samples taken during lessons (None: none)."""
    lesson_noise_samples: int = 0
    waste: WastePublic = Field(default_factory=WastePublic)


class UsagePeriodPublic(UsageFigures):
    """One day, week, month or hour of a report."""

    period: str
    """``2025-03-03`` (day), ``2025-W10`` (ISO week), ``2025-03`` (month), or the local
    start of an hour (``2025-03-03T08:00:00+07:00``)."""
    start: date
    """First day of the period within the report's range (an hour's day)."""
    end: date
    """Last day of the period within the range (included)."""


class LimitForecastPublic(BaseModel):
    """When a lamp or filter reaches its limit at the projector's recent rate of use."""

    hours: float | None
    """As the projector last reported them (None: it does not report them)."""
    limit_h: float
    due: date | None
    """The day the limit is reached (today if it is already; None: unknown or not in use)."""
    reached: bool = False


class LampForecastPublic(BaseModel):
    """One projector's lamp and filter."""

    site: str
    room: str
    device: str
    reported_on: date | None
    """The last day the projector reported its hours."""
    rate_h_per_day: float
    """Hours on per day over the days with data of the recent window."""
    window_days: int
    days_with_data: int
    lamp: LimitForecastPublic
    filter: LimitForecastPublic


class EnergyForecastPublic(BaseModel):
    """Energy of a school (or of one room, in a room report) for the coming month."""

    site: str
    room: str | None = None
    month: str
    """``YYYY-MM``: the calendar month after today's."""
    kwh: float | None
    """None when there is no data to estimate from."""
    method: Literal["same_weeks", "recent", "none"]
    """``same_weeks``: the mean of past years over the same weeks (52-week steps, so weekdays
    line up), each scaled from its days with data to the whole month; ``recent``: no past year
    has data, so the daily mean of the last weeks times the month's days; ``none``: no data."""
    basis: str
    """How it was estimated and from how much data, in words."""
    years: list[int] = Field(default_factory=list)
    """Years whose same weeks were used."""
    days_with_data: int = 0
    days_wanted: int = 0
    """Days the data would cover if nothing were missing (the windows used)."""


class ForecastsPublic(BaseModel):
    lamps: list[LampForecastPublic] = Field(default_factory=list)
    energy: list[EnergyForecastPublic] = Field(default_factory=list)


class UsageReportPublic(BaseModel):
    """Usage of a room, a school or the district over a range of days, and forecasts."""

    model_config = ConfigDict(populate_by_name=True)

    scope: ReportScope
    site: str | None
    room: str | None
    from_: date = Field(alias="from")
    to: date
    group: ReportGroup
    timezone: str
    """The zone of the report's days, weeks, months and hours."""
    generated_at: str
    """The hub's clock when the report was made (ISO 8601, UTC)."""
    sites: list[str]
    """Sites with data in the range."""
    periods: list[UsagePeriodPublic]
    total: UsageFigures
    forecasts: ForecastsPublic


__all__ = [
    "EnergyForecastPublic",
    "ForecastsPublic",
    "LampForecastPublic",
    "LimitForecastPublic",
    "ReportGroup",
    "ReportScope",
    "UsageFigures",
    "UsagePeriodPublic",
    "UsageReportPublic",
    "WastePublic",
]
