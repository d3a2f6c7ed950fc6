"""A broker with generated credentials and ACLs: logins, an agent's room, client ids, rotation."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from protocol.client import PublishRefused
from smartclass.acl import Party
from smartclass.broker import RELOAD_PROBE_USER, BrokerError, Mosquitto, mqtt_login
from smartclass.credentials import (
    Credential,
    CredentialError,
    RoomSpec,
    check_password,
    parse_password_file,
)
from tests.integration.auth_clients import (
    HUB,
    OTHER_HUB,
    OTHER_ROOM,
    OTHER_SITE,
    ROOM,
    SITE,
    connect_and_vanish,
    connected,
    kinds,
    secured_broker,
    subscribe,
    topic,
    topics_all,
    topics_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(topic_root: str) -> Iterator[Mosquitto]:
    """A broker of the test's own with the sample deployment's credentials and ACLs."""
    with secured_broker(topic_root) as b:
        yield b


def test_our_hash_is_accepted_and_agrees_with_mosquitto_passwd(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    user, password = broker.agent(topic_root, SITE, ROOM)
    assert mqtt_login(broker.host, broker.port, user, password)
    assert not mqtt_login(broker.host, broker.port, user, password + "x")
    assert not mqtt_login(broker.host, broker.port, user, "")
    # and what mosquitto_passwd writes for the same password, our check reads
    theirs = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(theirs), user, password], check=True)
    assert check_password(password, parse_password_file(theirs.read_text())[user])


async def test_anonymous_and_wrong_passwords_are_refused(
    broker: Mosquitto, topic_root: str
) -> None:
    user, password = broker.hub(topic_root, HUB)
    agent_user = broker.agent(topic_root, SITE, ROOM).username
    for credential in (None, Credential(user, "wrong"), Credential(agent_user, password)):
        with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
            async with connected(broker, credential, identifier="probe"):
                pass  # pragma: no cover
    assert not mqtt_login(broker.host, broker.port, None, None)  # MQTT 3.1.1 too


async def test_an_agent_publishes_on_each_of_its_write_topics(
    broker: Mosquitto, topic_root: str
) -> None:
    written = [topic(k, topic_root) for k in kinds(written_by=Party.AGENT)]
    async with (
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
        connected(broker, broker.operator(topic_root)) as watcher,
    ):
        await subscribe(watcher, [f"{topic_root}/#"])
        for t in written:
            await agent.publish_acked(t, b"1")
        assert await topics_all(watcher, set(written)) == set(written)


async def test_an_agent_receives_on_each_of_its_read_topics(
    broker: Mosquitto, topic_root: str
) -> None:
    read = [topic(k, topic_root) for k in kinds(read_by=Party.AGENT)]
    ha_commands = topic("ha/command", topic_root)
    async with (
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
        connected(broker, broker.operator(topic_root)) as sender,
    ):
        await sender.publish_acked(topic("config", topic_root), b"retained", retain=True)
        await subscribe(agent, [f"{topic_root}/#"])  # every filter is taken; reads are checked
        for t in [*read, ha_commands]:
            await sender.publish_acked(t, b"1")
        got = await topics_all(agent, {*read, ha_commands})
    assert got == {*read, ha_commands}


async def test_an_agent_is_refused_other_rooms_and_its_own_read_only_topics(
    broker: Mosquitto, topic_root: str
) -> None:
    own_read_only = [topic(k, topic_root) for k in ("cmd", "config", "ack", "help", "ha/command")]
    others = [
        topic(kind, topic_root, site, room)
        for kind in kinds(written_by=Party.AGENT)
        for site, room in ((SITE, OTHER_ROOM), (OTHER_SITE, ROOM))
    ]
    hubs = [topic("hub/status", topic_root, hub_id=h) for h in (HUB, OTHER_HUB)]
    elsewhere = [f"{topic_root}/{SITE}", "other-root/s1/r1/telemetry", "$SYS/x"]
    async with connected(broker, broker.agent(topic_root, SITE, OTHER_ROOM)) as plain_agent:
        with pytest.raises(PublishRefused, match="0x87"):  # no Home Assistant in this room
            await plain_agent.publish_acked(
                topic("ha/discovery", topic_root, SITE, OTHER_ROOM), b""
            )
    async with connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent:
        for t in [*own_read_only, *others, *hubs, *elsewhere]:
            with pytest.raises(PublishRefused, match="0x87"):
                await agent.publish_acked(t, b"1")
        await agent.publish_acked(topic("telemetry", topic_root), b"1")  # still connected


async def test_an_agent_receives_nothing_published_to_another_room(
    broker: Mosquitto, topic_root: str
) -> None:
    async with (
        connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent,
        connected(broker, broker.operator(topic_root)) as sender,
    ):
        await subscribe(agent, [f"{topic_root}/#", "#"])
        for site, room in ((SITE, OTHER_ROOM), (OTHER_SITE, ROOM)):
            for kind in ("cmd", "config", "ack", "help", "telemetry", "status", "reply",
                         "ha/command"):  # fmt: skip
                await sender.publish_acked(topic(kind, topic_root, site, room), b"1")
        own = topic("cmd", topic_root)
        await sender.publish_acked(own, b"1")
        got = await topics_until(agent, own)
    assert got == [own]


async def test_another_identity_cannot_kick_an_agent_off_by_its_client_id(
    broker: Mosquitto, topic_root: str
) -> None:
    agent_cred = broker.agent(topic_root, SITE, ROOM)
    async with connected(broker, agent_cred) as agent:
        async with connected(broker, broker.hub(topic_root, HUB), identifier=agent_cred.username):
            await agent.publish_acked(topic("telemetry", topic_root), b"still here")
        # the control: the same identity does take the client id over
        async with connected(broker, agent_cred):
            with pytest.raises(aiomqtt.MqttError):
                await agent.publish_acked(topic("telemetry", topic_root), b"gone", timeout=2)


async def test_an_agents_last_will_reaches_its_own_room_only(
    broker: Mosquitto, topic_root: str
) -> None:
    agent = broker.agent(topic_root, SITE, ROOM)
    own, other = (topic("status", topic_root, SITE, r) for r in (ROOM, OTHER_ROOM))
    async with connected(broker, broker.operator(topic_root)) as watcher:
        await subscribe(watcher, [f"{topic_root}/#"])
        connect_and_vanish(broker, agent, other)  # accepted at CONNECT, dropped when sent
        connect_and_vanish(broker, agent, own)  # the same client id: the first is gone by now
        assert await topics_until(watcher, own) == [own]


async def test_rotation_changes_one_credential_and_the_old_password_stops_working(
    broker: Mosquitto, topic_root: str
) -> None:
    store = broker.store
    assert store is not None
    old = broker.agent(topic_root, SITE, ROOM)
    broker.operator(topic_root)
    users = set(parse_password_file(store.password_file.read_text())) - {RELOAD_PROBE_USER}
    others = {u: store.credential(u) for u in users - {old.username}}
    assert len(others) == 6  # two more agents, two hubs, Home Assistant, the operator
    acl = store.acl_file.read_text()
    async with (
        connected(broker, old) as agent,
        connected(broker, broker.agent(topic_root, SITE, OTHER_ROOM)) as neighbour,
    ):
        new = broker.rotate(old.username)
        assert new.username == old.username
        assert new.password != old.password
        # at the reload Mosquitto 2.0.11 checks connected clients again: the old password's
        # connection ends, the others stay
        await neighbour.publish_acked(topic("telemetry", topic_root, SITE, OTHER_ROOM), b"1")
        with pytest.raises(aiomqtt.MqttError):
            await agent.publish_acked(topic("telemetry", topic_root), b"1", timeout=2)
    with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
        async with connected(broker, old):
            pass  # pragma: no cover
    async with connected(broker, new) as agent:
        await agent.publish_acked(topic("telemetry", topic_root), b"1")
    assert {u: store.credential(u) for u in others} == others
    assert store.acl_file.read_text() == acl
    for user, cred in others.items():
        assert mqtt_login(broker.host, broker.port, user, cred.password)


async def test_a_room_or_user_added_to_a_running_broker_can_connect_at_once(
    broker: Mosquitto, topic_root: str
) -> None:
    from smartclass.acl import Grant

    added = broker.add_room(topic_root, OTHER_SITE, "r9")
    async with connected(broker, added) as agent:
        await agent.publish_acked(topic("status", topic_root, OTHER_SITE, "r9"), b"1")
        with pytest.raises(PublishRefused):
            await agent.publish_acked(topic("status", topic_root), b"1")
    tool = broker.add_user("tool-1", [Grant.write(f"{topic_root}/tools/#")])
    async with connected(broker, tool) as client:
        await client.publish_acked(f"{topic_root}/tools/x", b"1")
        with pytest.raises(PublishRefused):
            await client.publish_acked(topic("cmd", topic_root), b"1")


async def test_packets_over_256_kib_are_refused(broker: Mosquitto, topic_root: str) -> None:
    async with connected(broker, broker.agent(topic_root, SITE, ROOM)) as agent:
        await agent.publish_acked(topic("event", topic_root), b"x" * 200_000)
        with pytest.raises(aiomqtt.MqttError):
            await agent.publish_acked(topic("event", topic_root), b"x" * 300_000)


async def test_the_anonymous_mode_is_there_only_without_auth(own_broker: Mosquitto) -> None:
    assert own_broker.secured  # what the suite and the demo run
    assert not mqtt_login(own_broker.host, own_broker.port, None, None)
    with Mosquitto() as anonymous:  # only when asked for by leaving auth out
        assert not anonymous.secured
        assert mqtt_login(anonymous.host, anonymous.port, None, None)
        with pytest.raises(BrokerError, match="anonymous"):
            anonymous.agent("sc", SITE, ROOM)


def test_a_refused_change_leaves_the_broker_as_it_was(tmp_path: Path) -> None:
    broker = Mosquitto(data_dir=tmp_path, auth=[])  # not started: changes only write files
    first = broker.add_room("sc", "a-b", "c")
    assert broker.store is not None
    acl = broker.store.acl_file.read_text()
    with pytest.raises(CredentialError, match="edge-sc-a-b-c"):
        broker.add_room("sc", "a", "b-c")  # the same username
    assert broker.deployment("sc").rooms == (RoomSpec("a-b", "c"),)
    assert broker.agent("sc", "a-b", "c") == first
    assert broker.store.acl_file.read_text() == acl
    settings = {line.strip() for line in broker.config_path.read_text().splitlines()}
    assert {"allow_anonymous false", "use_username_as_clientid true"} <= settings
    assert {"set_tcp_nodelay true", "persistence true", "max_packet_size 262144"} <= settings
    broker.close()
