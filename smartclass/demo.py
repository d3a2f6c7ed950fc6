"""The demo: Mosquitto, the hub and simulated classrooms of District 12 on one machine."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from hub.access import Role
from protocol.timetable import TimetableConfig
from smartclass.acl import Grant
from smartclass.broker import BrokerError, Mosquitto, free_port
from smartclass.credentials import CredentialError, Deployment, ExtraUser, RoomSpec
from smartclass.demo_panel import panel_lines, panel_section
from smartclass.health_watch import watch_hub
from smartclass.processes import Service, smartclass_command
from smartclass.school_day import DayOptions, day_lines, follow_school_day, simulated_day

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
ROOT = "sc"
DEMO_HUB_ID = "hub-demo"
OBSERVER = "observer"
"""A read-only broker user for watching the demo's MQTT traffic."""
ROOM_TEMPLATE = REPO / "firmware_configs" / "rooms" / "sim-room.yaml"

_ROOM_NAMES = {
    "library": "Thư viện",
    "e-library": "Thư viện điện tử",
    "hall": "Hội trường",
    "lab-stem": "Phòng STEM",
    "lab-robot": "Phòng Robot",
}


def room_name(room_id: str) -> str:
    """A Vietnamese display name for a sample room id (``6a1`` → ``Lớp 6A1``)."""
    return _ROOM_NAMES.get(room_id, f"Lớp {room_id.upper()}")


