"""Keeps Home Assistant's retained discovery configs in step with the room, across restarts."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import aiomqtt

from edge.homeassistant import HomeAssistantBridge

logger = logging.getLogger(__name__)


class DiscoveryRecord:
    """The discovery topics an agent may have left retained, in a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> set[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            logger.warning("%s: cannot read, ignored: %s", self.path, exc)
            return set()
        topics = data.get("topics") if isinstance(data, dict) else None
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            logger.warning("%s: not a list of topics, ignored", self.path)
            return set()
        return set(topics)

    def save(self, topics: Iterable[str]) -> None:
        """Write the topics (atomically); no topics: remove the file."""
        topics = sorted(set(topics))
        if not topics:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"topics": topics}, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


Publish = Callable[[str, bytes], Awaitable[None]]
"""Publish a payload on a topic, retained, and wait for the broker's acknowledgement."""


async def sync_discovery(
    bridge: HomeAssistantBridge | None,
    record: DiscoveryRecord,
    publish: Publish,
    *,
    label: str = "",
) -> bool:
    """Publish the room's discovery configs; clear those an earlier run left and this one lacks.

    With ``bridge`` None (Home Assistant off) every recorded entity is cleared. The
    record never holds less than what may be retained, so a failure part-way is
    made good at the next connect. A broker or file error is logged, never raised:
    Home Assistant must not keep the agent from serving the room. Returns success.
    """
    current = bridge.discovery if bridge is not None else []
    topics = {d.topic for d in current}
    stale: list[str] = []
    try:
        previous = record.load()
        if not topics and not previous:
            return True
        record.save(previous | topics)
        for d in current:
            await publish(d.topic, d.payload)
        stale = sorted(previous - topics)
        for topic in stale:
            await publish(topic, b"")
        record.save(topics)
    except (aiomqtt.MqttError, OSError) as exc:
        logger.warning("%s: Home Assistant discovery not brought up to date: %s", label, exc)
        return False
    if stale:
        logger.info("%s: removed %d stale Home Assistant entities", label, len(stale))
    return True


__all__ = ["DiscoveryRecord", "Publish", "sync_discovery"]
