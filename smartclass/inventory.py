"""The Ansible YAML inventory of a deployment, read into its schools: broker, hub and rooms."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from protocol import ROOT, validate_id

HUBS, BROKERS, EDGES = "hubs", "brokers", "edges"
"""The groups that say what runs where."""
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class InventoryError(ValueError):
    """An inventory that cannot be read or does not describe schools; names the file and host."""


@dataclass(frozen=True, slots=True)
class Room:
    """A classroom's Pi: its inventory host name and its room id."""

    host: str
    room: str


@dataclass(slots=True)
class School:
    """One site: the server that runs its broker and its hub, and its rooms in inventory order."""

    site: str
    name: str
    broker_host: str = ""
    broker_names: tuple[str, ...] = ()
    """What the broker's certificate names: host name, ``ansible_host``, broker names."""
    hub_host: str = ""
    hub_id: str = ""
    rooms: list[Room] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Inventory:
    """The schools of an inventory file and the deployment's topic root."""

    path: Path
    topic_root: str
    schools: tuple[School, ...]


@dataclass(slots=True)
class _Host:
    groups: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    """(depth, group, that group's variables) of every group the host is in."""
    own: dict[str, Any] = field(default_factory=dict)


class _Reader:
    """Walks ``all`` → ``children`` → ``hosts`` and merges each host's variables as Ansible
    does: deeper groups win over their parents, groups of one depth in name order, the host's
    own variables over all of them; ``group_vars/GROUP.yml`` over the group's inline ``vars``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hosts: dict[str, _Host] = {}
        self.members: dict[str, set[str]] = {}
        """Every host of each group, the hosts of its children included."""
        self.group_vars: dict[str, dict[str, Any]] = {}

    def fail(self, where: str, problem: str) -> InventoryError:
        return InventoryError(f"{self.path}: {where}: {problem}")

    def load(self) -> None:
        data = _read_yaml(self.path, "the inventory")
        if not isinstance(data, dict) or not isinstance(data.get("all"), dict | None):
            raise self.fail("(file)", "an Ansible YAML inventory is a mapping of groups ('all:')")
        top = dict(data.get("all") or {})
        others = {k: v for k, v in data.items() if k != "all"}  # Ansible: children of all
        if others:
            top["children"] = {**(top.get("children") or {}), **others}
        self._group("all", top, 0, ())
        for host, info in self.hosts.items():
            extra = self.path.parent / "host_vars" / f"{host}.yml"
            if extra.is_file():
                info.own.update(self._vars_file(extra, f"host {host}"))

    def _group(self, name: str, body: object, depth: int, path: tuple[str, ...]) -> set[str]:
        where = f"group {name}"
        if name in path:
            raise self.fail(where, f"is its own child ({' -> '.join((*path, name))})")
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise self.fail(where, "must be a mapping (hosts, children, vars)")
        unknown = sorted(set(body) - {"hosts", "children", "vars"})
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r} (hosts, children or vars)")
        group_vars = self._mapping(body.get("vars"), f"{where}: vars")
        for suffix in (".yml", ".yaml"):
            extra = self.path.parent / "group_vars" / f"{name}{suffix}"
            if extra.is_file():
                group_vars.update(self._vars_file(extra, where))
        self.group_vars.setdefault(name, {}).update(group_vars)
        members: set[str] = set()
        hosts = self._mapping(body.get("hosts"), f"{where}: hosts")
        for host, host_vars in hosts.items():
            info = self.hosts.setdefault(str(host), _Host())
            info.own.update(self._mapping(host_vars, f"host {host}"))
            members.add(str(host))
        children = self._mapping(body.get("children"), f"{where}: children")
        for child, child_body in children.items():
            members |= self._group(str(child), child_body, depth + 1, (*path, name))
        for host in members:
            self.hosts[host].groups.append((depth, name, group_vars))
        self.members.setdefault(name, set()).update(members)
        return members

    def _mapping(self, value: object, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        return {str(k): v for k, v in value.items()}

    def _vars_file(self, path: Path, where: str) -> dict[str, Any]:
        data = _read_yaml(path, "a variables file")
        if data is None:
            return {}
        if not isinstance(data, dict):
            msg = f"{path}: variables of {where} must be a mapping"
            raise InventoryError(msg)
        return {str(k): v for k, v in data.items()}

    def variables(self, host: str) -> dict[str, Any]:
        """The host's variables, merged."""
        info = self.hosts[host]
        merged: dict[str, Any] = {}
        seen: set[str] = set()
        for _, group, values in sorted(info.groups, key=lambda g: (g[0], g[1])):
            if group not in seen:
                seen.add(group)
                merged.update(values)
        merged.update(info.own)
        return merged