def district() -> dict[str, Any]:
    """The sample district bundled with the project."""
    text = resources.files("smartclass.data").joinpath("district12.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def pick_rooms(count: int) -> list[tuple[dict[str, Any], str]]:
    """``count`` (site, room) pairs, taken round-robin across schools so each one shows."""
    sites = district()["sites"]
    queues = [[(site, room) for room in site["rooms"]] for site in sites]
    picked: list[tuple[dict[str, Any], str]] = []
    while len(picked) < count and any(queues):
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    if len(picked) < count:
        msg = f"the sample district has {len(picked)} rooms; asked for {count}"
        raise ValueError(msg)
    return picked


def write_demo_files(
    data_dir: Path, count: int, interval: float, panel_host: str = "127.0.0.1"
) -> tuple[Path, list[Path]]:
    """Write the hub's sites file and one room file per simulated classroom (its tablet panel
    on ``panel_host``, on a free port)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rooms_dir = data_dir / "rooms"
    rooms_dir.mkdir(exist_ok=True)
    template = yaml.safe_load(ROOM_TEMPLATE.read_text(encoding="utf-8"))
    sites: dict[str, dict[str, Any]] = {}
    room_files: list[Path] = []
    for site, room in pick_rooms(count):
        entry = sites.setdefault(site["id"], {"id": site["id"], "name": site["name"], "rooms": []})
        entry["rooms"].append({"id": room, "name": room_name(room)})
        config = {
            **template,
            "site": site["id"],
            "room": room,
            "name": room_name(room),
            "telemetry_interval_s": interval,
            "panel": panel_section(panel_host),
        }
        _fill_with_pupils(config, f"{site['id']}/{room}")
        follow_school_day(config, f"{site['id']}/{room}")
        path = rooms_dir / f"{site['id']}--{room}.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
        room_files.append(path)
    sites_file = data_dir / "sites.yaml"
    sites_file.write_text(
        yaml.safe_dump({"sites": list(sites.values())}, allow_unicode=True, sort_keys=False),
        "utf-8",
    )
    return sites_file, room_files


def _fill_with_pupils(config: dict[str, Any], key: str) -> None:
    """Put a class of 25-42 pupils in each simulated room, so CO2 and warmth rise."""
    pupils = 25 + zlib.crc32(key.encode()) % 18
    for device in config.get("devices", {}).values():
        if device.get("family") == "environment" and device.get("backend") == "sim":
            device["occupancy"] = pupils


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: Role
    username: str
    password: str
    reach: str


@dataclass(frozen=True, slots=True)
class DemoRoom:
    """One simulated classroom of the demo, as its lines of the printout show it."""

    site: str
    room: str
    name: str
    config: Path
    """Its room file."""


def room_lines(room: DemoRoom) -> list[str]:
    """What the demo prints for one room (its panel's address goes here too)."""
    return [f"  {room.site + '/' + room.room:<34} {room.name}"]


def hub_pages(api: str) -> dict[str, str]:
    """The hub's pages the demo points to: the IT dashboard at ``/`` (each user's first
    page, the overview for IT), and the reports, the menu's page for reading them (until
    the hub has one, ``/`` too)."""
    from hub.access import Action
    from hub.web import web_router
    from hub.web.pages import MENU

    web_router()  # the parts put their pages in the menu as their routers are included
    reports = next((path for _, path, _, action in MENU if action == Action.REPORT_READ), "/")
    return {"IT dashboard": f"{api}/", "reports": f"{api}{reports}"}


ROLE_PAGES = {
    Role.TEACHER: "IT dashboard",  # ``/`` shows a teacher their room (the panel is in it)
    Role.IT: "IT dashboard",
    Role.ADMIN: "reports",
    Role.DISTRICT: "reports",
}
"""The page of ``hub_pages`` each demo user should open first."""


def demo_users(database_url: str, rooms: list[tuple[str, str]]) -> tuple[list[DemoLogin], str]:
    """One user per role with a fresh generated password (the same names on each run, new
    passwords), and an API token of the IT user: (logins, token)."""
    from hub.db import create_schema, make_engine
    from hub.users import Users, generate_password

    sites = sorted({site for site, _ in rooms})
    first_site, first_room = rooms[0]
    people = [
        (Role.TEACHER, "demo-teacher", (), [rooms[0]], f"{first_site}/{first_room}"),
        (Role.IT, "demo-it", sites, [], ", ".join(sites)),
        (Role.ADMIN, "demo-admin", [first_site], [], first_site),
        (Role.DISTRICT, "demo-district", (), [], "every school"),
    ]
    engine = make_engine(database_url)
    try:
        create_schema(engine)
        users = Users(engine)
        logins = []
        for role, name, reach_sites, reach_rooms, reach in people:
            password = generate_password()
            if users.by_name(name) is None:
                users.add(name, role, password, sites=reach_sites, rooms=reach_rooms)
            else:
                users.set_password(name, password)
                users.set_reach(name, sites=reach_sites, rooms=reach_rooms)
            logins.append(DemoLogin(role, name, password, reach))
        it_user = users.by_name("demo-it")
        assert it_user is not None
        for token in users.tokens(it_user.id):
            if token.revoked_at is None:
                users.revoke_token(it_user.id, token.id)
        _, secret = users.create_token(it_user.id, "demo")
    finally:
        engine.dispose()
    return logins, secret


def _get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=2) as resp:  # noqa: S310 - our loopback URL
        return json.load(resp)


def wait_rooms_online(api: str, count: int, timeout: float, token: str) -> int:
    """Poll the hub until ``count`` rooms are online; print progress; return how many are."""
    deadline = time.monotonic() + timeout
    online, last = 0, -1
    while time.monotonic() < deadline:
        try:
            rooms = _get_json(f"{api}/api/v1/rooms", token)
            online = sum(1 for r in rooms if r.get("online"))
        except (urllib.error.URLError, OSError, ValueError):
            online = 0
        if online != last:
            print(f"  rooms online: {online}/{count}", flush=True)
            last = online
        if online >= count:
            return online
        time.sleep(0.25)  # polling a remote service: there is no event to wait on
    return online


def run_demo(
    *,
    rooms: int,
    http_port: int,
    mqtt_port: int,
    host: str,
    data_dir: Path,
    interval: float,
    day: DayOptions | None = None,
) -> int:
    """Run the whole demo in the foreground until Ctrl-C."""
    if rooms < 1:
        print("smartclass demo: --rooms must be at least 1")
        return 2
    data_dir = data_dir.resolve()
    sites_file, room_files = write_demo_files(data_dir, rooms, interval, panel_host=host)
    timetable, tz = _school_timetable()
    # Secure from the demo on: one credential per agent and per hub, per-room ACLs, no
    # anonymous access; an observer may read everything (for mosquitto_sub).
    deployment = Deployment(
        root=ROOT,
        rooms=tuple(RoomSpec(site, room) for site, room in map(_site_room, room_files)),
        hubs=(DEMO_HUB_ID,),
        extra_users=(ExtraUser(OBSERVER, (Grant.read(f"{ROOT}/#"),)),),
    )
    try:
        broker = Mosquitto(
            port=_port_or_free(mqtt_port), data_dir=data_dir / "broker", auth=[deployment]
        )
        broker.start()
    except (BrokerError, CredentialError) as exc:
        print(f"smartclass demo: {exc}")
        return 1
    assert broker.store is not None
    hub_login = broker.hub(ROOT, DEMO_HUB_ID)
    observer = broker.credential(OBSERVER)
    api = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{http_port}"  # noqa: S104
    mqtt_env = {"MQTT_HOST": broker.host, "MQTT_PORT": str(broker.port)}
    hub_env = {f"SMARTCLASS_HUB_{k}": v for k, v in mqtt_env.items()}
    hub_env["SMARTCLASS_HUB_DATABASE_URL"] = database_url = f"sqlite:///{data_dir / 'hub.sqlite'}"
    hub_env["SMARTCLASS_HUB_HUB_ID"] = DEMO_HUB_ID
    hub_env["SMARTCLASS_HUB_MQTT_USERNAME"] = hub_login.username
    hub_env["SMARTCLASS_HUB_MQTT_PASSWORD"] = hub_login.password
    edge_env = {f"SMARTCLASS_EDGE_{k}": v for k, v in mqtt_env.items()}
    edge_env["SMARTCLASS_EDGE_DATA_DIR"] = str(data_dir / "edge")
    edge_env["SMARTCLASS_EDGE_PIN_FACTORY"] = "mock"
    edge_env["SMARTCLASS_EDGE_CREDENTIALS_DIR"] = str(broker.store.env_dir)
    logins, token = demo_users(database_url, [_site_room(path) for path in room_files])
    school = simulated_day(day or DayOptions(), timetable, tz, datetime.now(UTC))
    edge_env["SMARTCLASS_EDGE_SIMULATED_DAY"] = school.model_dump_json()
    panels = "\n".join(panel_lines(room_files, data_dir / "edge", host))
    print(f"smartclass demo: broker on {broker.host}:{broker.port}, logs in {data_dir}")
    hub = Service(
        "the hub",
        smartclass_command(
            "hub", "--host", host, "--port", str(http_port), "--sites", str(sites_file)
        ),
        env=hub_env,
        log_file=data_dir / "hub.log",
        say=lambda line: print(line, flush=True),
    )
    edge_args = [arg for path in room_files for arg in ("--config", str(path))]
    fleet = Service(
        "the edge agents",
        smartclass_command("edge", *edge_args),
        env=edge_env,
        log_file=data_dir / "edge.log",
        say=lambda line: print(line, flush=True),
    )
    try:
        print(f"smartclass demo: starting the hub and {rooms} simulated classrooms…")
        with ThreadPoolExecutor(1) as pool:  # importing the hub's pages takes a while
            finding = pool.submit(hub_pages, api)
            online = wait_rooms_online(api, rooms, timeout=30, token=token)
            pages = finding.result()
        page_lines = "\n".join(f"  {f'{name}:':<20} {url}" for name, url in pages.items())
        people = "\n".join(
            f"  {x.role.value:<9} {x.username:<14} {x.password}   ({x.reach})   "
            f"opens {pages[ROLE_PAGES[x.role]]}"
            for x in logins
        )
        classrooms = "\n".join(line for path in room_files for line in room_lines(_demo_room(path)))
        simulation = "\n".join(day_lines(school, timetable, tz))
        print(
            f"""
smartclass demo is running ({online}/{rooms} rooms online)
pages (sign in as a user below; Vietnamese by default, each page switches to English):
{page_lines}
sign-ins (new passwords each run; POST {api}/api/v1/auth/login):
{people}
rooms:
{classrooms}
simulation:
{simulation}
API token of demo-it: {token}
teacher's tablet panels (each link pairs one browser, once):
{panels}
  rooms:               curl -H 'Authorization: Bearer {token}' {api}/api/v1/rooms
  health:              {api}/healthz
  MQTT stream:         mosquitto_sub -h {broker.host} -p {broker.port} -t 'sc/#' -v \\
                         -u {observer.username} -P '{observer.password}'
  broker credentials:  {broker.store.path} (one per agent and hub; anonymous refused)
  try a command:       curl -X POST -H 'Authorization: Bearer {token}' \\
                         {api}/api/v1/rooms/{_first(room_files)}/devices/lights/commands \\
                         -H 'content-type: application/json' -d '{{"action": "on"}}'
Press Ctrl-C to stop.""",
            flush=True,
        )
        health = watch_hub(f"{api}/healthz")
        while True:  # like systemd on a Pi: a process that dies is started again
            hub.check()
            fleet.check()
            health.check()  # a live hub whose ingest stopped: says so, restarts nothing
            time.sleep(0.5)  # idle until Ctrl-C; there is no event for a child's death here
    except KeyboardInterrupt:
        print("\nsmartclass demo: stopping…", flush=True)
        return 0
    finally:
        fleet.stop()
        hub.stop()
        broker.close()
        print("smartclass demo: stopped", flush=True)


def _school_timetable() -> tuple[TimetableConfig, ZoneInfo]:
    """The timetable the demo rooms share (their lesson plans differ), and their time zone."""
    template = yaml.safe_load(ROOM_TEMPLATE.read_text(encoding="utf-8"))
    return TimetableConfig.model_validate(template["timetable"]), ZoneInfo(template["timezone"])


def _demo_room(path: Path) -> DemoRoom:
    site, room = _site_room(path)
    return DemoRoom(site, room, room_name(room), path)


def _site_room(path: Path) -> tuple[str, str]:
    site, room = path.stem.split("--")
    return site, room


def _first(room_files: list[Path]) -> str:
    site, room = _site_room(room_files[0])
    return f"{site}/{room}"


def _port_or_free(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


__all__ = [
    "ROLE_PAGES",
    "DemoRoom",
    "hub_pages",
    "pick_rooms",
    "room_lines",
    "room_name",
    "run_demo",
    "wait_rooms_online",
    "write_demo_files",
]
