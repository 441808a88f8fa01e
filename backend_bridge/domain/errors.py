"""What the domain refuses: every refusal is a DomainError, whose message is safe to show to staff.

One module all aggregates import, so the entrypoints can map a refusal to an HTTP answer
without knowing which aggregate raised it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; the message is safe to show to staff."""


class InvalidTransition(DomainError):
    pass


class PassRefused(DomainError):
    """A visit the gate cannot admit: ``reason`` is "past" or "too_far"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
