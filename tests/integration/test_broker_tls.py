"""A school's broker run from what ``smartclass deploy secrets`` made: TLS, logins and ACLs.

The broker listens with TLS only, with the school's generated certificate, password file and
ACL file; agents and the hub use their generated env files and the deployment's CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
import yaml

from edge.config import load_room_config
from protocol import RoomTopics, Status, decode, hub_subscriptions
from protocol.client import AckedClient, PublishRefused
from protocol.tls import client_context
from smartclass.broker import Mosquitto, free_port
from smartclass.certificates import (
    Authority,
    cert_pem,
    issue_server,
    key_pem,
    load_certificate,
    load_key,
    new_authority,
)
from smartclass.cli import main
from smartclass.credential_store import LISTENER_SETTINGS, broker_config
from smartclass.processes import smartclass_command, spawn, stop
from tests.integration.auth_clients import topics_until
from tests.integration.system import eventually, hub_settings, running_hub, write_room

pytestmark = pytest.mark.integration

SITE, ROOM_A, ROOM_B = "thcs-nguyen-chi-thanh", "6a1", "6a2"
SERVER = "srv-thcs-nguyen-chi-thanh"
WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class School:
    """The generated secrets of the test school and its broker, listening with TLS."""

    root: str
    secrets: Path
    broker: Mosquitto

    @property
    def site(self) -> Path:
        return self.secrets / SITE

    @property
    def ca_file(self) -> Path:
        return self.site / "broker" / "ca.crt"

    def env(self, part: str) -> dict[str, str]:
        """The variables of an env file (``edge/6a1.env``, ``hub/hub.env``)."""
        text = (self.site / part).read_text(encoding="utf-8")
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def login(self, part: str) -> tuple[str, str]:
        values = self.env(part)
        prefix = "SMARTCLASS_HUB_MQTT_" if part.startswith("hub/") else "SMARTCLASS_EDGE_MQTT_"
        return values[f"{prefix}USERNAME"], values[f"{prefix}PASSWORD"]


def write_inventory(folder: Path, root: str) -> Path:
    """One school: a server (broker and hub, reachable as 127.0.0.1) and two rooms' Pis."""
    pis = {f"pi-{SITE}-{room}": {"smartclass_room": room} for room in (ROOM_A, ROOM_B)}
    inventory = {
        "all": {
            "children": {
                "hubs": {"hosts": {SERVER: None}},
                "brokers": {"hosts": {SERVER: None}},
                "edges": {"hosts": dict.fromkeys(pis)},
                "school_thcs_nguyen_chi_thanh": {
                    "vars": {"smartclass_site": SITE},
                    "hosts": {
                        SERVER: {
                            "ansible_host": "10.12.1.10",
                            "smartclass_broker_names": [f"{SERVER}.q12.edu.vn", "127.0.0.1"],
                        },
                        **pis,
                    },
                },
            }
        }
    }
    (folder / "group_vars").mkdir(parents=True)
    (folder / "group_vars" / "all.yml").write_text(f"smartclass_topic_root: {root}\n")
    path = folder / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def tls_broker(broker_dir: Path, data: Path, cert: Path, key: Path) -> Mosquitto:
    """Mosquitto with the school's passwd and acl and a TLS listener on a free loopback port."""
    port = free_port()
    config = (
        f"listener {port} 127.0.0.1\n{LISTENER_SETTINGS}"
        f"cafile {broker_dir / 'ca.crt'}\ncertfile {cert}\nkeyfile {key}\n"
        f"log_dest file {data}/mosquitto.log\nlog_type error\nlog_type warning\n"
        "log_type notice\nconnection_messages true\n"
    ) + broker_config(broker_dir / "passwd", broker_dir / "acl", autosave_interval=5)
    return Mosquitto(port=port, data_dir=data, raw_config=config)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    work = tmp_path_factory.mktemp("tls")
    root = f"t{uuid.uuid4().hex[:10]}"
    inventory = write_inventory(work / "inventory", root)
    secrets = work / "secrets"
    assert main(["deploy", "secrets", "--inventory", str(inventory), "--out", str(secrets)]) == 0
    broker_dir = secrets / SITE / "broker"
    with tls_broker(
        broker_dir, work / "broker", broker_dir / "server.crt", broker_dir / "server.key"
    ) as broker:
        yield School(root, secrets, broker)


