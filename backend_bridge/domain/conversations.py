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


# Why a conversation went to staff when a member took it from the assistant (the console's 接管).
STAFF_TOOK_OVER = "staff_took_over"
# Handoffs made from outside the assistant's answer: staff took over, the gateway gave up on an
# unreachable assistant, a call could not be transcribed (connectors/phone). An answer still on its
# way when one of these happened is dropped. Every other handoff (the bot API's: 转人工, two
# misunderstandings; an emergency) is the assistant's own, made in its answer to the message that
# asked for it, and that answer still goes out ("正在为您转接…", the safety advice).
OUTSIDE_HANDOFFS = frozenset({STAFF_TOOK_OVER, "assistant_unreachable", "call_not_transcribed"})


class Claimed(DomainError):
    """A colleague holds the conversation: the caller may take it only by force (leads)."""

    def __init__(self, assignee: str) -> None:
        super().__init__(f"{assignee} is handling this conversation")
        self.assignee = assignee


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
    # The staff member answering it now (the console's claim) and since when; None: nobody yet
    # (a handed-off conversation nobody holds is "waiting").
    assignee: str | None = None
    claimed_at: datetime | None = None
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

    @property
    def waiting(self) -> bool:
        """With staff and nobody holds it: an owner is waiting for a person."""
        return self.state is ConversationState.HANDED_OFF and self.assignee is None

    @property
    def waits_after_emergency(self) -> bool:
        """Handed to staff by the assistant's emergency answer, and nobody has taken it up yet:
        the owner's own "不急" can still give it back (a misread emergency, tickets.not_an_emergency)."""
        return self.waiting and (self.handoff_reason or "").split(":", 1)[0] == "emergency"

    def claim(self, username: str, now: datetime, *, force: bool = False) -> None:
        """``username`` answers this owner now. Taken from the assistant, it goes to staff
        (STAFF_TOOK_OVER); held by a colleague, only ``force`` (a lead's) takes it over."""
        if self.assignee is not None and self.assignee != username and not force:
            raise Claimed(self.assignee)
        if self.state is ConversationState.BOT:
            self.hand_off(STAFF_TOOK_OVER, now)
        if self.assignee != username:
            self.assignee, self.claimed_at = username, now
            self.events.append(events.ConversationClaimed(sender=self.sender, assignee=username))

    def release(self) -> None:
        """The holder can no longer answer (their account was deactivated): the conversation
        stays with staff, held by nobody, so it is back in the waiting queue."""
        if self.assignee is None:
            return
        previous, self.assignee, self.claimed_at = self.assignee, None, None
        self.events.append(events.ConversationReleased(sender=self.sender, previous=previous))

    def silences_late_answers(self) -> bool:
        """Whether an answer the assistant is still giving must not reach the owner: staff hold
        the conversation (claimed, or handed to them other than by the assistant's own answer)."""
        if self.state is not ConversationState.HANDED_OFF:
            return False
        outside = (self.handoff_reason or "").split(":", 1)[0] in OUTSIDE_HANDOFFS
        return self.assignee is not None or outside

    def add_note(self, text: str, author: str, now: datetime) -> Note:
        """A staff note on the conversation: for colleagues only, never sent to the owner."""
        text = text.strip()
        if not text:
            raise DomainError("a note needs text")
        return Note(self.sender, author, text, now)

    def hand_back(self, actor: str, now: datetime) -> None:
        if self.state is not ConversationState.HANDED_OFF:
            raise DomainError("conversation is not with staff")
        self.state = ConversationState.BOT
        self.handoff_reason = None
        self.handed_off_at = None
        self.assignee = None  # the claim ends with the handoff
        self.claimed_at = None
        for handoff in self.handoffs:
            if handoff.ended_at is None:
                handoff.ended_at, handoff.ended_by = now, actor
        self.events.append(events.ConversationHandedBack(sender=self.sender, actor=actor))

    def staff_message(self, text: str, actor: str, now: datetime) -> bool:
        """Staff write to the owner: delivered through the owner's channel like any notice.

        Writing to an owner nobody holds claims the conversation (True): the assistant must not
        answer beside a person, and colleagues see who is on it. One held by a colleague stays theirs.
        """
        if not text.strip():
            raise DomainError("a message needs text")
        claims = self.assignee is None
        if claims:
            self.claim(actor, now)
        self.events.append(events.StaffMessageSent(sender=self.sender, text=text, actor=actor))
        return claims


@dataclass(eq=False)
class Note:
    """What a staff member wrote down about a conversation for colleagues (never the owner's)."""

    sender: str
    author: str
    text: str
    at: datetime
    id: int | None = None


MAX_CANNED_TITLE = 32
MAX_CANNED_TEXT = 1000


@dataclass(eq=False)
class CannedReply:
    """A 常用语: words staff often send, company-wide (community None) or one community's."""

    title: str
    text: str
    community: str | None
    updated_by: str
    updated_at: datetime
    id: int | None = None

    def revise(self, updated_by: str, now: datetime, *, title: str | None = None, text: str | None = None) -> None:
        if title is not None:
            self.title = title
        if text is not None:
            self.text = text
        self.check()
        self.updated_by, self.updated_at = updated_by, now

    def check(self) -> None:
        self.title, self.text = self.title.strip(), self.text.strip()
        if not self.title or not self.text:
            raise DomainError("a canned reply needs a title and a text")
        if len(self.title) > MAX_CANNED_TITLE or len(self.text) > MAX_CANNED_TEXT:
            raise DomainError(f"a title is at most {MAX_CANNED_TITLE} characters, a text {MAX_CANNED_TEXT}")


