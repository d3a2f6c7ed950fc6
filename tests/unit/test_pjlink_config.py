"""Projector config models and the checks the device makes before it opens any connection."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from devices import projector
from devices.base import BadCommand, DeviceError
from devices.projector.config import PjlinkProjectorConfig, SimProjectorConfig
from devices.projector.driver import PjlinkProjector

ADAPTER: TypeAdapter[PjlinkProjectorConfig | SimProjectorConfig] = TypeAdapter(
    projector.FAMILY.config_type
)


def test_backend_picks_the_model_and_defaults_apply() -> None:
    real = ADAPTER.validate_python({"backend": "pjlink", "host": "10.0.0.5"})
    assert isinstance(real, PjlinkProjectorConfig)
    assert (real.family, real.port, real.password_env) == ("projector", 4352, None)
    assert real.inputs["hdmi1"] == "31"
    sim = ADAPTER.validate_python({"backend": "sim", "warmup_s": 5})
    assert isinstance(sim, SimProjectorConfig)
    assert (sim.port, sim.warmup_s, sim.pjlink_class) == (0, 5, 2)


@pytest.mark.parametrize(
    "config",
    [
        {"backend": "pjlink"},
        {"backend": "pjlink", "host": "p", "password": "secret"},  # secrets never in YAML
        {"backend": "pjlink", "host": "p", "password_env": "not a name"},
        {"backend": "pjlink", "host": "p", "port": 0},
        {"backend": "pjlink", "host": "p", "inputs": {"hdmi1": "71"}},
        {"backend": "pjlink", "host": "p", "inputs": {"HDMI 1": "31"}},
        {"backend": "pjlink", "host": "p", "busy_wait_s": -1},
        {"backend": "sim", "available_inputs": []},
        {"backend": "serial", "host": "p"},
    ],
)
def test_bad_configs_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(config)


def test_password_comes_from_the_named_environment_variable() -> None:
    config = PjlinkProjectorConfig(backend="pjlink", host="p", password_env="ROOM1_PJ_PASSWORD")
    with pytest.raises(DeviceError, match="ROOM1_PJ_PASSWORD"):
        PjlinkProjector("p1", config, environ={})
    device = PjlinkProjector("p1", config, environ={"ROOM1_PJ_PASSWORD": "x"})
    assert device.address == "p:4352"


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("dance", {}, "unknown_action"),
        ("on", {"now": True}, "bad_params"),
        ("input", {}, "bad_params"),
        ("input", {"source": "hdmi9"}, "bad_params"),
        ("input", {"source": "71"}, "bad_params"),
        ("mute", {"video": True}, "bad_params"),
    ],
)
async def test_bad_commands_are_refused_before_any_connection(
    action: str, params: dict[str, Any], code: str
) -> None:
    config = PjlinkProjectorConfig(backend="pjlink", host="127.0.0.1", port=9)
    device = PjlinkProjector("p1", config)
    with pytest.raises(BadCommand) as info:
        await device.execute(action, params)
    assert info.value.code == code
    assert device.available is False  # never contacted
