"""The contract version this code speaks, and the versions it accepts from others."""

CONTRACT_VERSION = 3
"""Written into every envelope this code sends."""

ACCEPTED_VERSIONS = frozenset(range(1, CONTRACT_VERSION + 1))
"""Readers accept every version since 1: each one so far only added fields that may be left
out (v2 the counters, v3 the interval and context of telemetry), so a message of an older
version is read as it always was."""

__all__ = ["ACCEPTED_VERSIONS", "CONTRACT_VERSION"]
