"""The Mosquitto settings the broker role ships agree with the ones smartclass starts with.

The role's template is rendered here with plain Jinja2 and the role's defaults, as Ansible
would; ``test_ansible_roles.py`` renders it with Ansible and starts Mosquitto with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from smartclass.broker import Mosquitto
from smartclass.credential_store import LISTENER_SETTINGS, broker_config
from tests.listening import listening_ports

pytestmark = pytest.mark.integration

ROLE = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "broker"


def role_defaults(**inventory: Any) -> dict[str, Any]:
    """The broker role's defaults, their templates resolved against ``inventory``."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701
    values: dict[str, Any] = dict(inventory)
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    for _ in range(len(defaults)):  # a default may name another: resolve until none is left
        for key, value in defaults.items():
            try:
                values[key] = (
                    env.from_string(value).render(values) if isinstance(value, str) else value
                )
            except jinja2.UndefinedError:
                continue
    return values


def rendered(**inventory: Any) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701
    template = env.from_string((ROLE / "templates" / "smartclass.conf.j2").read_text())
    return template.render(role_defaults(**inventory))


def settings(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_role_renders_every_setting_of_broker_config_in_its_order() -> None:
    text = rendered(smartclass_prefix="", smartclass_secrets_dir="/srv/s", smartclass_site="s1")
    files = Path("/etc/mosquitto/smartclass")
    expected = settings(broker_config(files / "passwd", files / "acl"))
    assert [line for line in settings(text) if line in expected] == expected
    assert "listener 8883" in settings(text)  # TLS on every address
    assert "listener 1883 127.0.0.1" in settings(text)  # plain on loopback only
    assert "allow_anonymous true" not in settings(text)


def test_every_broker_config_we_ship_or_start_sets_tcp_nodelay(tmp_path: Path) -> None:
    started = Mosquitto(data_dir=tmp_path).config_path.read_text()
    shipped = rendered(smartclass_prefix="", smartclass_secrets_dir="/srv/s", smartclass_site="s1")
    for text in (shipped, started):
        assert "set_tcp_nodelay true" in settings(text)
        assert "persistence true" in settings(text)


LISTENER_ONLY = {line.split()[0] for line in settings(LISTENER_SETTINGS)}
"""Settings Mosquitto reads per listener (one before any listener opens its default one)."""


def before_the_first_listener(text: str) -> list[str]:
    lines = settings(text)
    first = next((i for i, line in enumerate(lines) if line.startswith("listener ")), len(lines))
    return lines[:first]


def listener_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in settings(text):
        if line.startswith("listener "):
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    return blocks


def test_no_listener_setting_comes_before_a_listener_and_each_listener_has_them(
    tmp_path: Path,
) -> None:
    shipped = rendered(smartclass_prefix="", smartclass_secrets_dir="/srv/s", smartclass_site="s1")
    started = Mosquitto(data_dir=tmp_path, auth=[]).config_path.read_text()
    general = broker_config(Path("/p"), Path("/a"))
    for text in (shipped, started, general):
        early = {line.split()[0] for line in before_the_first_listener(text)}
        assert not early & LISTENER_ONLY, text
    for text in (shipped, started):
        blocks = listener_blocks(text)
        assert blocks
        for block in blocks:
            assert set(settings(LISTENER_SETTINGS)) <= set(block), block


def test_a_broker_from_the_role_s_file_listens_on_its_two_listeners_only(tmp_path: Path) -> None:
    """Mosquitto opens its default listener (plain, port 1883, every address) when a listener
    setting comes before the first listener: the school's network would get plain MQTT."""
    from smartclass.broker import free_port

    tls, plain = free_port(), free_port()
    text = rendered(
        smartclass_prefix="", smartclass_secrets_dir="/srv/s", smartclass_site="s1",
        smartclass_broker_tls_port=tls, smartclass_broker_plain_port=plain,
    )  # fmt: skip
    # without the school's certificate here: the same file, its TLS lines left out
    files = ("cafile", "certfile", "keyfile", "tls_version", "password_file", "acl_file")
    lines = [line for line in text.splitlines() if not line.startswith(files)]
    broker = Mosquitto(port=plain, data_dir=tmp_path, raw_config="\n".join(lines))
    with broker:
        assert broker._proc is not None
        # TLS on every address (the school's network), plain on loopback: nothing else
        assert listening_ports(broker._proc.pid) == {("0", tls), ("0100007F", plain)}
