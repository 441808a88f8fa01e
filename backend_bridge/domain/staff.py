"""Staff accounts and what each role may do (every staff API route names its permission)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain import communities
from backend_bridge.domain.errors import DomainError, Forbidden
from backend_bridge.domain.tickets import Ticket, TicketStatus


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
    "tickets.close": _DESK,  # close, cancel or reopen: the owner's 回访 and the desk decide, not the worker
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


# A technician works their own ticket forward: start it, hold and resume it, finish it. Any other
# move (closing before the owner's 回访, cancelling, reopening) needs "tickets.close"; so does any
# status added later, until it is listed here.
WORK_STATUSES = frozenset({TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD, TicketStatus.RESOLVED})


BUILT_IN_ADMIN = "admin"  # who calls with WUYE_ADMIN_TOKEN: an administrator with no stored account
# Names the ticket histories and the outbox use for someone who is not a staff account: the
# built-in administrator, the owner, the scheduler, the shared desk and supervisors' recipients
# (notices.py), and the prefixes before ":" of chat ids and external systems ("staff:", "external:").
# An account so named would pass for them in a history, or read alerts meant for the whole desk.
RESERVED_USERNAMES = frozenset({BUILT_IN_ADMIN, "owner", "system", "staff", "external", "desk", "supervisors"})


# A WeCom (企业微信) member's UserID as WeCom allows it: 1-64 bytes of letters, digits and "_-@.",
# starting with a letter or digit. WeCom compares them ignoring case.
_WECOM_USERID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-@.]{0,63}$")


def wecom_userid(value: str | None) -> str | None:
    """The UserID to keep (None or "" clears it); a malformed one is refused here, not by WeCom
    at the first notice (which would dead-letter the member's work)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _WECOM_USERID.match(value):
        raise DomainError("a WeCom UserID is 1-64 letters, digits or _-@., starting with a letter or digit")
    return value


@dataclass(eq=False)
class StaffMember:
    username: str
    name: str
    role: Role
    token_hash: str  # sha256 of the bearer token; the token itself is shown once
    created_at: datetime
    active: bool = True
    # The communities this member works in (codes); empty: company-wide (a 客服中心 desk, a 主管
    # over the whole company). Every staff answer is scoped to these (``sees``).
    communities: list[str] = field(default_factory=list)
    # The member's WeCom UserID: their notices (work, SLA alerts, chases) go to WeCom as app
    # messages (connectors/wecom); None: to the log channel.
    wecom_userid: str | None = None
    # The console's sign-in (domain/staff_sessions.py): an argon2id hash, None until a first
    # password is set; an invite is the sha256 of a one-time link's token, valid until its time.
    password_hash: str | None = None
    invite_hash: str | None = None
    invite_expires_at: datetime | None = None
    id: int | None = None

    @classmethod
    def enrol(
        cls,
        username: str,
        name: str,
        role: Role,
        token_hash: str,
        now: datetime,
        communities: list[str] = (),
        wecom: str | None = None,
    ) -> StaffMember:
        """A new account; a name that histories use for someone else (any case, or with a ":") is refused."""
        if ":" in username or username.casefold() in RESERVED_USERNAMES:
            raise DomainError(f"{username!r} is reserved: histories use it for someone who is not a staff account")
        member = cls(username, name, role, token_hash, now, communities=sorted(set(communities)))
        member.link_wecom(wecom)
        return member

    def link_wecom(self, userid: str | None) -> None:
        """Reach this member in WeCom as ``userid`` (None: no longer; their notices go to the log)."""
        self.wecom_userid = wecom_userid(userid)

    @property
    def company_wide(self) -> bool:
        return not self.communities

    def sees(self, community: str | None) -> bool:
        """Whether this member sees something of ``community`` (None: not routed yet, company-wide only)."""
        return communities.sees(self.communities, community)

    def covers(self, other: StaffMember) -> bool:
        """Whether this member's scope includes all of ``other``'s (who may manage whose account)."""
        return self.company_wide or (not other.company_wide and set(other.communities) <= set(self.communities))

    def new_token(self, token_hash: str) -> None:
        """Rotate the bearer token: the old one stops working with this change."""
        self.token_hash = token_hash

    def deactivate(self) -> None:
        """Left the team: the token stops working, the name stays in the histories."""
        self.active = False

    def set_password(self, password_hash: str) -> None:
        """A new password (set by an administrator, from an invite, or by the member): an open
        invite is spent with it. The caller revokes the member's sessions."""
        self.password_hash = password_hash
        self.invite_hash = None
        self.invite_expires_at = None

    def invite(self, invite_hash: str, now: datetime, valid_for: timedelta) -> None:
        """A one-time link to choose a password; a new invite replaces the previous one."""
        if not self.active:
            raise DomainError("this staff account is deactivated")
        self.invite_hash = invite_hash
        self.invite_expires_at = now + valid_for

    def invite_open(self, now: datetime) -> bool:
        return (
            self.active
            and self.invite_hash is not None
            and self.invite_expires_at is not None
            and (now < self.invite_expires_at)
        )

    def may(self, permission: str) -> bool:
        return self.active and self.role in PERMISSIONS[permission]

    @property
    def leads(self) -> bool:
        """A supervisor or administrator: may take a conversation a colleague holds (force)."""
        return self.active and self.role in _LEADS

    def may_work_on(self, ticket: Ticket) -> bool:
        return (
            self.may("tickets.work")
            and self.sees(ticket.community)
            and (self.role is not Role.TECHNICIAN or ticket.assignee == self.username)
        )

    def check_move(self, ticket: Ticket, status: TicketStatus) -> None:
        """Forbidden unless this member may move ``ticket`` to ``status`` (whether the ticket can
        make that move at all is the ticket's own rule, Ticket.move_to)."""
        if not self.active:
            raise Forbidden("this staff account is deactivated")
        if not self.may_work_on(ticket):
            raise Forbidden("this ticket is assigned to someone else")
        if status not in WORK_STATUSES and not self.may("tickets.close"):
            raise Forbidden(f"the {self.role.value} role may not move a ticket to {status.value}")
