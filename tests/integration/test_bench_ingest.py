"""``smartclass bench ingest --extras both``, small: a secured broker, the hub with and
without its extras in one round, each checked (acknowledgements, rollups, alerts), and
every ratio printed."""

from __future__ import annotations

import re

import pytest

from smartclass.cli import main

pytestmark = pytest.mark.integration


def test_the_bench_runs_the_hub_with_and_without_its_extras(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", "ingest", "--agents", "2", "--messages", "60", "--repeat", "1"]
    assert main([*argv, "--extras", "both"]) == 0
    out = capsys.readouterr().out
    assert "anonymous clients refused" in out
    rates = dict(re.findall(r"^  round 1: (hub[\w ]*), stored +(\d+) msg/s", out, re.M))
    assert set(rates) == {"hub", "hub without extras"}
    assert all(int(rate) > 0 for rate in rates.values())
    ratios = dict(re.findall(r"^ratio (.+?) +(\d+\.\d\d)", out, re.M))
    assert set(ratios) == {
        "hub without extras / plain MQTT 5",
        "hub / plain MQTT 5",
        "hub / plain MQTT 3.1.1",
        "with / without extras",
    }
