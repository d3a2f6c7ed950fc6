"""The alert and webhook settings from the environment: lists as comma-separated words, and
errors that name the key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.alerts.service import limits_of
from hub.settings import HubSettings


def test_severities_and_the_webhook_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_WEBHOOK_URL", "https://ops.example.edu.vn/hooks/sc?k=1")
    monkeypatch.setenv("SMARTCLASS_HUB_WEBHOOK_SECRET", "a-secret-of-20-chars")
    monkeypatch.setenv("SMARTCLASS_HUB_WEBHOOK_SEVERITIES", "critical, warning")
    monkeypatch.setenv("SMARTCLASS_HUB_ALERT_OFFLINE_GRACE_S", "300")
    settings = HubSettings()
    assert str(settings.webhook_url) == "https://ops.example.edu.vn/hooks/sc?k=1"
    assert settings.webhook_severities == {"critical", "warning"}
    assert limits_of(settings).offline_grace_s == 300
    assert HubSettings(webhook_severities=["info"]).webhook_severities == {"info"}


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"SMARTCLASS_HUB_WEBHOOK_URL": "ops.example/hook"}, "webhook_url"),
        ({"SMARTCLASS_HUB_WEBHOOK_URL": "https://ops.example/hook"}, "WEBHOOK_SECRET"),
        ({"SMARTCLASS_HUB_WEBHOOK_SECRET": "short"}, "webhook_secret"),
        ({"SMARTCLASS_HUB_WEBHOOK_SEVERITIES": "warning,urgent"}, "webhook_severities"),
        ({"SMARTCLASS_HUB_WEBHOOK_TIMEOUT_S": "0"}, "webhook_timeout_s"),
        ({"SMARTCLASS_HUB_WEBHOOK_RETRIES": "-1"}, "webhook_retries"),
        ({"SMARTCLASS_HUB_ALERT_CO2_HYSTERESIS_PPM": "1500"}, "alert_co2_hysteresis_ppm"),
        ({"SMARTCLASS_HUB_ALERT_GAP_GRACE_S": "soon"}, "alert_gap_grace_s"),
    ],
)
def test_a_bad_setting_names_its_key(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], key: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=key):
        HubSettings()
