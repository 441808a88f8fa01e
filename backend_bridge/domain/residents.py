"""Flats and the people in them: rooms, their owners and ledger, and the chat identities bound to them.

A sender proves it belongs to a flat by naming the flat and a phone number on file (Binding);
wrong guesses are counted so phone numbers cannot be probed (binding_locked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from backend_bridge.domain.communities import DEFAULT_CODE
from backend_bridge.domain.tickets import Location
from common import phones


@dataclass(eq=False)
class Owner:
    name: str
    phone: str
    role: str = "owner"  # owner, family, tenant
    id: int | None = None
    room_id: int | None = None


@dataclass(eq=False)
class Bill:
    period: str  # YYYY-MM
    item: str
    amount_cents: int
    due_date: datetime
    paid_at: datetime | None = None
    id: int | None = None
    room_id: int | None = None


@dataclass(frozen=True)
class LedgerSummary:
    owed_cents: int
    unpaid: list[Bill]
    paid_until: str | None  # last consecutive paid 物业费 period


@dataclass(eq=False)
class Room:
    building: str
    unit: str
    room: str
    area_m2: float = 0.0
    community: str = DEFAULT_CODE  # its community's code (domain/communities.py)
    id: int | None = None
    owners: list[Owner] = field(default_factory=list)
    bills: list[Bill] = field(default_factory=list)

    @property
    def location(self) -> Location:
        return Location(self.building, self.unit, self.room)

    def phone_matches(self, phone: str) -> Owner | None:
        """The owner on file with this mobile, however it is typed (+86/0086, dashes, spaces).

        Read by the one rule the chat assistant and the roster import also use
        (:mod:`common.phones`), so a phone either of them accepts is the phone compared here.
        """
        return next((o for o in self.owners if phones.same_mobile(phone, o.phone)), None)

    def ledger(self, fee_item: str = "物业费") -> LedgerSummary:
        unpaid = sorted((b for b in self.bills if b.paid_at is None), key=lambda b: (b.period, b.item))
        paid_until = None
        for bill in sorted((b for b in self.bills if b.item == fee_item), key=lambda b: b.period):
            if bill.paid_at is None:
                break
            paid_until = bill.period
        return LedgerSummary(sum(b.amount_cents for b in unpaid), unpaid, paid_until)


@dataclass(eq=False)
class Binding:
    """A chat identity proved to belong to an owner of a room (unit + phone on file)."""

    sender: str
    room_id: int
    owner_id: int
    bound_at: datetime
    id: int | None = None


@dataclass(eq=False)
class BindingAttempt:
    sender: str
    at: datetime
    ok: bool
    flat: str = ""  # 3-2-501: guesses at one flat are counted whoever makes them
    id: int | None = None


MAX_FAILED_BINDINGS_PER_DAY = 5  # per sender
MAX_FAILED_BINDINGS_PER_FLAT = 10  # per flat, across senders: a new web chat id costs nothing


def binding_locked(attempts: list[BindingAttempt], now: datetime, limit: int = MAX_FAILED_BINDINGS_PER_DAY) -> bool:
    """Too many wrong unit/phone guesses in a day: stop answering, so phones can't be probed."""
    recent = [a for a in attempts if not a.ok and now - a.at < timedelta(days=1)]
    return len(recent) >= limit
