"""What each use case answers: typed results, read by attribute across the bus.

Entrypoints turn them into JSON (``as_json`` keeps the field names the APIs have always used);
the gateway and the dispatcher read the fields they need. A misspelt field is an
AttributeError at the line that reads it, not a KeyError far from the handler that wrote it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


class Result:
    def as_json(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class TicketOpened(Result):
    number: str
    promise: str | None = None  # what the owner is promised (tier's response time), from the content


@dataclass(frozen=True)
class EmergencyOpened(Result):
    number: str
    promise: str
    advice: str
    duty_hotline: str


@dataclass(frozen=True)
class EmergencyWithdrawn(Result):
    number: str
    promise: str  # the ordinary tier's


@dataclass(frozen=True)
class StatusChanged(Result):
    number: str
    status: str


@dataclass(frozen=True)
class Assigned(Result):
    number: str
    status: str
    assignee: str


@dataclass(frozen=True)
class Commented(Result):
    number: str


@dataclass(frozen=True)
class Rated(Result):
    number: str
    status: str
    score: int


@dataclass(frozen=True)
class TicketsMerged(Result):
    number: str
    merged_into: str


@dataclass(frozen=True)
class TicketChased(Result):
    number: str
    status: str
    times: int
    assignee: str | None


@dataclass(frozen=True)
class TicketWithdrawn(Result):
    number: str
    status: str


@dataclass(frozen=True)
class PassRevoked(Result):
    code: str


@dataclass(frozen=True)
class DeadlineSweep(Result):
    warnings: int = 0
    escalations: int = 0
    closed: int = 0


@dataclass(frozen=True)
class PassUsed(Result):
    code: str
    used_at: datetime | None


@dataclass(frozen=True)
class PassIssued(Result):
    code: str
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True)
class NotificationRetried(Result):
    id: int
    status: str


@dataclass(frozen=True)
class StaffAdded(Result):
    username: str
    name: str
    role: str
    token: str  # shown once; only its hash is kept
    communities: list[str] = field(default_factory=list)
    wecom_userid: str | None = None


@dataclass(frozen=True)
class StaffToken(Result):
    username: str
    token: str  # shown once; only its hash is kept


@dataclass(frozen=True)
class StaffAccount(Result):
    username: str
    name: str
    role: str
    active: bool
    wecom_userid: str | None = None


@dataclass(frozen=True)
class BindingChecked(Result):
    status: str  # "bound" | "mismatch" | "locked"


@dataclass(frozen=True)
class ReceiptRecorded(Result):
    status: str | None  # the notification's status after it; None: no notification has that id


@dataclass(frozen=True)
class ConversationState(Result):
    state: str


@dataclass(frozen=True)
class StaffMessageQueued(Result):
    queued: bool = True


@dataclass(frozen=True)
class InboundRecorded(Result):
    """An owner's message written down; ``duplicate`` replays a retried client message."""

    id: int
    duplicate: bool
    replies: list[str]  # what the owner was told the first time, for a retried message
    status: str
    state: str
    script: str | None
    waiting: int  # the sender's earlier messages still unanswered
    routed_to: str | None = None  # the community this message routed the owner to (its name)
    names_only: bool = False  # the message did nothing but name it ("阳光小区的"): the gateway confirms
    # Still "received": since when an answer may be on its way (its arrival or last take-over),
    # and whether it still may (a retry's first attempt in flight). None / False otherwise.
    in_flight_since: datetime | None = None
    in_flight: bool = False
    received_at: datetime | None = None


@dataclass(frozen=True)
class InboundClaimed(Result):
    """Whether the gateway took the message (ClaimInbound); it is in flight from ``since`` if so."""

    claimed: bool
    since: datetime


@dataclass(frozen=True)
class RepliesRecorded(Result):
    status: str


@dataclass(frozen=True)
class Imported(Result):
    imported: dict[str, object]  # rows read, and per kind of record: added / updated / unchanged
    dry_run: bool


@dataclass(frozen=True)
class SyncSweep(Result):
    synced: int = 0  # created there
    failed: int = 0  # creations and cancellations that did not get through
    cancelled: int = 0  # withdrawals they were owed and now have


@dataclass(frozen=True)
class ExternalUpdateApplied(Result):
    number: str
    status: str
    changed: bool
    applied: bool = True


@dataclass(frozen=True)
class ExternalUpdateDuplicate(Result):
    """The event id was applied before: nothing changes."""

    duplicate: bool = True


@dataclass(frozen=True)
class CommunitiesSynced(Result):
    codes: list[str]


@dataclass(frozen=True)
class Purged(Result):
    """How many rows of each kind the retention policy removed."""

    removed: dict[str, int]


@dataclass(frozen=True)
class SessionStarted(Result):
    """A console session: ``token`` goes into the cookie and nowhere else (only its hash is kept)."""

    username: str
    name: str
    role: str
    csrf: str
    expires_at: datetime
    token: str = field(repr=False, default="")


@dataclass(frozen=True)
class InviteIssued(Result):
    username: str
    token: str = field(repr=False)  # shown once, in the link; only its hash is kept
    expires_at: datetime = field(default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class Done(Result):
    """A change with nothing to answer but that it happened."""


@dataclass(frozen=True)
class ConversationClaimed(Result):
    sender: str
    state: str
    assignee: str
    claimed_at: datetime

    def as_json(self) -> dict:
        return {**asdict(self), "claimed_at": self.claimed_at.isoformat()}


@dataclass(frozen=True)
class NoteAdded(Result):
    id: int
    author: str
    text: str
    at: datetime

    def as_json(self) -> dict:
        return {"direction": "note", "id": self.id, "author": self.author, "text": self.text, "at": self.at.isoformat()}


@dataclass(frozen=True)
class CannedReplySaved(Result):
    id: int
