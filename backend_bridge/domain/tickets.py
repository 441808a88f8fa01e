"""Tickets (报修 and 投诉): their life cycle, append-only history, deadlines and numbers.

A ticket is opened for a Location with the ServiceLevel of its priority tier; every change
goes through a method that checks TRANSITIONS, appends a TicketEvent and records the domain
event the message bus reacts to (notify the owner, page staff).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain import events
from backend_bridge.domain.errors import DomainError, InvalidTransition
from common.wording import describe_place


class TicketKind(str, Enum):
    REPAIR = "repair"
    COMPLAINT = "complaint"


class Priority(str, Enum):
    """分级处理: the tier decides who is paged and the deadlines (service_levels in content/)."""

    EMERGENCY = "emergency"  # 急修: gas, fire, people trapped, flooding; on site within minutes
    URGENT = "urgent"  # today: no water, a lift out of service
    NORMAL = "normal"
    LOW = "low"  # suggestions, cosmetic defects


class Intake(str, Enum):
    """How the request reached us (HC小区 records the same)."""

    ASSISTANT = "assistant"  # the owner, through the chat assistant
    STAFF = "staff"  # staff on the owner's behalf (walk-in, WeChat group)
    PHONE = "phone"  # the hotline

    @classmethod
    def of_conversation(cls, sender: str) -> Intake:
        """How an owner's own conversation reached us: the hotline's call transcripts
        (connectors/phone) are phone:<mobile>; every other channel is the assistant."""
        return cls.PHONE if sender.startswith("phone:") else cls.ASSISTANT


class TicketStatus(str, Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"  # waiting for parts, for the owner to be home, for a contractor
    RESOLVED = "resolved"  # done; the owner is asked for a rating (回访)
    REOPENED = "reopened"  # the owner was not satisfied
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    TicketStatus.NEW: "已受理，等待派单",
    TicketStatus.ASSIGNED: "已派单",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.ON_HOLD: "暂停处理",
    TicketStatus.RESOLVED: "已处理完，待您评价",
    TicketStatus.REOPENED: "已重新打开，正在重新安排",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.CANCELLED: "已取消",
}
OPEN_STATUSES = frozenset(
    {TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD, TicketStatus.REOPENED}
)
# HC小区's flow: 受理 → 派单 → 处理 (暂停) → 待评价 (回访) → 办结; a dissatisfied owner reopens.
# ASSIGNED is entered only through Ticket.assign, which names the one accountable person (首问负责制).
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.ASSIGNED, TicketStatus.CANCELLED}),
    TicketStatus.ASSIGNED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD, TicketStatus.RESOLVED, TicketStatus.CANCELLED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.ON_HOLD, TicketStatus.RESOLVED, TicketStatus.CANCELLED}),
    TicketStatus.ON_HOLD: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CANCELLED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset({TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.CANCELLED}),
    TicketStatus.CLOSED: frozenset(),
    TicketStatus.CANCELLED: frozenset(),
}
NUMBER_PREFIX = {TicketKind.REPAIR: "BX", TicketKind.COMPLAINT: "TS"}
OWNER_WITHDREW = "业主撤销"  # the note on a ticket the owner took back from the chat
STAFF_CANCELLED = "物业取消"  # what the external system is told of a ticket staff cancelled here


@dataclass(frozen=True)
class Location:
    """Where: a flat (building/unit/room), a public area (optionally in a building), or unknown."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    public_area: str | None = None

    def describe(self) -> str:
        """Worded by common.wording, as the action server words an address before the ticket exists."""
        return describe_place(self.building, self.unit, self.room, self.public_area)

    @property
    def is_flat(self) -> bool:
        return bool(self.building and self.unit and self.room) and not self.public_area


@dataclass(frozen=True)
class ServiceLevel:
    """Published promise for one priority tier (minutes to respond, hours to resolve)."""

    respond_minutes: int
    resolve_hours: int


class EventType(str, Enum):
    OPENED = "opened"
    ASSIGNED = "assigned"
    STATUS = "status"
    NOTE = "note"  # internal comment; the owner does not see it
    CHASE = "chase"  # 催单: the owner asked us to hurry
    RATING = "rating"
    MERGED = "merged"
    SLA_WARNING = "sla_warning"
    SLA_ESCALATION = "sla_escalation"
    SYNCED = "synced"  # created in the external property system
    PRIORITY = "priority"  # the tier changed (an owner's "不急" after a misread emergency)