def _read_yaml(path: Path, what: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read {what}: {exc.strerror or exc}"
        raise InventoryError(msg) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise InventoryError(msg) from exc


def _identifier(reader: _Reader, host: str, key: str, value: object) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise reader.fail(f"host {host}: {key}", f"must be a string, not {value!r}")
    try:
        return validate_id(str(value), key)
    except ValueError as exc:
        raise reader.fail(f"host {host}: {key}", str(exc)) from exc


def _name(reader: _Reader, host: str, key: str, value: object) -> str:
    """A DNS name or an IP address a certificate can carry."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    with contextlib.suppress(ValueError):  # not an address: a DNS name then
        return str(ipaddress.ip_address(text))
    labels = text.rstrip(".").split(".")
    if not text or len(text) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise reader.fail(f"host {host}: {key}", f"{value!r} is neither a DNS name nor an address")
    return text.rstrip(".").lower()


def _site_of(reader: _Reader, host: str, role: str) -> str:
    value = reader.variables(host).get("smartclass_site")
    if value is None:
        raise reader.fail(
            f"host {host}", f"in group {role!r} but no smartclass_site (put it in a school group)"
        )
    return _identifier(reader, host, "smartclass_site", value)


def read_inventory(path: Path) -> Inventory:
    """Read an Ansible YAML inventory and ``group_vars/all.yml`` beside it into its schools.

    Every host of ``brokers``, ``hubs`` and ``edges`` needs ``smartclass_site``; a room's Pi
    ``smartclass_room``. Each school has exactly one broker and one hub. The hub id is the
    hub host's ``smartclass_hub_id``, else ``hub-{inventory hostname}`` (what the hub takes
    by default on a machine of that name).
    """
    from hub.settings import default_hub_id

    reader = _Reader(path)
    reader.load()
    root_value = reader.group_vars.get("all", {}).get("smartclass_topic_root", ROOT)
    try:
        topic_root = validate_id(str(root_value), "smartclass_topic_root")
    except ValueError as exc:
        raise reader.fail("smartclass_topic_root", str(exc)) from exc
    schools: dict[str, School] = {}

    def school(site: str, host: str) -> School:
        if site not in schools:
            name = reader.variables(host).get("smartclass_site_name") or site
            schools[site] = School(site, str(name))
        return schools[site]

    ordered = list(reader.hosts)
    for host in (h for h in ordered if h in reader.members.get(BROKERS, set())):
        s = school(_site_of(reader, host, BROKERS), host)
        if s.broker_host:
            raise reader.fail(f"host {host}", f"a second broker for {s.site} ({s.broker_host})")
        variables = reader.variables(host)
        extra = variables.get("smartclass_broker_names") or []
        if not isinstance(extra, list):
            raise reader.fail(f"host {host}: smartclass_broker_names", "must be a list")
        names = [_name(reader, host, "inventory hostname", host)]
        if variables.get("ansible_host") is not None:
            names.append(_name(reader, host, "ansible_host", variables["ansible_host"]))
        names += [_name(reader, host, "smartclass_broker_names", n) for n in extra]
        s.broker_host, s.broker_names = host, tuple(dict.fromkeys(names))
    for host in (h for h in ordered if h in reader.members.get(HUBS, set())):
        s = school(_site_of(reader, host, HUBS), host)
        if s.hub_host:
            raise reader.fail(f"host {host}", f"a second hub for {s.site} ({s.hub_host})")
        given = reader.variables(host).get("smartclass_hub_id")
        hub_id = _identifier(reader, host, "smartclass_hub_id", given) if given else None
        try:
            s.hub_host, s.hub_id = host, hub_id or default_hub_id(host)
        except ValueError as exc:
            raise reader.fail(f"host {host}", f"no hub id can be made of its name: {exc}") from exc
    rooms_seen: dict[tuple[str, str], str] = {}
    for host in (h for h in ordered if h in reader.members.get(EDGES, set())):
        s = school(_site_of(reader, host, EDGES), host)
        value = reader.variables(host).get("smartclass_room")
        if value is None:
            raise reader.fail(f"host {host}", "in group 'edges' but no smartclass_room")
        room = _identifier(reader, host, "smartclass_room", value)
        if (s.site, room) in rooms_seen:
            first = rooms_seen[s.site, room]
            raise reader.fail(f"host {host}", f"room {s.site}/{room} is already {first}'s")
        rooms_seen[s.site, room] = host
        s.rooms.append(Room(host, room))
    for s in schools.values():
        for role, present in (("broker", s.broker_host), ("hub", s.hub_host)):
            if not present:
                group = BROKERS if role == "broker" else HUBS
                raise reader.fail(
                    f"site {s.site}", f"no {role}: put the school's server in group {group!r}"
                )
    if not schools:
        raise reader.fail(
            "(file)",
            f"no school in it (hosts of {BROKERS!r}, {HUBS!r}, {EDGES!r} with smartclass_site)",
        )
    return Inventory(path, topic_root, tuple(schools.values()))


__all__ = [
    "BROKERS",
    "EDGES",
    "HUBS",
    "Inventory",
    "InventoryError",
    "Room",
    "School",
    "read_inventory",
]
