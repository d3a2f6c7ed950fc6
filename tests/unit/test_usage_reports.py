"""Usage reports against the scenario worked out by hand (``usage_scenario``), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.forecasts import next_month
from hub.reports import ReportQuery, Reports, Visible, periods
from hub.rollups import UsageRollups
from hub.store import Store
from tests.unit.hub_helpers import SITE, make_store
from tests.unit.usage_scenario import NOW, RATINGS, START, sample, scenario

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2025, 3, 3)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    store.rollups = UsageRollups(RATINGS, HCM)
    store.write_batch(scenario(), now=NOW)
    yield store
    store.engine.dispose()


@pytest.fixture
def reports(store: Store) -> Reports:
    return Reports(store.engine, RATINGS, HCM)


def test_the_school_day_matches_the_figures_worked_out_by_hand(reports: Reports) -> None:
    report = reports.usage(ReportQuery("school", MONDAY, MONDAY, site=SITE), now=NOW)
    [day] = report.periods
    assert (day.period, day.start, day.end) == ("2025-03-03", MONDAY, MONDAY)
    assert day.rooms == 2
    assert day.covered_h == 6.0
    assert day.projector_on_h == 2.167
    assert day.lighting_on_h == 4.0
    assert day.lighting_zones_h == {"lights/back": 1.0, "lights/front": 3.0}
    assert day.occupied_h == 2.0
    assert (day.energy_kwh, day.projector_kwh, day.lighting_kwh) == (1.04, 0.6, 0.44)
    assert (day.co2_over_1000_min, day.co2_over_1500_min) == (90.0, 30.0)
    assert (day.lesson_temperature_c, day.lesson_temperature_samples) == (30.33, 9)
    assert (day.lesson_noise_dba, day.lesson_noise_samples) == (55.0, 6)
    waste = day.waste
    assert (waste.projector_h, waste.lighting_h) == (1.0, 2.0)
    assert (waste.empty_room_h, waste.outside_timetable_h, waste.energy_kwh) == (3.0, 2.0, 0.45)
    assert report.total.model_dump() == day.model_dump(exclude={"period", "start", "end"})
    assert report.sites == [SITE]


def test_a_school_adds_up_its_rooms(reports: Reports) -> None:
    """The school reads the site's totals and the rooms' maxima; a room its devices' rows."""
    school = reports.usage(ReportQuery("school", MONDAY, MONDAY, site=SITE), now=NOW).total
    rooms = [
        reports.usage(ReportQuery("room", MONDAY, MONDAY, site=SITE, room=r), now=NOW).total
        for r in ("6a1", "6a2")
    ]
    for name in ("covered_h", "projector_on_h", "lighting_on_h", "occupied_h", "energy_kwh",
                 "co2_over_1000_min", "lesson_noise_samples"):  # fmt: skip
        assert getattr(school, name) == pytest.approx(sum(getattr(r, name) for r in rooms))
    assert school.waste.energy_kwh == pytest.approx(sum(r.waste.energy_kwh for r in rooms))


def test_one_room(reports: Reports) -> None:
    report = reports.usage(ReportQuery("room", MONDAY, MONDAY, site=SITE, room="6a2"), now=NOW)
    t = report.total
    assert (t.rooms, t.projector_on_h, t.lighting_on_h, t.occupied_h) == (1, 1.0, 0.0, 0.0)
    assert (t.energy_kwh, t.waste.empty_room_h, t.waste.outside_timetable_h) == (0.25, 1.0, 0.0)
    assert (t.lesson_noise_dba, t.lesson_temperature_c) == (55.0, None)


def test_hours_of_a_room_in_local_time(reports: Reports) -> None:
    report = reports.usage(
        ReportQuery("room", MONDAY, MONDAY, group="hour", site=SITE, room="6a1"), now=NOW
    )
    assert len(report.periods) == 24
    on = {p.period: p.projector_on_h for p in report.periods if p.projector_on_h}
    assert on == {"2025-03-03T07:00:00+07:00": 0.667, "2025-03-03T08:00:00+07:00": 0.5}
    nine = next(p for p in report.periods if p.period.startswith("2025-03-03T09"))
    assert (nine.lighting_zones_h, nine.waste.lighting_h) == (
        {"lights/back": 1.0, "lights/front": 1.0}, 2.0,
    )  # fmt: skip
    assert report.total.projector_on_h == 1.167


def test_weeks_and_months_are_clipped_to_the_range(reports: Reports) -> None:
    weeks = reports.usage(
        ReportQuery("school", date(2025, 2, 27), date(2025, 3, 12), group="week", site=SITE),
        now=NOW,
    )
    assert [(p.period, p.start, p.end) for p in weeks.periods] == [
        ("2025-W09", date(2025, 2, 27), date(2025, 3, 2)),
        ("2025-W10", date(2025, 3, 3), date(2025, 3, 9)),
        ("2025-W11", date(2025, 3, 10), date(2025, 3, 12)),
    ]
    assert [p.energy_kwh for p in weeks.periods] == [0.0, 1.04, 0.0]
    months = periods(date(2024, 12, 31), date(2025, 3, 1), "month")
    assert [(k.isoformat(), a.isoformat(), b.isoformat()) for k, a, b in months] == [
        ("2024-12-01", "2024-12-31", "2024-12-31"),
        ("2025-01-01", "2025-01-01", "2025-01-31"),
        ("2025-02-01", "2025-02-01", "2025-02-28"),
        ("2025-03-01", "2025-03-01", "2025-03-01"),
    ]


