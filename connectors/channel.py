"""The one interface every channel adapter implements, and how channels are found.

A channel turns its wire format into :class:`Inbound` messages for the gateway and
hands the replies back. Adding a channel means adding one folder under connectors/
whose package exposes ``create_channel() -> Channel``; :func:`installed_channels`
finds it, nothing else needs editing. (Push channels such as WeChat and SMS will add
delivery of outbox messages to this interface when the first of them arrives.)
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True)
class Inbound:
    channel: str
    user: str  # the channel's own id for the owner (openid, phone, web chat id)
    text: str
    message_id: str | None = None  # the channel's or client's id, for de-duplication

    @property
    def sender(self) -> str:
        """Conversation id used everywhere else: "<channel>:<user>"."""
        return f"{self.channel}:{self.user}"


class Channel(Protocol):
    name: str

    def routes(self) -> list[web.RouteDef]:
        """HTTP endpoints the channel's platform (or page) calls on the public port."""
        ...


def installed_channels() -> list[Channel]:
    """One instance of every channel package under connectors/ (those with create_channel)."""
    import connectors  # noqa: PLC0415 - the package this module belongs to

    found = []
    for info in sorted(pkgutil.iter_modules(connectors.__path__), key=lambda m: m.name):
        if info.ispkg:
            package = importlib.import_module(f"connectors.{info.name}")
            if hasattr(package, "create_channel"):
                found.append(package.create_channel())
    return found
