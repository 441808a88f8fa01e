"""Conversations with owners: whether the assistant or staff answer, and every message received.

An inbound message is written down before the dialogue engine sees it, so none is lost when
the engine is down; a conversation handed off to staff keeps the assistant silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain import events
from backend_bridge.domain.errors import DomainError

# A conversation id is "<channel>:<the channel's own user id>" (webchat:3f2a…). The APIs accept
# ids up to this long, and every column that keeps one (a ticket's sender, a notification's
# recipient, a history's actor when the owner acted) is this wide: an id the API took always fits.
MAX_CONVERSATION_ID = 160


class ConversationState(str, Enum):
    BOT = "bot"  # the assistant answers
    HANDED_OFF = "handed_off"  # staff answer; the assistant stays silent


@dataclass(eq=False)
class Handoff:
    """One stretch of a conversation with staff: why, since when, and who gave it back."""

    reason: str
    started_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None
    id: int | None = None


@dataclass(eq=False)
class Conversation:
    """One owner's thread on one channel (sender = "<channel>:<user>")."""

    sender: str
    channel: str
    state: ConversationState = ConversationState.BOT
    script: str | None = None  # simplified / traditional, as the owner last wrote
    handoff_reason: str | None = None
    handed_off_at: datetime | None = None
    last_inbound_at: datetime | None = None
    community: str | None = None  # the community the owner was routed to: entry point or own words
    handoffs: list[Handoff] = field(default_factory=list)
    events: list[events.Event] = field(default_factory=list, repr=False)

    def hand_off(self, reason: str, now: datetime) -> None:
        if self.state is ConversationState.HANDED_OFF:
            return
        self.state = ConversationState.HANDED_OFF
        self.handoff_reason = reason
        self.handed_off_at = now
        self.handoffs.append(Handoff(reason, now))
        self.events.append(events.ConversationHandedOff(sender=self.sender, reason=reason))

    def hand_back(self, actor: str, now: datetime) -> None:
        if self.state is not ConversationState.HANDED_OFF:
            raise DomainError("conversation is not with staff")
        self.state = ConversationState.BOT
        self.handoff_reason = None
        self.handed_off_at = None
        for handoff in self.handoffs:
            if handoff.ended_at is None:
                handoff.ended_at, handoff.ended_by = now, actor
        self.events.append(events.ConversationHandedBack(sender=self.sender, actor=actor))

    def staff_message(self, text: str, actor: str) -> None:
        """Staff write to the owner: delivered through the owner's channel like any notice."""
        if not text.strip():
            raise DomainError("a message needs text")
        self.events.append(events.StaffMessageSent(sender=self.sender, text=text, actor=actor))


# Tries to get an answer from the dialogue engine before a person takes the conversation.
MAX_ANSWER_ATTEMPTS = 10
# A message still "received" this long after it came was dropped half-way (the gateway restarted,
# the engine answered garbage, the database refused the reply): it is answered again like a failed
# one. Longer than any answer takes (the engine's 20 s timeout), so one in flight is left alone.
STALLED_AFTER = timedelta(minutes=2)


class InboundStatus(str, Enum):
    RECEIVED = "received"
    ANSWERED = "answered"
    FAILED = "failed"  # the dialogue engine did not answer; retried later


@dataclass(eq=False)
class InboundMessage:
    """Every owner message is written down before anything else happens to it."""

    sender: str
    text: str
    received_at: datetime
    client_message_id: str | None = None
    status: InboundStatus = InboundStatus.RECEIVED
    replies: list[str] = field(default_factory=list)
    attempts: int = 0
    id: int | None = None
    events: list[events.Event] = field(default_factory=list, repr=False)

    def record_answer(self, replies: list[str], *, answered: bool, push: bool) -> None:
        """One more attempt at an answer. A failed retry keeps what the owner was told before;
        an answer that came after the owner's request returned (``push``) is sent to them."""
        self.attempts += 1
        if answered or replies:
            self.replies = list(replies)
        if not answered:
            self.status = InboundStatus.FAILED
            return
        self.status = InboundStatus.ANSWERED
        if push and replies:
            self.events.append(events.RepliesDeferred(sender=self.sender, replies=tuple(replies)))