def test_the_district_sees_only_what_the_caller_may(store: Store, reports: Reports) -> None:
    store.write_batch(
        [sample("6a2", 999, START + timedelta(hours=1), "projector", {"power_on": 1})], now=NOW
    )
    everything = reports.usage(ReportQuery("district", MONDAY, MONDAY), now=NOW)
    assert (everything.total.rooms, everything.total.projector_on_h) == (2, 2.333)
    assert everything.total.energy_kwh == 1.082  # 1.04 and 250 W for 10 min
    whole_site = Visible(sites=frozenset({SITE}))
    assert (
        reports.usage(ReportQuery("district", MONDAY, MONDAY, visible=whole_site), now=NOW).total
        == everything.total
    )
    one_room = Visible(rooms=frozenset({(SITE, "6a1")}))
    only_6a1 = reports.usage(ReportQuery("district", MONDAY, MONDAY, visible=one_room), now=NOW)
    assert (only_6a1.total.rooms, only_6a1.total.projector_on_h) == (1, 1.167)
    assert (only_6a1.total.energy_kwh, only_6a1.total.occupied_h) == (0.79, 2.0)
    assert [f.room for f in only_6a1.forecasts.lamps] == ["6a1"]
    nothing = reports.usage(ReportQuery("district", MONDAY, MONDAY, visible=Visible()), now=NOW)
    assert (nothing.total.rooms, nothing.total.energy_kwh, nothing.sites) == (0, 0.0, [])


def test_a_lamp_and_its_filter_reach_their_limits(reports: Reports) -> None:
    report = reports.usage(ReportQuery("school", MONDAY, MONDAY, site=SITE), now=NOW)
    lamps = {f.room: f for f in report.forecasts.lamps}
    six_a1 = lamps["6a1"]
    assert (six_a1.device, six_a1.reported_on, six_a1.days_with_data) == ("projector", MONDAY, 1)
    assert six_a1.rate_h_per_day == 1.167
    assert (six_a1.lamp.hours, six_a1.lamp.limit_h, six_a1.lamp.due) == (
        3991.0, 4000.0, date(2025, 3, 10),
    )  # fmt: skip
    assert (six_a1.filter.hours, six_a1.filter.limit_h, six_a1.filter.due) == (
        600.0, 1000.0, date(2026, 2, 8),
    )  # fmt: skip
    six_a2 = lamps["6a2"]  # it never reported its hours
    assert (six_a2.rate_h_per_day, six_a2.lamp.hours, six_a2.lamp.due) == (1.0, None, None)


def test_a_lamp_over_its_limit_is_due_today(store: Store, reports: Reports) -> None:
    store.write_batch(
        [sample("6a1", 999, START + timedelta(hours=4), "projector",
                {"power_on": 0, "lamp_hours": 4002})],
        now=NOW,
    )  # fmt: skip
    [lamp] = [f.lamp for f in reports.usage(
        ReportQuery("room", MONDAY, MONDAY, site=SITE, room="6a1"), now=NOW
    ).forecasts.lamps]  # fmt: skip
    assert (lamp.hours, lamp.due, lamp.reached) == (4002.0, MONDAY, True)


def test_the_coming_month_from_the_same_weeks_of_past_years(store: Store, reports: Reports) -> None:
    assert next_month(MONDAY) == (date(2025, 4, 1), date(2025, 4, 30))
    # April 2025 stepped back 52 weeks is 2 April to 1 May 2024; one projector hour then
    a_year_ago = datetime(2024, 4, 10, 2, 0, tzinfo=START.tzinfo)
    store.write_batch(
        [sample("6a1", 1, a_year_ago, "projector", {"power_on": 1}, interval_s=3600,
                boot="b2024")],
        now=NOW,
    )  # fmt: skip
    report = reports.usage(ReportQuery("school", MONDAY, MONDAY, site=SITE), now=NOW)
    [energy] = report.forecasts.energy
    assert (energy.site, energy.month, energy.method, energy.years) == (
        SITE, "2025-04", "same_weeks", [2024],
    )  # fmt: skip
    assert energy.kwh == 9.0  # 300 Wh on its one day with data, times 30 days
    assert (energy.days_with_data, energy.days_wanted) == (1, 30)
    assert "1 of 30 days with data" in energy.basis


def test_the_coming_month_from_recent_weeks_or_nothing(reports: Reports) -> None:
    tomorrow = NOW + timedelta(days=1)  # the scenario's Monday is then among the last weeks
    [recent] = reports.usage(
        ReportQuery("school", MONDAY, MONDAY, site=SITE), now=tomorrow
    ).forecasts.energy
    assert (recent.method, recent.kwh, recent.days_with_data) == ("recent", 31.2, 1)
    [room] = reports.usage(
        ReportQuery("room", MONDAY, MONDAY, site=SITE, room="6a2"), now=tomorrow
    ).forecasts.energy
    assert (room.room, room.kwh) == ("6a2", 7.5)  # 250 Wh a day for 30 days
    [none] = reports.usage(
        ReportQuery("school", MONDAY, MONDAY, site=SITE), now=NOW
    ).forecasts.energy
    assert (none.method, none.kwh) == ("none", None)
