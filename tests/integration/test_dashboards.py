"""Every InfluxQL query of every dashboard, run against a real InfluxDB 1.x loaded with the
points the exporter makes (``hub.influx.lines_of``, the exporter's own function)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.influx import lines_of
from tests.school_day import MINUTES, SCHOOL, school_day
from tests.tsdb import InfluxQL, influxql  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
BOARDS = sorted((DASHBOARDS / "smartclass").glob("*.json"))
DATASOURCE = DASHBOARDS / "provisioning" / "datasources" / "smartclass.yaml"
PROVIDER = DASHBOARDS / "provisioning" / "dashboards" / "smartclass.yaml"
START = datetime(2025, 10, 6, 0, 30, tzinfo=UTC)  # 07:30 in Ho Chi Minh City, a Monday
INTERVAL = "5m"


def datasource_uid() -> str:
    data = yaml.safe_load(DATASOURCE.read_text(encoding="utf-8"))
    uid: str = data["datasources"][0]["uid"]
    return uid


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows included."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, InfluxQL) of every panel target and every query variable; fails on a target
    that is not raw InfluxQL on the smartclass data source, so none escapes the checks."""
    uid = datasource_uid()
    for var in board["templating"]["list"]:
        assert var["type"] == "query", f"variable {var['name']}: only query variables are checked"
        assert var["datasource"]["uid"] == uid
        yield f"variable {var['name']}", var["query"]
    for panel in panels(board):
        if panel["type"] in ("row", "text"):
            continue
        where = f"panel {panel['title']!r}"
        assert panel.get("targets"), f"{where} has no query"
        for target in panel["targets"]:
            assert target.get("rawQuery") is True, f"{where}: {target['refId']} is not raw"
            assert target["datasource"]["uid"] == uid, f"{where}: another data source"
            yield f"{where} {target['refId']}", target["query"]


