"""One device's unexpected failure is recorded and reported once per fault, and never keeps
the rules from judging what the other devices report."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from edge.automation import Automation
from edge.device_faults import DeviceFaults
from edge.rules import Outcome, RuleEngine, RulesConfig


class Reports:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.changed: list[str] = []

    def report(self, device: str, kind: str, severity: str, _text: str, _data: Any) -> None:
        self.events.append((device, kind, severity))


def faults_with(reports: Reports) -> DeviceFaults:
    return DeviceFaults("s/r", report=reports.report, changed=reports.changed.append)


def test_a_fault_is_reported_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    reports = Reports()
    faults = faults_with(reports)
    for _ in range(5):
        with faults.attempt("env", "read") as attempt:
            raise RuntimeError("bug")
        assert attempt.failed
    assert reports.events == [("env", "device_unavailable", "warning")]
    assert reports.changed == ["env"]
    assert faults.errors == {"env": 5}
    assert [r.levelno for r in caplog.records if r.exc_info] == [logging.ERROR]
    assert faults.mark("env", {"co2": 1})["available"] is False
    assert "RuntimeError: bug" in faults.mark("env", {})["reason"]
    with faults.attempt("env", "state"):
        pass  # another kind of call working ends nothing
    assert faults.faulty == ["env"]
    with faults.attempt("env", "read") as attempt:
        pass
    assert not attempt.failed
    assert reports.events[-1] == ("env", "device_available", "info")
    assert reports.changed == ["env", "env"]
    assert faults.mark("env", {"co2": 1}) == {"co2": 1}
    with faults.attempt("env", "read"):
        pass
    assert len(reports.events) == 2, "nothing to report when it keeps working"


def test_a_device_is_available_again_only_when_each_of_its_faults_ended() -> None:
    reports = Reports()
    faults = faults_with(reports)
    with faults.attempt("proj", "read"):
        raise OSError(5, "I/O")
    with faults.attempt("proj", "state"):
        raise TimeoutError
    assert reports.events == [("proj", "device_unavailable", "warning")]
    with faults.attempt("proj", "read"):
        pass
    assert faults.faulty == ["proj"]
    with faults.attempt("proj", "state"):
        pass
    assert reports.events[-1] == ("proj", "device_available", "info")
    assert faults.faulty == []


def test_a_hook_that_fails_is_logged_and_the_fault_still_recorded() -> None:
    def broken(*_args: Any) -> None:
        raise ValueError("hook")

    faults = DeviceFaults("s/r", report=broken)
    with faults.attempt("env", "read"):
        raise RuntimeError("bug")
    assert faults.faulty == ["env"]


def test_a_cancellation_is_never_taken_for_a_fault() -> None:
    import asyncio

    faults = DeviceFaults("s/r")
    with pytest.raises(asyncio.CancelledError), faults.attempt("env", "read"):
        raise asyncio.CancelledError
    assert faults.faulty == []


class Recorder:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def emit_event(self, kind: str, **_fields: Any) -> None:
        self.kinds.append(kind)


class BuggyOn(RuleEngine):
    """The real rules, with a bug that one device's reports set off."""

    def __init__(self, bad: str, config: RulesConfig, families: Mapping[str, str]) -> None:
        super().__init__(config, families)
        self.bad = bad

    def observe(
        self,
        now: datetime,
        device: str,
        *,
        readings: Mapping[str, float] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Outcome:
        if device == self.bad:
            raise KeyError("unforeseen shape")
        return super().observe(now, device, readings=readings, state=state)


async def test_rules_that_fail_on_one_device_judge_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    families = {"env": "environment", "env2": "environment"}
    config = RulesConfig.model_validate({"co2": {"co2_ppm": 1000}})
    recorder = Recorder()
    automation = Automation({}, recorder, sender="edge/s/r", rules=config)
    automation._families = families
    automation.rules = BuggyOn("env", config, families)
    for _ in range(3):
        await automation._observe("env", {"co2_ppm": 2000.0}, None)
    await automation._observe("env2", {"co2_ppm": 2000.0}, None)
    assert recorder.kinds == ["co2_high"], "the other sensor was judged"
    assert len([r for r in caplog.records if r.exc_info]) == 1, "logged once, not per sample"
