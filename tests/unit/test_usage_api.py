"""``GET /api/v1/reports/usage``: the scenario worked out by hand, as JSON and CSV, with real
tokens; the wattage from the sites file; who may read what; refusals naming the field."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.parsing import Classifier, Parsed
from hub.roster import Roster
from hub.settings import HubSettings
from hub.store import Store
from protocol import RoomTopics, Telemetry
from tests.unit.hub_helpers import ROOT, SITE, bearer
from tests.unit.usage_scenario import NOW, START, scenario

API = "/api/v1/reports/usage"
OTHER = "thcs-phan-boi-chau"
SITES_YAML = f"""
sites:
  - id: {SITE}
    name: THCS Nguyễn Chí Thanh
    rooms:
      - id: 6a1
        devices:
          projector: {{watts: 300, lamp_limit_h: 4000}}
          lights: {{watts: 160, zone_watts: {{front: 120}}}}
      - 6a2
  - id: {OTHER}
    name: THCS Phan Bội Châu
    rooms: [7b1]
"""
DAY = {"from": "2025-03-03", "to": "2025-03-03"}


def other_school_projector_hour() -> Parsed:
    msg = Telemetry(
        sender=f"edge/{OTHER}/7b1", boot="b7", boot_no=1, seq=1, ts=START + timedelta(hours=1),
        device="projector", readings={"power_on": 1}, interval_s=3600,
    )  # fmt: skip
    classify = Classifier(ROOT, Roster([(OTHER, "7b1")]), hub_id="hub-test")
    item = classify(RoomTopics(OTHER, "7b1", ROOT).telemetry, msg.model_dump_json().encode())
    assert isinstance(item, Parsed)
    return item


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


def get(client: TestClient, headers: dict[str, str], **query: Any) -> Any:
    return client.get(API, params=query, headers=headers)


def test_a_school_day_as_worked_out_by_hand(client: TestClient) -> None:
    it = bearer(client.app)
    r = get(client, it, scope="school", site=SITE, **DAY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"], body["timezone"]) == ("2025-03-03", "2025-03-03",
                                                            "Asia/Ho_Chi_Minh")  # fmt: skip
    [day] = body["periods"]
    assert (day["projector_on_h"], day["lighting_on_h"], day["occupied_h"]) == (2.167, 4.0, 2.0)
    assert day["energy_kwh"] == 1.04  # the wattage of the sites file
    assert day["waste"] == {"projector_h": 1.0, "lighting_h": 2.0, "empty_room_h": 3.0,
                            "outside_timetable_h": 2.0, "energy_kwh": 0.45}  # fmt: skip
    assert (day["co2_over_1000_min"], day["lesson_temperature_c"]) == (90.0, 30.33)
    lamp = next(f for f in body["forecasts"]["lamps"] if f["room"] == "6a1")["lamp"]
    assert (lamp["hours"], lamp["limit_h"], lamp["due"]) == (3991.0, 4000.0, "2025-03-10")
    [energy] = body["forecasts"]["energy"]
    assert (energy["site"], energy["month"], energy["method"]) == (SITE, "2025-04", "none")


def test_the_same_report_as_csv(client: TestClient) -> None:
    r = get(client, bearer(client.app), scope="school", site=SITE, format="csv",
            **{"from": "2025-03-02", "to": "2025-03-03"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = f'attachment; filename="usage-{SITE}-2025-03-02_2025-03-03.csv"'
    assert r.headers["content-disposition"] == disposition
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["period"] for row in rows] == ["2025-03-02", "2025-03-03", "total"]
    monday = rows[1]
    assert (monday["projector_on_h"], monday["energy_kwh"], monday["waste_energy_kwh"]) == (
        "2.167", "1.04", "0.45",
    )  # fmt: skip
    assert (monday["lighting_h:lights/front"], monday["lighting_h:lights/back"]) == ("3.0", "1.0")
    assert rows[0]["lesson_temperature_c"] == ""  # no lesson that Sunday: no mean
    assert rows[2]["energy_kwh"] == "1.04"
    assert (rows[2]["start"], rows[2]["end"]) == ("2025-03-02", "2025-03-03")


def test_the_district_covers_the_schools_the_caller_may_read(client: TestClient) -> None:
    district = get(client, bearer(client.app, Role.DISTRICT), **DAY).json()
    assert district["sites"] == [SITE, OTHER]
    assert district["total"]["projector_on_h"] == 3.167
    own = get(client, bearer(client.app, Role.ADMIN), **DAY).json()  # admin of SITE
    assert own["sites"] == [SITE]
    assert own["total"]["projector_on_h"] == 2.167
    assert {f["site"] for f in own["forecasts"]["lamps"]} == {SITE}


def test_refusals(client: TestClient) -> None:
    teacher = bearer(client.app, Role.TEACHER)
    assert get(client, teacher, **DAY).status_code == 403  # teachers read no reports
    other_admin = bearer(client.app, Role.ADMIN, sites=[OTHER])
    r = get(client, other_admin, scope="school", site=SITE, **DAY)
    assert (r.status_code, set(r.json())) == (403, {"detail"})
    r = get(client, other_admin, scope="room", site=SITE, room="6a1", **DAY)
    assert r.status_code == 403
    it = bearer(client.app)
    assert get(client, it, scope="room", site=SITE, room="9z9", **DAY).status_code == 404
    assert get(client, {}, **DAY).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"scope": "room", "site": SITE}, "room"),
        ({"scope": "school"}, "site"),
        ({"scope": "school", "site": SITE, "room": "6a1"}, "room"),
        ({"scope": "district", "site": SITE}, "site"),
        ({"from": "2025-03-04", "to": "2025-03-03"}, "from"),
        ({"from": "2020-01-01", "to": "2025-03-03"}, "to"),
        ({"group": "hour", "from": "2025-03-01", "to": "2025-03-10"}, "group"),
        ({"group": "year"}, "group"),
        ({"scope": "planet"}, "scope"),
        ({"from": "3.3.2025"}, "from"),
        ({"to": "0001-01-01"}, "to"),
        ({"format": "xml"}, "format"),
    ],
)
def test_a_bad_query_is_refused_naming_the_field(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    r = get(client, bearer(client.app, Role.DISTRICT), **query)
    assert r.status_code == 422, r.text
    assert [p["loc"] for p in r.json()["detail"]] == [["query", field]]


def test_a_room_by_hour(client: TestClient) -> None:
    r = get(client, bearer(client.app), scope="room", site=SITE, room="6a1", group="hour", **DAY)
    assert r.status_code == 200, r.text
    on = {p["period"]: p["projector_on_h"] for p in r.json()["periods"] if p["projector_on_h"]}
    assert on == {"2025-03-03T07:00:00+07:00": 0.667, "2025-03-03T08:00:00+07:00": 0.5}


def test_without_a_range_the_last_30_days_up_to_today(client: TestClient) -> None:
    body = get(client, bearer(client.app, Role.DISTRICT)).json()
    assert (body["from"], body["to"], len(body["periods"])) == ("2025-02-02", "2025-03-03", 30)
    assert body["total"]["energy_kwh"] == 1.29  # both schools: 1.04 and 250 W for an hour


def test_the_rollups_are_counted_in_the_metrics(client: TestClient) -> None:
    lines = client.get("/metrics", headers=bearer(client.app)).text.splitlines()
    samples = len(scenario()) + 1  # and the other school's hour
    assert f"smartclass_hub_rollup_samples_total {samples:.1f}" in lines
    assert "smartclass_hub_rollup_errors_total 0.0" in lines
