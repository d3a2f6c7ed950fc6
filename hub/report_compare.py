"""Rooms of a school, or schools, side by side over a range of days, from the rollups.

Each row's figures are the total its own usage report would give (``scope=room`` for a room,
``scope=school`` for a school): the same tables, sums and roundings, so a row can be checked
against that report. Two grouped reads per comparison, whatever the length of the range: the
devices' sums per (room or school, device, part), and the rooms' maxima per room or school.
Rooms and schools without data are listed too, with no figures: a room that sent nothing is
worth seeing next to its neighbours.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, distinct, func, select

from hub.report_models import ReportScope, UsageFigures
from hub.report_places import room_names, school_names
from hub.reports import _DEVICE_SUMS, ReportQuery, Visible, _Sums
from hub.rollup_tables import ROOM_MAXES, usage_daily, usage_room_daily

CompareBy = Literal["room", "school"]
SortKey = Literal[
    "name", "rooms", "projector_on_h", "lighting_on_h", "occupied_h", "energy_kwh",
    "kwh_per_room", "waste_kwh", "waste_pct", "co2_over_1000_min", "co2_over_1500_min",
    "lesson_temperature_c", "lesson_noise_dba",
]  # fmt: skip
SORT_KEYS: tuple[SortKey, ...] = get_args(SortKey)
SortOrder = Literal["asc", "desc"]


class ComparedPublic(BaseModel):
    """One room or school of a comparison."""

    site: str
    room: str | None = None
    """None for a school."""
    name: str
    """Its name in the registry."""
    figures: UsageFigures
    """The total of its usage report over the range."""
    kwh_per_room: float | None = None
    """Energy per room with data (None: no room with data)."""
    waste_pct: float | None = None
    """Waste energy as a percentage of the energy, one decimal (None: no energy)."""


class ComparisonPublic(BaseModel):
    """Rooms of one school, or the schools the caller may read, over the same days."""

    model_config = ConfigDict(populate_by_name=True)

    by: CompareBy
    site: str | None
    """The school whose rooms are compared (None: schools are)."""
    from_: date = Field(alias="from")
    to: date
    timezone: str
    generated_at: str
    """The hub's clock when the comparison was made (ISO 8601, UTC)."""
    sort: SortKey
    order: SortOrder
    rows: list[ComparedPublic]


@dataclass(frozen=True)
class CompareQuery:
    by: CompareBy
    start: date
    end: date
    """Last day, included."""
    site: str | None = None
    """The school of a comparison of rooms."""
    visible: Visible | None = None
    """What the caller may read (None: everything)."""
    sort: SortKey = "name"
    order: SortOrder = "asc"

    def report(self) -> ReportQuery:
        """The report whose rooms (or schools) this compares."""
        scope: ReportScope = "school" if self.by == "room" else "district"
        return ReportQuery(scope, self.start, self.end, site=self.site, visible=self.visible)


def name_key(name: str) -> str:
    """A name as it sorts in Vietnamese, near enough: its letters without their marks
    (``Đ`` with the ``D``), then the marks themselves decide."""
    plain = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return plain.replace("Đ", "D").replace("đ", "d").casefold() + "\0" + name.casefold()


def _value(row: ComparedPublic, key: str) -> Any:
    """The row's value for ``key``: a number, None (no data), or its name's sort key."""
    if key == "name":
        return name_key(row.name)
    if key in ("kwh_per_room", "waste_pct"):
        return getattr(row, key)
    if key == "waste_kwh":
        return row.figures.waste.energy_kwh
    return getattr(row.figures, key)


def sort_rows(rows: Iterable[ComparedPublic], key: str, order: SortOrder) -> list[ComparedPublic]:
    """Rows by ``key``, ties and missing values (None) last whatever the order, then by name."""
    by_name = sorted(rows, key=lambda r: (name_key(r.name), r.site, r.room or ""))
    present = [r for r in by_name if _value(r, key) is not None]
    missing = [r for r in by_name if _value(r, key) is None]
    present.sort(key=lambda r: _value(r, key), reverse=order == "desc")
    return present + missing


