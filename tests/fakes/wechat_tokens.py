"""Access tokens as the platforms keep them: one current token per credential, 7200 s of life.

Why a store rather than a constant: the channel's token cache is where real outages come from
(a refresh storm, a stale token after another process refreshed it, a 42001 after expiry), so the
fake must remember every token it issued and say precisely why one is no longer good.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

LIFETIME = timedelta(seconds=7200)
_FORMAT = re.compile(r"^[A-Z]{2}_[0-9a-f]{48}$")  # what any token of this fake looks like


@dataclass
class IssuedToken:
    value: str
    expires_at: datetime
    expired: bool = False  # forced by FakeWeChat.expire_tokens()
    revoked: bool = False  # replaced by a forced refresh (stable_token force_refresh)


class TokenStore:
    """Tokens of one side. ``renew_before``: 公众号's stable_token hands out a new token in the last
    5 minutes of the old one's life while the old one stays valid, so callers that refresh a bit
    early never see a gap; WeCom returns the same token until it expires."""

    def __init__(self, prefix: str, now: Callable[[], datetime], renew_before: timedelta = timedelta(0)) -> None:
        self._prefix = prefix
        self._now = now
        self._renew_before = renew_before
        self._tokens: dict[str, IssuedToken] = {}
        self._current: IssuedToken | None = None

    def current(self, *, force: bool = False) -> IssuedToken:
        """The token to hand out now: the current one while it is good, else a new one."""
        now = self._now()
        token = self._current
        if token is not None and force:
            token.revoked = True  # a forced refresh retires the previous token at once
        if force or token is None or token.expired or now >= token.expires_at - self._renew_before:
            token = IssuedToken(f"{self._prefix}_{secrets.token_hex(24)}", now + LIFETIME)
            self._tokens[token.value] = token
            self._current = token
        return token

    def seconds_left(self, token: IssuedToken) -> int:
        return max(0, int((token.expires_at - self._now()).total_seconds()))

    def check(self, value: str | None) -> str:
        """ "ok", or why not: "missing", "malformed", "unknown", "revoked" or "expired"."""
        if not value:
            return "missing"
        if not _FORMAT.match(value):
            return "malformed"
        token = self._tokens.get(value)
        if token is None:
            return "unknown"
        if token.revoked:
            return "revoked"
        if token.expired or self._now() >= token.expires_at:
            return "expired"
        return "ok"

    def expire_all(self) -> None:
        for token in self._tokens.values():
            token.expired = True
