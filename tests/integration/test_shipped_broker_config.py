"""The Mosquitto configuration the project ships is accepted by Mosquitto and keeps latency low."""

from __future__ import annotations

from pathlib import Path

import aiomqtt
import pytest

from smartclass.broker import Mosquitto, free_port

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "broker" / "files"


def test_every_broker_config_we_ship_or_start_sets_tcp_nodelay(tmp_path: Path) -> None:
    started = Mosquitto(data_dir=tmp_path).config_path.read_text()
    for text in ((SHIPPED / "smartclass.conf").read_text(), started):
        lines = {line.strip() for line in text.splitlines()}
        assert "set_tcp_nodelay true" in lines
        assert "persistence true" in lines


async def test_mosquitto_accepts_the_shipped_config(tmp_path: Path) -> None:
    port = free_port()
    text = (SHIPPED / "smartclass.conf").read_text().replace("listener 1883", f"listener {port}")
    broker = Mosquitto(port=port, data_dir=tmp_path, raw_config=text)
    with broker:
        async with aiomqtt.Client(broker.host, broker.port) as client:
            await client.publish("probe", b"1", qos=1)
