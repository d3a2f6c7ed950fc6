"""Command dispatch: every outcome of a command becomes a reply code, and nothing raises."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from devices.base import Action, Device, DeviceError, DeviceTimeout, DeviceUnavailable
from edge.dispatch import run_command
from protocol.messages import Command, utcnow


class FakeDevice(Device):
    family = "fake"

    def __init__(self, failure: BaseException | None = None) -> None:
        super().__init__("dev")
        self.failure = failure
        self.calls: list[dict[str, Any]] = []

    @property
    def actions(self) -> Mapping[str, Action]:
        return {"poke": self._poke, "hang": self._hang}

    async def state(self) -> dict[str, Any]:
        return {"pokes": len(self.calls)}

    async def _poke(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        self.calls.append(params)
        return await self.state()

    async def _hang(self, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError  # pragma: no cover


def command(action: str = "poke", device: str = "dev", expires_in: float = 30) -> Command:
    return Command(
        sender="hub/t",
        id="c1",
        device=device,
        action=action,
        params={"n": 1},
        issuer="teacher",
        expires=utcnow() + timedelta(seconds=expires_in),
    )


async def test_ok_returns_the_new_state() -> None:
    device = FakeDevice()
    reply = await run_command({"dev": device}, command(), sender="edge/s/r")
    assert (reply.id, reply.device, reply.code, reply.state) == ("c1", "dev", "ok", {"pokes": 1})
    assert device.calls == [{"n": 1}]


async def test_expired_is_not_executed() -> None:
    device = FakeDevice()
    reply = await run_command({"dev": device}, command(expires_in=-1), sender="edge/s/r")
    assert reply.code == "expired"
    assert device.calls == []


@pytest.mark.parametrize(
    ("failure", "action", "device", "code"),
    [
        (None, "poke", "other", "unknown_device"),
        (None, "jump", "dev", "unknown_action"),
        (DeviceUnavailable("unplugged"), "poke", "dev", "device_unavailable"),
        (DeviceTimeout("slow"), "poke", "dev", "device_error"),
        (DeviceError("broken"), "poke", "dev", "device_error"),
        (RuntimeError("bug"), "poke", "dev", "device_error"),
    ],
)
async def test_failures_become_codes(
    failure: BaseException | None, action: str, device: str, code: str
) -> None:
    reply = await run_command(
        {"dev": FakeDevice(failure)}, command(action, device), sender="edge/s/r"
    )
    assert reply.code == code
    assert reply.state is None


async def test_a_hanging_device_times_out() -> None:
    reply = await run_command(
        {"dev": FakeDevice()}, command("hang"), sender="edge/s/r", time_limit_s=0.01
    )
    assert reply.code == "device_error"
    assert "within" in reply.text
