"""The admin's reports and the audit log in a real browser, on a hub with known rollups.

Before the hub starts, its database gets a school month and more of usage rollups written by
the hub's own rollup writer (the plausible school of ``smartclass bench report``, for two
schools) and audit entries at known times. The figures a page shows are compared with its
CSV download and with the JSON API for the same query, never with numbers written here.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from playwright.sync_api import Download, Page, expect
from sqlalchemy import insert

from hub.access import Role
from hub.audit import AuditEntry
from hub.db import create_schema, make_engine
from smartclass.bench_report import Fleet, fill
from smartclass.broker import Mosquitto
from tests.browser.conftest import (
    Hub,
    OpenPage,
    add_users,
    assert_accessible,
    assert_no_english,
    both_languages,
    in_thread,
    shoot,
    sign_in,
)
from tests.integration.system import HubProcess

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SITE, OTHER = "thcs-nguyen-chi-thanh", "thcs-phan-boi-chau"
ROOMS = ((SITE, "6a1"), (SITE, "6a2"), (SITE, "9a1"), (OTHER, "7b1"))
"""9a1 sends nothing: it is listed without figures."""
NAMES = {SITE: "THCS Nguyễn Chí Thanh", OTHER: "THCS Phan Bội Châu"}
SITES_YAML = f"""
sites:
  - id: {SITE}
    name: {NAMES[SITE]}
    rooms: [{{id: 6a1, name: 6A1}}, {{id: 6a2, name: 6A2}}, {{id: 9a1, name: 9A1}}]
  - id: {OTHER}
    name: {NAMES[OTHER]}
    rooms: [{{id: 7b1, name: 7B1}}]
"""
PAGE_ROWS = 5
WEIGHT_BUDGET = 300_000
"""Bytes of a report page and everything it loads (no compression on the hub)."""

pytestmark = pytest.mark.browser


def today() -> date:
    return datetime.now(HCM).date()


def last_month() -> tuple[date, date]:
    end = today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


class School(Fleet):
    """The bench's plausible rooms, under the names of these schools."""

    def __init__(self, rooms: list[tuple[str, str]]) -> None:
        super().__init__(len(rooms), 1, seed=5)
        self.rooms = rooms
        self.lamp = dict.fromkeys(rooms, 1000.0)


def audit_rows(first: date) -> list[dict[str, Any]]:
    """Seven configuration changes by IT and three commands by a teacher in SITE, within last
    month; two commands in the other school; one change by IT before the month."""

    def at(day: int, hour: int) -> datetime:
        return datetime.combine(first + timedelta(days=day), time(hour), HCM).astimezone(UTC)

    def row(when: datetime, actor: str, role: str, action: str, **more: Any) -> dict[str, Any]:
        return {"at": when, "actor": actor, "role": role, "via": "session", "address": "10.0.0.7",
                "action": action, "device": None, "outcome": "ok", "duration_ms": None,
                "detail": {}} | more  # fmt: skip

    rows = [
        row(at(i, 9), "it.minh", "it", "config_change", site=SITE, room=("6a1", "6a2")[i % 2],
            detail={"version": i + 2, "comment": f"thời khóa biểu tuần {i + 1}"})
        for i in range(7)
    ]  # fmt: skip
    rows += [
        row(at(10 + i, 7), "co.lan", "teacher", "command", site=SITE, room="6a1",
            device="lights", detail={"action": "scene", "text": "Bật đèn tiết học"})
        for i in range(3)
    ]  # fmt: skip
    rows += [
        row(at(12, 8), "it.nam", "it", "command", site=OTHER, room="7b1", device="projector")
        for _ in range(2)
    ]
    rows.append(row(at(-3, 9), "it.minh", "it", "config_change", site=SITE, room="6a1"))
    return rows


