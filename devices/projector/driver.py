"""The projector device: PJLink commands, busy retries and availability, real or simulated."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from devices.base import (
    Action,
    BadCommand,
    Clock,
    Device,
    DeviceError,
    DeviceUnavailable,
    parse_params,
)
from devices.projector.config import (
    PjlinkProjectorConfig,
    ProjectorSettings,
    SimProjectorConfig,
)
from devices.projector.pjlink import (
    CLASS1_INPUT_CODE,
    INPUT_CODE,
    PjlinkAuthError,
    PjlinkClass,
    PjlinkCommandError,
    PjlinkConnection,
    PjlinkError,
    PjlinkProtocolError,
    PowerState,
    connect,
    parse_av_mute,
    parse_errors,
    parse_lamps,
    parse_power,
)
from devices.projector.sim import SimProjector
from protocol.room_config import ManagedProjector
from protocol.usage import FILTER_HOURS, LAMP_HOURS, POWER_ON

logger = logging.getLogger(__name__)

T = TypeVar("T")

AvailabilityHook = Callable[[bool, str], None]
"""Called with (available, reason) when a projector stops or starts answering."""


class ProjectorBusy(DeviceError):  # noqa: N818 - gpiozero-style names
    """The projector kept answering ERR3 (warming up, cooling down or off) for the whole budget."""


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _InputParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=32)


class PjlinkProjector(Device):
    """A projector driven over PJLink; with a sim config it starts and drives a SimProjector.

    A command refused with ERR3 is retried every ``busy_retry_s`` for at most
    ``busy_wait_s`` (a warm-up or cool-down may end meanwhile); then, or at once
    if the projector is off and the command needs it on, it fails with
    ProjectorBusy saying why.
    A projector that does not answer is marked unavailable: commands raise
    DeviceUnavailable, ``state()`` reports it, and ``on_availability`` is called
    on each change (not for the first successful contact).
    """

    family = "projector"

    def __init__(
        self,
        device_id: str,
        config: PjlinkProjectorConfig | SimProjectorConfig,
        *,
        on_availability: AvailabilityHook | None = None,
        on_change: Callable[[], None] | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self.on_availability = on_availability
        self.on_change = on_change
        """Called when a poll finds the power, input, mute or errors changed by themselves
        (a warm-up that ended, a lamp fault), so the room's state follows at once."""
        environ = os.environ if environ is None else environ
        self._password = _password(device_id, config.password_env, environ)
        self.simulator: SimProjector | None = None
        if isinstance(config, SimProjectorConfig):
            sim_fields = set(SimProjectorConfig.model_fields) - set(ProjectorSettings.model_fields)
            sim_fields |= {"warmup_s", "cooldown_s"}  # shared: the panel counts down from them
            kwargs = config.model_dump(include=sim_fields - {"backend", "available_inputs"})
            self.simulator = SimProjector(
                **kwargs, password=self._password, inputs=config.available_inputs, clock=clock
            )
        self._names = {code: name for name, code in reversed(config.inputs.items())}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        """Set by each command and by a status read that finds the projector warming up or
        cooling down: the status poll looks again at once."""
        self._available: bool | None = None
        self._reason = "not contacted yet"
        self._fresh_at: float | None = None
        self._class: PjlinkClass | None = None
        self._identity: dict[str, str | None] = {}
        self._status: dict[str, Any] = {}
        self._actions: dict[str, Action] = {
            "on": self._simple("on", "POWR", "1"),
            "off": self._simple("off", "POWR", "0"),
            "mute": self._simple("mute", "AVMT", "31"),
            "unmute": self._simple("unmute", "AVMT", "30"),
            "input": self._input,
            "refresh": self._refresh,
            "status": self._refresh,
        }

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def reconfigure(self, config: PjlinkProjectorConfig | SimProjectorConfig) -> None:
        """Take new timeouts and polling; anything else (address, password, inputs, the
        simulator) must stay as it is."""
        tuning = set(ManagedProjector.model_fields) - {"family"}
        if config.model_dump(exclude=tuning) != self.config.model_dump(exclude=tuning):
            msg = f"projector {self.id!r}: only its timeouts and polling can change while it runs"
            raise DeviceError(msg)
        self.config = config

    @property
    def available(self) -> bool:
        """True while the projector answers (False before the first contact)."""
        return bool(self._available)

    @property
    def address(self) -> str:
        if self.simulator is not None:
            return f"{self.simulator.host}:{self.simulator.port}"
        assert isinstance(self.config, PjlinkProjectorConfig)
        return f"{self.config.host}:{self.config.port}"

    async def state(self) -> dict[str, Any]:
        """The last known state, refreshed first if older than ``poll_interval_s``."""
        now = asyncio.get_running_loop().time()
        if self._fresh_at is None or now - self._fresh_at >= self.config.poll_interval_s:
            with contextlib.suppress(DeviceError):
                await self.refresh()
        return self._snapshot()

    async def read(self) -> dict[str, float]:
        """Usage for telemetry: ``power_on`` (the lamp lit: on or warming up) and the lamp and
        filter hours when the projector reports them; a projector that does not answer is
        left out of the sample (its state is unknown, not off)."""
        snapshot = await self.state()
        if not snapshot["available"]:
            raise DeviceUnavailable(snapshot["reason"] or f"projector {self.id!r} is unavailable")
        readings = {POWER_ON: float(snapshot["power"] in ("on", "warming"))}
        for metric, key in ((LAMP_HOURS, "lamp_hours"), (FILTER_HOURS, "filter_hours")):
            if snapshot[key] is not None:
                readings[metric] = float(snapshot[key])
        return readings

    async def refresh(self) -> dict[str, Any]:
        """Ask the projector for its whole status now (one connection)."""
        async with self._lock, self._connection() as conn:
            await self._read_status(conn)
        return self._snapshot()

    async def run(self) -> None:
        """Refresh every ``poll_interval_s`` until cancelled, so availability changes are seen;
        every ``transition_poll_s`` while warming up or cooling down, so their end is too. A
        command, or another read that finds a warm-up, wakes it at once: a warm-up is followed
        from its first second."""
        seen = _visible(self._snapshot())
        while True:
            with contextlib.suppress(DeviceError):
                await self.refresh()
            self._wake.clear()  # what this read found is handled below
            now = _visible(self._snapshot())
            if now != seen and self.on_change is not None:
                try:
                    self.on_change()
                except Exception:
                    logger.exception("projector %s: change hook failed", self.id)
            seen = now
            busy = now[0] in ("warming", "cooling")
            interval = self.config.poll_interval_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(
                    min(interval, self.config.transition_poll_s) if busy else interval
                ):
                    await self._wake.wait()

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.close()

    # --- actions -----------------------------------------------------------------

    def _simple(self, action: str, body: str, param: str) -> Action:
        async def handler(params: dict[str, Any]) -> dict[str, Any]:
            parse_params(_NoParams, params)
            return await self._command(action, body, param)

        return handler

    async def _refresh(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_params(_NoParams, params)
        return await self.refresh()

    async def _input(self, params: dict[str, Any]) -> dict[str, Any]:
        source = parse_params(_InputParams, params).source
        code = self.config.inputs.get(source) or source.upper()
        if not INPUT_CODE.match(code):
            known = ", ".join(self.config.inputs)
            msg = f"unknown input {source!r}: use a name ({known}) or a PJLink code like '31'"
            raise BadCommand("bad_params", msg)
        pjclass: PjlinkClass = 1 if CLASS1_INPUT_CODE.match(code) else 2
        if pjclass == 2 and self._class == 1:
            msg = f"input {code!r} needs PJLink class 2; this projector has class 1"
            raise BadCommand("bad_params", msg)
        return await self._command("input", "INPT", code, self._class or pjclass)

    # --- talking to the projector ----------------------------------------------------

    async def _command(
        self, action: str, body: str, param: str, pjclass: PjlinkClass = 1
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.busy_wait_s
        async with self._lock, self._connection() as conn:
            while True:
                try:
                    await conn.command(body, param, pjclass)
                    break
                except PjlinkCommandError as exc:
                    if exc.code != "ERR3":
                        raise self._refused(action, param, exc) from exc
                    power = parse_power(await conn.command("POWR"))
                    hopeless = power == "off" and body != "POWR"  # it needs switching on
                    if hopeless or loop.time() + self.config.busy_retry_s > deadline:
                        raise ProjectorBusy(self._busy_message(action, body, power)) from exc
                    await asyncio.sleep(self.config.busy_retry_s)
            await self._read_status(conn)
        self._wake.set()
        return self._snapshot()

    def _refused(self, action: str, param: str, exc: PjlinkCommandError) -> DeviceError:
        where = f"projector {self.id!r}: {action}"
        if exc.code == "ERR2":
            return BadCommand("bad_params", f"{where} {param!r} refused: out of parameter (ERR2)")
        if exc.code == "ERR1":
            return DeviceError(f"{where} is not supported by this projector (ERR1)")
        return DeviceError(f"{where} failed: the projector reports a failure ({exc.code})")

    def _busy_message(self, action: str, body: str, power: PowerState) -> str:
        why = {
            "warming": "it is warming up",
            "cooling": "it is cooling down",
            "off": "it is off" + (" (switch it on first)" if body != "POWR" else ""),
            "on": "it is busy",
        }[power]
        waited = f"; still refused after {self.config.busy_wait_s:g} s" if power != "off" else ""
        return f"projector {self.id!r} cannot {action} now: {why} (ERR3){waited}"

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[PjlinkConnection]:
        """A connection; marks availability and turns PJLink failures into device errors."""
        now = asyncio.get_running_loop().time
        if self.simulator is not None:
            await self.simulator.start()
        host, port = self.address.rsplit(":", 1)
        try:
            async with connect(
                host, int(port), password=self._password, timeout_s=self.config.timeout_s
            ) as conn:
                try:
                    yield conn
                finally:
                    if conn.answered:
                        self._set_available(True, "")
        except PjlinkCommandError as exc:
            raise DeviceError(f"projector {self.id!r} at {self.address}: {exc}") from exc
        except PjlinkAuthError as exc:
            self._fresh_at = now()
            reason = f"projector {self.id!r} at {self.address}: {exc}"
            if self.config.password_env:
                reason += f" (password from ${self.config.password_env})"
            self._set_available(False, reason)
            raise DeviceError(reason) from exc
        except PjlinkProtocolError as exc:
            self._fresh_at = now()
            reason = f"projector {self.id!r} at {self.address} does not speak PJLink: {exc}"
            self._set_available(False, reason)
            raise DeviceError(reason) from exc
        except PjlinkError as exc:
            self._fresh_at = now()
            reason = f"projector {self.id!r} at {self.address} does not answer: {exc}"
            self._set_available(False, reason)
            raise DeviceUnavailable(reason) from exc

    async def _read_status(self, conn: PjlinkConnection) -> None:
        if self._class is None:
            self._class = 2 if await _optional(conn, "CLSS") == "2" else 1
            names = ("name", "NAME"), ("manufacturer", "INF1"), ("product", "INF2")
            self._identity = {key: await _optional(conn, body) for key, body in names}
        power = parse_power(await conn.command("POWR"))
        errst = await _optional(conn, "ERST")
        lamp = await _optional(conn, "LAMP")
        filt = await _optional(conn, "FILT", 2) if self._class == 2 else None
        on = power == "on"
        code = await _optional(conn, "INPT", self._class) if on else None
        avmt = await _optional(conn, "AVMT") if on else None
        self._status = {
            "power": power,
            "input": None if code is None else self._names.get(code, code),
            "av_mute": self._parsed(lambda v: any(parse_av_mute(v)), avmt),
            "errors": self._parsed(parse_errors, errst),
            "lamp_hours": self._parsed(lambda v: parse_lamps(v)[0][0], lamp),
            "filter_hours": int(filt) if filt and filt.isdigit() else None,
        }
        self._fresh_at = asyncio.get_running_loop().time()
        if power in ("warming", "cooling"):
            self._wake.set()

    def _parsed(self, parse: Callable[[str], T], value: str | None) -> T | None:
        """A parsed optional field; an odd value is logged and reported as unknown."""
        try:
            return None if value is None else parse(value)
        except PjlinkProtocolError as exc:
            logger.warning("projector %s: %s", self.id, exc)
            return None

    def _set_available(self, available: bool, reason: str) -> None:
        previous, self._available, self._reason = self._available, available, reason
        if available:
            self._reason = ""
        if previous == available or (previous is None and available):
            return
        if available:
            logger.info("projector %s at %s answers again", self.id, self.address)
        else:
            logger.warning("%s", reason)
            self._class = None  # it may come back as another projector
        if self.on_availability is not None:
            try:
                self.on_availability(available, self._reason)
            except Exception:
                logger.exception("projector %s: availability hook failed", self.id)

    def _snapshot(self) -> dict[str, Any]:
        identity = self._identity
        available = bool(self._available)
        status = self._status if available else {}
        return {
            "available": available,
            "reason": None if available else self._reason,
            "power": status.get("power", "unavailable"),
            "input": status.get("input"),
            "av_mute": status.get("av_mute"),
            "errors": status.get("errors"),
            "lamp_hours": self._status.get("lamp_hours"),
            "filter_hours": self._status.get("filter_hours"),
            "name": identity.get("name"),
            "model": {
                "manufacturer": identity.get("manufacturer"),
                "product": identity.get("product"),
            }
            if identity
            else None,
            "pjlink_class": self._class,
        }


def _visible(snapshot: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a teacher or IT would see change: power, input, picture mute, errors."""
    return (snapshot["power"], snapshot["input"], snapshot["av_mute"], str(snapshot["errors"]))


async def _optional(conn: PjlinkConnection, body: str, pjclass: PjlinkClass = 1) -> str | None:
    """A query whose ERRn reply (no lamp, no filter, not now) means 'unknown'."""
    try:
        return await conn.command(body, "?", pjclass)
    except PjlinkCommandError:
        return None


def _password(device_id: str, name: str | None, environ: Mapping[str, str]) -> str | None:
    if name is None:
        return None
    try:
        return environ[name]
    except KeyError:
        msg = f"projector {device_id!r}: environment variable {name} (its password) is not set"
        raise DeviceError(msg) from None


__all__ = ["AvailabilityHook", "PjlinkProjector", "ProjectorBusy"]
