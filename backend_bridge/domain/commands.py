"""Commands: what the chat actions, the staff API and the gateway ask the backend to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class Command:
    pass


@dataclass(frozen=True)
class OpenTicket(Command):
    sender: str
    kind: str  # repair / complaint
    description: str
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    public_area: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class ReportEmergency(Command):
    sender: str
    hazard: str
    description: str
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    public_area: str | None = None


@dataclass(frozen=True)
class ChangeTicketStatus(Command):
    number: str
    status: str
    actor: str
    note: str = ""


@dataclass(frozen=True)
class BindSender(Command):
    sender: str
    building: str
    unit: str
    room: str
    phone: str


@dataclass(frozen=True)
class IssuePass(Command):
    sender: str
    visitor_name: str
    start: datetime
    end: datetime | None
    time_kind: str  # point / period / span / day (from the visit_time entity)
    plate: str | None = None


@dataclass(frozen=True)
class HandOff(Command):
    sender: str
    reason: str


@dataclass(frozen=True)
class HandBack(Command):
    sender: str
    actor: str


@dataclass(frozen=True)
class SendStaffMessage(Command):
    sender: str
    text: str
    actor: str


@dataclass(frozen=True)
class RecordInbound(Command):
    sender: str
    text: str
    client_message_id: str | None = None
    script: str | None = None


@dataclass(frozen=True)
class RecordReplies(Command):
    inbound_id: int
    replies: tuple[str, ...]
    answered: bool
    push: bool = False  # answered late: also queue the replies for delivery
