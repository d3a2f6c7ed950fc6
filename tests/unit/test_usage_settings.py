"""The usage settings and the sites file's devices: defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.ratings import Ratings
from hub.registry import RegistryError, load_sites
from hub.settings import HubSettings


def test_the_report_zone_must_have_whole_hour_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_REPORT_TIMEZONE", "Asia/Kolkata")
    with pytest.raises(ValidationError, match=r"report_timezone\n.*5:30:00 from UTC"):
        HubSettings()
    monkeypatch.setenv("SMARTCLASS_HUB_REPORT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match=r"report_timezone\n.*unknown time zone"):
        HubSettings()
    monkeypatch.setenv("SMARTCLASS_HUB_REPORT_TIMEZONE", "Asia/Bangkok")
    assert HubSettings().report_timezone == "Asia/Bangkok"


def test_a_wattage_setting_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_PROJECTOR_WATTS", "-5")
    with pytest.raises(ValidationError, match="projector_watts"):
        HubSettings()


def test_devices_of_the_sites_file_and_the_defaults(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "sites:\n  - id: s\n    name: S\n    rooms:\n      - id: r1\n        devices:\n"
        "          projector: {watts: 300, lamp_limit_h: 5000}\n"
        "          lights: {watts: 180, zone_watts: {front: 90}}\n      - r2\n",
        encoding="utf-8",
    )
    settings = HubSettings(projector_watts=260, alert_filter_hours=1200)
    ratings = Ratings.of(settings, load_sites(sites))
    assert ratings.projector("s", "r1", "projector") == 300
    assert ratings.projector("s", "r2", "projector") == 260  # the default
    assert ratings.lamp_limit("s", "r1", "projector") == 5000
    assert ratings.filter_limit("s", "r1", "projector") == 1200  # the default
    assert ratings.zone("s", "r1", "lights", "front", 3) == 90
    assert ratings.zone("s", "r1", "lights", "back", 3) == 60  # 180 W shared by 3 zones
    assert ratings.zone("s", "r2", "lights", "back", 4) == 50  # the default 200 W


def test_a_bad_device_entry_names_file_line_and_key(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "sites:\n  - id: s\n    name: S\n    rooms:\n      - id: r1\n        devices:\n"
        "          projector: {wats: 300}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        RegistryError, match=r"sites.yaml:7: sites.0.rooms.0.devices.projector.wats"
    ):
        load_sites(sites)
