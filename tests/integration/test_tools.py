"""IT staff tools: a simulated projector on the network, and one device talked to directly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from smartclass.broker import free_port
from smartclass.cli import main


@pytest.fixture
def sim_projector() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartclass", "--log-level", "WARNING", "sim", "projector",
         "--port", str(port), "--password-env", "PJ_PASS", "--warmup", "0.5"],
        env={**os.environ, "PJ_PASS": "s3cret"}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"listening on 127.0.0.1:{port}" in line, line
    yield port
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "simulated projector stopped" in out


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_switch_a_projector_on_and_change_its_input(
    sim_projector: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PJ_PASS", "s3cret")
    address = f"127.0.0.1:{sim_projector}"
    code, out, _ = _run(["device", "projector", address, "--password-env", "PJ_PASS", "on"], capsys)
    assert code == 0
    assert json.loads(out)["power"] in ("warming", "on")
    # during the warm-up the projector answers ERR3; the driver waits it out
    argv = ["device", "projector", address, "--password-env", "PJ_PASS", "input", "hdmi1"]
    code, out, _ = _run(argv, capsys)
    assert code == 0
    state = json.loads(out)
    assert (state["power"], state["input"]) == ("on", "hdmi1")
    assert state["model"]["manufacturer"] == "smartclass"


def test_a_wrong_password_and_an_unreachable_projector_are_clear_errors(
    sim_projector: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PJ_PASS", "wrong")
    argv = ["device", "projector", f"127.0.0.1:{sim_projector}", "--password-env", "PJ_PASS"]
    code, _, err = _run(argv, capsys)
    assert code == 1
    assert "refused the password" in err
    code, _, err = _run(["device", "projector", f"127.0.0.1:{free_port()}", "status"], capsys)
    assert code == 1
    assert "does not answer" in err
    code, _, err = _run(["device", "projector", "127.0.0.1", "input"], capsys)
    assert code == 2
    assert "a source after 'input'" in err


def test_reading_sensors_on_a_missing_i2c_bus_fails_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(["device", "sensor", "--bus", "250", "--wait", "30"], capsys)
    assert code == 1
    assert "/dev/i2c-250" in err
    assert "waiting" not in err