@pytest.fixture(scope="module")
def hub(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub process whose database holds the schools' rollups since the first day of last
    month, and the audit entries; with a user of each role."""
    work = tmp_path_factory.mktemp("reports")
    sites = work / "registry.yaml"
    sites.write_text(SITES_YAML, encoding="utf-8")
    env = {
        "SMARTCLASS_HUB_SITES_FILE": str(sites),
        "SMARTCLASS_HUB_AUDIT_PAGE_ROWS": str(PAGE_ROWS),
    }
    process = HubProcess(mosquitto, f"r{uuid.uuid4().hex[:10]}", work, rooms=ROOMS, env=env)
    users = add_users(process.database_url, ROOMS)
    engine = make_engine(process.database_url)
    try:
        create_schema(engine)
        first, _ = last_month()
        fill(engine, School([r for r in ROOMS if r[1] != "9a1"]), first, (today() - first).days)
        with engine.begin() as conn:
            conn.execute(insert(AuditEntry), audit_rows(first))
    finally:
        engine.dispose()
    process.start()
    try:
        in_thread(process.wait_connected)
        yield Hub(process, users)
    finally:
        process.close()


# --- reading what the page, the CSV and the API say ------------------------------------------


def number(text: str, lang: str) -> float | None:
    """A figure as the page writes it (``1.234,5`` in Vietnamese, ``1,234.5`` in English)."""
    text = text.strip()
    if text == "—":
        return None
    if lang == "vi":
        return float(text.replace(".", "").replace(",", "."))
    return float(text.replace(",", ""))


def cell(value: str) -> float | None:
    return None if value == "" else float(value)


def table_cells(page: Page, rows: str) -> list[tuple[str, dict[str, str]]]:
    """(row key, {data-key: text}) of the rows matched by the CSS selector ``rows``."""
    found: list[tuple[str, dict[str, str]]] = page.evaluate(
        """sel => Array.from(document.querySelectorAll(sel)).map(tr => [
             tr.dataset.period || tr.dataset.room || tr.dataset.site || tr.dataset.id,
             Object.fromEntries(Array.from(tr.querySelectorAll('td[data-key]')).map(
               td => [td.dataset.key, td.dataset.value ?? td.textContent.trim()]))])""",
        rows,
    )
    return found


def api(page: Page, url: str) -> Any:
    """The JSON API's answer, with the page's own session."""
    r = page.request.get(urljoin(page.url, url))
    assert r.ok, r.text()
    return r.json()


def download(page: Page, selector: str) -> tuple[Download, list[dict[str, str]]]:
    with page.expect_download() as info:
        page.locator(selector).first.click()
    got = info.value
    path = got.path()
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return got, list(csv.DictReader(fh))


def weight(page: Page) -> int:
    """Bytes of the page and every resource it loaded (the cache counted as if empty)."""
    found: int = page.evaluate(
        """() => performance.getEntriesByType('navigation').concat(
             performance.getEntriesByType('resource')).reduce((n, e) => n + e.encodedBodySize, 0)"""
    )
    return found


def figures_of(p: dict[str, Any]) -> dict[str, Any]:
    """A period of the JSON report under the CSV's column names."""
    out = {k: v for k, v in p.items() if not isinstance(v, dict)}
    out |= {f"waste_{k}": v for k, v in p["waste"].items()}
    out |= {f"lighting_h:{z}": h for z, h in p["lighting_zones_h"].items()}
    return out


# --- the pages --------------------------------------------------------------------------------


def test_an_admin_reads_last_months_usage_and_its_csv_matches_the_api(
    hub: Hub, open_page: OpenPage
) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, hub, Role.ADMIN, next="/reports")
    expect(page.locator("h1")).to_contain_text(NAMES[SITE])  # their school, by default
    page.get_by_role("link", name="Tháng trước").click()
    first, last = last_month()
    expect(page.locator("#from")).to_have_value(first.isoformat())
    expect(page.locator("#to")).to_have_value(last.isoformat())
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(5)  # hours, occupancy, energy, air, zones
    for i in range(5):
        expect(charts.nth(i)).to_have_attribute("data-drawn", "true")
        expect(charts.nth(i).locator("canvas").first).to_be_visible()
    expect(page.locator("[data-attendance]")).to_be_visible()
    assert weight(page) < WEIGHT_BUDGET

    got, lines = download(page, "[data-csv=usage]")
    assert got.suggested_filename == f"usage-{SITE}-{first:%Y-%m}.csv"
    query = f"scope=school&site={SITE}&from={first}&to={last}&group=day"
    report = api(page, f"/api/v1/reports/usage?{query}")
    periods = [*report["periods"], {**report["total"], "period": "total"}]
    assert [line["period"] for line in lines] == [p["period"] for p in periods]
    assert report["total"]["energy_kwh"] > 0, "the school used energy last month"
    for line, period in zip(lines, periods, strict=True):
        expected = figures_of(period)
        for key, value in line.items():
            if key not in ("period", "start", "end"):
                assert cell(value) == expected.get(key, 0.0), (line["period"], key)
    by_period = {line["period"]: line for line in lines}
    shown = table_cells(page, "table[data-table] tr[data-period]")
    assert {key for key, _ in shown} == set(by_period)
    for key, cells in shown:
        for column, text in cells.items():
            assert number(text, "vi") == cell(by_period[key][column]), (key, column)
    page.select_option("#group", "week")  # the same tables, five lines: axe is quicker on them
    page.click("form.filters button[type=submit]")
    expect(page.locator("table[data-table=use] tbody tr").first).to_have_attribute(
        "data-period", f"{first.isocalendar()[0]}-W{first.isocalendar()[1]:02d}"
    )
    both_languages(page, "reports-usage")


