"""Staff console sign-in: server-side sessions and the rules for passwords and invites.

A session lives in the store (not in a signed cookie) so that logging out, deactivating the
member or changing their password ends it at once. The cookie carries 32 random bytes; only
their sha256 is kept, like a bearer token's. No I/O here: the clock and the hashes come in.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend_bridge.domain.errors import DomainError

IDLE_TIMEOUT = timedelta(hours=12)  # a session nobody used for this long is over (a shared desk PC)
ABSOLUTE_TIMEOUT = timedelta(days=7)  # and none outlives this, used or not
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often (not a write per request)
INVITE_VALIDITY = timedelta(hours=72)
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # hashing a megabyte "password" costs CPU for nothing


class BadCredentials(DomainError):
    """Wrong username or password: one answer for both, so nobody learns who has an account."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class InviteInvalid(DomainError):
    """An invite link that is unknown, used already or expired (one answer for all three)."""

    def __init__(self) -> None:
        super().__init__("邀请链接无效或已过期，请联系管理员重新发送")


class WeakPassword(DomainError):
    pass


def check_password_rule(password: str) -> None:
    """WeakPassword unless ``password`` is 10 to 256 characters (length beats composition rules)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise WeakPassword(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"密码最多 {MAX_PASSWORD} 个字符")
    if any(ord(c) < 32 or ord(c) == 127 for c in password) or _unencodable(password):
        raise WeakPassword("密码不能包含控制字符")


def _unencodable(text: str) -> bool:
    """A lone surrogate (possible in JSON) has no UTF-8 bytes to hash."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(eq=False)
class StaffSession:
    """One signed-in browser of one member (``username``; "admin" for the built-in administrator)."""

    token_hash: str  # sha256 of the cookie value
    username: str
    csrf: str  # sent back in X-CSRF-Token on every change (the page reads it from /console/api/me)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute end
    revoked_at: datetime | None = None
    # What the session was granted on when no stored password stands behind it: the sha256 of
    # WUYE_ADMIN_TOKEN for the built-in administrator. A new token ends every session of the old.
    credential: str | None = None
    id: int | None = None

    @classmethod
    def start(
        cls, token_hash: str, username: str, csrf: str, now: datetime, credential: str | None = None
    ) -> StaffSession:
        return cls(token_hash, username, csrf, now, now, now + ABSOLUTE_TIMEOUT, credential=credential)

    def granted_on(self, credential: str | None) -> bool:
        """Whether the session stands on ``credential`` still (the administrator's current token)."""
        return (
            credential is not None and self.credential is not None and hmac.compare_digest(self.credential, credential)
        )

    def valid(self, now: datetime) -> bool:
        """Not revoked, not past its absolute end, and used within the idle timeout."""
        return self.revoked_at is None and now < self.expires_at and now - self.last_seen_at < IDLE_TIMEOUT

    def touch(self, now: datetime) -> bool:
        """Slide the idle timeout (True when this changed the session, so it must be stored)."""
        if now - self.last_seen_at < TOUCH_EVERY:
            return False
        self.last_seen_at = now
        return True

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
