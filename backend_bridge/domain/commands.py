"""Commands: what the chat actions, the staff API and the gateway ask the backend to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backend_bridge.domain.retention import RetentionPolicy


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
class OpenTicketForOwner(Command):
    """Staff open a ticket on an owner's behalf (walk-in, hotline)."""

    actor: str
    kind: str
    description: str
    intake: str  # staff / phone
    priority: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    public_area: str | None = None
    contact: str | None = None  # the owner's conversation id when known, for status updates
    community: str | None = None  # its code; else the contact's, the flat's, or the store's only one


@dataclass(frozen=True)
class ChangeTicketStatus(Command):
    number: str
    status: str
    actor: str
    note: str = ""


@dataclass(frozen=True)
class AssignTicket(Command):
    number: str
    assignee: str
    actor: str
    expected_at: datetime | None = None


@dataclass(frozen=True)
class CommentOnTicket(Command):
    number: str
    note: str
    actor: str


@dataclass(frozen=True)
class MergeTickets(Command):
    duplicate: str
    primary: str
    actor: str


@dataclass(frozen=True)
class WithdrawTicket(Command):
    """The owner takes back their own open request from the chat (不用来了, 撤销报修)."""

    sender: str
    number: str


@dataclass(frozen=True)
class RevokePass(Command):
    """The owner calls off a visit: their own pass that could still admit someone."""

    sender: str
    code: str


@dataclass(frozen=True)
class ChaseTicket(Command):
    """催单 from the owner's chat: only the sender's own ticket."""

    sender: str
    number: str


@dataclass(frozen=True)
class WithdrawEmergency(Command):
    """The owner's "不急" right after an emergency nobody has taken up: an ordinary repair, and the
    assistant answers again. ``inbound_id``: the message that said so (the assistant answers it)."""

    sender: str
    inbound_id: int


@dataclass(frozen=True)
class RateTicket(Command):
    sender: str
    score: int
    comment: str = ""
    number: str | None = None  # None: the sender's most recently resolved ticket
    first_reply_only: bool = False  # from the chat: only the owner's first message after the question


@dataclass(frozen=True)
class CheckDeadlines(Command):
    """The scheduler's tick: SLA warnings and escalations, unanswered follow-ups closed."""


@dataclass(frozen=True)
class UsePass(Command):
    code: str
    actor: str


@dataclass(frozen=True)
class RetryNotification(Command):
    notification_id: int
    actor: str


@dataclass(frozen=True)
class AddStaff(Command):
    username: str
    name: str
    role: str
    actor: str
    communities: tuple[str, ...] = ()  # codes; empty: company-wide
    wecom_userid: str | None = None  # their WeCom UserID: notices reach them in WeCom


@dataclass(frozen=True)
class LinkStaffWeCom(Command):
    """Reach a member in WeCom as ``wecom_userid`` (None: no longer; the log channel instead)."""

    username: str
    wecom_userid: str | None
    actor: str


@dataclass(frozen=True)
class RotateStaffToken(Command):
    """A new bearer token for a member (lost, leaked, or routine); the old one stops working."""

    username: str
    actor: str


@dataclass(frozen=True)
class DeactivateStaff(Command):
    username: str
    actor: str


@dataclass(frozen=True)
class BindSender(Command):
    sender: str
    building: str
    unit: str
    room: str
    phone: str


@dataclass(frozen=True)
class BindByStaff(Command):
    """Staff checked who the owner is (a call back, at the desk) and bind the conversation to
    the flat whose owner has this phone on file: the way back for an owner whose flat is locked
    by other people's wrong guesses."""

    sender: str
    building: str
    unit: str
    room: str
    phone: str
    actor: str
    communities: tuple[str, ...] | None = None  # the staff member's (None: company-wide)


@dataclass(frozen=True)
class BindByPhone(Command):
    """A channel whose sender id is the owner's mobile (SMS): the number itself is the proof, so
    the conversation is bound to the flats where that mobile is on file, without questions."""

    sender: str
    mobile: str  # 11 digits (common.phones.normalize_mobile)