def regex_values(values: list[str]) -> str:
    """What Grafana puts for a variable inside a regex: one escaped value, or (a|b)."""
    escaped = [re.escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"


def substitute(query: str, variables: dict[str, list[str]]) -> str:
    """Grafana's macros and the template variables; fails on any other ``$name``."""
    start_ms = int((START - timedelta(minutes=1)).timestamp() * 1000)
    end_ms = int((START + timedelta(minutes=MINUTES + 1)).timestamp() * 1000)
    out = query.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")
    out = out.replace("$__interval", INTERVAL)
    for name, values in variables.items():
        out = re.sub(rf"\${name}\b", lambda _m, v=values: regex_values(v), out)  # type: ignore[misc]
    left = re.findall(r"\$\w+", out)
    assert not left, f"unknown Grafana variables {left} in {query}"
    return out


def check_result(where: str, query: str, result: dict[str, Any]) -> None:
    """The query parsed, returned series of the measurement it names, grouped by the tags
    it names, and every column it selects has values."""
    assert "error" not in result, f"{where}: {result['error']}\n{query}"
    series = result.get("series") or []
    assert series, f"{where}: no series\n{query}"
    if query.startswith("SHOW TAG VALUES"):
        key = re.search(r'WITH KEY = "(\w+)"', query)
        assert key is not None
        values = {v[0] for s in series for v in s["values"]}
        assert values == {key.group(1)}, f"{where}: keys {values}"
        return
    measurement = re.search(r'FROM "(\w+)"', query)
    assert measurement is not None, f"{where}: no measurement\n{query}"
    group = re.search(r"GROUP BY (.*?)(?: fill\(|$)", query)
    tags = re.findall(r'"(\w+)"', group.group(1)) if group else []
    for s in series:
        assert s["name"] == measurement.group(1), where
        assert set(tags) <= set(s.get("tags", {})), f"{where}: tags {s.get('tags')}"
    columns = series[0]["columns"]
    for i, column in enumerate(columns[1:], start=1):
        values = [row[i] for s in series for row in s["values"]]
        assert any(v is not None for v in values), f"{where}: column {column} is empty\n{query}"


@pytest.fixture(scope="module")
def loaded(influxql: InfluxQL) -> tuple[InfluxQL, str]:  # noqa: F811
    """A database of the module's own holding the school day, as the exporter writes it."""
    db = f"smartclass_{uuid.uuid4().hex[:8]}"
    influxql.query(f'CREATE DATABASE "{db}"')
    points = [point for parsed in school_day(START) for point in lines_of(parsed)]
    for i in range(0, len(points), 5000):
        influxql.write(db, points[i : i + 5000])
    return influxql, db


def test_there_are_dashboards_to_check() -> None:
    names = {path.name for path in BOARDS}
    expected = {"school-overview", "room-environment", "device-usage", "fleet-health"}
    assert names >= {f"{name}.json" for name in expected}


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_every_query_runs_and_returns_its_series(path: Path, loaded: tuple[InfluxQL, str]) -> None:
    server, db = loaded
    board = json.loads(path.read_text(encoding="utf-8"))
    site, rooms = next(iter(SCHOOL.items()))
    one_room = {"site": [site], "room": [rooms[0]]}
    all_rooms = {"site": [site], "room": list(rooms)}
    checked = 0
    for where, raw in queries(board):
        for variables in (one_room, all_rooms):
            query = substitute(raw, variables)
            answer = server.query(query, db)
            check_result(where, query, answer["results"][0])
            checked += 1
    assert checked >= 2 * 4, f"{path.name}: only {checked} queries"


def test_room_variable_lists_the_site_s_rooms(loaded: tuple[InfluxQL, str]) -> None:
    server, db = loaded
    board = json.loads((DASHBOARDS / "smartclass" / "school-overview.json").read_text())
    room_var = next(v for v in board["templating"]["list"] if v["name"] == "room")
    for site, rooms in SCHOOL.items():
        answer = server.query(substitute(room_var["query"], {"site": [site]}), db)
        values = {v[1] for s in answer["results"][0]["series"] for v in s["values"]}
        assert values == set(rooms)


def test_a_misspelt_field_fails_the_check(loaded: tuple[InfluxQL, str]) -> None:
    """The check itself: a query of a field that does not exist does not pass."""
    server, db = loaded
    query = substitute(
        'SELECT mean("co2ppm") FROM "telemetry" WHERE "site" =~ /^$site$/ AND $timeFilter '
        'GROUP BY time($__interval), "room" fill(null)',
        {"site": ["thcs-nguyen-chi-thanh"]},
    )
    with pytest.raises(AssertionError):
        check_result("misspelt", query, server.query(query, db)["results"][0])


def test_provisioning_files_read_the_token_from_the_environment() -> None:
    data = yaml.safe_load(DATASOURCE.read_text(encoding="utf-8"))
    (source,) = data["datasources"]
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    header = source["secureJsonData"]["httpHeaderValue1"]
    assert re.fullmatch(r"Token \$\{[A-Z_]+\}", header), header
    assert re.fullmatch(r"\$\{[A-Z_]+\}", source["url"])
    assert re.fullmatch(r"\$\{[A-Z_]+\}", source["jsonData"]["dbName"])
    provider = yaml.safe_load(PROVIDER.read_text(encoding="utf-8"))
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    assert entry["options"]["path"].endswith("/smartclass")


def test_dashboards_are_distinct_and_filter_by_site_and_room() -> None:
    uids = set()
    for path in BOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        uids.add(board["uid"])
        names = [v["name"] for v in board["templating"]["list"]]
        assert names == ["site", "room"], path.name
        for where, query in queries(board):
            if where.startswith("panel"):
                assert "$timeFilter" in query, f"{path.name} {where}"
                assert '"site" =~ /^$site$/' in query, f"{path.name} {where}"
                assert '"room" =~ /^$room$/' in query, f"{path.name} {where}"
    assert len(uids) == len(BOARDS)