@contextlib.asynccontextmanager
async def connected(
    school: School,
    login: tuple[str, str] | None,
    *,
    context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> AsyncIterator[AckedClient]:
    """An MQTT 5 client over TLS trusting the school's CA (or ``context``)."""
    user, password = login or (None, None)
    client = AckedClient(
        host,
        port or school.broker.port,
        username=user,
        password=password,
        identifier=user or f"anonymous-{uuid.uuid4().hex[:6]}",
        protocol=aiomqtt.ProtocolVersion.V5,
        tls_context=context or client_context(school.ca_file, setting="test"),
        timeout=WAIT_S,
    )
    async with client:
        yield client


async def test_a_real_agent_with_its_env_file_and_the_ca_comes_online_over_tls(
    school: School, tmp_path: Path
) -> None:
    room_file = write_room(tmp_path / "rooms", root=school.root, site=SITE, room=ROOM_A)
    topics = RoomTopics(SITE, ROOM_A, school.root)
    async with connected(school, school.login("hub/hub.env")) as hub:
        await hub.subscribe(topics.status, qos=1)
        agent = spawn(
            smartclass_command("edge", "--config", str(room_file)),
            env={
                **school.env(f"edge/{ROOM_A}.env"),
                "SMARTCLASS_EDGE_MQTT_HOST": "127.0.0.1",
                "SMARTCLASS_EDGE_MQTT_PORT": str(school.broker.port),
                "SMARTCLASS_EDGE_MQTT_TLS_CA_FILE": str(school.ca_file),
                "SMARTCLASS_EDGE_DATA_DIR": str(tmp_path / "edge"),
                "SMARTCLASS_EDGE_PIN_FACTORY": "mock",
            },
            log_file=tmp_path / "edge.log",
        )
        try:
            async with asyncio.timeout(30):
                async for message in hub.messages:
                    assert isinstance(message.payload, bytes)
                    if decode(Status, message.payload).state == "online":
                        break
        finally:
            stop(agent, "edge")
    # only the room's own credential may write its status: the agent it came from used it
    assert agent.returncode == 0


async def test_a_client_trusting_another_ca_is_refused_by_verification(school: School) -> None:
    other = tmp_ca_file(new_authority("another deployment"), school.secrets.parent / "other-ca")
    with pytest.raises(aiomqtt.MqttError, match="CERTIFICATE_VERIFY_FAILED"):
        async with connected(
            school,
            school.login(f"edge/{ROOM_A}.env"),
            context=client_context(other, setting="test"),
        ):
            pass  # pragma: no cover


def tmp_ca_file(ca: Authority, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "ca.crt"
    path.write_text(cert_pem(ca.certificate), encoding="ascii")
    return path


async def test_a_broker_certificate_whose_names_do_not_match_is_refused(
    school: School, tmp_path: Path
) -> None:
    broker_dir = school.site / "broker"
    ca = Authority(
        load_certificate((school.secrets / "ca" / "ca.crt").read_text(), "ca.crt"),
        load_key((school.secrets / "ca" / "ca.key").read_text(), "ca.key"),
    )
    key = load_key((broker_dir / "server.key").read_text(), "server.key")
    cert = tmp_path / "elsewhere.crt"
    cert.write_text(cert_pem(issue_server(ca, key, ("elsewhere.example", "10.9.9.9"))))
    (tmp_path / "elsewhere.key").write_text(key_pem(key))
    refused = r"CERTIFICATE_VERIFY_FAILED.*not valid for '127\.0\.0\.1'"
    with (
        tls_broker(broker_dir, tmp_path / "broker", cert, tmp_path / "elsewhere.key") as broker,
        pytest.raises(aiomqtt.MqttError, match=refused),
    ):
        async with connected(school, school.login(f"edge/{ROOM_A}.env"), port=broker.port):
            pass  # pragma: no cover


async def test_a_plain_tcp_client_is_refused_by_the_tls_listener(school: School) -> None:
    user, password = school.login(f"edge/{ROOM_A}.env")
    client = aiomqtt.Client(
        "127.0.0.1", school.broker.port, username=user, password=password, timeout=1
    )
    with pytest.raises(aiomqtt.MqttError):
        async with client:
            pass  # pragma: no cover


async def test_anonymous_and_wrong_password_clients_are_refused_over_tls(school: School) -> None:
    user, _ = school.login(f"edge/{ROOM_A}.env")
    _, other_password = school.login(f"edge/{ROOM_B}.env")
    for login in (None, (user, "wrong"), (user, other_password)):
        with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
            async with connected(school, login):
                pass  # pragma: no cover


async def test_room_a_can_neither_command_room_b_nor_read_its_telemetry(school: School) -> None:
    a, b = RoomTopics(SITE, ROOM_A, school.root), RoomTopics(SITE, ROOM_B, school.root)
    async with (
        connected(school, school.login(f"edge/{ROOM_A}.env")) as agent_a,
        connected(school, school.login(f"edge/{ROOM_B}.env")) as agent_b,
        connected(school, school.login("hub/hub.env")) as hub,
    ):
        await agent_a.subscribe([(b.telemetry, 1), (a.command("lights"), 1)])
        await agent_b.subscribe([(b.command("lights"), 1)])
        await hub.subscribe([(b.telemetry, 1)])
        with pytest.raises(PublishRefused, match="0x87"):
            await agent_a.publish_acked(b.command("lights"), b'{"forged": true}')
        await agent_b.publish_acked(b.telemetry, b'{"reading": 1}')
        assert await topics_until(hub, b.telemetry) == [b.telemetry]  # it was published
        # the hub's commands come after: each agent has received nothing before its own
        await hub.publish_acked(b.command("lights"), b"{}")
        await hub.publish_acked(a.command("lights"), b"{}")
        assert await topics_until(agent_b, b.command("lights")) == [b.command("lights")]
        assert await topics_until(agent_a, a.command("lights")) == [a.command("lights")]


async def test_the_hubs_credential_receives_every_room_of_its_school(school: School) -> None:
    env = school.env("hub/hub.env")
    filters = hub_subscriptions(school.root, None, env["SMARTCLASS_HUB_HUB_ID"])
    rooms = [RoomTopics(SITE, room, school.root) for room in (ROOM_A, ROOM_B)]
    async with connected(school, school.login("hub/hub.env")) as hub:
        await hub.subscribe([(f, 1) for f in filters])
        for room, t in zip((ROOM_A, ROOM_B), rooms, strict=True):
            async with connected(school, school.login(f"edge/{room}.env")) as agent:
                await agent.publish_acked(t.telemetry, b"{}")
                await agent.publish_acked(t.event, b"{}")
        got: set[str] = set()
        wanted = {t.telemetry for t in rooms} | {t.event for t in rooms}
        async with asyncio.timeout(WAIT_S):
            async for message in hub.messages:
                got.add(message.topic.value)
                if wanted <= got:
                    break
    assert wanted <= got


async def test_the_hub_ingest_connects_over_tls_with_its_env_file(
    school: School, tmp_path: Path
) -> None:
    env = school.env("hub/hub.env")
    user, password = school.login("hub/hub.env")
    settings = hub_settings(
        school.broker, school.root, f"sqlite:///{tmp_path / 'hub.sqlite'}",
        hub_id=env["SMARTCLASS_HUB_HUB_ID"], mqtt_host="127.0.0.1", mqtt_username=user,
        mqtt_password=password, mqtt_tls_ca_file=school.ca_file,
        sites_file=school.site / "hub" / "sites.yaml",
    )  # fmt: skip
    async with running_hub(settings) as http:
        health = (await http.get("/api/v1/health")).json()
    assert health["mqtt_connected"] is True


async def test_an_agent_that_cannot_verify_the_broker_logs_it_and_keeps_trying(
    school: School, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from edge.agent import Agent
    from edge.settings import EdgeSettings

    other = tmp_ca_file(new_authority("another deployment"), tmp_path / "other")
    room = load_room_config(write_room(tmp_path / "rooms", root=school.root, site=SITE))
    room = room.model_copy(
        update={
            "mqtt": room.mqtt.model_copy(update={"reconnect_min_s": 0.05, "reconnect_max_s": 0.1})
        }
    )
    user, password = school.login(f"edge/{ROOM_A}.env")
    settings = EdgeSettings(
        mqtt_host="127.0.0.1", mqtt_port=school.broker.port, mqtt_username=user,
        mqtt_password=password, mqtt_tls_ca_file=other, data_dir=tmp_path / "edge",
        pin_factory="mock",
    )  # fmt: skip
    agent = Agent(room, settings)
    caplog.set_level(logging.ERROR, logger="edge.link")
    task = asyncio.create_task(agent.run())
    try:

        async def refused_twice() -> bool:
            hits = [r for r in caplog.records if "refusing the broker" in r.getMessage()]
            return len(hits) >= 2

        await eventually(refused_twice, WAIT_S, "two refused connections")
        assert not task.done()
        assert not agent.connected.is_set()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "certificate cannot be verified" in caplog.text


async def test_a_hub_that_cannot_verify_the_broker_logs_it_and_keeps_trying(
    school: School, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hub.app import create_app

    other = tmp_ca_file(new_authority("another deployment"), tmp_path / "other")
    env = school.env("hub/hub.env")
    user, password = school.login("hub/hub.env")
    settings = hub_settings(
        school.broker, school.root, f"sqlite:///{tmp_path / 'hub.sqlite'}",
        hub_id=env["SMARTCLASS_HUB_HUB_ID"], mqtt_host="127.0.0.1", mqtt_username=user,
        mqtt_password=password, mqtt_tls_ca_file=other, reconnect_max_s=0.2,
        sites_file=school.site / "hub" / "sites.yaml",
    )  # fmt: skip
    caplog.set_level(logging.ERROR, logger="hub.ingest")
    app = create_app(settings)
    async with app.router.lifespan_context(app):

        async def refused_twice() -> bool:
            hits = [r for r in caplog.records if "refusing the broker" in r.getMessage()]
            return len(hits) >= 2

        await eventually(refused_twice, WAIT_S, "two refused connections")
        assert not app.state.hub.ingest.connected
    assert "certificate cannot be verified" in caplog.text


@pytest.mark.parametrize("command", ["edge", "hub"])
def test_edge_and_hub_stop_at_start_with_exit_2_when_the_ca_file_cannot_be_read(
    command: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-ca.crt"
    prefix = "SMARTCLASS_EDGE_" if command == "edge" else "SMARTCLASS_HUB_"
    args = ["--config", str(write_room(tmp_path, root="sc"))] if command == "edge" else []
    result = subprocess.run(
        smartclass_command(command, *args),
        env={
            "PATH": "/usr/bin:/bin",
            f"{prefix}MQTT_TLS_CA_FILE": str(missing),
            f"{prefix}DATABASE_URL" if command == "hub" else f"{prefix}DATA_DIR": (
                f"sqlite:///{tmp_path / 'hub.sqlite'}" if command == "hub" else str(tmp_path)
            ),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{prefix}MQTT_TLS_CA_FILE={missing}" in result.stderr
    assert "No such file" in result.stderr
