"""The ACL table: each identity's lines, exactly the contract's directions, none redundant."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smartclass.acl import TOPICS, Access, Grant, Party, covers, fill, grants, render_acl
from smartclass.credentials import (
    CredentialError,
    Deployment,
    ExtraUser,
    RoomSpec,
    identities_of,
)


def lines(deployment: Deployment) -> dict[str, list[str]]:
    return {i.username: [g.line() for g in i.grants] for i in deployment.identities()}


def test_an_agent_writes_and_reads_its_own_room_only() -> None:
    d = Deployment("sc", rooms=(RoomSpec("s1", "6a1"),))
    assert lines(d)["edge-sc-s1-6a1"] == [
        "topic write sc/s1/6a1/status",
        "topic write sc/s1/6a1/telemetry",
        "topic write sc/s1/6a1/state/+",
        "topic write sc/s1/6a1/reply/+",
        "topic write sc/s1/6a1/reply",
        "topic write sc/s1/6a1/event",
        "topic write sc/s1/6a1/health",
        "topic write sc/s1/6a1/config/applied",
        "topic read sc/s1/6a1/cmd/+",
        "topic read sc/s1/6a1/config",
        "topic read sc/s1/6a1/ack",
        "topic read sc/s1/6a1/help",
        "topic read sc/_hub/+/status",
    ]


def test_a_hub_reads_every_room_and_only_its_own_replies() -> None:
    d = Deployment("sc", hubs=("h1", "h2"))
    assert lines(d)["hub-sc-h1"] == [
        # sc/+/+/status also covers the other hubs' sc/_hub/+/status
        "topic read sc/+/+/status",
        "topic read sc/+/+/telemetry",
        "topic read sc/+/+/state/+",
        "topic read sc/+/+/reply/h1",
        "topic read sc/+/+/reply",
        "topic read sc/+/+/event",
        "topic read sc/+/+/health",
        "topic read sc/+/+/config/applied",
        "topic write sc/+/+/cmd/+",
        "topic write sc/+/+/config",
        "topic write sc/+/+/ack",
        "topic write sc/+/+/help",
        "topic write sc/_hub/h1/status",
    ]
    assert "topic read sc/+/+/reply/h1" not in lines(d)["hub-sc-h2"]


def test_home_assistant_lines_only_for_rooms_that_enable_it() -> None:
    d = Deployment(
        "sc",
        rooms=(RoomSpec("s1", "lab-a", homeassistant=True), RoomSpec("s1", "6a2")),
        homeassistant_user=True,
        discovery_prefix="ha",
    )
    got = lines(d)
    assert got["edge-sc-s1-lab-a"][-2:] == [
        "topic write ha/+/sc_s1_lab-a/+/config",
        "topic read sc/s1/lab-a/ha/#",
    ]
    assert not any("ha" in line.split("/") for line in got["edge-sc-s1-6a2"])
    assert got["homeassistant-sc"] == [
        "topic write sc/+/+/ha/#",
        "topic read sc/#",
        "topic read ha/#",
        "topic write ha/status",  # its birth and last will; reading it is in ha/#
    ]


def test_commands_are_the_one_hub_topic_kind_never_retained() -> None:
    hub_written = {r.kind: r.retained for r in TOPICS if Party.HUB in r.writers}
    assert hub_written == {"cmd": False, "config": True, "ack": True, "help": True}


@pytest.mark.parametrize(
    ("general", "specific", "expected"),
    [
        ("sc/#", "sc/a/b", True),
        ("sc/#", "sc", True),
        ("sc/+/+/status", "sc/_hub/+/status", True),
        ("sc/+/b", "sc/a/b", True),
        ("sc/a/b", "sc/+/b", False),
        ("sc/+/b", "sc/a/#", False),
        ("sc/+", "sc/a/b", False),
        ("sc/a/b", "sc/a", False),
    ],
)
def test_covers(general: str, specific: str, expected: bool) -> None:
    assert covers(general, specific) is expected


def test_fill_binds_what_it_knows_and_wildcards_the_rest() -> None:
    assert fill("{root}/{site}/{room}/state/{device}", {"root": "sc"}) == "sc/+/+/state/+"


def test_read_and_write_of_one_topic_become_readwrite_and_covered_lines_go() -> None:
    from smartclass.acl import TopicRule

    table = [
        TopicRule("a", "{root}/x", frozenset({Party.HUB}), frozenset({Party.HUB})),
        TopicRule("b", "{root}/x/{device}", frozenset(), frozenset({Party.HUB})),
        TopicRule("c", "{root}/#", frozenset(), frozenset({Party.HUB})),
    ]
    assert grants({Party.HUB: {"root": "r"}}, table) == (
        Grant(Access.WRITE, "r/x"),
        Grant(Access.READ, "r/#"),
    )
    assert grants({Party.AGENT: {}}, table) == ()


def test_render_acl_is_sorted_by_user_and_has_nothing_for_anonymous() -> None:
    text = render_acl({"b": [Grant.read("t/1")], "a": [Grant.write("t/2")]})
    body = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert body == ["user a", "topic write t/2", "user b", "topic read t/1"]


def test_usernames_that_collide_are_refused() -> None:
    d = Deployment("sc", rooms=(RoomSpec("a-b", "c"), RoomSpec("a", "b-c")))
    with pytest.raises(CredentialError, match="edge-sc-a-b-c"):
        identities_of([d])


@pytest.mark.parametrize(
    "make",
    [
        lambda: RoomSpec("S1", "r"),
        lambda: RoomSpec("s1", "r/1"),
        lambda: Deployment("sc/x"),
        lambda: Deployment("sc", hubs=("h#",)),
        lambda: ExtraUser("a:b", ()),
        lambda: ExtraUser("op", (Grant.read("sc/a b"),)),
        lambda: Deployment("sc", discovery_prefix="home assistant"),
        lambda: Deployment("sc", discovery_prefix="ha/#"),
    ],
)
def test_ids_that_would_break_a_topic_or_a_file_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(CredentialError):
        make()
