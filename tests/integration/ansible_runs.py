"""Ansible runs of the tests: a one-school inventory, ansible-playbook and its recap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
BIN = Path(sys.executable).parent
SITE, ROOM_A, ROOM_B = "thcs-test", "6a1", "6a2"
SERVER, PI_A, PI_B = "srv-thcs-test", f"pi-{SITE}-{ROOM_A}", f"pi-{SITE}-{ROOM_B}"
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+"
    r"failed=(?P<failed>\d+)",
    re.MULTILINE,
)


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


def run_playbook(work: Path, playbook: Path, *extra: str, limit: str) -> Run:
    """ansible-playbook on ``work/inventory/hosts.yml`` with ``work/local.json`` as extra
    variables (and ``extra``), its temporary files in ``work``."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(work / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(work / "inventory/hosts.yml"),
         "-e", f"@{work / 'local.json'}", "--limit", limit, *extra, str(playbook)],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    return Run(proc.returncode, proc.stdout + proc.stderr)


__all__ = [
    "ANSIBLE",
    "PI_A",
    "PI_B",
    "REPO",
    "ROOM_A",
    "ROOM_B",
    "SERVER",
    "SITE",
    "Run",
    "run_playbook",
    "write_inventory",
]
