"""Staff accounts and what each role may do (every staff API route names its permission)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_bridge.domain.tickets import Ticket


class Role(str, Enum):
    AGENT = "agent"  # 客服/管家: takes requests, dispatches, talks to owners
    TECHNICIAN = "technician"  # 维修师傅: works the tickets assigned to them
    SUPERVISOR = "supervisor"  # 主管: escalations, merges, statistics, dead letters
    ADMIN = "admin"  # imports, staff accounts


_EVERYONE = frozenset(Role)
_DESK = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
_LEADS = frozenset({Role.SUPERVISOR, Role.ADMIN})
PERMISSIONS: dict[str, frozenset[Role]] = {
    "tickets.read": _EVERYONE,
    "tickets.work": _EVERYONE,  # status and comments; a technician only on their own tickets
    "tickets.create": _DESK,
    "tickets.assign": _DESK,
    "tickets.merge": _LEADS,
    "passes": _DESK,
    "conversations": _DESK,
    "stats": _LEADS,
    "notifications": _LEADS,
    "imports": frozenset({Role.ADMIN}),
    "staff": frozenset({Role.ADMIN}),
}


@dataclass(eq=False)
class StaffMember:
    username: str
    name: str
    role: Role
    token_hash: str  # sha256 of the bearer token; the token itself is shown once
    created_at: datetime
    active: bool = True
    id: int | None = None

    def may(self, permission: str) -> bool:
        return self.active and self.role in PERMISSIONS[permission]

    def may_work_on(self, ticket: Ticket) -> bool:
        return self.may("tickets.work") and (self.role is not Role.TECHNICIAN or ticket.assignee == self.username)
