"""systemd's notification protocol: the datagram's format, path and abstract sockets, the
watchdog interval for this process only, and a send that fails never raising."""

from __future__ import annotations

import logging
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sdnotify import STATUS_MAX, Notifier, message, socket_address, watchdog_interval_s
from tests.integration.notify import NotifySocket


def receive(sock: socket.socket) -> list[bytes]:
    """Every datagram waiting on ``sock`` (a local datagram is there once sendto returns)."""
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


@pytest.fixture
def abstract() -> Iterator[tuple[str, socket.socket]]:
    notify = NotifySocket()  # abstract, as systemd names its own
    yield notify.name, notify.sock
    notify.sock.close()


def test_a_message_is_one_key_per_line_in_the_order_given_each_line_ended() -> None:
    assert message(READY=1, STATUS="2 rooms running") == b"READY=1\nSTATUS=2 rooms running\n"
    assert message(WATCHDOG=1) == b"WATCHDOG=1\n"


def test_a_newline_in_a_value_cannot_start_another_field() -> None:
    assert message(STATUS="bad\nREADY=1") == b"STATUS=bad READY=1\n"


def test_a_status_is_sent_in_utf8_and_cut_to_its_longest() -> None:
    assert message(STATUS="phòng 6a1") == "STATUS=phòng 6a1\n".encode()
    name = f"@smartclass-unit-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name[1:].encode())
        sock.setblocking(False)
        notifier = Notifier(socket_address(name))
        assert notifier.status("x" * 1000)
        assert receive(sock) == [b"STATUS=" + b"x" * STATUS_MAX + b"\n"]
        notifier.close()


def test_an_at_name_is_an_abstract_socket_and_a_slash_a_path() -> None:
    assert socket_address("@systemd/notify") == b"\0systemd/notify"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("vsock:2:1234") is None
    assert socket_address("relative/path") is None
    assert socket_address("@") is None


def test_ready_watchdog_status_and_stopping_reach_an_abstract_socket(
    abstract: tuple[str, socket.socket],
) -> None:
    name, sock = abstract
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": name})
    assert notifier.enabled
    assert notifier.ready("1 room running")
    assert notifier.watchdog()
    assert notifier.status("unhealthy: s/r: panel restarting")
    assert notifier.stopping()
    assert receive(sock) == [
        b"READY=1\nSTATUS=1 room running\n",
        b"WATCHDOG=1\n",
        b"STATUS=unhealthy: s/r: panel restarting\n",
        b"STOPPING=1\nSTATUS=stopping\n",
    ]
    assert (notifier.sent, notifier.failed) == (4, 0)
    notifier.close()
    notifier.close()  # twice is safe


def test_a_notification_reaches_a_socket_file() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # a short path: sun_path has 108 bytes
        path = Path(tmp) / "notify"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(path))
            sock.setblocking(False)
            notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(path)})
            assert notifier.ready("starting")
            assert receive(sock) == [b"READY=1\nSTATUS=starting\n"]
            notifier.close()


def test_without_notify_socket_nothing_is_sent_and_no_watchdog_is_kept() -> None:
    notifier = Notifier.from_environ({"WATCHDOG_USEC": "30000000"})
    assert not notifier.enabled
    assert notifier.watchdog_s is None
    assert not notifier.ready("x")
    assert not notifier.watchdog()
    assert (notifier.sent, notifier.failed) == (0, 0)


def test_the_watchdog_interval_is_half_watchdog_usec_for_this_process_only() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}, 42) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 42) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, 42) is None
    assert watchdog_interval_s({}, 42) is None


def test_a_watchdog_usec_that_is_not_a_positive_number_is_logged_and_no_ping_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}, 42) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}, 42) is None
    assert [r.getMessage() for r in caplog.records] == [
        "systemd: WATCHDOG_USEC='soon' is not a number; no watchdog pings",
        "systemd: WATCHDOG_USEC='0' is not positive; no watchdog pings",
    ]


def test_a_notify_socket_that_cannot_be_sent_to_is_logged_and_sends_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": "vsock:2:9"})
    assert not notifier.enabled
    assert "NOTIFY_SOCKET='vsock:2:9' is not a path or @name" in caplog.text


def test_a_send_that_fails_returns_false_is_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = Notifier(f"/tmp/smartclass-no-such-{uuid.uuid4().hex}", watchdog_s=1.0)
    with caplog.at_level(logging.WARNING):
        results = [notifier.watchdog() for _ in range(5)]
    assert results == [False] * 5
    assert (notifier.sent, notifier.failed) == (0, 5)
    assert len([r for r in caplog.records if "cannot notify" in r.getMessage()]) == 1
    notifier.close()


def test_a_send_that_works_again_after_failing_is_sent(abstract: tuple[str, socket.socket]) -> None:
    name, sock = abstract
    sock.close()  # systemd away: nothing listens on the name
    notifier = Notifier(socket_address(name), watchdog_s=1.0)
    assert not notifier.watchdog()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as again:
        again.bind(b"\0" + name[1:].encode())
        again.setblocking(False)
        assert notifier.watchdog()
        assert receive(again) == [b"WATCHDOG=1\n"]
    assert (notifier.sent, notifier.failed) == (1, 1)
    notifier.close()