@dataclass(frozen=True)
class RecordDeliveryReceipt(Command):
    """A paid platform's delivery receipt (SMS) for the message it called ``message_id``."""

    channel: str  # the recipients' channel ("sms"): receipts only touch its notifications
    message_id: str
    delivered: bool
    error: str | None = None
    permanent: bool = False  # the platform says retrying cannot help (an empty or barred number)
    parts: int | None = None


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
class ClaimConversation(Command):
    """A staff member answers this owner now; ``force`` (a lead's) takes it from a colleague."""

    sender: str
    actor: str
    force: bool = False


@dataclass(frozen=True)
class AddNote(Command):
    sender: str
    text: str
    actor: str


@dataclass(frozen=True)
class LeaveToStaff(Command):
    """The assistant will not answer this message: the conversation went to staff before it could."""

    inbound_id: int


@dataclass(frozen=True)
class SaveCannedReply(Command):
    """Add a 常用语 (``reply_id`` None) or change one (title/text None: kept)."""

    actor: str
    reply_id: int | None = None
    title: str | None = None
    text: str | None = None
    community: str | None = None


@dataclass(frozen=True)
class RemoveCannedReply(Command):
    reply_id: int
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
    community: str | None = None  # the entry point's community (a QR code's scene, a link's scene)
    # False: not the owner's own words (a marker, a call centre agent's line), so a community it
    # names does not route the conversation
    owners_words: bool = True


@dataclass(frozen=True)
class RecordReplies(Command):
    inbound_id: int
    replies: tuple[str, ...]
    answered: bool
    push: bool = False  # answered late: also queue the replies for delivery


@dataclass(frozen=True)
class ClaimInbound(Command):
    """Take an owner's message still "received" to answer it now (MessageRepository.claim says
    how): ``held_since`` None for a gateway taking over one no longer in flight (a client's
    retry, the backlog), or the attempt that holds it since then keeping it before a late call."""

    inbound_id: int
    held_since: datetime | None = None


@dataclass(frozen=True)
class SyncCommunities(Command):
    """Make the store's communities those the content names (at start, and before an import)."""


@dataclass(frozen=True)
class PurgeExpired(Command):
    """Remove personal data older than the policy allows (the dispatcher runs it every hour)."""

    policy: RetentionPolicy = field(default_factory=RetentionPolicy)


# -- the staff console's sign-in (service_layer/staff_access.py) ----------------------------------


@dataclass(frozen=True)
class LogIn(Command):
    """Sign in to the console; ``address`` (the client's, for the log) may be None. The built-in
    administrator signs in as "admin" with ``admin_token`` as the password."""

    username: str
    password: str = field(repr=False)
    admin_token: str = field(repr=False, default="")
    address: str | None = None


@dataclass(frozen=True)
class LogOut(Command):
    token_hash: str  # the sha256 of the session's cookie
    actor: str


@dataclass(frozen=True)
class SetStaffPassword(Command):
    """An administrator sets a member's password (a first one, or a forgotten one): the member's
    sessions end."""

    username: str
    password: str = field(repr=False)
    actor: str = ""


@dataclass(frozen=True)
class InviteStaff(Command):
    """A one-time link for the member to choose a password (72 hours); the token is shown once."""

    username: str
    actor: str


@dataclass(frozen=True)
class AcceptInvite(Command):
    """The invited member chooses a password: the invite is spent and they are signed in."""

    token: str = field(repr=False)
    password: str = field(repr=False)
    address: str | None = None


@dataclass(frozen=True)
class ChangeOwnPassword(Command):
    """A member changes their own password (the old one proves it is them): their other sessions end."""

    username: str
    old: str = field(repr=False)
    new: str = field(repr=False)
    token_hash: str = ""  # the session asking: it stays signed in
