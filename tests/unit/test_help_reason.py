"""A help request's reason: the topic the teacher picked in the reader's language, then the
words as written; a reason naming no known topic is shown as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from hub.alerts.kinds import AlertState
from hub.web.dashboard.pages import PAGES
from protocol.help import HELP_TOPICS, help_reason, split_help_reason


@pytest.mark.parametrize(
    ("topic", "words", "reason"),
    [
        ("projector", "Máy chiếu không lên hình", "projector: Máy chiếu không lên hình"),
        ("sound", "  loa   rè ", "sound: loa rè"),
        ("other", "", "other"),
    ],
)
def test_a_reason_is_the_topic_and_the_words(topic: str, words: str, reason: str) -> None:
    assert help_reason(topic, words) == reason  # type: ignore[arg-type]
    assert split_help_reason(reason) == (topic, " ".join(words.split()))


@pytest.mark.parametrize(
    "reason", ["Loa bị rè", "projectors: x", "network-ish", "", "projector x", ": projector"]
)
def test_a_reason_naming_no_topic_is_words_only(reason: str) -> None:
    assert split_help_reason(reason) == (None, reason)


def alert(reason: str) -> SimpleNamespace:
    return SimpleNamespace(
        id=7, kind="help", data={"reason": reason}, text=reason, device="panel",
        severity="critical", state=AlertState.OPEN, acknowledged_by=None, ack_comment=None,
        started_at=datetime(2026, 12, 2, 7, 30, tzinfo=UTC), repeats=0, site="s", room="6a1",
    )  # fmt: skip


@pytest.mark.parametrize(("locale", "label"), [("vi", "Máy chiếu"), ("en", "Projector")])
def test_the_dashboard_shows_the_topic_in_the_readers_language(locale: str, label: str) -> None:
    rows = PAGES.environment(locale).get_template("alert_rows.html")
    html = rows.render(
        alerts=[alert("projector: Không lên hình")], rooms={}, may_operate=False, show_room=False
    )
    assert f'<strong data-help-topic="projector">{label}</strong>: Không lên hình' in html
    assert "projector:" not in html
    html = rows.render(alerts=[alert("Loa bị rè")], rooms={}, may_operate=False, show_room=False)
    assert "<span>Loa bị rè</span>" in html


def test_every_topic_has_a_label_translated() -> None:
    rows = PAGES.environment("vi").get_template("alert_rows.html")
    for topic in HELP_TOPICS:
        html = rows.render(alerts=[alert(topic)], rooms={}, may_operate=False, show_room=False)
        assert f'data-help-topic="{topic}">' in html
        shown = html.split(f'data-help-topic="{topic}">')[1].split("<")[0]
        assert shown, topic
        assert not shown.isascii(), (topic, shown)  # Vietnamese, not the code
