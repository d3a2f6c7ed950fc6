"""A help request's reason: a topic the teacher picks, and the words they add.

The panel sends the two as one ``reason`` string, ``"topic"`` or ``"topic: words"`` (the
panel device's ``help`` action has always taken a single text); a page shows the topic in its
reader's language and the words as they were written. A reason that starts with no known
topic (an older panel, a hub's test) is words only.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

HelpTopic = Literal["projector", "sound", "network", "other"]
HELP_TOPICS: Final[tuple[HelpTopic, ...]] = get_args(HelpTopic)


def help_reason(topic: HelpTopic, words: str = "") -> str:
    """The ``reason`` of a request about ``topic``, with the teacher's ``words`` if any."""
    words = " ".join(words.split())
    return f"{topic}: {words}" if words else topic


def split_help_reason(reason: str) -> tuple[HelpTopic | None, str]:
    """``(topic, words)`` of a reason; ``(None, reason)`` when it names no known topic."""
    head, sep, rest = reason.partition(":")
    for topic in HELP_TOPICS:
        if head == topic and (sep or not rest):
            return topic, rest.strip()
    return None, reason


__all__ = ["HELP_TOPICS", "HelpTopic", "help_reason", "split_help_reason"]
