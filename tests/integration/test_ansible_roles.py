"""The broker and edge roles applied for real on this machine, into a throwaway prefix.

``ansible-playbook`` runs both roles with ``connection: local`` on a test inventory whose
secrets ``smartclass deploy secrets`` made, with apt, pip, users, systemd and reboots turned
off. Mosquitto then runs from the files the broker role installed, an agent from the unit,
env file and room file the edge role installed; the units go through systemd-analyze.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import grp
import json
import os
import re
import shlex
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
import yaml

from protocol import RoomTopics, Status, decode
from protocol.client import AckedClient, PublishRefused
from protocol.tls import client_context
from smartclass.broker import Mosquitto, free_port, mqtt_login
from smartclass.cli import main
from smartclass.credential_store import broker_config
from smartclass.processes import spawn, stop

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
BIN = Path(sys.executable).parent
SITE, ROOM_A, ROOM_B = "thcs-test", "6a1", "6a2"
SERVER, PI_A = "srv-thcs-test", f"pi-{SITE}-{ROOM_A}"
WAIT_S = 10.0
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+"
    r"failed=(?P<failed>\d+)",
    re.MULTILINE,
)
PLAYBOOK = """\
# The broker's server and the Pi side by side (strategy free): each host runs its own role.
- name: The school's broker and one classroom's agent
  hosts: brokers:edges
  gather_facts: false
  strategy: free
  tasks:
    - name: The broker
      ansible.builtin.include_role: {name: broker}
      when: "'brokers' in group_names"
    - name: The agent
      ansible.builtin.include_role: {name: edge}
      when: "'edges' in group_names"
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One ansible-playbook run: its exit status, its output, its recap by host."""

    returncode: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m["host"]: {k: int(m[k]) for k in ("ok", "changed", "failed")}
            for m in RECAP.finditer(self.output)
        }


@dataclass(slots=True)
class Deployment:
    """The test school as the roles left it: paths, ports, both runs, the running broker."""

    work: Path
    prefix: Path
    secrets: Path
    root: str
    tls_port: int
    plain_port: int
    runs: list[Run]
    broker: Mosquitto | None = None

    @property
    def ca_file(self) -> Path:
        return self.prefix / "etc/smartclass/ca.crt"

    @property
    def room_file(self) -> Path:
        return self.prefix / "etc/smartclass/room.yaml"

    @property
    def unit_file(self) -> Path:
        return self.prefix / "etc/systemd/system/smartclass-edge.service"

    def env(self, path: Path) -> dict[str, str]:
        """An env file's variables as systemd reads them: a later line wins."""
        text = path.read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if "=" in line and not line.startswith("#")]
        return dict(line.split("=", 1) for line in lines)

    def login(self, part: str) -> tuple[str, str]:
        """The username and password of a generated env file (``edge/6a1.env``, ``hub/…``)."""
        values = self.env(self.secrets / SITE / part)
        kind = "HUB" if part.startswith("hub/") else "EDGE"
        return values[f"SMARTCLASS_{kind}_MQTT_USERNAME"], values[
            f"SMARTCLASS_{kind}_MQTT_PASSWORD"
        ]


