"""Visitor passes: a short code that admits one visitor once, within a window the owner asked for."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from backend_bridge.domain.errors import DomainError
from common.passes import MAX_PASS_DAYS as MAX_PASS_DAYS  # the action server checks it too


class PassState(str, Enum):
    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"  # the visitor came in; a code admits once


@dataclass(eq=False)
class VisitorPass:
    code: str
    room_id: int
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    issued_to: str
    issued_at: datetime
    plate: str | None = None
    revoked_at: datetime | None = None
    used_at: datetime | None = None
    used_by: str | None = None  # the guard or gate that let the visitor in
    id: int | None = None

    def state(self, now: datetime) -> PassState:
        if self.revoked_at is not None:
            return PassState.REVOKED
        if self.used_at is not None:
            return PassState.USED
        if now < self.valid_from:
            return PassState.NOT_YET_VALID
        if now > self.valid_until:
            return PassState.EXPIRED
        return PassState.VALID

    def use(self, *, actor: str, now: datetime) -> None:
        state = self.state(now)
        if state is not PassState.VALID:
            raise DomainError(f"the pass is {state.value}")
        self.used_at, self.used_by = now, actor

    def revoke(self, *, now: datetime) -> None:
        """The owner calls the visit off: the code admits nobody from now on. Only a pass that
        could still admit someone can be revoked."""
        state = self.state(now)
        if state not in (PassState.VALID, PassState.NOT_YET_VALID):
            raise DomainError(f"the pass is {state.value}")
        self.revoked_at = now


PASS_CODE_DIGITS = 6


def new_pass_code() -> str:
    """Six digits: easy to read out to a guard or type on a gate keypad."""
    return f"{secrets.randbelow(10**PASS_CODE_DIGITS):0{PASS_CODE_DIGITS}d}"


_GRACE = timedelta(minutes=30)  # either side of a stated part of day or range


def pass_window(start: datetime, end: datetime | None, kind: str) -> tuple[datetime, datetime]:
    """The validity window for a visit the owner described, never longer than MAX_PASS_DAYS.

    A clock time (三点) admits the visitor from an hour before to four hours after;
    a part of day (下午) or a stated range (三点到五点) is taken as said, with half an
    hour's grace either side; a whole day (明天) is that day. A range longer than
    MAX_PASS_DAYS (今天到明年年底) ends MAX_PASS_DAYS after it begins: a code read out at the
    gate admits whoever says it, so it must not stay good for a year.
    """
    if kind == "point" or end is None:
        return start - timedelta(hours=1), start + timedelta(hours=4)
    valid_from, valid_until = (start, end) if kind == "day" else (start - _GRACE, end + _GRACE)
    return valid_from, min(valid_until, valid_from + timedelta(days=MAX_PASS_DAYS))
