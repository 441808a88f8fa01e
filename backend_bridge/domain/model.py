"""The property-service domain, one module per aggregate; this module names them all in one place.

Plain Python, no I/O: the ORM maps these classes imperatively (adapters/orm.py), so
rules such as the ticket life cycle or who may see a ledger are testable in isolation.
Aggregates record domain events in ``events``; the unit of work hands them to the bus.

The rules live in ``tickets``, ``residents`` (rooms, owners, ledger, bindings), ``passes``,
``conversations`` (and inbound messages), ``outbox`` (notifications), ``staff`` and ``errors``.
Callers keep writing ``model.Ticket``: every name is re-exported here unchanged. How times
are worded (local_time) and how far ahead a pass may be booked (MAX_PASS_DAYS) live in common/,
which the action server shares without importing the backend.
"""

from __future__ import annotations

from backend_bridge.domain.conversations import (
    MAX_ANSWER_ATTEMPTS,
    MAX_CONVERSATION_ID,
    Conversation,
    ConversationState,
    Handoff,
    InboundMessage,
    InboundStatus,
)
from backend_bridge.domain.errors import DomainError, Forbidden, InvalidTransition, NotFound, PassRefused
from backend_bridge.domain.outbox import (
    FIRST_RETRY,
    LAST_RETRY,
    MAX_DELIVERY_ATTEMPTS,
    Notification,
    NotificationStatus,
    retry_delay,
)
from backend_bridge.domain.passes import (
    MAX_PASS_DAYS,
    PASS_CODE_DIGITS,
    PassState,
    VisitorPass,
    new_pass_code,
    pass_window,
)
from backend_bridge.domain.residents import (
    MAX_FAILED_BINDINGS_PER_DAY,
    MAX_FAILED_BINDINGS_PER_FLAT,
    Bill,
    Binding,
    BindingAttempt,
    LedgerSummary,
    Owner,
    Room,
    binding_locked,
)
from backend_bridge.domain.staff import (
    BUILT_IN_ADMIN,
    PERMISSIONS,
    RESERVED_USERNAMES,
    WORK_STATUSES,
    Role,
    StaffMember,
)
from backend_bridge.domain.tickets import (
    GOOD_RATING,
    MAX_EXTERNAL_ID,
    MAX_TICKET_ID,
    NUMBER_PREFIX,
    OPEN_STATUSES,
    POOR_RATING,
    STATUS_LABELS,
    TRANSITIONS,
    EventType,
    Intake,
    Location,
    Priority,
    ServiceLevel,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
    format_number,
    parse_number,
)
from common.wording import local_time

__all__ = [
    "BUILT_IN_ADMIN",
    "FIRST_RETRY",
    "GOOD_RATING",
    "LAST_RETRY",
    "MAX_ANSWER_ATTEMPTS",
    "MAX_CONVERSATION_ID",
    "MAX_DELIVERY_ATTEMPTS",
    "MAX_EXTERNAL_ID",
    "MAX_FAILED_BINDINGS_PER_DAY",
    "MAX_FAILED_BINDINGS_PER_FLAT",
    "MAX_PASS_DAYS",
    "MAX_TICKET_ID",
    "NUMBER_PREFIX",
    "OPEN_STATUSES",
    "PASS_CODE_DIGITS",
    "PERMISSIONS",
    "POOR_RATING",
    "RESERVED_USERNAMES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "WORK_STATUSES",
    "Bill",
    "Binding",
    "BindingAttempt",
    "Conversation",
    "ConversationState",
    "DomainError",
    "EventType",
    "Forbidden",
    "Handoff",
    "InboundMessage",
    "InboundStatus",
    "Intake",
    "InvalidTransition",
    "LedgerSummary",
    "Location",
    "NotFound",
    "Notification",
    "NotificationStatus",
    "Owner",
    "PassRefused",
    "PassState",
    "Priority",
    "Role",
    "Room",
    "ServiceLevel",
    "StaffMember",
    "Ticket",
    "TicketEvent",
    "TicketKind",
    "TicketStatus",
    "VisitorPass",
    "binding_locked",
    "format_number",
    "local_time",
    "new_pass_code",
    "parse_number",
    "pass_window",
    "retry_delay",
]
