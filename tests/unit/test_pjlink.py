"""PJLink framing and parsing: command lines, replies, error codes, the spec's digest example."""

from __future__ import annotations

import pytest

from devices.projector.pjlink import (
    PjlinkCommandError,
    PjlinkProtocolError,
    auth_digest,
    format_command,
    parse_av_mute,
    parse_errors,
    parse_lamps,
    parse_power,
    parse_reply,
    split_digest,
)


def test_digest_matches_the_specification_example() -> None:
    assert auth_digest("498e4a67", "JBMIAProjectorLink") == "5d8409bc1c3fa39749434aa3a5c38682"


def test_command_lines() -> None:
    assert format_command("POWR", "1") == "%1POWR 1\r"
    assert format_command("INPT", "3A", 2) == "%2INPT 3A\r"
    assert format_command("LAMP", "?") == "%1LAMP ?\r"


@pytest.mark.parametrize(("body", "param"), [("powr", "1"), ("POW", "1"), ("POWR", "1\r")])
def test_malformed_commands_are_refused_before_sending(body: str, param: str) -> None:
    with pytest.raises(ValueError, match="PJLink"):
        format_command(body, param)


def test_reply_parameter_and_case_insensitive_header() -> None:
    assert parse_reply("%1POWR=OK", "POWR") == "OK"
    assert parse_reply("%1powr=1", "POWR") == "1"
    assert parse_reply("%2INPT=3A", "INPT", 2) == "3A"
    assert parse_reply("%1NAME=", "NAME") == ""


@pytest.mark.parametrize("code", ["ERR1", "ERR2", "ERR3", "ERR4", "err3"])
def test_error_replies_raise_with_their_code(code: str) -> None:
    with pytest.raises(PjlinkCommandError) as info:
        parse_reply(f"%1INPT={code}", "INPT")
    assert info.value.code == code.upper()
    assert info.value.command == "INPT"


@pytest.mark.parametrize("line", ["%1LAMP=100 1", "%2POWR=1", "garbage", ""])
def test_a_reply_to_another_command_is_a_protocol_error(line: str) -> None:
    with pytest.raises(PjlinkProtocolError):
        parse_reply(line, "POWR")


def test_power_errors_lamps_and_mute() -> None:
    assert [parse_power(c) for c in "0123"] == ["off", "on", "cooling", "warming"]
    assert parse_errors("012000") == {
        "fan": "ok",
        "lamp": "warning",
        "temperature": "error",
        "cover": "ok",
        "filter": "ok",
        "other": "ok",
    }
    assert parse_lamps("1200 1") == [(1200, True)]
    assert parse_lamps("10 0 20 1") == [(10, False), (20, True)]
    assert parse_av_mute("31") == (True, True)
    assert parse_av_mute("11") == (True, False)
    assert parse_av_mute("21") == (False, True)
    assert parse_av_mute("30") == (False, False)


@pytest.mark.parametrize(
    ("parser", "param"),
    [
        (parse_power, "4"),
        (parse_errors, "00000"),
        (parse_errors, "000300"),
        (parse_lamps, "100"),
        (parse_lamps, "x 1"),
        (parse_av_mute, "10"),
    ],
)
def test_unexpected_values_are_protocol_errors(parser: object, param: str) -> None:
    assert callable(parser)
    with pytest.raises(PjlinkProtocolError):
        parser(param)


def test_split_digest_for_servers() -> None:
    digest = "5d8409bc1c3fa39749434aa3a5c38682"
    assert split_digest(f"{digest}%1POWR ?") == (digest, "%1POWR ?")
    assert split_digest("%1POWR ?") == (None, "%1POWR ?")
