"""Command dispatch: run a Command on the room's devices and build its CommandReply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from pydantic import ValidationError

from devices.base import BadCommand, Device, DeviceError, DeviceUnavailable
from protocol.bounds import safe_text
from protocol.messages import TEXT_MAX, Command, CommandReply, ReplyCode, utcnow

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 10.0
"""Longest a device action may take before the command fails with ``device_error``."""


async def run_command(
    devices: Mapping[str, Device],
    command: Command,
    *,
    sender: str,
    now: datetime | None = None,
    time_limit_s: float = COMMAND_TIMEOUT_S,
) -> CommandReply:
    """Execute ``command`` unless it is stale or unknown; never raise for a device's failure."""

    def reply(
        code: ReplyCode, text: str = "", state: dict[str, object] | None = None
    ) -> CommandReply:
        # the text may quote what was received: made safe, a reply can always be built
        text = safe_text(text, TEXT_MAX)
        try:
            return CommandReply(
                sender=sender, id=command.id, device=command.device, code=code, text=text,
                state=state,
            )  # fmt: skip
        except ValidationError as exc:  # a state the contract cannot carry
            logger.error("%s: %s.%s: state not sendable: %s", sender, command.device,
                         command.action, exc)  # fmt: skip
            return CommandReply(
                sender=sender, id=command.id, device=command.device, code=code, text=text
            )

    now = now or utcnow()
    if command.expires < now:
        return reply("expired", f"command expired at {command.expires.isoformat()}")
    device = devices.get(command.device)
    if device is None:
        return reply("unknown_device", f"no device {command.device!r} in this room")
    try:
        async with asyncio.timeout(time_limit_s):
            state = await device.execute(command.action, dict(command.params))
    except BadCommand as exc:
        return reply(exc.code, str(exc))
    except DeviceUnavailable as exc:
        return reply("device_unavailable", str(exc))
    except DeviceError as exc:
        return reply("device_error", str(exc))
    except TimeoutError:
        return reply("device_error", f"no answer from the device within {time_limit_s} s")
    except Exception as exc:
        logger.exception("%s: %s.%s failed unexpectedly", sender, command.device, command.action)
        return reply("device_error", f"unexpected error: {type(exc).__name__}")
    return reply("ok", state=state)


__all__ = ["COMMAND_TIMEOUT_S", "run_command"]
