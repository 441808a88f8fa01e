"""What the domain refuses: every refusal is a DomainError, whose message is safe to show to staff.

One module all aggregates import, so the entrypoints can map a refusal to an HTTP answer
without knowing which aggregate raised it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; the message is safe to show to staff."""


class NotFound(DomainError):
    """The thing a request names does not exist (or is not the caller's to see).

    A domain error of its own, not Python's LookupError: a KeyError or IndexError from a
    bug must surface as a bug, never be mistaken for "no such ticket". The message names
    only the kind of thing (``what``), never the ``key`` asked for, so it is safe to show.
    """

    def __init__(self, what: str, key: object = None) -> None:
        super().__init__(f"no such {what}")
        self.what, self.key = what, key


class InvalidTransition(DomainError):
    pass


class Forbidden(DomainError):
    """The staff member asking may not do this (their role, or someone else's ticket)."""


class PassRefused(DomainError):
    """A visit the gate cannot admit: ``reason`` is "past" or "too_far"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