@dataclass
class TicketEvent:
    """One line of a ticket's append-only history: what happened, who did it, when."""

    at: datetime
    type: EventType
    actor: str
    status: TicketStatus | None = None  # the status after the event, when it changed
    note: str = ""
    data: dict = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class SlaClock:
    """Where an open ticket stands against the deadline that counts now (the staff list's
    countdown, its urgency order and its ``overdue`` filter all read this one rule).

    ``deadline``: "respond" until someone is assigned (``responded_at``), then "resolve"; None
    once the ticket is no longer open (nothing is counting). On hold the resolution clock stands
    still (``Ticket.move_to`` moves ``resolve_by`` on by the hold when work resumes): ``paused``,
    ``seconds_left`` frozen at what was left when the hold began, and ``due_at`` where the
    deadline would fall if work resumed now. ``breached``: the deadline has passed (for a paused
    ticket: it had passed before the hold); ``seconds_left`` is then negative.
    """

    deadline: str | None
    due_at: datetime | None
    paused: bool
    breached: bool
    seconds_left: int | None

    def urgency(self) -> tuple[int, int]:
        """Sort key, most urgent first: breached (longest overdue first), then running by the
        nearest deadline, then paused by the time they have left, then tickets no longer open."""
        if self.deadline is None or self.seconds_left is None:
            return (3, 0)
        if self.breached:
            return (0, self.seconds_left)
        return (2 if self.paused else 1, self.seconds_left)


NOT_COUNTING = SlaClock(deadline=None, due_at=None, paused=False, breached=False, seconds_left=None)


def sla_clock(
    *,
    status: TicketStatus,
    responded_at: datetime | None,
    respond_by: datetime,
    resolve_by: datetime,
    hold_started: datetime | None,
    now: datetime,
) -> SlaClock:
    """The SLA rule over a ticket's columns alone, so a list can order thousands of tickets from a
    narrow query; ``hold_started`` matters only on hold (when the current hold began, else now)."""
    if status not in OPEN_STATUSES:
        return NOT_COUNTING
    if responded_at is None:
        left = respond_by - now
        return SlaClock("respond", respond_by, False, left < timedelta(0), math.floor(left.total_seconds()))
    if status is TicketStatus.ON_HOLD:
        left = resolve_by - (hold_started or now)
        return SlaClock("resolve", now + left, True, left < timedelta(0), math.floor(left.total_seconds()))
    left = resolve_by - now
    return SlaClock("resolve", resolve_by, False, left < timedelta(0), math.floor(left.total_seconds()))


# The same owner reporting an emergency again within this time, while theirs is open, adds to it.
EMERGENCY_REPEAT_WINDOW = timedelta(hours=1)

# Emergencies from senders we cannot tie to a flat (no binding: a fresh chat id, a number not on
# file). Each one is opened and answered at once — a real emergency never waits for a check — and
# the first few in a community within the window page the leads one by one. Past that, the rest are
# flagged on the ticket and the leads get one alert for the lot: a stream of throwaway ids cannot
# bury the real emergencies under pages (nor exhaust the duty group robot's 20 a minute).
# Owners bound to a flat always page.
UNVERIFIED_EMERGENCY_WINDOW = timedelta(minutes=10)
UNVERIFIED_EMERGENCY_PAGES = 3
# How long after reporting an emergency the owner can say, in one word, that it is not one ("不急",
# bot/text/urgency.py): the first minutes, while nobody has taken the conversation up. Later, or once
# a person answers, the person decides.
EMERGENCY_CORRECTION_WINDOW = timedelta(minutes=30)


class EmergencyPaging(str, Enum):
    PAGE = "page"  # the leads and the duty group are told of this one
    FLOOD_ALERT = "flood_alert"  # the first past the limit: one alert that more are coming unpaged
    FLAGGED = "flagged"  # opened and visible in the pool, no page of its own


def emergency_paging(*, verified: bool, unverified_before: int) -> EmergencyPaging:
    """How the leads hear of an emergency, given whether its sender is bound to a flat and how many
    unverified emergencies the community had within UNVERIFIED_EMERGENCY_WINDOW before it."""
    if verified or unverified_before < UNVERIFIED_EMERGENCY_PAGES:
        return EmergencyPaging.PAGE
    if unverified_before == UNVERIFIED_EMERGENCY_PAGES:
        return EmergencyPaging.FLOOD_ALERT
    return EmergencyPaging.FLAGGED