def test_an_admin_compares_the_rooms_of_their_school(hub: Hub, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, hub, Role.ADMIN, next="/reports/compare")
    expect(page.locator("#by")).to_have_value("room")
    expect(page.locator("[data-chart=compare]")).to_have_attribute("data-drawn", "true")
    page.locator("th a.sort", has_text="Điện năng (kWh)").click()  # the largest first
    heading = page.locator("th[aria-sort=descending]")
    expect(heading).to_contain_text("Điện năng (kWh)")
    first, last = last_month()
    query = f"by=room&site={SITE}&from={first}&to={last}&sort=energy_kwh&order=desc"
    comparison = api(page, f"/api/v1/reports/compare?{query}")
    rooms = [row["room"] for row in comparison["rows"]]
    assert rooms[-1] == "9a1", "a room without data comes last"
    energies = [row["figures"]["energy_kwh"] for row in comparison["rows"]]
    assert energies == sorted(energies, reverse=True)
    shown = table_cells(page, "table[data-table=compare] tbody tr")
    assert [key for key, _ in shown] == rooms
    got, lines = download(page, "[data-csv=compare]")
    assert got.suggested_filename == f"compare-rooms-{SITE}-{first:%Y-%m}.csv"
    assert [line["room"] for line in lines] == rooms
    for (_, cells), line in zip(shown, lines, strict=True):
        for column, text in cells.items():
            assert number(text, "vi") == cell(line[column]), (line["room"], column)
    both_languages(page, "reports-compare-rooms")


def test_a_district_user_compares_the_schools(hub: Hub, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, hub, Role.DISTRICT, next="/reports/compare")
    expect(page.locator("#by")).to_have_value("school")
    rows = page.locator("table[data-table=compare] tbody tr")
    expect(rows).to_have_count(2)
    first, last = last_month()
    comparison = api(page, f"/api/v1/reports/compare?by=school&from={first}&to={last}")
    assert [r["name"] for r in comparison["rows"]] == [NAMES[SITE], NAMES[OTHER]]
    for (site, cells), row in zip(table_cells(page, "table[data-table=compare] tbody tr"),
                                  comparison["rows"], strict=True):  # fmt: skip
        assert site == row["site"]
        assert number(cells["energy_kwh"], "vi") == row["figures"]["energy_kwh"]
        assert number(cells["rooms"], "vi") == row["figures"]["rooms"]
        assert number(cells["kwh_per_room"], "vi") == row["kwh_per_room"]
    both_languages(page, "reports-compare-schools")


def test_the_lamp_and_energy_forecasts(hub: Hub, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, hub, Role.ADMIN, next="/reports/forecasts")
    forecasts = api(page, f"/api/v1/reports/forecasts?scope=school&site={SITE}")
    rows = page.locator("table[data-table=lamps] tbody tr")
    expect(rows).to_have_count(len(forecasts["lamps"]))
    assert len(forecasts["lamps"]) == 2, "the two rooms with a projector in use"
    got, lines = download(page, "[data-csv=lamps]")
    assert got.suggested_filename == f"lamps-{SITE}-{forecasts['today']}.csv"
    shown = table_cells(page, "table[data-table=lamps] tbody tr")
    for (room, cells), line, lamp in zip(shown, lines, forecasts["lamps"], strict=True):
        assert room == line["room"] == lamp["room"]
        assert cells["lamp_due"] == line["lamp_due"] == (lamp["lamp"]["due"] or "")
        assert cells["filter_due"] == line["filter_due"] == (lamp["filter"]["due"] or "")
        for column in ("rate_h_per_day", "lamp_hours", "filter_hours", "days_with_data"):
            assert number(cells[column], "vi") == cell(line[column]), column
    got, lines = download(page, "[data-csv=energy]")
    [energy] = forecasts["energy"]
    assert got.suggested_filename == f"energy-forecast-{SITE}-{energy['month']}.csv"
    [line] = lines
    [(_, cells)] = table_cells(page, "table[data-table=energy] tbody tr")
    assert number(cells["kwh"], "vi") == cell(line["kwh"]) == energy["kwh"]
    both_languages(page, "reports-forecasts")


