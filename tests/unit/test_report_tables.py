"""The report pages' other tables through the API: comparisons of rooms and of schools, the
forecasts on their own, the audit log newest first; each as JSON and CSV with the same
figures, named for what it holds, on both databases, with real tokens."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.audit import Audit
from hub.report_compare import ComparedPublic, sort_rows
from hub.report_exports import audit_file_name, file_name, period_name
from hub.report_models import UsageFigures
from hub.settings import HubSettings
from hub.store import Store
from tests.unit.hub_helpers import SITE, bearer
from tests.unit.test_usage_api import OTHER, SITES_YAML, other_school_projector_hour
from tests.unit.usage_scenario import NOW, scenario

API = "/api/v1/reports"
DAY = {"from": "2025-03-03", "to": "2025-03-03"}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES_YAML, encoding="utf-8")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    with TestClient(create_app(settings, connect_mqtt=False)) as c:
        hub = c.app.state.hub  # type: ignore[attr-defined]
        store: Store = hub.store
        store.write_batch([*scenario(), other_school_projector_hour()], now=NOW)
        hub.reports.clock = lambda: NOW
        yield c


def get(client: TestClient, path: str, headers: dict[str, str], **query: Any) -> Any:
    r = client.get(f"{API}{path}", params=query, headers=headers)
    assert r.status_code == 200, r.text
    return r


def usage_total(client: TestClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    found: dict[str, Any] = get(client, "/usage", headers, **query, **DAY).json()["total"]
    return found


def test_each_room_is_the_total_of_its_own_report(client: TestClient) -> None:
    it = bearer(client.app)
    body = get(client, "/compare", it, by="room", site=SITE, **DAY).json()
    assert [r["room"] for r in body["rows"]] == ["6a1", "6a2"]
    for row in body["rows"]:
        own = usage_total(client, it, scope="room", site=SITE, room=row["room"])
        assert row["figures"] == own
        energy, waste = own["energy_kwh"], own["waste"]["energy_kwh"]
        assert row["waste_pct"] == round(100 * waste / energy, 1)
        assert row["kwh_per_room"] == energy
    # by hand (usage_scenario): 6a1 wastes its lights' last hour, 200 of 790 Wh; 6a2 its
    # projector's hour in an empty room, all of its 250 Wh
    assert [r["waste_pct"] for r in body["rows"]] == [25.3, 100.0]


def test_rooms_sorted_by_a_figure_and_without_data_last(client: TestClient) -> None:
    it = bearer(client.app)
    by_waste = get(client, "/compare", it, by="room", site=SITE, sort="waste_pct", order="desc",
                   **DAY).json()  # fmt: skip
    assert [r["room"] for r in by_waste["rows"]] == ["6a2", "6a1"]
    assert (by_waste["sort"], by_waste["order"]) == ("waste_pct", "desc")
    sunday = {"from": "2025-03-02", "to": "2025-03-02"}
    empty = get(client, "/compare", it, by="room", site=SITE, sort="energy_kwh", **sunday).json()
    assert [r["figures"]["rooms"] for r in empty["rows"]] == [0, 0], "listed, with no data"
    assert [r["waste_pct"] for r in empty["rows"]] == [None, None]


def test_schools_are_the_totals_of_their_own_reports(client: TestClient) -> None:
    district = bearer(client.app, Role.DISTRICT)
    body = get(client, "/compare", district, by="school", **DAY).json()
    assert [(r["site"], r["name"]) for r in body["rows"]] == [
        (SITE, "THCS Nguyễn Chí Thanh"), (OTHER, "THCS Phan Bội Châu"),
    ]  # fmt: skip
    for row in body["rows"]:
        assert row["figures"] == usage_total(client, district, scope="school", site=row["site"])
        rooms = row["figures"]["rooms"]
        assert row["kwh_per_room"] == round(row["figures"]["energy_kwh"] / rooms, 3)
    admin = get(client, "/compare", bearer(client.app, Role.ADMIN), by="school", **DAY).json()
    assert [r["site"] for r in admin["rows"]] == [SITE], "an admin compares their own schools"


def test_the_comparison_as_csv_has_the_figures_of_the_json(client: TestClient) -> None:
    it = bearer(client.app)
    query = {"by": "room", "site": SITE, "sort": "energy_kwh", "order": "desc", **DAY}
    body = get(client, "/compare", it, **query).json()
    r = get(client, "/compare", it, format="csv", **query)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    name = f"compare-rooms-{SITE}-2025-03-03.csv"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [line["room"] for line in lines] == [row["room"] for row in body["rows"]]
    for line, row in zip(lines, body["rows"], strict=True):
        figures = row["figures"]
        for key in ("projector_on_h", "lighting_on_h", "occupied_h", "energy_kwh",
                    "co2_over_1000_min"):  # fmt: skip
            assert float(line[key]) == figures[key], key
        assert float(line["waste_energy_kwh"]) == figures["waste"]["energy_kwh"]
        assert float(line["waste_pct"]) == row["waste_pct"]
        expected = figures["lesson_temperature_c"]
        assert line["lesson_temperature_c"] == ("" if expected is None else str(expected))


def test_a_comparison_refused_names_the_field_or_the_school(client: TestClient) -> None:
    it = bearer(client.app)
    r = client.get(f"{API}/compare", params={"by": "room"}, headers=it)
    assert (r.status_code, r.json()["detail"][0]["loc"]) == (422, ["query", "site"])
    r = client.get(f"{API}/compare", params={"by": "school", "site": SITE}, headers=it)
    assert (r.status_code, r.json()["detail"][0]["loc"]) == (422, ["query", "site"])
    r = client.get(f"{API}/compare", params={"by": "room", "site": OTHER}, headers=it)
    assert r.status_code == 403
    r = client.get(f"{API}/compare", params={"by": "room", "site": "no-such-school"},
                   headers=bearer(client.app, Role.DISTRICT))  # fmt: skip
    assert r.status_code == 404
    r = client.get(f"{API}/compare", params={"by": "room", "site": SITE, "sort": "x"}, headers=it)
    assert r.status_code == 422
    teacher = client.get(f"{API}/compare", headers=bearer(client.app, Role.TEACHER))
    assert teacher.status_code == 403


def test_the_forecasts_are_those_of_the_usage_report(client: TestClient) -> None:
    it = bearer(client.app)
    body = get(client, "/forecasts", it, scope="school", site=SITE).json()
    assert (body["today"], body["timezone"]) == ("2025-03-03", "Asia/Ho_Chi_Minh")
    usage = get(client, "/usage", it, scope="school", site=SITE, **DAY).json()["forecasts"]
    assert body["lamps"] == usage["lamps"]
    assert body["energy"] == usage["energy"]
    lamp = next(f for f in body["lamps"] if f["room"] == "6a1")["lamp"]
    assert lamp["due"] == "2025-03-10", "as worked out by hand (usage_scenario)"


def test_the_district_forecasts_every_school_it_may_read(client: TestClient) -> None:
    body = get(client, "/forecasts", bearer(client.app, Role.DISTRICT)).json()
    assert [e["site"] for e in body["energy"]] == [SITE, OTHER]
    assert {(f["site"], f["room"]) for f in body["lamps"]} == {
        (SITE, "6a1"), (SITE, "6a2"), (OTHER, "7b1"),
    }  # fmt: skip
    admin = get(client, "/forecasts", bearer(client.app, Role.ADMIN)).json()
    assert [e["site"] for e in admin["energy"]] == [SITE]
    assert {f["site"] for f in admin["lamps"]} == {SITE}


def test_the_forecasts_as_csv(client: TestClient) -> None:
    it = bearer(client.app)
    query = {"scope": "room", "site": SITE, "room": "6a1"}
    body = get(client, "/forecasts", it, **query).json()
    lamps = get(client, "/forecasts/lamps.csv", it, **query)
    name = f"lamps-{SITE}-6a1-2025-03-03.csv"
    assert lamps.headers["content-disposition"] == f'attachment; filename="{name}"'
    [line] = list(csv.DictReader(io.StringIO(lamps.text)))
    [lamp] = body["lamps"]
    assert (line["device"], line["lamp_due"], line["filter_due"]) == (
        lamp["device"], lamp["lamp"]["due"], lamp["filter"]["due"],
    )  # fmt: skip
    assert float(line["lamp_hours"]) == lamp["lamp"]["hours"]
    assert float(line["rate_h_per_day"]) == lamp["rate_h_per_day"]
    assert line["lamp_reached"] == "false"
    energy = get(client, "/forecasts/energy.csv", it, **query)
    name = f"energy-forecast-{SITE}-6a1-2025-04.csv"
    assert energy.headers["content-disposition"] == f'attachment; filename="{name}"'
    [line] = list(csv.DictReader(io.StringIO(energy.text)))
    [forecast] = body["energy"]
    assert (line["room"], line["month"], line["method"]) == ("6a1", "2025-04", forecast["method"])
    assert line["kwh"] == ("" if forecast["kwh"] is None else str(forecast["kwh"]))


def test_the_audit_log_newest_first_paged_back(client: TestClient) -> None:
    audit: Audit = client.app.state.hub.audit  # type: ignore[attr-defined]
    for i in range(5):
        audit.record_sync(None, "command", site=SITE, room="6a1", device=f"d{i}")
    it = bearer(client.app)

    def page(**query: Any) -> list[int]:
        r = client.get("/api/v1/audit", params={"order": "desc", "limit": 2, **query}, headers=it)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json() if e["action"] == "command"]

    first = page()
    second = page(before_id=first[-1])
    third = page(before_id=second[-1])
    ids = first + second + third
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == 5


def test_the_audit_export_is_named_for_its_filter(client: TestClient) -> None:
    it = bearer(client.app)
    since = datetime(2026, 10, 31, 17, tzinfo=UTC)  # 1 November, midnight in Hồ Chí Minh City
    query = {"site": SITE, "since": since.isoformat(),
             "until": (since + timedelta(days=30)).isoformat()}  # fmt: skip
    r = client.get("/api/v1/audit.csv", params=query, headers=it)
    assert r.status_code == 200
    name = f"audit-{SITE}-2026-11.csv"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'


def test_file_names_say_the_period() -> None:
    assert period_name(date(2026, 11, 1), date(2026, 11, 30)) == "2026-11"
    assert period_name(date(2024, 2, 1), date(2024, 2, 29)) == "2024-02"
    assert period_name(date(2026, 11, 2), date(2026, 11, 8)) == "2026-W45"
    assert period_name(date(2026, 1, 1), date(2026, 12, 31)) == "2026"
    assert period_name(date(2026, 11, 3), date(2026, 11, 3)) == "2026-11-03"
    assert period_name(date(2026, 11, 3), date(2026, 11, 20)) == "2026-11-03_2026-11-20"
    assert file_name("usage", SITE, None, period="2026-11") == f"usage-{SITE}-2026-11.csv"
    assert file_name("usage", None, None, period="2026", group="month") == (
        "usage-district-2026-by-month.csv"
    )
    day = datetime(2026, 11, 2, 17, tzinfo=UTC)  # 3 November, local midnight
    assert audit_file_name(None, None, "it.minh", day, None, HCM) == (
        "audit-it.minh-from-2026-11-03.csv"
    )
    assert audit_file_name(None, None, 'a "name"', None, None, HCM) == "audit-all.csv"


def test_names_sort_as_in_vietnamese() -> None:
    names = ["THCS Lê Lợi", "THCS Đinh Tiên Hoàng", "THCS Ánh Sáng", "THCS Bạch Đằng", "THCS Zô"]
    rows = [
        ComparedPublic(site=f"s{i}", name=n, figures=UsageFigures()) for i, n in enumerate(names)
    ]
    ordered = [r.name for r in sort_rows(rows, "name", "asc")]
    assert ordered == ["THCS Ánh Sáng", "THCS Bạch Đằng", "THCS Đinh Tiên Hoàng", "THCS Lê Lợi",
                       "THCS Zô"]  # fmt: skip
