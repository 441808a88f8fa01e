"""The 公众号's access_token, shared by every process: one refresher at a time, never a storm.

The token lives 7200 s and a forced refresh is allowed 20 times a day, so every gateway and
dispatcher process reads one shared copy (Redis with WUYE_REDIS_URL, else the database's
channel_state) and only the holder of a lock (a Redis key, else a database lease) asks
``stable_token`` for a new one; the others wait for it to appear. Within a process one coroutine
refreshes and the rest wait on it too. A token refused by the platform (40001/40014/42001) is
replaced once: if another process already replaced it the new one is used, else a refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

import redis.asyncio as aioredis

from backend_bridge.bootstrap import Backend
from backend_bridge.service_layer.ports import DeliveryFailed

log = logging.getLogger(__name__)

RENEW_BEFORE = 300.0  # seconds of life left when a token is replaced (stable_token gives a new one then)
LOCK_SECONDS = 15.0  # a refresher that died holding the lock is replaced after this
WAIT_SECONDS = 10.0  # how long a process waits for another's refresh before giving up this time
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # seconds since the epoch, by the backend's clock

    def good(self, now: float, instead_of: str | None = None) -> bool:
        return self.value != instead_of and self.expires_at - now > RENEW_BEFORE

    def dumps(self) -> str:
        return json.dumps({"value": self.value, "expires_at": self.expires_at})

    @classmethod
    def loads(cls, raw: str | bytes | None) -> Token | None:
        try:
            found = json.loads(raw) if raw else None
            return cls(str(found["value"]), float(found["expires_at"])) if found else None
        except (ValueError, KeyError, TypeError):
            return None


class TokenStore(Protocol):
    async def read(self) -> Token | None: ...

    async def write(self, token: Token) -> None: ...

    def refreshing(self) -> contextlib.AbstractAsyncContextManager[bool]:
        """Try to become the one refresher; yields whether this process is."""
        ...


class DatabaseTokens:
    """The token in channel_state, the refresh lock a lease (no Redis needed)."""

    def __init__(self, backend: Backend, appid: str) -> None:
        self.backend = backend
        self.name = f"wechat:{appid}:token"
        self.lease = f"wechat-token:{appid}"

    async def read(self) -> Token | None:
        async with self.backend.new_uow() as uow:
            return Token.loads(await uow.channel_state.get(self.name, self.backend.clock()))

    async def write(self, token: Token) -> None:
        until = datetime.fromtimestamp(token.expires_at, timezone.utc)
        async with self.backend.new_uow() as uow:
            await uow.channel_state.put(self.name, token.dumps(), until)
            await uow.commit()

    @contextlib.asynccontextmanager
    async def refreshing(self) -> AsyncIterator[bool]:
        holder = f"token-{uuid.uuid4().hex[:12]}"
        async with self.backend.new_uow() as uow:
            held = await uow.leases.take_lease(
                self.lease, holder, self.backend.clock(), timedelta(seconds=LOCK_SECONDS)
            )
            await uow.commit()
        try:
            yield held
        finally:
            if held:
                async with self.backend.new_uow() as uow:
                    await uow.leases.release_lease(self.lease, holder)
                    await uow.commit()


# Delete the lock only if it is still ours (a slow refresher's lock may have expired and been taken).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisTokens:
    """The token in a Redis key that expires with it; the refresh lock a SET NX PX key."""

    def __init__(self, client: aioredis.Redis, appid: str, clock: Callable[[], float]) -> None:
        self.client = client
        self.key = f"wuye:wechat:{appid}:token"
        self.lock = f"wuye:wechat:{appid}:refresh"
        self.clock = clock

    async def read(self) -> Token | None:
        return Token.loads(await self.client.get(self.key))

    async def write(self, token: Token) -> None:
        ttl = max(1, int(token.expires_at - self.clock()))
        await self.client.set(self.key, token.dumps(), ex=ttl)

    @contextlib.asynccontextmanager
    async def refreshing(self) -> AsyncIterator[bool]:
        mine = uuid.uuid4().hex
        held = bool(await self.client.set(self.lock, mine, nx=True, px=int(LOCK_SECONDS * 1000)))
        try:
            yield held
        finally:
            if held:
                await self.client.eval(_RELEASE, 1, self.lock, mine)


Fetch = Callable[[bool], Awaitable[Token]]  # force_refresh → a new token from stable_token


class SharedToken:
    """The token every call uses; see the module's docstring."""

    def __init__(self, store: TokenStore, fetch: Fetch, clock: Callable[[], float]) -> None:
        self.store = store
        self.fetch = fetch
        self.clock = clock
        self._local: Token | None = None
        self._lock = asyncio.Lock()

    async def get(self, *, instead_of: str | None = None) -> str:
        """A good token; ``instead_of``: the one the platform just refused (replace it)."""
        local = self._local
        if local is not None and local.good(self.clock(), instead_of):
            return local.value
        async with self._lock:  # one coroutine per process goes to the shared store
            local = self._local
            if local is not None and local.good(self.clock(), instead_of):
                return local.value
            self._local = await self._shared(instead_of)
            return self._local.value

    async def _shared(self, instead_of: str | None) -> Token:
        deadline = self.clock() + WAIT_SECONDS
        while True:
            found = await self.store.read()
            if found is not None and found.good(self.clock(), instead_of):
                return found
            async with self.store.refreshing() as mine:
                if mine:
                    found = await self.store.read()  # another refresher may have finished just now
                    if found is not None and found.good(self.clock(), instead_of):
                        return found
                    fresh = await self.fetch(False)
                    if fresh.value == instead_of:  # the platform still hands out the refused one
                        fresh = await self.fetch(True)
                    await self.store.write(fresh)
                    log.info("wechat access token refreshed (good for %d s)", fresh.expires_at - self.clock())
                    return fresh
            if self.clock() > deadline:
                raise DeliveryFailed("no access token: another process is refreshing it and has not finished")
            await asyncio.sleep(POLL_SECONDS)