def test_every_report_page_on_a_tablet(hub: Hub, open_page: OpenPage) -> None:
    """The walks above run at the desktop size and check both languages there; the same pages
    at the tablet's size: Vietnamese checked, both languages shot."""
    first, last = last_month()
    pages = {
        Role.ADMIN: [
            ("reports-usage", f"/reports?from={first}&to={last}&group=week", "[data-chart]"),
            ("reports-compare-rooms", "/reports/compare", "[data-chart=compare]"),
            ("reports-forecasts", "/reports/forecasts", "table[data-table=lamps]"),
            ("audit-log", "/audit?user=it.minh", "table[data-table=audit]"),
        ],
        Role.DISTRICT: [("reports-compare-schools", "/reports/compare", "[data-chart=compare]")],
    }
    for role, visits in pages.items():
        page = open_page("tablet", "vi")
        sign_in(page, hub, role)
        for lang in ("vi", "en"):
            for name, path, shown in visits:
                page.goto(f"{hub.url}{path}")
                expect(page.locator("html")).to_have_attribute("lang", lang)
                expect(page.locator(shown).first).to_be_visible()
                if lang == "vi":
                    assert_no_english(page)
                    assert_accessible(page)
                shoot(page, name)
            page.goto(f"{hub.url}/lang/en?next=/")


def test_an_admin_cannot_open_another_schools_report_and_a_teacher_has_none(
    hub: Hub, open_page: OpenPage
) -> None:
    page = open_page()
    sign_in(page, hub, Role.ADMIN, next="/reports")
    for path in (f"/reports?place={OTHER}", f"/reports/compare?by=room&site={OTHER}",
                 f"/reports/forecasts?place={OTHER}/7b1", f"/audit?place={OTHER}"):  # fmt: skip
        response = page.goto(f"{hub.url}{path}")
        assert response is not None
        assert response.status == 403, path
        expect(page.locator("h1")).to_have_text("Không được phép")
        assert NAMES[OTHER] not in page.content()
    assert_no_english(page)
    teacher = open_page()
    sign_in(teacher, hub, Role.TEACHER)
    expect(teacher.locator("header nav a[href='/reports']")).to_have_count(0)
    expect(teacher.locator("header nav a[href='/audit']")).to_have_count(0)
    response = teacher.goto(f"{hub.url}/reports")
    assert response is not None
    assert response.status == 403


def test_the_audit_log_filters_pages_and_exports(hub: Hub, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, hub, Role.ADMIN, next="/audit")
    first, last = last_month()
    page.fill("#user", "it.minh")
    page.fill("#from", first.isoformat())
    page.fill("#to", last.isoformat())
    page.click("form.filters button[type=submit]")
    rows = page.locator("table[data-table=audit] tbody tr")
    expect(rows).to_have_count(PAGE_ROWS)
    since = datetime.combine(first, time(), HCM).isoformat()
    until = datetime.combine(last + timedelta(days=1), time(), HCM).isoformat()
    query = {"user": "it.minh", "since": since, "until": until}
    entries = api(page, "/api/v1/audit?" + urlencode(query))
    newest_first = sorted((e["id"] for e in entries), reverse=True)
    assert len(newest_first) == 7, "IT's seven changes of last month, not the one before"
    first_page = [int(key) for key, _ in table_cells(page, "table[data-table=audit] tbody tr")]
    assert first_page == newest_first[:PAGE_ROWS]
    newest = next(e for e in entries if e["id"] == first_page[0])
    at = datetime.fromisoformat(newest["at"])
    expect(rows.first.locator("time")).to_have_text(format_datetime(at, "medium", tzinfo=HCM,
                                                                    locale="vi"))  # fmt: skip
    expect(rows.first.locator("td[data-key=action]")).to_have_text("Đã thay đổi cấu hình")
    both_languages(page, "audit-log")
    page.click("[data-page=older]")
    expect(rows).to_have_count(7 - PAGE_ROWS)
    second_page = [int(key) for key, _ in table_cells(page, "table[data-table=audit] tbody tr")]
    assert second_page == newest_first[PAGE_ROWS:]
    page.click("[data-page=newer]")
    expect(rows).to_have_count(PAGE_ROWS)
    got, lines = download(page, "[data-csv=audit]")
    assert got.suggested_filename == f"audit-it.minh-{first:%Y-%m}.csv"
    assert sorted(int(line["id"]) for line in lines) == sorted(newest_first)
    assert {line["actor"] for line in lines} == {"it.minh"}
    detail = json.loads(next(line for line in lines if int(line["id"]) == newest["id"])["detail"])
    assert detail == newest["detail"]
