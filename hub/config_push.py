"""Pushing each room's configuration to its agent: the newest version, retained, once the
broker takes it; what it could not take yet is pushed again when the link is back.

Pushes of one room go one at a time and always carry the room's newest version, so an older
version can never overwrite a newer one on the broker (a hub that pushed and then finds a
newer version, made meanwhile by another hub, pushes again). The database work runs in
worker threads; nothing here touches the ingest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from hub.access import Caller
from hub.audit import Audit
from hub.commands import Publisher
from hub.config_versions import ConfigVersions
from hub.errors import HubError, NotConnected
from protocol import RoomConfig, RoomTopics, encode

logger = logging.getLogger(__name__)

RETRY_MIN_S = 1.0
"""First pause before a room whose push failed is tried again (it doubles)."""


class NothingToPush(HubError, LookupError):  # noqa: N818 - named like the hub's other errors
    """The room has no configuration version yet."""


class ConfigPusher:
    """Publishes rooms' newest configuration versions and keeps those not taken yet."""

    def __init__(
        self,
        versions: ConfigVersions,
        publisher: Publisher | None,
        audit: Audit,
        *,
        root: str,
        hub_id: str,
        ack_timeout_s: float = 5.0,
        retry_max_s: float = 60.0,
    ) -> None:
        self.versions = versions
        self.publisher = publisher
        self.audit = audit
        self.root = root
        self.sender = f"hub/{hub_id}"
        self.ack_timeout_s = ack_timeout_s
        self.retry_max_s = retry_max_s
        self.pending: set[tuple[str, str]] = set()
        """Rooms whose newest version the broker has not taken yet (bounded by the rooms)."""
        self.pushed = 0
        self.failed = 0
        """Pushes the broker did not take (not connected, refused, no PUBACK in time)."""
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._wake = asyncio.Event()
        self._stopping = False

    async def push(self, site: str, room: str, caller: Caller | None = None) -> int:
        """Publish the room's newest version (retained) and return it once the broker has it.

        Raises NothingToPush, or a HubError of the link (NotConnected, PublishFailed): the
        room then stays pending and is pushed again by ``run``. Every attempt is audited.
        """
        key = (site, room)
        async with self._locks[key]:
            while True:
                latest = await asyncio.to_thread(self.versions.room_version, site, room)
                if latest is None or latest.version == 0 or latest.effective is None:
                    msg = f"room {site}/{room} has no configuration version to push"
                    raise NothingToPush(msg)
                message = RoomConfig(sender=self.sender, version=latest.version, **latest.effective)
                detail: dict[str, Any] = {"version": latest.version, "retry": caller is None}
                try:
                    await self._publish(RoomTopics(site, room, self.root).config, encode(message))
                except HubError as exc:
                    self.failed += 1
                    self.pending.add(key)
                    self._wake.set()
                    logger.warning("config version %d for %s/%s not pushed: %s",
                                   latest.version, site, room, exc)  # fmt: skip
                    await self._audit(caller, site, room, detail, type(exc).__name__)
                    raise
                await asyncio.to_thread(self.versions.mark_pushed, site, room, latest.version)
                self.pushed += 1
                self.pending.discard(key)
                logger.info("config version %d pushed to %s/%s", latest.version, site, room)
                await self._audit(caller, site, room, detail, "ok")
                newest = await asyncio.to_thread(self.versions.room_version, site, room)
                if newest is None or newest.version <= latest.version:
                    return latest.version

    async def _publish(self, topic: str, payload: bytes) -> None:
        link = self.publisher
        if link is None or not link.connected:
            msg = "the hub is not connected to the MQTT broker"
            raise NotConnected(msg)
        await link.publish(topic, payload, retain=True, ack_timeout_s=self.ack_timeout_s)

    async def _audit(
        self, caller: Caller | None, site: str, room: str, detail: dict[str, Any], outcome: str
    ) -> None:
        try:
            await self.audit.record(
                caller, "config_push", site=site, room=room, detail=detail, outcome=outcome
            )
        except Exception:  # the push happened; a lost audit entry is logged and counted there
            logger.exception("audit entry of the config push to %s/%s not stored", site, room)
            if caller is not None:
                raise

    def later(self, site: str, room: str) -> None:
        """Push the room's newest version in the background (soon, and again until taken)."""
        self.pending.add((site, room))
        self._wake.set()

    async def run(self) -> None:
        """Push what is pending, at start and whenever it is asked, until cancelled; a room
        whose push fails is tried again after a pause that doubles up to ``retry_max_s``."""
        for site, room, version in await asyncio.to_thread(self.versions.adopt_new_rooms):
            logger.info("config: new room %s/%s gets its school's, version %d",
                        site, room, version.version)  # fmt: skip
            self.pending.add((site, room))
        self.pending.update(await asyncio.to_thread(self.versions.unpushed))
        pause = RETRY_MIN_S
        while not self._stopping:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.publisher is None or not self.publisher.connected:
                await self._nap(RETRY_MIN_S)  # soon after the link is back
                continue
            failed = False
            for site, room in sorted(self.pending):
                if self._stopping:
                    return
                try:
                    await self.push(site, room)
                except NothingToPush:
                    self.pending.discard((site, room))
                except HubError:
                    failed = True
                    break  # the broker refuses or does not answer: wait before the others
            if failed:
                await self._nap(pause)
                pause = min(pause * 2, self.retry_max_s)
            else:
                pause = RETRY_MIN_S

    def stop(self) -> None:
        """Let ``run`` return at its next pause (a push under way is not cut short: its
        thread would go on with the database after the hub closed it)."""
        self._stopping = True
        self._wake.set()

    async def _nap(self, seconds: float) -> None:
        """Wait ``seconds``, or less if someone asks for a push meanwhile."""
        self._wake.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass


__all__ = ["RETRY_MIN_S", "ConfigPusher", "NothingToPush"]
