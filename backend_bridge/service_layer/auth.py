"""Staff credentials as they are kept: a bearer token (or console cookie, or invite link) is shown
once and only its sha256 is stored; a console password only as an argon2id hash.

One home for the hash, because two sides must agree on it byte for byte: ``add_staff`` and
``rotate_staff_token`` (service_layer/handlers.py) store it for a new token, and every staff API request
(entrypoints/staff_auth.py) hashes the token it carries to find the account.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def token_hash(token: str) -> str:
    """Hex sha256 of the token's UTF-8 bytes. Unsalted on purpose: the token is 32 random bytes
    (not a password to guess), and the account is looked up by this hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh bearer token (32 random bytes) and the hash that is kept of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


# -- console passwords ---------------------------------------------------------------------------
# Unlike a token, a password is chosen by a person and guessable: argon2id (argon2-cffi's
# RFC 9106 low-memory profile), salted, slow on purpose. Hashing takes tens of milliseconds
# and 64 MiB, so it runs in a worker thread, never on the event loop — in a pool of its own, two
# threads wide: a burst of sign-ins queues there instead of taking 64 MiB per request (and the
# shared default pool's threads from everything else).

_HASHER = PasswordHasher()
HASHING_THREADS = 2
_HASHING = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


async def _in_hashing_pool(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_HASHING, fn, *args)


# Verified when the username is unknown, so a wrong name takes as long as a wrong password and
# the answer's timing does not tell who has an account.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await _in_hashing_pool(_HASHER.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError, UnicodeEncodeError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; None (no account, or no password yet) costs a
    dummy verification and is False."""
    if stored is None:
        await _in_hashing_pool(_verify, _DUMMY_HASH, password)
        return False
    return await _in_hashing_pool(_verify, stored, password)


def password_needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's: rehash at the next login."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
