"""How long personal data is kept once it has served its purpose.

Owners' messages (and the replies recorded with them), what the assistant sent them, and their
wrong identity guesses carry phones, names and addresses. They are needed while a conversation is
live and for a while after, for disputes; not for ever. Tickets (the service record), bindings
(which owner a chat identity is) and passes are kept. A message not yet answered or a
notification not yet delivered is never removed, however old: it is still owed to someone.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetentionPolicy:
    messages_days: int = 180  # owners' messages with their replies, and the web chat's mailbox
    notifications_days: int = 180  # delivered or dead notifications
    attempts_days: int = 30  # identity-check guesses; the lockout counts the last day
    webhook_days: int = 30  # external event ids already applied; their retries come within minutes

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{f.name} must be a whole number of days, at least 1")

    def before(self, now: datetime, days: int) -> datetime:
        """The moment before which rows kept ``days`` are removed."""
        return now - timedelta(days=days)
