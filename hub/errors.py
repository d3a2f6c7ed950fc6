"""The hub's exceptions; each also inherits the built-in it resembles."""

from __future__ import annotations


class HubError(Exception):
    """Base of the hub's own errors."""


class NotConnected(HubError, ConnectionError):  # noqa: N818 - named like the built-ins they extend
    """The hub has no MQTT connection right now."""


class PublishFailed(HubError, ConnectionError):  # noqa: N818 - named like the built-ins they extend
    """The broker did not acknowledge or refused a publish."""


class CommandTimeout(HubError, TimeoutError):  # noqa: N818 - named like the built-ins they extend
    """No reply to a command within its timeout."""


class UnknownRoom(HubError, LookupError):  # noqa: N818 - named like the built-ins they extend
    """A site/room the hub has never heard of."""


__all__ = ["CommandTimeout", "HubError", "NotConnected", "PublishFailed", "UnknownRoom"]
