"""Projector contract suite: the real PJLink driver over TCP on 127.0.0.1 against every backend.

Backends: the simulator built from a ``sim`` config (no password, with a password, class 1),
and a ``pjlink`` config pointed at a separately started simulator. A real projector joins
with ``SMARTCLASS_TEST_PROJECTOR=host[:port]`` (and ``SMARTCLASS_TEST_PROJECTOR_PASSWORD_ENV``);
tests that need to steer the simulator (clock, error status) skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from devices.base import BadCommand, DeviceError, DeviceUnavailable
from devices.projector.config import PjlinkProjectorConfig, SimProjectorConfig
from devices.projector.driver import PjlinkProjector, ProjectorBusy
from devices.projector.pjlink import PowerState, connect
from devices.projector.sim import SimProjector, serve
from protocol.aio import wait_within

WARMUP_S = 30.0
COOLDOWN_S = 60.0
PASSWORD_ENV = "SC_TEST_PJ_PASSWORD"
ENVIRON = {PASSWORD_ENV: "JBMIAProjectorLink"}
FAST = {"timeout_s": 2.0, "busy_retry_s": 0.02, "busy_wait_s": 0.0}


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """One device under test and, for simulated backends, the projector and its clock."""

    device: PjlinkProjector
    sim: SimProjector | None
    clock: FakeClock | None
    events: list[tuple[bool, str]]

    @property
    def simulated(self) -> SimProjector:
        if self.sim is None:
            pytest.skip("needs the simulator")
        return self.sim

    async def settle(self, power: PowerState, after_s: float) -> dict[str, Any]:
        """Let ``after_s`` pass, then expect ``power`` (a fake clock jumps; real time is polled)."""
        if self.clock is not None:
            self.clock.now += after_s
            state = await self.device.refresh()
        else:
            for _ in range(int(after_s + 60) // 2):
                state = await self.device.refresh()
                if state["power"] == power:
                    break
                await asyncio.sleep(2)  # a real projector's own warm-up
        assert state["power"] == power
        return state

    async def warm(self) -> None:
        await self.device.execute("on", {})
        await self.settle("on", WARMUP_S)


RigFactory = Callable[..., Awaitable[Rig]]
BACKENDS = ["sim", "sim-password", "sim-class1", "pjlink-to-sim", "real"]


@pytest.fixture(params=BACKENDS)
async def make_rig(request: pytest.FixtureRequest) -> AsyncIterator[RigFactory]:
    """Build rigs for the backend; extra keyword arguments override the device config."""
    backend: str = request.param
    built: list[Rig] = []

    async def make(**overrides: Any) -> Rig:
        clock = FakeClock()
        events: list[tuple[bool, str]] = []
        settings = {**FAST, **overrides}
        sims: dict[str, Any] = {
            "warmup_s": WARMUP_S,
            "cooldown_s": COOLDOWN_S,
            "lamp_hours": 1200.0,
        }
        sim: SimProjector | None = None
        config: PjlinkProjectorConfig | SimProjectorConfig
        if backend == "sim":
            config = SimProjectorConfig(backend="sim", **sims, **settings)
        elif backend == "sim-password":
            config = SimProjectorConfig(
                backend="sim", password_env=PASSWORD_ENV, **sims, **settings
            )
        elif backend == "sim-class1":
            config = SimProjectorConfig(backend="sim", pjlink_class=1, **sims, **settings)
        elif backend == "pjlink-to-sim":
            sim = SimProjector(password=ENVIRON[PASSWORD_ENV], clock=clock, **sims)
            await sim.start()
            config = PjlinkProjectorConfig(
                backend="pjlink",
                host=sim.host,
                port=sim.port,
                password_env=PASSWORD_ENV,
                **settings,
            )
        else:
            target = os.environ.get("SMARTCLASS_TEST_PROJECTOR")
            if not target:
                pytest.skip("set SMARTCLASS_TEST_PROJECTOR=host[:port] to test a real projector")
            host, _, port = target.partition(":")
            env = os.environ.get("SMARTCLASS_TEST_PROJECTOR_PASSWORD_ENV")
            settings["busy_wait_s"] = overrides.get("busy_wait_s", 0.0)
            config = PjlinkProjectorConfig(
                backend="pjlink", host=host, port=int(port or 4352), password_env=env, **settings
            )
        device = PjlinkProjector(
            "projector-1",
            config,
            clock=clock,
            environ=ENVIRON,
            on_availability=lambda ok, why: events.append((ok, why)),
        )
        sim = sim or device.simulator
        rig = Rig(device, sim, clock if sim is not None else None, events)
        built.append(rig)
        if sim is None:  # a real projector: start from standby
            await rig.device.execute("off", {})
            await rig.settle("off", 0)
        return rig

    yield make
    for rig in built:
        rig.device.close()
        if rig.sim is not None:
            await rig.sim.stop()


async def test_power_cycle_with_warm_up_and_cool_down(make_rig: RigFactory) -> None:
    rig = await make_rig()
    state = await rig.device.state()
    assert (state["available"], state["power"], state["input"]) == (True, "off", None)
    state = await rig.device.execute("on", {})
    assert state["power"] == "warming"
    await rig.settle("on", WARMUP_S)
    state = await rig.device.execute("off", {})
    assert state["power"] == "cooling"
    await rig.settle("off", COOLDOWN_S)


async def test_identity_is_reported(make_rig: RigFactory) -> None:
    rig = await make_rig()
    state = await rig.device.refresh()
    assert state["name"]
    assert state["pjlink_class"] in (1, 2)
    if rig.sim is not None:
        assert state["name"] == rig.sim.name
        assert state["model"] == {"manufacturer": "smartclass", "product": "SimProjector 1"}
        assert state["pjlink_class"] == rig.sim.pjlink_class


async def test_input_change_by_name_and_by_code(make_rig: RigFactory) -> None:
    rig = await make_rig()
    await rig.warm()
    state = await rig.device.execute("input", {"source": "hdmi2"})
    assert state["input"] == "hdmi2"
    state = await rig.device.execute("input", {"source": "31"})
    assert state["input"] == "hdmi1"
    sim = rig.simulated
    assert sim.input == "31"
    with pytest.raises(BadCommand, match="ERR2"):
        await rig.device.execute("input", {"source": "hdmi3"})  # 33: not on this projector


async def test_busy_command_is_retried_until_warm_up_ends(make_rig: RigFactory) -> None:
    rig = await make_rig(busy_wait_s=5.0)
    sim = rig.simulated
    await rig.device.execute("on", {})
    pending = asyncio.create_task(rig.device.execute("input", {"source": "hdmi2"}))
    await sim.wait_busy_replies(1)
    assert rig.clock is not None
    rig.clock.now += WARMUP_S
    state = await pending
    assert (state["power"], state["input"]) == ("on", "hdmi2")


async def test_switching_on_while_cooling_waits_for_the_cool_down(make_rig: RigFactory) -> None:
    rig = await make_rig(busy_wait_s=5.0)
    sim = rig.simulated
    await rig.warm()
    await rig.device.execute("off", {})
    pending = asyncio.create_task(rig.device.execute("on", {}))
    await sim.wait_busy_replies(1)
    assert rig.clock is not None
    rig.clock.now += COOLDOWN_S
    assert (await pending)["power"] == "warming"


async def test_busy_beyond_the_budget_is_a_clear_error(make_rig: RigFactory) -> None:
    rig = await make_rig(busy_wait_s=0.0)
    with pytest.raises(ProjectorBusy, match="it is off"):
        await rig.device.execute("mute", {})
    await rig.device.execute("on", {})
    with pytest.raises(ProjectorBusy, match="warming up") as info:
        await rig.device.execute("off", {})
    assert isinstance(info.value, DeviceError)
    assert not isinstance(info.value, DeviceUnavailable)


async def test_off_does_not_retry(make_rig: RigFactory) -> None:
    rig = await make_rig(busy_wait_s=5.0)
    sim = rig.simulated
    with pytest.raises(ProjectorBusy, match="switch it on first"):
        await rig.device.execute("input", {"source": "hdmi1"})
    assert sim.busy_replies == 1


async def test_lamp_and_filter_hours_count_while_on(make_rig: RigFactory) -> None:
    rig = await make_rig()
    sim = rig.simulated
    assert (await rig.device.refresh())["lamp_hours"] == 1200
    await rig.warm()
    state = await rig.settle("on", 3 * 3600)
    assert state["lamp_hours"] == 1203
    assert state["filter_hours"] == (3 if sim.pjlink_class == 2 else None)
    await rig.device.execute("off", {})
    state = await rig.settle("off", 10 * 3600)
    assert state["lamp_hours"] == 1203


async def test_telemetry_says_whether_the_lamp_is_lit_and_its_hours(make_rig: RigFactory) -> None:
    rig = await make_rig()
    assert (await rig.device.read())["power_on"] == 0.0
    await rig.device.execute("on", {})
    assert (await rig.device.read())["power_on"] == 1.0  # warming up: the lamp is lit
    await rig.settle("on", WARMUP_S)
    readings = await rig.device.read()
    assert readings["power_on"] == 1.0
    if rig.sim is not None:
        assert readings["lamp_hours"] == 1200.0
        assert ("filter_hours" in readings) == (rig.sim.pjlink_class == 2)
    await rig.device.execute("off", {})
    assert (await rig.device.read())["power_on"] == 0.0  # cooling down: the lamp is out


async def test_a_projector_that_does_not_answer_is_left_out_of_telemetry() -> None:
    device = pjlink_device(free_port(), [])
    with pytest.raises(DeviceUnavailable, match="does not answer"):
        await device.read()


async def test_error_status_is_reported(make_rig: RigFactory) -> None:
    rig = await make_rig()
    sim = rig.simulated
    assert set((await rig.device.refresh())["errors"].values()) == {"ok"}
    sim.set_error("lamp", "warning")
    sim.set_error("temperature", "error")
    errors = (await rig.device.refresh())["errors"]
    assert errors == {
        "fan": "ok",
        "lamp": "warning",
        "temperature": "error",
        "cover": "ok",
        "filter": "ok",
        "other": "ok",
    }


async def test_av_mute(make_rig: RigFactory) -> None:
    rig = await make_rig()
    await rig.warm()
    assert (await rig.device.state())["av_mute"] is False
    assert (await rig.device.execute("mute", {}))["av_mute"] is True
    if rig.sim is not None:
        assert (rig.sim.picture_muted, rig.sim.sound_muted) == (True, True)
    assert (await rig.device.execute("unmute", {}))["av_mute"] is False


async def test_one_connection_per_action_and_cached_state(make_rig: RigFactory) -> None:
    rig = await make_rig(poll_interval_s=3600)
    sim = rig.simulated
    await rig.device.state()
    before = sim.connections
    await rig.device.state()  # fresh: served from the cache
    assert sim.connections == before
    await rig.device.execute("on", {})  # command and status on one connection
    assert sim.connections == before + 1


# --- availability and authentication (simulator or bare sockets only) -----------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pjlink_device(
    port: int, events: list[tuple[bool, str]], password: str | None = None, **settings: Any
) -> PjlinkProjector:
    config = PjlinkProjectorConfig(
        backend="pjlink",
        host="127.0.0.1",
        port=port,
        password_env=PASSWORD_ENV if password is not None else None,
        **{**FAST, **settings},
    )
    return PjlinkProjector(
        "projector-1",
        config,
        environ={PASSWORD_ENV: password or ""},
        on_availability=lambda ok, why: events.append((ok, why)),
    )


async def test_wrong_password_is_refused_with_a_clear_error() -> None:
    events: list[tuple[bool, str]] = []
    async with SimProjector(password="right-one") as sim:
        device = pjlink_device(sim.port, events, password="wrong-one")
        with pytest.raises(DeviceError, match="refused the password") as info:
            await device.execute("on", {})
        assert not isinstance(info.value, DeviceUnavailable)
        assert PASSWORD_ENV in str(info.value)
        assert sim.power == "off"
        state = await device.state()
        assert (state["available"], state["power"]) == (False, "unavailable")
        assert "refused the password" in state["reason"]
        for _ in range(3):
            with pytest.raises(DeviceError):
                await device.refresh()
        assert events == [(False, state["reason"])]  # one alert, no flapping


async def test_missing_password_is_refused_with_a_clear_error() -> None:
    events: list[tuple[bool, str]] = []
    async with SimProjector(password="right-one") as sim:
        device = pjlink_device(sim.port, events)
        with pytest.raises(DeviceError, match="requires a password and none is configured"):
            await device.refresh()
        assert sim.received == []


async def test_unreachable_projector_is_unavailable_until_it_answers() -> None:
    events: list[tuple[bool, str]] = []
    port = free_port()
    device = pjlink_device(port, events)
    state = await device.state()
    assert (state["available"], state["power"]) == (False, "unavailable")
    assert f"127.0.0.1:{port} does not answer" in state["reason"]
    with pytest.raises(DeviceUnavailable, match="does not answer"):
        await device.execute("on", {})
    assert len(events) == 1  # reported once, not on every failure
    async with SimProjector(port=port):
        state = await device.refresh()
        assert (state["available"], state["power"]) == (True, "off")
        assert events[-1] == (True, "")
    with pytest.raises(DeviceUnavailable):
        await device.refresh()
    assert [ok for ok, _ in events] == [False, True, False]


async def test_a_silent_peer_times_out_as_unavailable() -> None:
    release = asyncio.Event()

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    events: list[tuple[bool, str]] = []
    device = pjlink_device(port, events, timeout_s=0.2)
    try:
        with pytest.raises(DeviceUnavailable, match=r"no PJLink greeting within 0\.2 s"):
            await device.refresh()
        assert isinstance(device, PjlinkProjector)
        assert device.available is False
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def test_poll_loop_reports_a_projector_that_goes_away() -> None:
    lost = asyncio.Event()
    events: list[tuple[bool, str]] = []

    def hook(ok: bool, why: str) -> None:
        events.append((ok, why))
        if not ok:
            lost.set()

    sim = SimProjector()
    await sim.start()
    device = pjlink_device(sim.port, [], poll_interval_s=0.05)
    device.on_availability = hook
    poller = asyncio.create_task(device.run())
    try:
        await device.refresh()
        assert device.available
        await sim.stop()
        async with asyncio.timeout(5):
            await lost.wait()
        assert events == [(False, events[0][1])]
        assert "does not answer" in events[0][1]
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)


async def test_standalone_server_speaks_pjlink_with_a_password() -> None:
    started: asyncio.Future[SimProjector] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve(port=0, password="pw", ready=started.set_result))
    try:
        async with asyncio.timeout(5):
            sim = await started
        async with connect(sim.host, sim.port, password="pw", timeout_s=2) as conn:
            assert await conn.command("POWR", "1") == "OK"
            assert await conn.command("POWR") == "3"  # no digest needed after the first command
        assert sim.received == ["%1POWR 1", "%1POWR ?"]
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


async def test_odd_replies_and_projector_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    async with SimProjector(warmup_s=0) as sim:
        real_handle = sim.handle

        def quirky(line: str) -> str:
            if line.startswith("%1LAMP"):
                return "%1LAMP=n/a"  # unparsable: reported as unknown, not fatal
            if line == "%1AVMT 31":
                return "%1AVMT=ERR4"
            return real_handle(line)

        monkeypatch.setattr(sim, "handle", quirky)
        device = pjlink_device(sim.port, [])
        state = await device.execute("on", {})
        assert (state["available"], state["power"], state["lamp_hours"]) == (True, "on", None)
        with pytest.raises(DeviceError, match=r"projector reports a failure \(ERR4\)"):
            await device.execute("mute", {})
        assert device.available


async def test_the_end_of_a_warm_up_is_reported_by_the_poll_at_once(make_rig: RigFactory) -> None:
    rig = await make_rig(poll_interval_s=3600, transition_poll_s=0.05)
    clock = rig.clock
    if clock is None:
        pytest.skip("needs the simulator's clock")
    changed = asyncio.Event()
    rig.device.on_change = changed.set
    await rig.device.execute("on", {})
    assert (await rig.device.refresh())["power"] == "warming"
    poll = asyncio.create_task(rig.device.run())
    try:
        clock.now += WARMUP_S  # the warm-up ends between two polls; nothing else is asked
        await wait_within(changed.wait(), 5)
        assert (await rig.device.state())["power"] == "on"
    finally:
        poll.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poll
