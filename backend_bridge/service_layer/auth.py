"""Staff bearer tokens as they are kept: a token is shown once, and only its hash is stored.

One home for the hash, because two sides must agree on it byte for byte: ``add_staff`` and
``rotate_staff_token`` (service_layer/handlers.py) store it for a new token, and every staff API request
(entrypoints/staff_auth.py) hashes the token it carries to find the account.
"""

from __future__ import annotations

import hashlib
import secrets


def token_hash(token: str) -> str:
    """Hex sha256 of the token's UTF-8 bytes. Unsalted on purpose: the token is 32 random bytes
    (not a password to guess), and the account is looked up by this hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh bearer token (32 random bytes) and the hash that is kept of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)
