"""What the service layer needs from the outside world, as interfaces."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class DialogueUnavailable(Exception):
    """The dialogue engine could not be reached (down, loading, timed out)."""


class DialogueRejected(DialogueUnavailable):
    """The dialogue engine answered with an error for this particular request."""


class DialogueEngine(Protocol):
    """The conversation engine (Rasa): silence it while staff talk, let it resume after."""

    async def resume(self, sender: str) -> None: ...

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None: ...


class Notifier(Protocol):
    """Wakes the channel delivery for a sender whose outbox just got a message."""

    async def queued(self, sender: str) -> None: ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class NullNotifier:
    """For processes with no push channel (tests of the store, scripts)."""

    async def queued(self, sender: str) -> None:
        return None
