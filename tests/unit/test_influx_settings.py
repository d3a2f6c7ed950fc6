"""Settings of the InfluxDB export: off unless configured, complete when on, secrets hidden."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.influx import InfluxConfig
from hub.settings import HubSettings

ON = {
    "SMARTCLASS_HUB_INFLUX_URL": "http://influx.school.lan:8086",
    "SMARTCLASS_HUB_INFLUX_ORG": "district-12",
    "SMARTCLASS_HUB_INFLUX_BUCKET": "smartclass",
    "SMARTCLASS_HUB_INFLUX_TOKEN": "s3cret-token",
}


def test_off_unless_a_url_is_set() -> None:
    assert InfluxConfig.from_settings(HubSettings()) is None


def test_on_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ON.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMARTCLASS_HUB_INFLUX_BACKLOG_MAX", "5000")
    config = InfluxConfig.from_settings(HubSettings())
    assert config is not None
    assert (config.url, config.org, config.bucket) == (ON["SMARTCLASS_HUB_INFLUX_URL"],
                                                      "district-12", "smartclass")  # fmt: skip
    assert config.token == "s3cret-token"
    assert config.backlog_max == 5000
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize("missing", sorted(set(ON) - {"SMARTCLASS_HUB_INFLUX_URL"}))
def test_a_url_without_its_parts_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for key, value in ON.items():
        if key != missing:
            monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError) as info:
        HubSettings()
    assert missing in str(info.value)
    assert "s3cret" not in str(info.value)


def test_parts_without_a_url_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_INFLUX_TOKEN", "s3cret-token")
    monkeypatch.setenv("SMARTCLASS_HUB_MQTT_PASSWORD", "mqtt-s3cret")
    with pytest.raises(ValidationError) as info:
        HubSettings()
    text = str(info.value)
    assert "SMARTCLASS_HUB_INFLUX_TOKEN set without SMARTCLASS_HUB_INFLUX_URL" in text
    assert "s3cret" not in text


def test_a_bad_value_names_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_INFLUX_URL", "influx:8086")
    monkeypatch.setenv("SMARTCLASS_HUB_INFLUX_BATCH_SIZE", "0")
    with pytest.raises(ValidationError) as info:
        HubSettings()
    assert "influx_url" in str(info.value)
    assert "influx_batch_size" in str(info.value)


def test_the_url_shown_has_no_credentials() -> None:
    config = InfluxConfig("http://user:pw@influx:8086/base", "o", "b", "t")
    assert config.safe_url == "http://influx:8086/base"