def write_inventory(folder: Path, root: str) -> Path:
    """One school: its server (broker and hub, named localhost in its certificate), two Pis."""
    pis = {
        f"pi-{SITE}-{room}": {
            "smartclass_room": room,
            "smartclass_hardware_profile": "classroom-usb-mic",
        }
        for room in (ROOM_A, ROOM_B)
    }
    inventory = {
        "all": {
            "children": {
                "hubs": {"hosts": {SERVER: None}},
                "brokers": {"hosts": {SERVER: None}},
                "edges": {"hosts": dict.fromkeys(pis)},
                "school_thcs_test": {
                    "vars": {"smartclass_site": SITE},
                    "hosts": {
                        SERVER: {
                            "ansible_host": "127.0.0.1",
                            "smartclass_broker_names": ["localhost", "127.0.0.1"],
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


def local_vars(d: Deployment) -> dict[str, object]:
    """What makes the roles run here, as this user, into the prefix, without services."""
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "smartclass_prefix": str(d.prefix),
        "smartclass_secrets_dir": str(d.secrets),
        "smartclass_source_dir": str(REPO),
        "smartclass_manage_packages": False,
        "smartclass_manage_services": False,
        "smartclass_manage_users": False,
        "smartclass_reboot": False,
        "smartclass_broker_tls_port": d.tls_port,
        "smartclass_broker_plain_port": d.plain_port,
        "broker_tls_address": "127.0.0.1",
        "broker_file_owner": user,
        "broker_file_group": group,
        "edge_user": user,
        "edge_group": group,
        "edge_file_owner": user,
        "edge_file_group": group,
        "edge_venv": sys.prefix,
        "edge_room_file": str(REPO / "firmware_configs/rooms/sim-room.yaml"),
        "edge_room_overrides": {"panel": {"enabled": False}},
        "edge_pin_factory": "mock",
    }


def play(d: Deployment, *extra: str, limit: str = f"{SERVER},{PI_A}") -> Run:
    """ansible-playbook on the test inventory with the local variables (and ``extra``)."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"),
        "ANSIBLE_LOCAL_TEMP": str(d.work / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(d.work / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(d.work / "inventory/hosts.yml"),
         "-e", f"@{d.work / 'local.json'}", "--limit", limit, *extra,
         str(d.work / "play.yml")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return Run(proc.returncode, proc.stdout + proc.stderr)


def installed_broker(d: Deployment) -> Mosquitto:
    """Mosquitto with what the broker role installed, included as Debian's mosquitto.conf does."""
    data = d.work / "mosquitto"
    config = (
        f"include_dir {d.prefix / 'etc/mosquitto/conf.d'}\n"
        f"log_dest file {data}/mosquitto.log\nlog_type error\nlog_type warning\n"
        "log_type notice\nconnection_messages true\n"
    )
    return Mosquitto(port=d.plain_port, data_dir=data, raw_config=config)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("ansible")
    root = f"t{uuid.uuid4().hex[:10]}"
    inventory = write_inventory(work / "inventory", root)
    secrets = work / "secrets"
    assert main(["deploy", "secrets", "--inventory", str(inventory), "--out", str(secrets)]) == 0
    d = Deployment(work, work / "root", secrets, root, free_port(), free_port(), runs=[])
    (work / "local.json").write_text(json.dumps(local_vars(d)))
    (work / "play.yml").write_text(PLAYBOOK)
    for _ in range(2):
        run = play(d)
        assert run.returncode == 0, run.output[-4000:]
        d.runs.append(run)
    with installed_broker(d) as broker:
        d.broker = broker
        yield d


@contextlib.asynccontextmanager
async def connected(
    d: Deployment,
    login: tuple[str, str] | None,
    *,
    tls: ssl.SSLContext | None = None,
    plain: bool = False,
) -> AsyncIterator[AckedClient]:
    """An MQTT 5 client on the TLS listener as localhost, trusting the installed CA (or
    ``tls``); with ``plain``, on the loopback listener as the hub on the server uses it."""
    user, password = login or (None, None)
    client = AckedClient(
        "127.0.0.1" if plain else "localhost",
        d.plain_port if plain else d.tls_port,
        username=user,
        password=password,
        identifier=user or f"anonymous-{uuid.uuid4().hex[:6]}",
        protocol=aiomqtt.ProtocolVersion.V5,
        tls_context=None if plain else (tls or client_context(d.ca_file, setting="test")),
        timeout=WAIT_S,
    )
    async with client:
        yield client


async def first_message(client: aiomqtt.Client, topic: str) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            if message.topic.value == topic:
                return message
    raise AssertionError(f"nothing on {topic}")  # pragma: no cover


def test_a_second_run_of_each_role_changes_nothing(deployment: Deployment) -> None:
    first, second = (run.recap() for run in deployment.runs)
    assert set(first) == set(second) == {SERVER, PI_A}
    assert all(first[host]["changed"] > 0 for host in first)
    assert {host: r["changed"] for host, r in second.items()} == {SERVER: 0, PI_A: 0}
    assert all(r["failed"] == 0 for r in second.values())


def test_the_installed_unit_passes_systemd_analyze_verify(deployment: Deployment) -> None:
    unit = deployment.unit_file
    text = unit.read_text()
    for setting in ("Type=notify", "WatchdogSec=30", "Restart=always", "ProtectSystem=strict",
                    "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes"):  # fmt: skip
        assert setting in text.splitlines()
    # verify loads the unit file as systemd would (no PID 1 needed): every key known, every
    # value parsed, ExecStart= executable, EnvironmentFile= readable. An unknown key or a bad
    # value is only a warning on stderr, so its lines count too.
    proc = subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    own = [line for line in proc.stderr.splitlines() if unit.name in line]
    assert (proc.returncode, own) == (0, []), proc.stderr
    broken = deployment.work / "broken" / unit.name
    broken.parent.mkdir(exist_ok=True)
    broken.write_text(text.replace("WatchdogSec=30", "WatchdogSec=thirty"))
    proc = subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", str(broken)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Failed to parse sec value" in proc.stderr  # so the check above would have seen it


def test_the_rendered_broker_config_holds_every_setting_of_broker_config(
    deployment: Deployment,
) -> None:
    installed = deployment.prefix / "etc/mosquitto/smartclass"
    rendered = (deployment.prefix / "etc/mosquitto/conf.d/smartclass.conf").read_text()

    def settings(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    expected = settings(broker_config(installed / "passwd", installed / "acl"))
    assert [line for line in settings(rendered) if line in expected] == expected
    assert f"listener {deployment.plain_port} 127.0.0.1" in settings(rendered)


def test_the_rendered_room_file_passes_smartclass_validate(deployment: Deployment) -> None:
    assert main(["validate", str(deployment.room_file)]) == 0
    room = yaml.safe_load(deployment.room_file.read_text())
    assert (room["site"], room["room"], room["mqtt"]["topic_root"]) == (
        SITE, ROOM_A, deployment.root,
    )  # fmt: skip


async def test_an_agent_logs_in_over_tls_with_its_own_credential_and_checks_the_broker(
    deployment: Deployment,
) -> None:
    installed = deployment.env(deployment.prefix / "etc/smartclass/edge.env")
    login = installed["SMARTCLASS_EDGE_MQTT_USERNAME"], installed["SMARTCLASS_EDGE_MQTT_PASSWORD"]
    assert login == deployment.login(f"edge/{ROOM_A}.env")
    assert installed["SMARTCLASS_EDGE_MQTT_HOST"] == "localhost"
    assert installed["SMARTCLASS_EDGE_MQTT_PORT"] == str(deployment.tls_port)
    assert installed["SMARTCLASS_EDGE_MQTT_TLS_CA_FILE"] == str(deployment.ca_file)
    topic = RoomTopics(SITE, ROOM_A, deployment.root).status
    async with connected(deployment, login) as agent:
        await agent.publish_acked(topic, b"{}", 1)
    # without the school's CA the agent does not trust the broker
    with pytest.raises(aiomqtt.MqttError, match="CERTIFICATE_VERIFY_FAILED"):
        async with connected(deployment, login, tls=ssl.create_default_context()):
            pass  # pragma: no cover


async def test_anonymous_and_wrong_password_clients_are_refused(deployment: Deployment) -> None:
    user, password = deployment.login(f"edge/{ROOM_A}.env")
    for login in (None, (user, password + "x"), (user, deployment.login("hub/hub.env")[1])):
        for plain in (False, True):
            with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
                async with connected(deployment, login, plain=plain):
                    pass  # pragma: no cover
    assert not mqtt_login("127.0.0.1", deployment.plain_port, None, None)


async def test_room_a_can_neither_command_room_b_nor_read_its_telemetry(
    deployment: Deployment,
) -> None:
    a, b = (RoomTopics(SITE, room, deployment.root) for room in (ROOM_A, ROOM_B))
    command_b, marker = b.command("lights"), a.command("lights")
    async with (
        connected(deployment, deployment.login("hub/hub.env"), plain=True) as hub,
        connected(deployment, deployment.login(f"edge/{ROOM_A}.env")) as agent_a,
        connected(deployment, deployment.login(f"edge/{ROOM_B}.env")) as agent_b,
    ):
        await hub.subscribe(b.telemetry, qos=1)
        await agent_b.subscribe(command_b, qos=1)
        await agent_a.subscribe(marker, qos=1)
        with contextlib.suppress(aiomqtt.MqttError):  # refused, or granted and never fed
            await agent_a.subscribe(b.telemetry, qos=1)
        with pytest.raises(PublishRefused):
            await agent_a.publish_acked(command_b, b"from room a", 1)
        # what the hub and B may do arrives: B's reading reaches the hub's subscriber
        await hub.publish_acked(command_b, b"from the hub", 1)
        assert (await first_message(agent_b, command_b)).payload == b"from the hub"
        await agent_b.publish_acked(b.telemetry, b"b's reading", 1)
        assert (await first_message(hub, b.telemetry)).payload == b"b's reading"
        # then a command of A's own, after B's reading: A gets it, and nothing before it
        await hub.publish_acked(marker, b"marker", 1)
        received = await topics_until(agent_a, marker)
        assert received == [marker]


async def topics_until(client: aiomqtt.Client, last: str) -> list[str]:
    """Topics of the messages received up to and including one on ``last``."""
    seen: list[str] = []
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            seen.append(message.topic.value)
            if message.topic.value == last:
                return seen
    raise AssertionError(f"nothing on {last}")  # pragma: no cover


async def test_a_broken_room_file_is_refused_without_touching_the_installed_one_or_the_agent(
    deployment: Deployment,
) -> None:
    unit = deployment.unit_file.read_text().splitlines()
    (exec_start,) = [line.split("=", 1)[1] for line in unit if line.startswith("ExecStart=")]
    (env_file,) = [line.split("=", 1)[1] for line in unit if line.startswith("EnvironmentFile=")]
    room = RoomTopics(SITE, ROOM_A, deployment.root)
    before = deployment.room_file.read_bytes(), deployment.room_file.stat().st_mtime_ns
    hub_login = deployment.login("hub/hub.env")
    async with connected(deployment, hub_login, plain=True) as hub:
        await hub.subscribe(room.status, qos=1)
        agent = spawn(shlex.split(exec_start), env=deployment.env(Path(env_file)),
                      log_file=deployment.work / "edge.log")  # fmt: skip
        try:
            online = await online_status(hub, room.status)
            bad = {"edge_room_overrides": {"panel": {"enabled": False}, "projector_colour": "blue"}}
            run = play(deployment, "-e", json.dumps(bad), limit=PI_A)
            assert run.returncode != 0
            assert "projector_colour" in run.output  # smartclass validate said why
            assert run.recap()[PI_A]["failed"] == 1
            after = deployment.room_file.read_bytes(), deployment.room_file.stat().st_mtime_ns
            assert after == before
            assert agent.poll() is None  # the process started before: never stopped
            async with connected(deployment, hub_login, plain=True) as again:
                await again.subscribe(room.status, qos=1)
                retained = await online_status(again, room.status)
            assert retained.boot == online.boot  # still online, and not started again
        finally:
            stop(agent, "edge")


async def online_status(hub: aiomqtt.Client, topic: str) -> Status:
    """The first online status on ``topic`` (the agent's retained one, or its next)."""
    async with asyncio.timeout(60):
        async for message in hub.messages:
            if message.topic.value == topic and isinstance(message.payload, bytes):
                status = decode(Status, message.payload)
                if status.state == "online":
                    return status
    raise AssertionError("the agent never came online")  # pragma: no cover
