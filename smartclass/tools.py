"""Tools for IT staff: talk to one device by its address, or run a simulated one on the network."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

from devices.base import Device, DeviceError, DeviceUnavailable

ACTIONS = ("status", "on", "off", "input", "mute", "unmute")


def add_parsers(sub: Any) -> None:
    """Add ``device`` and ``sim`` to the command line."""
    device = sub.add_parser(
        "device",
        help="talk to one device directly (projector, I2C sensors, microphone)",
        description="Talk to one device by its address, without an agent or a broker.",
    )
    kinds = device.add_subparsers(dest="kind", required=True, metavar="KIND")
    projector = kinds.add_parser(
        "projector",
        help="query or switch a PJLink projector",
        description="Query or switch a projector over PJLink (TCP port 4352). Prints its state "
        "as JSON; exits 1 when it does not answer or refuses.",
        epilog="examples:\n  smartclass device projector 10.12.0.41 status\n"
        "  PJLINK_PASSWORD=... smartclass device projector 10.12.0.41 --password-env "
        "PJLINK_PASSWORD input hdmi1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    projector.add_argument("address", metavar="HOST[:PORT]", help="projector address")
    projector.add_argument(
        "what",
        nargs="*",
        metavar="ACTION [SOURCE]",
        help=f"one of {', '.join(ACTIONS)} (default: status); 'input' takes a source: "
        "hdmi1, vga1, or a code like 31",
    )
    projector.add_argument(
        "--password-env", metavar="VAR", help="environment variable that holds the password"
    )
    projector.add_argument("--timeout", type=float, default=3.0, help="seconds per exchange")
    sensor = kinds.add_parser(
        "sensor",
        help="read the I2C environment sensors (SCD4x, BH1750)",
        description="Read CO2, temperature and humidity (SCD4x) and light (BH1750) over I2C.",
    )
    sensor.add_argument("--bus", type=int, default=1, help="I2C bus number (default: 1)")
    sensor.add_argument("--scd4x", type=_address, default=0x62, help="SCD4x address, or 'none'")
    sensor.add_argument("--bh1750", type=_address, default=0x23, help="BH1750 address, or 'none'")
    sensor.add_argument("--wait", type=float, default=12.0, help="longest wait for a reading")
    noise = kinds.add_parser(
        "noise", help="measure the sound level from a microphone", description="A-weighted level."
    )
    noise.add_argument("--input", help="capture device: index or part of its name")
    noise.add_argument("--seconds", type=int, default=3, help="how many one-second levels")

    sim = sub.add_parser(
        "sim",
        help="run a simulated device on the network",
        description="Run a simulated device, so panels and drivers can be tried without hardware.",
    )
    sims = sim.add_subparsers(dest="kind", required=True, metavar="KIND")
    sp = sims.add_parser(
        "projector",
        help="a simulated PJLink projector",
        description="A PJLink server that behaves like a projector: warm-up and cool-down "
        "(ERR3 while busy), authentication, lamp hours that count. Stops on Ctrl-C.",
    )
    sp.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1)")
    sp.add_argument("--port", type=int, default=4352, help="listen port (default: 4352)")
    sp.add_argument("--password-env", metavar="VAR", help="environment variable with a password")
    sp.add_argument("--warmup", type=float, default=30.0, help="warm-up seconds (default: 30)")
    sp.add_argument("--cooldown", type=float, default=30.0, help="cool-down seconds (default: 30)")
    sp.add_argument("--pjlink-class", type=int, choices=(1, 2), default=2, help="PJLink class")
    sp.add_argument("--name", default="SIM-PROJECTOR", help="projector name")


def _address(text: str) -> int | None:
    return None if text.lower() == "none" else int(text, 0)


def run(args: argparse.Namespace) -> int:
    """Run a ``device`` or ``sim`` command."""
    try:
        if args.command == "sim":
            return _sim_projector(args)
        runner = {"projector": _projector, "sensor": _sensor, "noise": _noise}[args.kind]
        return asyncio.run(runner(args))
    except DeviceError as exc:
        print(f"smartclass {args.command} {args.kind}: {exc}", file=sys.stderr)
        return 1


def _print(state: dict[str, Any]) -> None:
    print(json.dumps(state, ensure_ascii=False, indent=2, default=str))


async def _projector(args: argparse.Namespace) -> int:
    from devices.projector.config import PjlinkProjectorConfig
    from devices.projector.driver import PjlinkProjector

    host, _, port = args.address.rpartition(":") if ":" in args.address else (args.address, "", "")
    config = PjlinkProjectorConfig(
        backend="pjlink",
        host=host,
        port=int(port) if port else 4352,
        password_env=args.password_env,
        timeout_s=args.timeout,
    )
    action, *rest = args.what or ["status"]
    if action not in ACTIONS or len(rest) != (action == "input"):
        print(
            f"smartclass device projector: expected one of {', '.join(ACTIONS)}, "
            "and a source after 'input' only (e.g. input hdmi1)",
            file=sys.stderr,
        )
        return 2
    device = PjlinkProjector("projector", config)
    try:
        state = await device.execute(action, {"source": rest[0]} if rest else {})
    finally:
        device.close()
    _print(state)
    return 0


async def _sensor(args: argparse.Namespace) -> int:
    from devices.environment.config import I2cEnvironmentConfig
    from devices.environment.i2c import I2cEnvironmentSensor

    config = I2cEnvironmentConfig.model_validate(
        {
            "backend": "i2c",
            "bus": args.bus,
            "co2": None if args.scd4x is None else {"chip": "scd4x", "address": args.scd4x},
            "light": None if args.bh1750 is None else {"chip": "bh1750", "address": args.bh1750},
        }
    )
    sensor = I2cEnvironmentSensor("env", config)
    deadline = time.monotonic() + args.wait
    try:
        while True:
            try:
                readings = await sensor.read()
            except DeviceUnavailable:
                raise  # no chip answers: waiting will not help
            except DeviceError:
                if time.monotonic() > deadline:
                    raise
                readings = {}
            wanted = (args.scd4x is None or "co2_ppm" in readings) and (
                args.bh1750 is None or "light_lux" in readings
            )
            if wanted or time.monotonic() > deadline:
                break
            print("waiting for the first measurement (an SCD4x takes 5 s)…", file=sys.stderr)
            await asyncio.sleep(1)  # the chip's own measurement period
        _print({"readings": readings, **(await sensor.state())})
    finally:
        sensor.close()
    return 0


async def _noise(args: argparse.Namespace) -> int:
    from devices.noise.config import PyAudioNoiseConfig
    from devices.noise.microphone import MicrophoneNoiseSensor

    device_arg = int(args.input) if args.input and args.input.isdigit() else args.input
    sensor: Device = MicrophoneNoiseSensor(
        "noise", PyAudioNoiseConfig(backend="pyaudio", device=device_arg)
    )
    assert isinstance(sensor, MicrophoneNoiseSensor)
    try:
        for _ in range(args.seconds):
            level = await sensor.next_level(5.0)
            print(f"{level:5.1f} dB(A)", flush=True)
    finally:
        sensor.close()
    return 0


def _sim_projector(args: argparse.Namespace) -> int:
    import os

    from devices.projector.sim import SimProjector, serve

    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and password is None:
        print(f"smartclass sim projector: ${args.password_env} is not set", file=sys.stderr)
        return 2

    def ready(projector: SimProjector) -> None:
        auth = "with a password" if password else "without a password"
        what = f"simulated projector {args.name!r} (PJLink class {args.pjlink_class}, {auth})"
        print(f"{what} listening on {args.host}:{projector.port}; Ctrl-C stops it", flush=True)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(
                host=args.host,
                port=args.port,
                password=password,
                warmup_s=args.warmup,
                cooldown_s=args.cooldown,
                pjlink_class=args.pjlink_class,
                name=args.name,
                ready=ready,
            )

    try:
        asyncio.run(main())
    except OSError as exc:
        print(f"smartclass sim projector: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    print("simulated projector stopped", flush=True)
    return 0


__all__ = ["add_parsers", "run"]