class Comparisons:
    """Comparisons of rooms and of schools, from the rollup tables."""

    def __init__(self, engine: Engine, tz_name: str) -> None:
        self.engine = engine
        self.tz_name = tz_name

    def compare(self, query: CompareQuery, *, now: datetime) -> ComparisonPublic:
        with self.engine.connect() as conn:
            names = self._names(conn, query)
            sums = self._sums(conn, query)
        rows = []
        for key, name in names.items():
            found = sums.get(key, _Sums())
            figures = UsageFigures(**found.figures())
            rows.append(
                ComparedPublic(
                    site=key[0],
                    room=key[1],
                    name=name,
                    figures=figures,
                    kwh_per_room=round(figures.energy_kwh / figures.rooms, 3)
                    if figures.rooms
                    else None,
                    waste_pct=round(100 * figures.waste.energy_kwh / figures.energy_kwh, 1)
                    if figures.energy_kwh
                    else None,
                )
            )
        return ComparisonPublic(
            by=query.by,
            site=query.site,
            **{"from": query.start},
            to=query.end,
            timezone=self.tz_name,
            generated_at=now.astimezone(UTC).isoformat(),
            sort=query.sort,
            order=query.order,
            rows=sort_rows(rows, query.sort, query.order),
        )

    def _names(self, conn: Connection, query: CompareQuery) -> dict[tuple[str, str | None], str]:
        """The registered rooms of the school, or the schools, the caller may read."""
        if query.by == "school":
            return {(site, None): name for site, name in school_names(conn, query.visible).items()}
        assert query.site is not None
        rooms = room_names(conn, query.site, query.visible)
        return {(query.site, room): name for room, name in rooms.items()}

    def _sums(self, conn: Connection, query: CompareQuery) -> dict[tuple[str, str | None], _Sums]:
        """Each room's (or school's) sums over the range, as its own report adds them up."""
        report = query.report()
        out: dict[tuple[str, str | None], _Sums] = {}

        def of(site: str, room: str | None) -> _Sums:
            key = (site, room if query.by == "room" else None)
            found = out.get(key)
            if found is None:
                found = out[key] = _Sums()
            return found

        if query.by == "room":
            sources = [(usage_daily, report.room_filter(usage_daily))]
        else:
            sources = report.sources()
        for table, where in sources:
            c = table.c
            place = [c.site, c.room] if query.by == "room" else [c.site]
            stmt = (
                select(*place, c.kind, c.device, c.part,
                       *(func.sum(c[n]).label(n) for n in _DEVICE_SUMS))
                .where(*where, c.day >= query.start, c.day <= query.end)
                .group_by(*place, c.kind, c.device, c.part)
            )  # fmt: skip
            for row in conn.execute(stmt).all():
                room = row[1] if query.by == "room" else None
                kind, device, part, *sums = row[len(place) :]
                of(row[0], room).device(kind, device, part, *sums)
        r = usage_room_daily.c
        place = [r.site, r.room] if query.by == "room" else [r.site]
        where = [*report.room_filter(usage_room_daily), r.day >= query.start, r.day <= query.end]
        stmt = (
            select(*place, func.count(distinct(r.room)).label("rooms"),
                   *(func.sum(r[n]).label(n) for n in ROOM_MAXES))
            .where(*where)
            .group_by(*place)
        )  # fmt: skip
        for row in conn.execute(stmt).all():
            room = row[1] if query.by == "room" else None
            rooms, *maxima = row[len(place) :]
            found = of(row[0], room)
            found.room(*maxima)
            found.rooms = int(rooms)
        return out


__all__ = [
    "SORT_KEYS",
    "CompareBy",
    "CompareQuery",
    "ComparedPublic",
    "Comparisons",
    "ComparisonPublic",
    "SortKey",
    "SortOrder",
    "name_key",
    "sort_rows",
]
