"""The outbox: notifications written with the change they report, delivered later with retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain.errors import DomainError


class NotificationStatus(str, Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after MAX_DELIVERY_ATTEMPTS; staff see it and can retry


# What a notification's ``fields`` may name (service_layer/notices.py fills them for ticket
# notices): a channel's message templates (content: wechat_templates) refer to these, and to
# "text", the notification's own words. Times (at, expected_at, due) are ISO 8601, local offset.
NOTICE_FIELDS = frozenset(
    {
        "number",
        "ticket_kind",
        "category",
        "place",
        "summary",
        "status",
        "status_label",
        "at",
        "assignee",
        "expected_at",
        "note",
        "due",
        "deadline",
        "score",
        "times",
        "hazard",
        "text",
    }
)
NOTICE_TIMES = frozenset({"at", "expected_at", "due"})

MAX_DELIVERY_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=2)
LAST_RETRY = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 2 s, 4 s, 8 s, … at most 10 minutes."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


@dataclass(eq=False)
class Notification:
    """A message to deliver later (transactional outbox): written in the same transaction as
    the change it reports, delivered by a dispatcher through the recipient's channel.

    ``recipient`` is a conversation id ("webchat:…") or a staff member ("staff:<username>").
    ``key`` travels with every delivery attempt so a channel can drop a repeat. ``fields`` carry
    what the text says in structured form (a ticket notice's number, status, assignee, times), so
    a channel that must build its own message (a WeChat template) need not parse the text;
    ``delivered_via`` is how the channel got it through ("mailbox", "custom", "template", …).
    """

    recipient: str
    text: str
    kind: str
    created_at: datetime
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    ticket_id: int | None = None
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    fields: dict | None = None
    delivered_via: str | None = None
    # What a paid platform (SMS) said about it: its message id (delivery receipts name it), the
    # parts it billed, and when the handset confirmed it (a receipt; delivered_at is when it was sent).
    provider_message_id: str | None = None
    billed_parts: int | None = None
    confirmed_at: datetime | None = None
    id: int | None = None

    @property
    def channel(self) -> str:
        return self.recipient.split(":", 1)[0]

    def delivered(
        self, now: datetime, via: str | None = None, *, message_id: str | None = None, parts: int | None = None
    ) -> None:
        self.status, self.delivered_at, self.last_error = NotificationStatus.DELIVERED, now, None
        self.delivered_via = via[:32] if via else None
        self.provider_message_id = message_id[:64] if message_id else None
        self.billed_parts = parts

    def deferred(self, reason: str, until: datetime) -> None:
        """Not sent yet, and not a failure (a per-number cap reached, WeCom's 30 messages a
        minute per member): tried again at ``until``, the attempts left untouched, so waiting
        never dead-letters it."""
        self.last_error = reason[:500]
        self.next_attempt_at = until

    def confirmed(self, now: datetime, parts: int | None = None) -> None:
        """The platform's delivery receipt: it reached the handset."""
        self.confirmed_at = now
        if parts:
            self.billed_parts = parts

    def bounced(self, error: str, now: datetime, *, permanent: bool = False) -> None:
        """The platform took it but its receipt says it never arrived: back in the outbox to be
        sent again (with back-off), or dead-lettered, as any failed attempt."""
        if self.status is not NotificationStatus.DELIVERED:
            return  # a repeated receipt, or already sent again
        self.status, self.delivered_at, self.confirmed_at = NotificationStatus.PENDING, None, None
        self.failed(error, now, permanent=permanent)

    def failed(self, error: str, now: datetime, *, permanent: bool = False) -> None:
        self.attempts += 1
        self.last_error = error[:500]
        if permanent or self.attempts >= MAX_DELIVERY_ATTEMPTS:
            self.status = NotificationStatus.DEAD
        else:
            self.next_attempt_at = now + retry_delay(self.attempts)

    def retry(self, now: datetime) -> None:
        """Staff send a dead letter again (after fixing what made it fail)."""
        if self.status is not NotificationStatus.DEAD:
            raise DomainError("only dead notifications can be retried")
        self.status, self.attempts, self.next_attempt_at = NotificationStatus.PENDING, 0, now
