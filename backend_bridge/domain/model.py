"""The property-service domain: tickets, rooms and their ledger, visitor passes, conversations.

Plain Python, no I/O: the ORM maps these classes imperatively (adapters/orm.py), so
rules such as the ticket life cycle or who may see a ledger are testable in isolation.
Aggregates record domain events in ``events``; the unit of work hands them to the bus.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain import events


class TicketKind(str, Enum):
    REPAIR = "repair"
    COMPLAINT = "complaint"


class Priority(str, Enum):
    URGENT = "urgent"  # 急修: on site within minutes, staff paged
    NORMAL = "normal"


class TicketStatus(str, Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    TicketStatus.NEW: "已受理，等待派单",
    TicketStatus.ACCEPTED: "已派单，师傅已接单",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.RESOLVED: "已处理完，待您评价",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.CANCELLED: "已取消",
}
OPEN_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})
# HC小区's flow, simplified: 受理 → 派单/接单 → 处理 → 待评价 → 办结; a dissatisfied owner reopens.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CANCELLED}
    ),
    TicketStatus.ACCEPTED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CANCELLED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.CANCELLED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.CLOSED: frozenset(),
    TicketStatus.CANCELLED: frozenset(),
}  # fmt: skip
NUMBER_PREFIX = {TicketKind.REPAIR: "BX", TicketKind.COMPLAINT: "TS"}


class DomainError(Exception):
    """A request the domain refuses; the message is safe to show to staff."""


class InvalidTransition(DomainError):
    pass


class PassRefused(DomainError):
    """A visit the gate cannot admit: ``reason`` is "past" or "too_far"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Location:
    """Where: a flat (building/unit/room), a public area (optionally in a building), or unknown."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    public_area: str | None = None

    def describe(self) -> str:
        parts = []
        if self.building:
            parts.append(f"{self.building}号楼" if self.building.isdigit() else f"{self.building}座")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(self.room)
        address = "".join(parts)
        if self.public_area:
            return f"{address} {self.public_area}".strip()
        return address or "待确认"

    @property
    def is_flat(self) -> bool:
        return bool(self.building and self.unit and self.room) and not self.public_area


@dataclass(frozen=True)
class ServiceLevel:
    """Published promise for one kind of ticket (minutes to respond, hours to resolve)."""

    respond_minutes: int
    resolve_hours: int


@dataclass
class TicketChange:
    at: datetime
    status: TicketStatus
    actor: str
    note: str = ""


@dataclass(eq=False)
class Ticket:
    kind: TicketKind
    priority: Priority
    location: Location
    description: str
    sender: str
    created_at: datetime
    respond_by: datetime
    resolve_by: datetime
    category: str = "其他"
    hazard: str | None = None
    anonymous: bool = False
    status: TicketStatus = TicketStatus.NEW
    updated_at: datetime | None = None
    id: int | None = None
    history: list[TicketChange] = field(default_factory=list)
    events: list[events.Event] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        *,
        kind: TicketKind,
        location: Location,
        description: str,
        sender: str,
        now: datetime,
        level: ServiceLevel,
        priority: Priority = Priority.NORMAL,
        category: str = "其他",
        hazard: str | None = None,
        anonymous: bool = False,
    ) -> Ticket:
        if not description.strip():
            raise DomainError("a ticket needs a description")
        ticket = cls(
            kind=kind,
            priority=priority,
            location=location,
            description=description.strip(),
            sender=sender,
            created_at=now,
            updated_at=now,
            respond_by=now + timedelta(minutes=level.respond_minutes),
            resolve_by=now + timedelta(hours=level.resolve_hours),
            category=category,
            hazard=hazard,
            anonymous=anonymous,
        )
        ticket.history.append(TicketChange(now, TicketStatus.NEW, "owner"))
        return ticket

    @property
    def number(self) -> str:
        """What owners and staff call it: BX000123 (报修) or TS000124 (投诉)."""
        if self.id is None:
            raise DomainError("ticket has no number before it is stored")
        return format_number(self.kind, self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def move_to(self, status: TicketStatus, *, actor: str, now: datetime, note: str = "") -> None:
        number = self.number  # an unstored ticket has no number and cannot move: fail before changing it
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"cannot move a {self.status.value} ticket to {status.value}")
        previous = self.status
        self.status = status
        self.updated_at = now
        self.history.append(TicketChange(now, status, actor, note))
        self.events.append(
            events.TicketStatusChanged(
                ticket_id=self.id, number=number, sender=self.sender,
                previous=previous.value, status=status.value, note=note,
            )
        )  # fmt: skip


def format_number(kind: TicketKind, ticket_id: int) -> str:
    return f"{NUMBER_PREFIX[kind]}{ticket_id:06d}"


MAX_TICKET_ID = 2**31 - 1  # the id column is a 32-bit integer on every database


def _plain_number(text: str) -> int | None:
    # ASCII only (① and ² pass str.isdigit), and within the id column's range.
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if number <= MAX_TICKET_ID else None


def parse_number(text: str) -> tuple[TicketKind | None, int] | None:
    """BX000123 → (repair, 123); a bare 123 → (None, 123); anything else → None."""
    text = text.strip().upper()
    for kind, prefix in NUMBER_PREFIX.items():
        if text.startswith(prefix):
            number = _plain_number(text[len(prefix) :])
            return (kind, number) if number is not None else None
    number = _plain_number(text)
    return (None, number) if number is not None else None


@dataclass(eq=False)
class Owner:
    name: str
    phone: str
    role: str = "owner"  # owner, family, tenant
    id: int | None = None
    room_id: int | None = None


@dataclass(eq=False)
class Bill:
    period: str  # YYYY-MM
    item: str
    amount_cents: int
    due_date: datetime
    paid_at: datetime | None = None
    id: int | None = None
    room_id: int | None = None


@dataclass(frozen=True)
class LedgerSummary:
    owed_cents: int
    unpaid: list[Bill]
    paid_until: str | None  # last consecutive paid 物业费 period


@dataclass(eq=False)
class Room:
    building: str
    unit: str
    room: str
    area_m2: float = 0.0
    id: int | None = None
    owners: list[Owner] = field(default_factory=list)
    bills: list[Bill] = field(default_factory=list)

    @property
    def location(self) -> Location:
        return Location(self.building, self.unit, self.room)

    def phone_matches(self, phone: str) -> Owner | None:
        digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
        if len(digits) == 13 and digits.startswith("86"):  # +86 138…: the country code
            digits = digits[2:]
        return next((o for o in self.owners if o.phone == digits and digits), None)

    def ledger(self, fee_item: str = "物业费") -> LedgerSummary:
        unpaid = sorted((b for b in self.bills if b.paid_at is None), key=lambda b: (b.period, b.item))
        paid_until = None
        for bill in sorted((b for b in self.bills if b.item == fee_item), key=lambda b: b.period):
            if bill.paid_at is None:
                break
            paid_until = bill.period
        return LedgerSummary(sum(b.amount_cents for b in unpaid), unpaid, paid_until)


@dataclass(eq=False)
class Binding:
    """A chat identity proved to belong to an owner of a room (unit + phone on file)."""

    sender: str
    room_id: int
    owner_id: int
    bound_at: datetime
    id: int | None = None


@dataclass(eq=False)
class BindingAttempt:
    sender: str
    at: datetime
    ok: bool
    flat: str = ""  # 3-2-501: guesses at one flat are counted whoever makes them
    id: int | None = None


MAX_FAILED_BINDINGS_PER_DAY = 5  # per sender
MAX_FAILED_BINDINGS_PER_FLAT = 10  # per flat, across senders: a new web chat id costs nothing


def binding_locked(attempts: list[BindingAttempt], now: datetime, limit: int = MAX_FAILED_BINDINGS_PER_DAY) -> bool:
    """Too many wrong unit/phone guesses in a day: stop answering, so phones can't be probed."""
    recent = [a for a in attempts if not a.ok and now - a.at < timedelta(days=1)]
    return len(recent) >= limit


