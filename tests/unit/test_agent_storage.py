"""An agent whose outbox cannot be opened starts all the same, on an outbox in memory, and
says so: a ``storage_fault`` event and its health."""

from __future__ import annotations

from pathlib import Path

from edge.agent import Agent
from edge.config import load_room_config
from edge.settings import EdgeSettings
from protocol import Event, decode

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"


async def test_an_outbox_that_cannot_be_opened_does_not_keep_the_agent_from_starting(
    tmp_path: Path,
) -> None:
    room = load_room_config(SAMPLE)
    (tmp_path / f"{room.site}--{room.room}" / "outbox.sqlite3").mkdir(parents=True)
    agent = Agent(room, EdgeSettings(data_dir=tmp_path, pin_factory="mock"))
    try:
        await agent.storage.flush()
        events = [decode(Event, m.payload) for m in agent.outbox.peek(10)]
        [fault] = [e for e in events if e.kind == "storage_fault"]
        assert fault.severity == "critical"
        assert "cannot open the outbox" in fault.text
        health = await agent.health()
        assert health.outbox.storage_ok is False
        assert "cannot open" in health.outbox.storage_text
        assert {t.device for t in await agent.sample()} >= {"env", "noise"}, "the room runs"
    finally:
        agent.close()
