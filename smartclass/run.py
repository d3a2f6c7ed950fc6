"""Entry points behind the ``hub``, ``edge`` and ``validate`` subcommands."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)


def run_hub(host: str, port: int, sites: Path | None) -> int:
    """Serve the hub until SIGINT or SIGTERM."""
    import uvicorn

    from hub.app import create_app
    from hub.memory import keep_large_buffers_mapped
    from hub.settings import HubSettings
    from protocol.tls import TlsConfigError

    keep_large_buffers_mapped()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID`: every thread's stack, to stderr
    overrides = {"sites_file": sites} if sites else {}
    settings = HubSettings(**overrides)  # type: ignore[arg-type]
    try:
        settings.tls_context()  # a CA file that cannot be used stops the hub before it starts
    except TlsConfigError as exc:
        print(f"smartclass hub: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)

    class HubServer(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn waits for open responses to end, and a live stream never does: end them
            live = getattr(getattr(app.state, "hub", None), "live", None)
            if live is not None:
                live.close()
            await super().shutdown(sockets)

    # log_config=None: uvicorn's loggers go through the command's own handler (text or JSON)
    HubServer(uvicorn.Config(app, host=host, port=port, log_config=None)).run()
    return 0


def run_edge(config_paths: list[Path]) -> int:
    """Run one agent per room file in one event loop until SIGINT or SIGTERM."""
    from edge.agent import run_agents
    from edge.config import ConfigError, load_room_config
    from edge.settings import EdgeSettings
    from protocol.tls import TlsConfigError

    try:
        rooms = [load_room_config(path) for path in config_paths]
    except ConfigError as exc:
        print(f"smartclass edge: {exc}", file=sys.stderr)
        return 2
    settings = EdgeSettings()
    try:
        settings.tls_context()  # a CA file that cannot be used stops the agents before they start
    except TlsConfigError as exc:
        print(f"smartclass edge: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def stop() -> None:
            if task.cancelling():  # a second signal: do not wait for the rooms
                logger.error("edge: stopping at once")
                os._exit(1)
            logger.info("edge: stopping (a second signal stops at once)")
            task.cancel()
            # A clean stop takes a few seconds (offline status, closing devices); a part
            # that does not finish must never leave the process running.
            loop.call_later(STOP_DEADLINE_S, _exit_late)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        try:
            await run_agents(rooms, settings)
        except asyncio.CancelledError:
            logger.info("edge: stopped")

    asyncio.run(main())
    return 0


STOP_DEADLINE_S = 15.0
"""Longest a stop may take before the process ends without waiting for the rest."""


def _exit_late() -> None:
    logger.error("edge: the agents did not stop within %s s; exiting", STOP_DEADLINE_S)
    logging.shutdown()
    os._exit(1)


def validate(paths: list[Path]) -> int:
    """Validate room, sites and boot files; print one line per file; 0 when all are valid.

    Boot profiles (``*.txt``) are also checked against every room file given with them.
    """
    from edge.config import ConfigError, RoomFile, load_room_config
    from hub.registry import RegistryError, load_sites
    from smartclass.bootconfig import BOOT_SUFFIX, validate_boot_files

    failed = 0
    room_files: list[tuple[Path, RoomFile]] = []
    for path in (p for p in paths if p.suffix != BOOT_SUFFIX):
        try:
            if _looks_like_sites_file(path):
                registry = load_sites(path)
                rooms = sum(len(site.rooms) for site in registry.sites)
                print(f"{path}: ok (sites file: {len(registry.sites)} sites, {rooms} rooms)")
            else:
                room = load_room_config(path)
                room_files.append((path, room))
                print(f"{path}: ok (room {room.site}/{room.room}, {len(room.devices)} devices)")
        except (ConfigError, RegistryError) as exc:
            failed += 1
            print(f"{exc}", file=sys.stderr)
    failed += validate_boot_files([p for p in paths if p.suffix == BOOT_SUFFIX], room_files)
    return 2 if failed else 0


def _looks_like_sites_file(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False  # let the room loader report the problem with its line
    return isinstance(data, dict) and "sites" in data and "room" not in data


__all__ = ["run_edge", "run_hub", "validate"]
