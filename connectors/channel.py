"""The one interface every channel adapter implements.

A channel turns its wire format into :class:`Inbound` messages for the gateway and,
for channels that can push (WeChat, SMS), delivers outbox messages to owners.
Adding a channel means adding one folder under connectors/ with a class like this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True)
class Inbound:
    channel: str
    user: str  # the channel's own id for the owner (openid, phone, web chat id)
    text: str
    message_id: str | None = None  # the channel's or client's id, for de-duplication
    metadata: dict = field(default_factory=dict)

    @property
    def sender(self) -> str:
        """Conversation id used everywhere else: "<channel>:<user>"."""
        return f"{self.channel}:{self.user}"


class Channel(Protocol):
    name: str

    def routes(self) -> list[web.RouteDef]:
        """HTTP endpoints the channel's platform (or page) calls on the public port."""
        ...

    async def deliver(self, user: str, text: str) -> bool:
        """Push one message to ``user``; False when it must be retried later.

        Pull channels (the web chat polls its updates) return True at once.
        """
        ...