MAX_EXTERNAL_ID = 64  # tickets.external_id's width
GOOD_RATING = 4  # 4-5 count as satisfied in the statistics (the seeds' target: >= 90%)
POOR_RATING = 2  # 1-2 reopen the ticket and alert a supervisor


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
    category: str = "other"
    hazard: str | None = None
    anonymous: bool = False
    intake: Intake = Intake.ASSISTANT
    channel: str = ""
    status: TicketStatus = TicketStatus.NEW
    assignee: str | None = None  # the one accountable staff member (username)
    updated_at: datetime | None = None
    responded_at: datetime | None = None  # first assigned: the response deadline is met
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    survey_sent_at: datetime | None = None
    rating: int | None = None
    merged_into: int | None = None
    external_id: str | None = None
    community: str | None = None  # its community's code; None: not known yet (the company-wide desk's)
    # When the SLA scheduler must look at this ticket next (indexed: the sweep reads only the
    # tickets due, never every open one). Any change makes it "now" (``_record``); the sweep then
    # sets it with its community's times (``plan_sweep``). None: nothing left to watch.
    sweep_at: datetime | None = None
    # Since when the external system is owed word that this ticket is cancelled (the owner
    # withdrew it after it was created there). Set in the withdrawal's own transaction, so a
    # crash before the call, or the system being down, loses nothing: SyncTickets retries until
    # it is told (``cancelled_there``). None: nothing owed.
    external_cancel_owed_at: datetime | None = None
    id: int | None = None
    history: list[TicketEvent] = field(default_factory=list)
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
        category: str = "other",
        hazard: str | None = None,
        anonymous: bool = False,
        intake: Intake | None = None,  # None: what the owner's conversation says (of_conversation)
        actor: str = "owner",
        community: str | None = None,
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
            intake=intake or Intake.of_conversation(sender),
            channel=sender.split(":", 1)[0],
            community=community,
        )
        ticket.history.append(TicketEvent(now, EventType.OPENED, actor, TicketStatus.NEW))
        ticket.sweep_at = now
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

    @property
    def chases(self) -> int:
        """How often the owner has chased (催单) this ticket."""
        return sum(1 for e in self.history if e.type is EventType.CHASE)

    def sla(self, now: datetime) -> SlaClock:
        """Where the ticket stands against its deadlines at ``now`` (see SlaClock)."""
        on_hold = self.status is TicketStatus.ON_HOLD
        return sla_clock(
            status=self.status,
            responded_at=self.responded_at,
            respond_by=self.respond_by,
            resolve_by=self.resolve_by,
            hold_started=self._hold_started(now) if on_hold else None,
            now=now,
        )

    def _record(self, now: datetime, type_: EventType, actor: str, note: str = "", **data: object) -> None:
        if type_ not in _INTERNAL_EVENTS:  # owners see updated_at; a deadline alert is not news to them
            self.updated_at = now
        status = self.status if type_ in (EventType.STATUS, EventType.ASSIGNED, EventType.MERGED) else None
        self.history.append(TicketEvent(now, type_, actor, status, note, {k: v for k, v in data.items() if v}))
        # Every change (status, deadlines, responded_at, an alert, the rating question) passes here:
        # the scheduler looks at the ticket on its next sweep and plans the look after (plan_sweep).
        self.sweep_at = now if self._watched else None

    def _changed(self, previous: TicketStatus, actor: str, note: str) -> None:
        self.events.append(
            events.TicketStatusChanged(
                ticket_id=self.id,
                number=self.number,
                sender=self.sender,
                previous=previous.value,
                status=self.status.value,
                note=note,
                actor=actor,
            )
        )

    def assign(self, assignee: str, *, actor: str, now: datetime, expected_at: datetime | None = None) -> None:
        """Name the accountable person: dispatches a new or reopened ticket, or hands it over."""
        assignee = assignee.strip()
        if not assignee:
            raise DomainError("an assignment needs a staff member")
        number = self.number
        if self.status in (TicketStatus.NEW, TicketStatus.REOPENED):
            previous_status, self.status = self.status, TicketStatus.ASSIGNED
        elif self.status in (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD):
            previous_status = self.status
        else:
            raise InvalidTransition(f"cannot assign a {self.status.value} ticket")
        previous, self.assignee = self.assignee, assignee
        self.responded_at = self.responded_at or now
        self._record(
            now,
            EventType.ASSIGNED,
            actor,
            assignee=assignee,
            previous=previous,
            expected_at=expected_at.isoformat() if expected_at else None,
        )
        self.events.append(
            events.TicketAssigned(
                ticket_id=self.id,
                number=number,
                sender=self.sender,
                assignee=assignee,
                previous_status=previous_status.value,
                expected_at=expected_at,
            )
        )

    def move_to(self, status: TicketStatus, *, actor: str, now: datetime, note: str = "") -> None:
        _ = self.number  # an unstored ticket has no number and cannot move: fail before changing it
        if status is TicketStatus.ASSIGNED:
            raise InvalidTransition("assign the ticket to someone to dispatch it")
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"cannot move a {self.status.value} ticket to {status.value}")
        if status is TicketStatus.IN_PROGRESS and not self.assignee:
            raise InvalidTransition("assign the ticket before work starts")
        previous = self.status
        self.status = status
        moved = None
        if previous is TicketStatus.ON_HOLD:  # the resolution clock stood still while on hold
            self.resolve_by += now - self._hold_started(now)
            moved = self.resolve_by.isoformat()
        if status is TicketStatus.RESOLVED:
            self.resolved_at, self.survey_sent_at, self.rating = now, now, None
        elif status is TicketStatus.REOPENED:
            self.resolved_at = self.survey_sent_at = None
        elif status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
            self.closed_at = now
        if status is TicketStatus.CANCELLED:
            self._owe_cancellation(now)
        self._record(now, EventType.STATUS, actor, note, resolve_by=moved)
        self._changed(previous, actor, note)

    def _hold_started(self, now: datetime) -> datetime:
        """When the current hold began (now, for a ticket whose history does not say)."""
        held = (e for e in reversed(self.history) if e.type is EventType.STATUS and e.status is TicketStatus.ON_HOLD)
        return next((e.at for e in held), now)

    def comment(self, note: str, *, actor: str, now: datetime) -> None:
        if not note.strip():
            raise DomainError("a comment needs text")
        self._record(now, EventType.NOTE, actor, note.strip())

    def not_an_emergency(self, level: ServiceLevel, *, actor: str, now: datetime, note: str) -> None:
        """The owner says the emergency is none (the model misread an ordinary fault): an ordinary
        repair from now on, with the ordinary tier's deadlines counted from when it was reported,
        as if it had been read right. Staff are told (EmergencyWithdrawn); the hazard stays on
        record."""
        if self.priority is not Priority.EMERGENCY:
            raise DomainError(f"a {self.priority.value} ticket is not an emergency")
        if not self.is_open:
            raise DomainError(f"a {self.status.value} ticket cannot change its tier")
        self.priority = Priority.NORMAL
        self.respond_by = self.created_at + timedelta(minutes=level.respond_minutes)
        self.resolve_by = self.created_at + timedelta(hours=level.resolve_hours)
        self._record(now, EventType.PRIORITY, actor, note, priority=Priority.NORMAL.value)
        self.events.append(events.EmergencyWithdrawn(ticket_id=self.id, number=self.number, assignee=self.assignee))

    def chase(self, *, actor: str, now: datetime) -> int:
        """催单: recorded, and staff are told; returns how often the owner has chased."""
        if not self.is_open:
            raise DomainError(f"a {self.status.value} ticket cannot be chased")
        self._record(now, EventType.CHASE, actor)
        times = self.chases
        self.events.append(
            events.TicketChased(
                ticket_id=self.id,
                number=self.number,
                assignee=self.assignee,
                times=times,
                overdue=self.sla(now).breached,  # on hold, the time left when the hold began
            )
        )
        return times

    def withdraw(self, *, actor: str, now: datetime, note: str = OWNER_WITHDREW) -> None:
        """The owner takes the request back (不用来了, 撤销报修): cancelled, and whoever holds it is
        told not to come (TicketWithdrawn). An emergency is not the owner's to call off here: the
        duty staff close it once someone has looked (the owner who misread one says 不急 instead)."""
        if self.priority is Priority.EMERGENCY:
            raise DomainError("an emergency is closed by the duty staff")
        if not self.is_open:
            raise DomainError(f"a {self.status.value} ticket cannot be withdrawn")
        self.move_to(TicketStatus.CANCELLED, actor=actor, now=now, note=note)
        self.events.append(
            events.TicketWithdrawn(ticket_id=self.id, number=self.number, assignee=self.assignee, note=note)
        )

    def rate(self, score: int, *, actor: str, now: datetime, comment: str = "") -> None:
        """回访: 4-5 close the ticket; 1-2 reopen it and alert a supervisor; 3 closes it."""
        if self.status is not TicketStatus.RESOLVED:
            raise DomainError(f"a {self.status.value} ticket cannot be rated")
        if not 1 <= score <= 5:
            raise DomainError("a rating is 1 to 5")
        self.rating = score
        self._record(now, EventType.RATING, actor, comment, score=score)
        if score <= POOR_RATING:
            self.move_to(TicketStatus.REOPENED, actor=actor, now=now, note=comment)
            self.events.append(events.PoorRating(ticket_id=self.id, number=self.number, score=score, comment=comment))
        else:
            self.move_to(TicketStatus.CLOSED, actor=actor, now=now)

    def merge_into(self, primary: Ticket, *, actor: str, now: datetime) -> None:
        """A duplicate of ``primary``: cancelled here, handled there, its owner kept informed."""
        if primary is self or primary.id == self.id:
            raise DomainError("a ticket cannot be merged into itself")
        if not self.is_open or not primary.is_open:
            raise InvalidTransition("only open tickets can be merged")
        if primary.merged_into is not None:
            raise InvalidTransition(f"{primary.number} was itself merged")
        previous = self.status
        self.status, self.merged_into, self.closed_at = TicketStatus.CANCELLED, primary.id, now
        self._owe_cancellation(now)  # the work is done under the primary: not twice there
        note = f"与 {primary.number} 合并处理"
        self._record(now, EventType.MERGED, actor, note, into=primary.number)
        primary._record(now, EventType.MERGED, actor, f"合并了 {self.number}", duplicate=self.number)
        self._changed(previous, actor, note)

    def synced(self, system: str, external_id: str, *, now: datetime) -> None:
        """Created in the company's property system too: its webhooks name the ticket by ``external_id``.

        Idempotent for the same id (a retried sync); a second, different id is refused, since
        updates for the first would no longer find the ticket. Not a change staff or the owner
        made, so ``updated_at`` stays as it was.
        """
        external_id = external_id.strip()
        if not external_id or len(external_id) > MAX_EXTERNAL_ID:
            raise DomainError(f"an external ticket id is 1 to {MAX_EXTERNAL_ID} characters")
        if self.external_id == external_id:
            return
        if self.external_id is not None:
            raise DomainError(f"ticket {self.number} is already {self.external_id} in the external system")
        self.external_id = external_id
        self._record(now, EventType.SYNCED, "system", system=system, external_id=external_id)
        # Cancelled here while the creation was on its way: it is owed a cancellation too.
        self._owe_cancellation(now)

    @property
    def withdrawn(self) -> bool:
        """Cancelled by its owner (``withdraw``), not by staff, a merge or the external system."""
        return self.status is TicketStatus.CANCELLED and any(
            e.type is EventType.STATUS and e.status is TicketStatus.CANCELLED and e.actor == self.sender
            for e in self.history
        )

    def _owe_cancellation(self, now: datetime) -> None:
        """A cancelled ticket the external system holds is owed a cancellation there, whoever
        cancelled it here (the owner, staff, a merge), or their technicians still go. Their own
        "cancelled" goes through ``move_to`` too; ``cancelled_there`` settles it in the same
        transaction, so they are never told what they said."""
        if self.status is TicketStatus.CANCELLED and self.external_id is not None:
            self.external_cancel_owed_at = now

    @property
    def cancellation_reason(self) -> str:
        """What the external system is told: who called the work off, never a staff note (it may
        name the owner or hold what the company keeps to itself)."""
        if self.merged_into is not None:
            merges = (e.data["into"] for e in reversed(self.history) if e.type is EventType.MERGED and "into" in e.data)
            into = next(merges, None)
            return f"与 {into} 合并处理" if into else "合并处理"
        return OWNER_WITHDREW if self.withdrawn else STAFF_CANCELLED

    def cancelled_there(self) -> None:
        """The external system has the cancellation (it answered our call, or said so itself):
        nothing is owed any more. Not a change staff or the owner made: no history line."""
        if self.external_cancel_owed_at is not None:
            self.external_cancel_owed_at = None

    def follow_merge(self, primary: Ticket, *, actor: str, now: datetime) -> None:
        """This ticket was merged into one that is now merged into ``primary``: follow it, so
        its owner keeps hearing about the work (merges never chain)."""
        if self.merged_into is None:
            raise DomainError(f"{self.number} is not a merged duplicate")
        self.merged_into = primary.id
        self._record(now, EventType.MERGED, actor, f"随合并转入 {primary.number}", into=primary.number)

    @property
    def _watched(self) -> bool:
        """Open (deadlines may run) or resolved (the rating question may go unanswered)."""
        return self.is_open or self.status is TicketStatus.RESOLVED

    def _counting(self) -> list[tuple[str, datetime]]:
        """The deadlines whose clock runs: respond until someone is assigned, resolve unless on hold
        (waiting for parts or the owner: no resolution clock)."""
        clocks = []
        if self.responded_at is None:
            clocks.append(("respond", self.respond_by))
        if self.status is not TicketStatus.ON_HOLD:
            clocks.append(("resolve", self.resolve_by))
        return clocks

    def _alerts_given(self) -> set[tuple[str | None, EventType]]:
        return {(e.data.get("deadline"), e.type) for e in self.history if e.type in _SLA_TYPES}

    def deadline_alerts(self, now: datetime, warn_before: timedelta) -> list[tuple[str, EventType]]:
        """Which SLA alerts are due now and not yet given: ("respond"|"resolve", warning|escalation)."""
        if not self.is_open:
            return []
        given = self._alerts_given()
        due = []
        for deadline, by in self._counting():
            if now >= by:
                if (deadline, EventType.SLA_ESCALATION) not in given:
                    due.append((deadline, EventType.SLA_ESCALATION))
            elif now >= self._warn_at(by, warn_before) and (deadline, EventType.SLA_WARNING) not in given:
                due.append((deadline, EventType.SLA_WARNING))
        return due

    def next_look(self, now: datetime, warn_before: timedelta, close_after: timedelta) -> datetime | None:
        """The earliest moment at which the scheduler may have something to do for this ticket,
        as it stands and with these times: an alert ``deadline_alerts`` would give then, or the
        unanswered rating question closing it. None: nothing, unless the ticket changes. Never
        later than the first such moment (a look too early finds nothing and plans again)."""
        if self.status is TicketStatus.RESOLVED:
            return self.survey_sent_at + close_after if self.survey_sent_at else None
        if not self.is_open:
            return None
        given, looks = self._alerts_given(), []
        for deadline, by in self._counting():
            if (deadline, EventType.SLA_ESCALATION) not in given:
                looks.append(by)
            if (deadline, EventType.SLA_WARNING) not in given and now < by:  # past it, no warning comes
                looks.append(self._warn_at(by, warn_before))
        return min(looks, default=None)

    def plan_sweep(self, now: datetime, warn_before: timedelta, close_after: timedelta) -> None:
        """The scheduler has looked at the ticket at ``now``: its next look (see ``next_look``)."""
        self.sweep_at = self.next_look(now, warn_before, close_after)

    def _warn_at(self, deadline: datetime, warn_before: timedelta) -> datetime:
        """``warn_before`` ahead of the deadline, but never in the first half of a short window
        (a 30-minute response time warned 30 minutes ahead would warn at once)."""
        return max(deadline - warn_before, self.created_at + (deadline - self.created_at) / 2)

    def record_alert(self, deadline: str, type_: EventType, *, now: datetime) -> None:
        """Give an SLA alert once: in the history (so it is not given again) and as news for staff."""
        self._record(now, type_, "system", deadline=deadline)
        self.events.append(
            events.DeadlineAlerted(
                ticket_id=self.id,
                number=self.number,
                deadline=deadline,
                alert=type_.value,
                due=self.respond_by if deadline == "respond" else self.resolve_by,
                assignee=self.assignee,
            )
        )


_SLA_TYPES = (EventType.SLA_WARNING, EventType.SLA_ESCALATION)
_INTERNAL_EVENTS = frozenset({*_SLA_TYPES, EventType.SYNCED})


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
