"""The domain is one module per aggregate, and ``model`` still names all of it.

Protects: every caller that writes ``model.Ticket`` or ``from backend_bridge.domain.model import …``
keeps working after the split (the same names, the very same objects); the domain modules stay
plain Python, importing nothing but the standard library, each other and common/ (no database, no HTTP).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import common.passes
import common.wording
from backend_bridge.domain import (
    communities,
    conversations,
    errors,
    model,
    outbox,
    passes,
    residents,
    staff,
    staff_sessions,
    tickets,
)

DOMAIN = Path(model.__file__).parent
ALLOWED_PACKAGES = ("backend_bridge.domain", "common")  # common/: rules shared with the action server
AGGREGATES = (communities, tickets, residents, passes, conversations, outbox, staff, staff_sessions, errors)
HOMES = (*AGGREGATES, common.wording, common.passes)

# What backend_bridge.domain.model offered when it was one file: callers may use any of it.
_MODEL_NAMES = """
    Bill Binding BindingAttempt Conversation ConversationState DomainError EventType FIRST_RETRY GOOD_RATING Handoff
    InboundMessage InboundStatus Intake InvalidTransition LAST_RETRY LedgerSummary Location MAX_ANSWER_ATTEMPTS
    MAX_DELIVERY_ATTEMPTS MAX_EXTERNAL_ID MAX_FAILED_BINDINGS_PER_DAY MAX_FAILED_BINDINGS_PER_FLAT MAX_PASS_DAYS
    MAX_TICKET_ID NUMBER_PREFIX Notification NotificationStatus OPEN_STATUSES Owner PASS_CODE_DIGITS PERMISSIONS
    POOR_RATING PassRefused PassState Priority Role Room STATUS_LABELS ServiceLevel StaffMember TRANSITIONS Ticket
    TicketEvent TicketKind TicketStatus VisitorPass binding_locked format_number local_time new_pass_code
    parse_number pass_window retry_delay
"""
MODEL_NAMES = set(_MODEL_NAMES.split())
# new names since the split
ADDED_SINCE = {
    "DEFAULT_CODE",
    "MAX_CODE",
    "Community",
    "WhichCommunity",
    "mentioned",
    "names_only",
    "route",
    "route_or_ask",
    "sees",
    "valid_code",
    "STALLED_AFTER",
    "UNREACHABLE_HANDOFF_AFTER",  # a person takes over by waiting time while Rasa is away
    "gives_up_on",
    "EMERGENCY_CORRECTION_WINDOW",
    "EMERGENCY_REPEAT_WINDOW",
    "NotFound",
    "Forbidden",
    "WORK_STATUSES",
    "MAX_CONVERSATION_ID",
    "BUILT_IN_ADMIN",
    "RESERVED_USERNAMES",
    "NOTICE_FIELDS",
    "NOTICE_TIMES",
    "wecom_userid",
    "OWNER_WITHDREW",  # the note on a ticket the owner took back from the chat
    "STAFF_CANCELLED",  # what the external system is told of a ticket staff cancelled here
    # the staff console's sign-in (domain/staff_sessions.py)
    "ABSOLUTE_TIMEOUT",
    "IDLE_TIMEOUT",
    "TOUCH_EVERY",
    "MAX_PASSWORD",
    "INVITE_VALIDITY",
    "MIN_PASSWORD",
    "BadCredentials",
    "InviteInvalid",
    "StaffSession",
    "WeakPassword",
    "check_password_rule",
    "EmergencyPaging",  # how the leads hear of an emergency from an unverified sender (issue 13 #7)
    "UNVERIFIED_EMERGENCY_PAGES",
    "UNVERIFIED_EMERGENCY_WINDOW",
    "emergency_paging",
    "SlaClock",  # the ticket pool's countdown (issue 11)
    "NOT_COUNTING",
    "sla_clock",
    "OUTSIDE_HANDOFFS",
    "MAX_CANNED_TEXT",
    "MAX_CANNED_TITLE",
    "STAFF_TOOK_OVER",
    "CannedReply",
    "Claimed",
    "Note",
    # a message still "received" is in flight for a while: a retry is told it is kept, then may take it over
    "IN_FLIGHT_FOR",
    "ONE_ANSWER_TAKES",
    "still_in_flight",
    "outlasts_flight",
}


def test_model_still_names_everything_it_named_as_one_file():
    assert set(model.__all__) == MODEL_NAMES | ADDED_SINCE
    assert all(hasattr(model, name) for name in MODEL_NAMES)


@pytest.mark.parametrize("module", AGGREGATES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_model_re_exports_each_aggregate_module_s_own_objects(module):
    own = {name for name in vars(module) if not name.startswith("_") and _defined_in(module, name)}
    assert own, module.__name__
    assert own <= set(model.__all__)
    for name in own:
        assert getattr(model, name) is getattr(module, name), name


def test_every_model_name_has_one_home():
    homes = {name: [m.__name__ for m in HOMES if name in vars(m) and _defined_in(m, name)] for name in MODEL_NAMES}
    assert {name: found for name, found in homes.items() if len(found) != 1} == {}


def _defined_in(module, name: str) -> bool:
    """Assigned or defined at the top of ``module``'s source (not merely imported there)."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_itself_and_common(path):
    """No I/O in the domain: no ORM, no HTTP client, no other layer of the backend."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
    allowed = {n for n in imported if any(n == p or n.startswith(f"{p}.") for p in ALLOWED_PACKAGES)}
    foreign = {n for n in imported - allowed if n.split(".")[0] not in sys.stdlib_module_names}
    assert foreign == set()