class PassState(str, Enum):
    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(eq=False)
class VisitorPass:
    code: str
    room_id: int
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    issued_to: str
    issued_at: datetime
    plate: str | None = None
    revoked_at: datetime | None = None
    id: int | None = None

    def state(self, now: datetime) -> PassState:
        if self.revoked_at is not None:
            return PassState.REVOKED
        if now < self.valid_from:
            return PassState.NOT_YET_VALID
        if now > self.valid_until:
            return PassState.EXPIRED
        return PassState.VALID


PASS_CODE_DIGITS = 6
MAX_PASS_DAYS = 7


def new_pass_code() -> str:
    """Six digits: easy to read out to a guard or type on a gate keypad."""
    return f"{secrets.randbelow(10**PASS_CODE_DIGITS):0{PASS_CODE_DIGITS}d}"


def pass_window(start: datetime, end: datetime | None, kind: str) -> tuple[datetime, datetime]:
    """The validity window for a visit the owner described.

    A clock time (三点) admits the visitor from an hour before to four hours after;
    a part of day (下午) or a stated range (三点到五点) is taken as said, with half an
    hour's grace either side; a whole day (明天) is that day.
    """
    if kind == "point" or end is None:
        return start - timedelta(hours=1), start + timedelta(hours=4)
    if kind == "day":
        return start, end
    return start - timedelta(minutes=30), end + timedelta(minutes=30)


class ConversationState(str, Enum):
    BOT = "bot"  # the assistant answers
    HANDED_OFF = "handed_off"  # staff answer; the assistant stays silent


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
    events: list[events.Event] = field(default_factory=list, repr=False)

    def hand_off(self, reason: str, now: datetime) -> None:
        if self.state is ConversationState.HANDED_OFF:
            return
        self.state = ConversationState.HANDED_OFF
        self.handoff_reason = reason
        self.handed_off_at = now
        self.events.append(events.ConversationHandedOff(sender=self.sender, reason=reason))

    def hand_back(self, actor: str) -> None:
        if self.state is not ConversationState.HANDED_OFF:
            raise DomainError("conversation is not with staff")
        self.state = ConversationState.BOT
        self.handoff_reason = None
        self.handed_off_at = None
        self.events.append(events.ConversationHandedBack(sender=self.sender, actor=actor))


@dataclass(eq=False)
class OutboundMessage:
    """A message to push to an owner later (transactional outbox): status updates, staff replies."""

    sender: str
    text: str
    kind: str
    created_at: datetime
    delivered_at: datetime | None = None
    id: int | None = None


# Tries to get an answer from the dialogue engine before a person takes the conversation.
MAX_ANSWER_ATTEMPTS = 10


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
