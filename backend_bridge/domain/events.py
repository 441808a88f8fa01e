"""Domain events: facts other parts of the system react to (notify the owner, page staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class Event:
    pass


@dataclass(frozen=True)
class TicketOpened(Event):
    ticket_id: int
    number: str
    kind: str
    priority: str
    sender: str
    quiet: bool = False  # an emergency past the unverified limit: no duty-group post of its own


@dataclass(frozen=True)
class TicketStatusChanged(Event):
    ticket_id: int
    number: str
    sender: str
    previous: str
    status: str
    note: str = ""
    actor: str = ""


@dataclass(frozen=True)
class TicketAssigned(Event):
    ticket_id: int
    number: str
    sender: str
    assignee: str
    previous_status: str
    expected_at: datetime | None = None


@dataclass(frozen=True)
class TicketWithdrawn(Event):
    """The owner took the request back: whoever holds it need not come."""

    ticket_id: int
    number: str
    assignee: str | None
    note: str


@dataclass(frozen=True)
class TicketChased(Event):
    ticket_id: int
    number: str
    assignee: str | None
    times: int
    overdue: bool


@dataclass(frozen=True)
class PoorRating(Event):
    ticket_id: int
    number: str
    score: int
    comment: str = ""


@dataclass(frozen=True)
class ConversationHandedOff(Event):
    sender: str
    reason: str


@dataclass(frozen=True)
class ConversationHandedBack(Event):
    sender: str
    actor: str


@dataclass(frozen=True)
class ConversationClaimed(Event):
    """A staff member took the conversation (the console's 接管, or a lead's reassignment)."""

    sender: str
    assignee: str


@dataclass(frozen=True)
class ConversationReleased(Event):
    """The member who held the conversation can no longer answer (deactivated): the owner waits
    for a person again."""

    sender: str
    previous: str


@dataclass(frozen=True)
class EmergencyReported(Event):
    """An owner reported a hazard: the duty leads are paged at once."""

    ticket_id: int
    number: str
    hazard: str | None
    paging: str = "page"  # EmergencyPaging: page, flood_alert (one alert for many) or flagged (none)
    unverified: int = 0  # unverified emergencies in the community within the window, this one included


@dataclass(frozen=True)
class EmergencyWithdrawn(Event):
    """The owner said their emergency is not one: it is an ordinary repair now, and whoever was
    paged hears so."""

    ticket_id: int
    number: str
    assignee: str | None


@dataclass(frozen=True)
class DeadlineAlerted(Event):
    """An SLA deadline is near (warning) or has passed (escalation)."""

    ticket_id: int
    number: str
    deadline: str  # "respond" | "resolve"
    alert: str  # "sla_warning" | "sla_escalation"
    due: datetime
    assignee: str | None


@dataclass(frozen=True)
class StaffMessageSent(Event):
    """A staff member wrote to the owner of a conversation."""

    sender: str
    text: str
    actor: str


@dataclass(frozen=True)
class RepliesDeferred(Event):
    """The assistant's answer came after the owner's request had returned: push it."""

    sender: str
    replies: tuple[str, ...]
