"""The report pages on the server: a bad filter is said next to its field (never a 422), a
page shows what the API answers, and the audit log's days are the school's local days."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.audit import AuditEntry
from hub.settings import HubSettings
from hub.store import Store
from tests.unit.hub_helpers import SITE, bearer
from tests.unit.test_usage_api import SITES_YAML
from tests.unit.usage_scenario import NOW, scenario

VI = {"Accept-Language": "vi"}


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES_YAML, encoding="utf-8")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    with TestClient(create_app(settings, connect_mqtt=False)) as c:
        hub = c.app.state.hub  # type: ignore[attr-defined]
        store: Store = hub.store
        store.write_batch(scenario(), now=NOW)
        hub.reports.clock = lambda: NOW
        yield c


def page(client: TestClient, path: str, role: Role = Role.ADMIN, **query: Any) -> str:
    r = client.get(path, params=query, headers={**bearer(client.app, role), **VI})
    assert r.status_code == 200, r.text
    return r.text


def problem_of(html: str, field: str) -> str | None:
    """The problem said next to ``field``, if any (the field points at it)."""
    if f'id="{field}" name="{field}"' not in html:
        return None
    found = re.search(rf'<p class="field-error" id="{field}-problem">([^<]*)</p>', html)
    if found is None:
        return None
    assert f'aria-describedby="{field}-problem"' in html
    return found.group(1)


def test_a_day_that_is_no_day_is_said_next_to_its_field(client: TestClient) -> None:
    html = page(client, "/reports", **{"from": "2025-02-30", "to": "2025-03-03"})
    assert problem_of(html, "from") == "Hãy chọn một ngày trên lịch (năm-tháng-ngày)."
    assert problem_of(html, "to") is None
    assert "data-chart" not in html, "no report for a filter with a problem"


def test_the_range_rules_are_the_apis_in_the_users_words(client: TestClient) -> None:
    html = page(client, "/reports", **{"from": "2025-03-04", "to": "2025-03-03"})
    assert problem_of(html, "from") == "Ngày bắt đầu không được sau ngày kết thúc."
    html = page(client, "/reports", group="hour", **{"from": "2025-03-01", "to": "2025-03-10"})
    assert problem_of(html, "group") == (
        "Báo cáo theo giờ bao gồm tối đa 7 ngày; khoảng thời gian này có 10 ngày."
    )
    api = client.get("/api/v1/reports/usage", headers=bearer(client.app, Role.ADMIN), params={
        "scope": "school", "site": SITE, "group": "hour", "from": "2025-03-01", "to": "2025-03-10",
    })  # fmt: skip
    assert api.json()["detail"][0]["loc"] == ["query", "group"], "the API refuses it too"


def test_the_page_shows_the_apis_figures(client: TestClient) -> None:
    html = page(client, "/reports", **{"from": "2025-03-03", "to": "2025-03-03"})
    # by hand (usage_scenario): 2.167 projector hours, 1.04 kWh, 0.45 kWh wasted, 30.33 °C
    row = html[html.index('<tr data-period="2025-03-03">') :]
    row = row[: row.index("</tr>")]
    assert '<td data-key="projector_on_h">2,167</td>' in row
    assert '<td data-key="energy_kwh">1,04</td>' in html
    assert '<td data-key="waste_energy_kwh">0,45</td>' in html
    assert '<td data-key="lesson_temperature_c">30,33</td>' in html
    assert "Thứ 2, 3 thg 3, 2025" in html, "the day in Vietnamese"


def test_a_place_that_is_none_is_not_found(client: TestClient) -> None:
    r = client.get("/reports", params={"place": "a/b/c"}, headers=bearer(client.app, Role.ADMIN))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


def test_the_audit_logs_days_are_local_days(client: TestClient) -> None:
    late = datetime(2025, 3, 3, 16, 30, tzinfo=UTC)  # 23:30 on 3 March in Hồ Chí Minh City
    with client.app.state.hub.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(AuditEntry), [{
            "at": late, "actor": "it.minh", "role": "it", "action": "command", "site": SITE,
            "room": "6a1", "device": "lights", "detail": {"text": "Tắt đèn"},
        }])  # fmt: skip
    html = page(client, "/audit", **{"from": "2025-03-03", "to": "2025-03-03"})
    assert html.count('<tr data-id="') == 1
    assert "23:30:00" in html, "shown in the school's time zone"
    assert "Lệnh điều khiển thiết bị" in html
    assert "Tắt đèn" in html
    html = page(client, "/audit", **{"from": "2025-03-04", "to": "2025-03-04"})
    assert html.count('<tr data-id="') == 0