# Tries to get an answer from the dialogue engine, when it fails on this very message (it answers
# other owners), before a person takes the conversation.
MAX_ANSWER_ATTEMPTS = 10
# While the engine is unreachable for everyone, a person takes the conversation once the owner's
# oldest message has waited this long. Not a number of tries: every new message of the owner
# retries the oldest, so an owner who wrote ten messages in a 25 s restart had "tried" ten times
# and was handed to staff (the fault campaign, bench/RESULTS.md) — a restart must not flood the desk.
UNREACHABLE_HANDOFF_AFTER = timedelta(minutes=5)
# A message still "received" this long after it came was dropped half-way (the gateway restarted,
# the engine answered garbage, the database refused the reply): it is answered again like a failed
# one. Longer than any answer takes (the engine's 20 s timeout), so one in flight is left alone.
# Counted from when it was received, or taken over (InboundMessage.in_flight_since).
STALLED_AFTER = timedelta(minutes=2)
# How long one attempt at an answer takes at most: the dialogue engine's 20 s timeout
# (connectors/rasa.py) and writing the replies down.
ONE_ANSWER_TAKES = timedelta(seconds=25)
# A message still "received" is in flight this long after it was received (or taken over): an
# answer may still be on its way, from this gateway or another, and a client's retry of it is told
# it is kept rather than answered a second time (two answers would be the owner's words sent to
# the dialogue engine twice: two tickets). After that, whoever answered it is gone (killed
# mid-request), and a retry may take it over at once instead of leaving it to the backlog sweep
# (STALLED_AFTER): the fault campaign's owner waited two minutes, told nothing (bench/NOTES.md).
# Longer than ONE_ANSWER_TAKES; an attempt that reaches the engine late (after the owner's older
# messages, or queued behind them) takes the message again first (``outlasts_flight``), so this
# bounds one attempt, not the whole wait for the owner's turn.
IN_FLIGHT_FOR = timedelta(seconds=30)


def still_in_flight(since: datetime, now: datetime) -> bool:
    """Whether an answer begun at ``since`` (a message's ``in_flight_since``) may still be on its way."""
    return now - since < IN_FLIGHT_FOR


def outlasts_flight(since: datetime, now: datetime) -> bool:
    """Whether an answer begun ``now`` to a message in flight since ``since`` might still be on its
    way when the message stops being in flight: the attempt must take the message again first, or
    a retry could take it over meanwhile and the engine would hear it twice."""
    return now + ONE_ANSWER_TAKES >= since + IN_FLIGHT_FOR


def gives_up_on(attempts: int, waited: timedelta, *, engine_reachable: bool) -> bool:
    """Whether an unanswered message goes to a person now: after ``attempts`` tries when the
    engine fails on it alone, after ``waited`` when the engine is away for everyone."""
    if engine_reachable:
        return attempts >= MAX_ANSWER_ATTEMPTS
    return waited >= UNREACHABLE_HANDOFF_AFTER


class InboundStatus(str, Enum):
    RECEIVED = "received"
    ANSWERED = "answered"
    FAILED = "failed"  # the dialogue engine did not answer; retried later
    # Staff's to answer, never the assistant's: written while staff held the conversation, or
    # still unanswered when staff took it (or gave it back: the owner has moved on since).
    FOR_STAFF = "for_staff"


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
    # When a gateway last took it over to answer it (a client's retry, the backlog sweep, or its
    # own delayed first attempt taking it again); None: only its arrival's attempt has.
    claimed_at: datetime | None = None
    id: int | None = None
    events: list[events.Event] = field(default_factory=list, repr=False)

    @property
    def in_flight_since(self) -> datetime | None:
        """Since when an answer to it may be on its way (its arrival, or its last take-over);
        None once it is no longer "received" (answered, failed, staff's)."""
        if self.status is not InboundStatus.RECEIVED:
            return None
        return self.claimed_at or self.received_at

    def in_flight(self, now: datetime) -> bool:
        """Still "received" and within IN_FLIGHT_FOR of its arrival or take-over: leave it be."""
        since = self.in_flight_since
        return since is not None and still_in_flight(since, now)

    def for_staff(self) -> None:
        """Staff answer this one; an answer of the assistant still on its way is dropped."""
        if self.status is not InboundStatus.ANSWERED:
            self.status = InboundStatus.FOR_STAFF

    def back_to_the_assistant(self) -> None:
        """Written to staff, but the owner's words took the conversation back (a withdrawn
        emergency): the assistant answers it after all."""
        if self.status is InboundStatus.FOR_STAFF:
            self.status = InboundStatus.RECEIVED

    def record_answer(self, replies: list[str], *, answered: bool, push: bool) -> None:
        """One more attempt at an answer. A failed retry keeps what the owner was told before;
        an answer that came after the owner's request returned (``push``) is sent to them.
        A message that is staff's (FOR_STAFF) keeps no answer of the assistant's."""
        if self.status is InboundStatus.FOR_STAFF:
            return
        self.attempts += 1
        if answered or replies:
            self.replies = list(replies)
        if not answered:
            self.status = InboundStatus.FAILED
            return
        self.status = InboundStatus.ANSWERED
        if push and replies:
            self.events.append(events.RepliesDeferred(sender=self.sender, replies=tuple(replies)))
