"""Domain events: facts other parts of the system react to (notify the owner, page staff)."""

from __future__ import annotations

from dataclasses import dataclass


class Event:
    pass


@dataclass(frozen=True)
class TicketOpened(Event):
    ticket_id: int
    number: str
    kind: str
    priority: str
    sender: str


@dataclass(frozen=True)
class TicketStatusChanged(Event):
    ticket_id: int
    number: str
    sender: str
    previous: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class ConversationHandedOff(Event):
    sender: str
    reason: str


@dataclass(frozen=True)
class ConversationHandedBack(Event):
    sender: str
    actor: str
