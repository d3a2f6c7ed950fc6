"""Pairing a tablet with a room's panel: one-time codes that expire, at most five waiting, ten
wrong codes in ten minutes close pairing, tokens kept only as hashes, on disk, revoked at once."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from devices.base import BadCommand, DeviceError
from edge.help import HelpPanel
from edge.panel.pairing import (
    ATTEMPT_WINDOW_S,
    ATTEMPTS_MAX,
    CODE_ALPHABET,
    CODE_LENGTH,
    CODES_FILE,
    PENDING_MAX,
    TABLETS_FILE,
    Paired,
    Pairing,
    Refused,
    code_sha256,
    new_code,
)
from protocol import Event


class Clocks:
    """The agent's wall clock and its monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.wall = 1_760_000_000.0
        self.mono = 1000.0

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def pairing(folder: Path, clocks: Clocks) -> Pairing:
    return Pairing(folder, now=clocks.now, monotonic=clocks.monotonic)


def paired(result: Paired | Refused) -> str:
    assert isinstance(result, Paired), result
    return result.token


def test_codes_are_eight_characters_of_an_unambiguous_alphabet() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)
    assert code_sha256("abcd-efgh") == hashlib.sha256(b"ABCDEFGH").hexdigest()
    assert code_sha256(" ABCD EFGH ") == code_sha256("ABCDEFGH")


def test_a_code_pairs_one_tablet_once(tmp_path: Path, clocks: Clocks) -> None:
    room = pairing(tmp_path, clocks)
    code = new_code()
    room.add_code(code_sha256(code), 600)
    assert room.code_pending
    token = paired(room.redeem(code.lower()))
    assert room.paired(token)
    assert not room.paired(token + "x")
    assert not room.paired(None)
    assert (room.tablets, room.code_pending) == (1, False)
    again = room.redeem(code)
    assert isinstance(again, Refused)
    assert (again.reason, again.attempts_left) == ("wrong", ATTEMPTS_MAX - 1)


def test_a_code_expires_on_the_agents_clock(tmp_path: Path, clocks: Clocks) -> None:
    room = pairing(tmp_path, clocks)
    code = new_code()
    room.add_code(code_sha256(code), 600)
    clocks.advance(599)
    assert room.code_pending
    clocks.advance(2)
    assert not room.code_pending
    assert isinstance(room.redeem(code), Refused)


def test_at_most_five_codes_wait_and_the_soonest_to_expire_goes(
    tmp_path: Path, clocks: Clocks
) -> None:
    room = pairing(tmp_path, clocks)
    codes = [new_code() for _ in range(PENDING_MAX + 1)]
    for i, code in enumerate(codes):
        room.add_code(code_sha256(code), 600 + i)
    stored = json.loads((tmp_path / CODES_FILE).read_text())["codes"]
    assert len(stored) == PENDING_MAX
    assert isinstance(room.redeem(codes[0]), Refused)  # the one that expired first, dropped
    for code in codes[1:]:
        paired(room.redeem(code))
    assert room.tablets == PENDING_MAX


def test_ten_wrong_codes_close_pairing_until_the_window_passes(
    tmp_path: Path, clocks: Clocks
) -> None:
    room = pairing(tmp_path, clocks)
    code = new_code()
    room.add_code(code_sha256(code), 3600)
    results = []
    for _ in range(ATTEMPTS_MAX):
        results.append(room.redeem("WRONGWRONG"))
        clocks.advance(10)
    assert [r.attempts_left for r in results if isinstance(r, Refused)] == list(range(9, -1, -1))
    last = results[-1]
    assert isinstance(last, Refused)
    assert last.reason == "locked"
    locked = room.redeem(code)  # even the right code waits: guessing must not go on
    assert isinstance(locked, Refused)
    assert locked.reason == "locked"
    assert locked.retry_after_s == pytest.approx(ATTEMPT_WINDOW_S - 100)
    clocks.advance(locked.retry_after_s - 1)
    assert isinstance(room.redeem(code), Refused)
    clocks.advance(2)  # the first failure is out of the window: one attempt is taken
    paired(room.redeem(code))


def test_only_hashes_are_kept_in_files_of_mode_0600(tmp_path: Path, clocks: Clocks) -> None:
    room = pairing(tmp_path, clocks)
    code = new_code()
    room.add_code(code_sha256(code), 600)
    assert code not in (tmp_path / CODES_FILE).read_text()
    token = paired(room.redeem(code))
    text = (tmp_path / TABLETS_FILE).read_text()
    assert token not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text
    for name in (CODES_FILE, TABLETS_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))


