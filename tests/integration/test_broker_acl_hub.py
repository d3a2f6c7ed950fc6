"""The hubs' and Home Assistant's ACLs on a real broker, plain and shared subscriptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protocol.client import PublishRefused
from smartclass.acl import TOPICS, Party, fill
from smartclass.broker import Mosquitto
from tests.integration.auth_clients import (
    HUB,
    OTHER_HUB,
    OTHER_ROOM,
    OTHER_SITE,
    ROOM,
    SITE,
    connected,
    kinds,
    secured_broker,
    subscribe,
    topic,
    topics_all,
    topics_until,
)

pytestmark = pytest.mark.integration

ROOMS = ((SITE, ROOM), (SITE, OTHER_ROOM), (OTHER_SITE, ROOM))


@pytest.fixture
def broker(topic_root: str) -> Iterator[Mosquitto]:
    with secured_broker(topic_root) as b:
        yield b


def hub_filters(root: str, hub_id: str, share: str | None = None) -> list[str]:
    """What a hub subscribes to: the table's topics it reads, as filters."""
    values = {"root": root, "hub_id": hub_id}
    filters = [
        fill(r.pattern, values)
        for r in TOPICS
        if r.readers & {Party.HUB, Party.THE_HUB} and r.kind != "hub/status"
    ]
    return [f"$share/{share}/{f}" for f in filters] if share else filters


@pytest.mark.parametrize("share", [None, "ingest"], ids=["plain", "shared"])
async def test_a_hub_reads_every_rooms_agent_topics(
    broker: Mosquitto, topic_root: str, share: str | None
) -> None:
    sent = {
        topic(kind, topic_root, site, room)
        for kind in kinds(written_by=Party.AGENT, read_by=Party.HUB)
        for site, room in ROOMS
    } | {topic("reply", topic_root, site, room) for site, room in ROOMS}
    async with connected(broker, broker.hub(topic_root, HUB)) as hub:
        await subscribe(hub, hub_filters(topic_root, HUB, share))
        for site, room in ROOMS:
            async with connected(broker, broker.agent(topic_root, site, room)) as agent:
                for t in sorted(t for t in sent if f"/{site}/{room}/" in t):
                    await agent.publish_acked(t, b"1")
        assert await topics_all(hub, sent) == sent


async def test_a_hub_writes_commands_config_ack_help_and_its_own_status_only(
    broker: Mosquitto, topic_root: str
) -> None:
    allowed = [
        topic(k, topic_root, s, r) for k in ("cmd", "config", "ack", "help") for s, r in ROOMS
    ]
    allowed.append(topic("hub/status", topic_root, hub_id=HUB))
    refused = [topic(k, topic_root) for k in kinds(written_by=Party.AGENT)]
    refused += [topic("hub/status", topic_root, hub_id=OTHER_HUB), topic("ha/command", topic_root)]
    async with (
        connected(broker, broker.hub(topic_root, HUB)) as hub,
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
    ):
        await subscribe(agent, [f"{topic_root}/#"])
        for t in allowed:
            await hub.publish_acked(t, b"1", retain=not t.endswith("/d1"))
        for t in refused:
            with pytest.raises(PublishRefused, match="0x87"):
                await hub.publish_acked(t, b"1")
        own = {t for t in allowed if f"/{SITE}/{ROOM}/" in t or "/_hub/" in t}
        assert await topics_all(agent, own) == own


async def test_a_hub_cannot_read_another_hubs_replies(broker: Mosquitto, topic_root: str) -> None:
    mine, theirs = (topic("reply", topic_root, hub_id=h) for h in (HUB, OTHER_HUB))
    async with (
        connected(broker, broker.hub(topic_root, HUB)) as hub,
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
    ):
        await subscribe(hub, [f"{topic_root}/#", f"$share/g/{topic_root}/+/+/reply/+"])
        await agent.publish_acked(theirs, b"1")
        await agent.publish_acked(mine, b"1")
        assert await topics_until(hub, mine) == [mine]


async def test_a_shared_group_loses_what_the_member_it_picks_may_not_read(
    broker: Mosquitto, topic_root: str
) -> None:
    """Why replies are never ingested through shared subscriptions.

    Mosquitto picks the member of a group first and checks its ACL at delivery:
    a reply to hub 1 that goes to hub 2 is dropped, not offered to hub 1.
    """
    mine = topic("reply", topic_root, hub_id=HUB)
    done = topic("telemetry", topic_root)
    group = f"$share/g/{topic_root}/+/+/reply/+"
    async with (
        connected(broker, broker.hub(topic_root, HUB)) as hub,
        connected(broker, broker.hub(topic_root, OTHER_HUB)) as other,
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
    ):
        await subscribe(hub, [group, done])
        await subscribe(other, [group])
        for _ in range(10):
            await agent.publish_acked(mine, b"1")
        await agent.publish_acked(done, b"1")
        got = await topics_until(hub, done)
    assert 0 < got.count(mine) < 10


async def test_home_assistant_discovery_and_commands_for_a_room_that_enables_it(
    broker: Mosquitto, topic_root: str
) -> None:
    discovery = topic("ha/discovery", topic_root)
    command = topic("ha/command", topic_root)
    async with (
        connected(broker, broker.credential(f"homeassistant-{topic_root}")) as ha,
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
    ):
        await subscribe(ha, [f"{topic_root}-ha/#", f"{topic_root}/#"])
        await subscribe(agent, [f"{topic_root}/{SITE}/{ROOM}/ha/#"])
        await ha.publish_acked(f"{topic_root}-ha/status", b"online", retain=True)
        await agent.publish_acked(discovery, b"{}", retain=True)
        await agent.publish_acked(topic("telemetry", topic_root), b"1")
        got = await topics_all(ha, {discovery, topic("telemetry", topic_root)})
        assert f"{topic_root}-ha/status" in got
        await ha.publish_acked(command, b"ON")
        assert await topics_until(agent, command) == [command]
        for refused in (topic("cmd", topic_root), f"{topic_root}-ha/light/x/y/config"):
            with pytest.raises(PublishRefused, match="0x87"):
                await ha.publish_acked(refused, b"1")
