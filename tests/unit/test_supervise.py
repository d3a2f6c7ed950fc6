"""The agent's supervision: a part that raises is logged with the room and the part, counted,
and started again after a growing backoff; a cancellation always goes through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from edge.agent import Agent, run_room
from edge.config import RoomFile, load_room_config
from edge.settings import EdgeSettings
from edge.supervise import guarded, supervised
from protocol.aio import wait_within

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"
MIN_S = 0.05


class Part:
    """A part that raises the first ``failures`` times it runs, then waits to be cancelled;
    it notes the loop time of each start."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts: list[float] = []
        self.running = asyncio.Event()

    async def __call__(self) -> None:
        self.starts.append(asyncio.get_running_loop().time())
        if len(self.starts) <= self.failures:
            raise RuntimeError(f"failure {len(self.starts)}")
        self.running.set()
        await asyncio.Event().wait()


async def test_a_part_that_raises_is_logged_counted_and_restarted_after_a_growing_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    part = Part(failures=3)
    restarts: list[tuple[str, str]] = []
    task = asyncio.create_task(
        supervised(
            "health",
            part,
            label="s1/r1",
            on_restart=lambda name, exc: restarts.append((name, str(exc))),
            min_s=MIN_S,
            max_s=10 * MIN_S,
        )
    )
    try:
        await wait_within(part.running.wait(), 5)
        assert restarts == [("health", f"failure {i}") for i in (1, 2, 3)]
        logged = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(logged) == 3
        assert all(r.exc_info and "s1/r1: health failed" in r.getMessage() for r in logged)
        waits = [b - a for a, b in zip(part.starts, part.starts[1:], strict=False)]
        for wait, backoff in zip(waits, (MIN_S, 2 * MIN_S, 4 * MIN_S), strict=True):
            assert wait >= 0.8 * backoff, (waits, "restarted before its backoff")
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_part_that_returns_ends_its_supervision() -> None:
    calls: list[int] = []

    async def once() -> None:
        calls.append(1)

    await wait_within(supervised("once", once, label="s1/r1", min_s=MIN_S), 5)
    assert calls == [1]


async def test_a_cancellation_is_never_swallowed_neither_while_running_nor_in_backoff() -> None:
    part = Part(failures=0)
    task = asyncio.create_task(supervised("p", part, label="s1/r1", min_s=MIN_S))
    await wait_within(part.running.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(part.starts) == 1, "not restarted after a cancellation"

    failed = asyncio.Event()
    task = asyncio.create_task(
        supervised(
            "p", Part(failures=10**6), label="s1/r1", min_s=60.0,
            on_restart=lambda _name, _exc: failed.set(),
        )
    )  # fmt: skip
    await wait_within(failed.wait(), 5)  # it failed and waits out its 60 s backoff
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait_within(task, 5)


async def test_a_part_cancelled_from_within_is_not_restarted() -> None:
    starts: list[int] = []

    async def part() -> None:
        starts.append(1)
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await wait_within(supervised("p", part, label="s1/r1", min_s=MIN_S), 5)
    assert starts == [1]


async def test_guarded_logs_a_short_task_failure_and_lets_a_cancellation_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom() -> None:
        raise KeyError("x")

    await guarded(boom(), label="s1/r1", what="command c1")
    assert "s1/r1: command c1 failed" in caplog.text

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await guarded(cancelled(), label="s1/r1", what="x")


def _room(site: str, room: str) -> RoomFile:
    return load_room_config(SAMPLE).model_copy(update={"site": site, "room": room})


async def test_a_room_that_fails_at_start_or_later_is_made_again_and_the_others_never_stop(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """``run_room`` per room, as ``run_agents`` runs them: one room's agent fails to be made
    twice, then runs; another's run fails after a while; the third runs throughout."""
    made: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    ran: dict[str, int] = {"a": 0, "b": 0, "c": 0}
    c_failed, c_again, b_running = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class Probe(Agent):
        """Records each run instead of serving the room (no broker in a unit test)."""

        async def run(self) -> None:
            name = self.room.room
            ran[name] += 1
            try:
                if name == "b":
                    b_running.set()
                if name == "c" and ran["c"] == 1:
                    await asyncio.sleep(0)
                    c_failed.set()
                    raise RuntimeError("c broke while running")
                if name == "c":
                    c_again.set()
                await asyncio.Event().wait()
            finally:
                self.close()

    def make(room: RoomFile) -> Agent:
        made[room.room].append(asyncio.get_running_loop().time())
        if room.room == "b" and len(made["b"]) <= 2:
            raise OSError("the room's data folder cannot be written")
        return Probe(room, settings)

    settings = EdgeSettings(data_dir=tmp_path, pin_factory="mock")
    tasks = [asyncio.create_task(run_room(_room("s1", n), make)) for n in ("a", "b", "c")]
    try:
        await wait_within(c_failed.wait(), 5)
        await wait_within(b_running.wait(), 10)
        await wait_within(c_again.wait(), 5)
        assert len(made["a"]) == 1, "room a was never touched"
        assert ran["a"] == 1
        assert not any(t.done() for t in tasks)
        b = made["b"]
        assert len(b) == 3
        assert b[1] - b[0] >= 0.8, b
        assert b[2] - b[1] >= 1.6, ("the backoff doubles", b)
        assert len(made["c"]) == 2
        assert made["c"][1] - made["c"][0] >= 0.8, "made again after its backoff"
        messages = [r.getMessage() for r in caplog.records if r.exc_info]
        assert sum("s1/b: agent failed" in m for m in messages) == 2
        assert sum("s1/c: agent failed" in m for m in messages) == 1
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