def test_paired_tablets_survive_a_restart_and_unpair_forgets_them_all(
    tmp_path: Path, clocks: Clocks
) -> None:
    room = pairing(tmp_path, clocks)
    tokens = []
    for _ in range(3):
        code = new_code()
        room.add_code(code_sha256(code), 600)
        tokens.append(paired(room.redeem(code)))
    restarted = pairing(tmp_path, clocks)
    assert restarted.tablets == 3
    assert all(restarted.paired(t) for t in tokens)
    assert restarted.revoke_all() == 3
    assert not any(restarted.paired(t) for t in tokens)
    assert restarted.generation == 1
    assert pairing(tmp_path, clocks).tablets == 0


def test_a_broken_file_pairs_nothing(tmp_path: Path, clocks: Clocks) -> None:
    (tmp_path / TABLETS_FILE).write_text("{not json")
    (tmp_path / CODES_FILE).write_text('{"codes": [{"sha256": "x", "expires_at": "soon"}]}')
    room = pairing(tmp_path, clocks)
    assert (room.tablets, room.code_pending) == (0, False)
    assert isinstance(room.redeem(new_code()), Refused)


def test_a_code_written_by_another_process_is_taken(tmp_path: Path, clocks: Clocks) -> None:
    running = pairing(tmp_path, clocks)
    code = new_code()
    pairing(tmp_path, clocks).add_code(code_sha256(code), 600)  # `smartclass edge pair`
    paired(running.redeem(code))


def test_a_code_must_expire_within_a_day(tmp_path: Path, clocks: Clocks) -> None:
    room = pairing(tmp_path, clocks)
    for seconds in (0, -1, 86401):
        with pytest.raises(ValueError, match="expires within"):
            room.add_code(code_sha256("A"), seconds)
    with pytest.raises(ValueError, match="hex"):
        room.add_code("ABC", 600)


def help_panel(tmp_path: Path, clocks: Clocks, *, with_pairing: bool = True) -> HelpPanel:
    def emit(kind: str, **fields: Any) -> Event:
        return Event(sender="edge/s/r", boot="b", boot_no=1, seq=1, kind=kind, **fields)

    return HelpPanel(emit, pairing=pairing(tmp_path, clocks) if with_pairing else None)


async def test_the_panel_device_pairs_and_unpairs_and_says_only_how_many(
    tmp_path: Path, clocks: Clocks
) -> None:
    device = help_panel(tmp_path, clocks)
    code = new_code()
    state = await device.execute("pair", {"code_sha256": code_sha256(code), "expires_in_s": 600})
    assert (state["paired_tablets"], state["code_pending"]) == (0, True)
    assert code not in json.dumps(state)
    assert code_sha256(code) not in json.dumps(state)
    assert device.pairing is not None
    token = paired(device.pairing.redeem(code))
    assert (await device.state())["paired_tablets"] == 1
    state = await device.execute("unpair", {})
    assert (state["paired_tablets"], state["code_pending"]) == (0, False)
    assert not device.pairing.paired(token)


@pytest.mark.parametrize(
    ("action", "params", "problem"),
    [
        ("pair", {"code_sha256": "ab" * 32}, "expires_in_s"),
        ("pair", {"code_sha256": "AB" * 32, "expires_in_s": 600}, "code_sha256"),
        ("pair", {"code_sha256": "ab" * 32, "expires_in_s": 600, "code": "X"}, "code"),
        ("pair", {"code_sha256": "ab" * 32, "expires_in_s": 90000}, "expires_in_s"),
        ("unpair", {"all": True}, "all"),
    ],
)
async def test_the_pairing_actions_refuse_other_params(
    tmp_path: Path, clocks: Clocks, action: str, params: dict[str, Any], problem: str
) -> None:
    device = help_panel(tmp_path, clocks)
    with pytest.raises(BadCommand, match=problem) as refused:
        await device.execute(action, params)
    assert refused.value.code == "bad_params"


async def test_a_room_without_a_panel_refuses_to_pair(tmp_path: Path, clocks: Clocks) -> None:
    device = help_panel(tmp_path, clocks, with_pairing=False)
    with pytest.raises(DeviceError, match=r"panel\.enabled"):
        await device.execute("pair", {"code_sha256": "ab" * 32, "expires_in_s": 600})
    assert (await device.state())["paired_tablets"] == 0
