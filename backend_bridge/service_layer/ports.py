"""What the service layer needs from the outside world, as interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from backend_bridge.adapters.content import CommunityContent

SHANGHAI = ZoneInfo("Asia/Shanghai")


class DialogueUnavailable(Exception):
    """The dialogue engine could not be reached (down, loading, timed out)."""


class DialogueRejected(DialogueUnavailable):
    """The dialogue engine answered with an error for this particular request."""


class DialogueEngine(Protocol):
    """The conversation engine (Rasa): silence it while staff talk, let it resume after."""

    async def resume(self, sender: str) -> None: ...

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None: ...


class Notifier(Protocol):
    """Wakes the dispatchers for a recipient whose outbox just got a message (Redis stream or nothing)."""

    async def queued(self, sender: str) -> None: ...


class TicketSystem(Protocol):
    """An external property system (HC小区, 明源, …) that keeps the company's tickets.

    The built-in store needs none of this (Deps.external is None); with one configured,
    every ticket is also created there (and cancelled there when its owner withdraws it) and its
    status changes come back by signed webhook.
    Implementation and contract: adapters/external.py, service_layer/external_sync.py.
    """

    name: str

    async def create_ticket(self, ticket: dict) -> str:
        """Create the ticket there; returns its id in that system. Raises DeliveryFailed."""
        ...

    async def cancel_ticket(self, external_id: str, number: str, reason: str) -> None:
        """Cancel ticket ``external_id`` there (the owner withdrew it); idempotent. Raises DeliveryFailed."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class NullNotifier:
    """Without Redis: the dispatchers poll the database, nobody needs waking."""

    async def queued(self, sender: str) -> None:
        return None


class DeliveryFailed(Exception):
    """A channel could not deliver a notification; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class DeliveryDeferred(Exception):
    """A channel must not send a notification before ``until`` (a platform's per-number cap is
    reached): not a failure, so it waits without counting an attempt."""

    def __init__(self, reason: str, until: datetime) -> None:
        super().__init__(reason)
        self.until = until


class ContentSource(Protocol):
    """The operator's content (hours, fees, SLA tiers, advice), reloaded when its files change.

    Each community's content is the company's overridden by the community's own file.
    """

    def get(self, code: str | None = None) -> CommunityContent:
        """The community's content; the company default for None, "" or an unknown code."""
        ...

    def communities(self) -> tuple[CommunityContent, ...]:
        """Every community, sorted by code."""
        ...


@dataclass
class SweepMemory:
    """The alert times (warn_before, close_after per community code, "" the company's) this
    process's last deadline sweep planned the tickets' next looks with. A change means every
    watched ticket is looked at again; a process starting knows none, so its first sweep does
    that too (another process, or one before a restart, may have planned with other times)."""

    alert_times: dict[str, tuple[int, int]] | None = None


@dataclass(frozen=True)
class Deps:
    """Everything handlers may use besides the unit of work, each behind its interface."""

    clock: Clock
    content: ContentSource
    dialogue: DialogueEngine
    notifier: Notifier
    timezone: ZoneInfo = SHANGHAI
    external: TicketSystem | None = None  # an external property system of record, when configured
    sweeps: SweepMemory = field(default_factory=lambda: SweepMemory(), compare=False)
