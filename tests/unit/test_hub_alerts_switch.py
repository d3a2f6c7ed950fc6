"""``SMARTCLASS_HUB_ALERTS``: with the alerts off the hub runs no alert work at all (none per
message in the ingest), says so in its API, and keeps everything else."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.alerts.service import AlertService
from hub.app import create_app
from hub.settings import HubSettings
from smartclass.broker import free_port
from tests.unit.hub_helpers import SITE, bearer


@pytest.fixture(params=[True, False], ids=["alerts-on", "alerts-off"])
def client(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[TestClient]:
    """A hub whose ingest is built (its broker port has nobody listening: it never connects)."""
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: {SITE}\n    rooms: [6a1]\n")
    settings = HubSettings(
        database_url=database_url, sites_file=sites, mqtt_port=free_port(), alerts=request.param
    )
    with TestClient(create_app(settings)) as c:
        c.headers.update(bearer(c))
        yield c


def test_the_alerts_run_and_observe_the_ingest_only_when_on(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    alert_work = [o for o in hub.ingest.observers if isinstance(o.__self__, AlertService)]
    if hub.settings.alerts:
        assert alert_work == [hub.alerts.observe]
        r = client.get("/api/v1/alerts")
        assert (r.status_code, r.json()) == (200, {"alerts": [], "next_before": None})
    else:
        assert hub.alerts is None
        assert alert_work == [], "no alert work per message"
        r = client.get("/api/v1/alerts")
        assert (r.status_code, r.json()["detail"]) == (503, "the hub's alerts are not running")
    assert (client.get("/api/v1/health").json()["alerts"] is not None) is hub.settings.alerts
    metrics = client.get("/metrics").text
    assert "smartclass_hub_ingest_batches" in metrics, "the rest of the metrics are there"
    assert ("smartclass_hub_alert_judgements" in metrics) is hub.settings.alerts


def test_the_switch_comes_from_the_environment_and_a_bad_value_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert HubSettings().alerts is True
    monkeypatch.setenv("SMARTCLASS_HUB_ALERTS", "false")
    assert HubSettings().alerts is False
    monkeypatch.setenv("SMARTCLASS_HUB_ALERTS", "sometimes")
    with pytest.raises(ValidationError, match="alerts"):
        HubSettings()
