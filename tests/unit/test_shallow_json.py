"""A command too deep for the JSON parsers is still answered when its id can be read."""

from __future__ import annotations

import json

import pytest

from edge.shallow_json import top_level_strings
from protocol import encode
from tests.unit.test_inbox import TOPICS, Room, command


@pytest.mark.parametrize("depth", [256, 5_000])
async def test_a_command_with_params_deeper_than_the_parser_gets_a_bad_request_reply(
    depth: int,
) -> None:
    room = Room()
    body = json.loads(encode(command("c-deep")))
    body["params"] = "NESTED"
    text = json.dumps(body).replace('"NESTED"', '{"a": ' * depth + "1" + "}" * depth)
    await room.receive(TOPICS.command("lights"), text.encode())
    [(topic, reply)] = room.replies
    assert topic == TOPICS.reply_to("hub-a")
    assert (reply.id, reply.code) == ("c-deep", "bad_request")
    assert room.lamp.switched == 0


def test_only_the_top_level_string_members_are_read() -> None:
    text = (
        '{"params": {"id": "inner", "x": [{"reply_to": "no"}]}, "n": 5, "id": "c1", '
        '"s": "a \\" } { , : b", "reply_to": "hub-a", "t": true, "u": null}'
    )
    assert top_level_strings(text) == {"id": "c1", "s": 'a " } { , : b', "reply_to": "hub-a"}
    assert top_level_strings("[" * 100_000) == {}
    assert top_level_strings("{" * 100_000) == {}
    assert top_level_strings('{"id": "c1", "params": ' + "[" * 100_000) == {"id": "c1"}
    assert top_level_strings('{"id": "unterminated') == {}
    assert top_level_strings('["id", "c1"]') == {}
    assert top_level_strings('{"id": 5, "x": "y"}') == {"x": "y"}
