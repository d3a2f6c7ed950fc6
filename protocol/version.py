"""The contract version this code speaks, and the versions it accepts from others."""

CONTRACT_VERSION = 2
"""Written into every envelope this code sends."""

ACCEPTED_VERSIONS = frozenset({CONTRACT_VERSION, CONTRACT_VERSION - 1} - {0})
"""Readers accept the current and the previous contract version (there is no version 0)."""

__all__ = ["ACCEPTED_VERSIONS", "CONTRACT_VERSION"]
