"""The one interface every channel adapter implements, and how channels are found.

A channel turns its wire format into :class:`Inbound` messages for the gateway and
hands the replies back. Adding a channel means adding one folder under connectors/
whose package exposes ``create_channel() -> Channel``; :func:`installed_channels`
finds it, nothing else needs editing. A channel that can reach owners later (status
updates, staff replies) also offers ``delivery(backend)``: the dispatcher calls it for
every notification whose recipient is on that channel.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.service_layer.delivery import Deliver


@dataclass(frozen=True)
class Inbound:
    channel: str
    user: str  # the channel's own id for the owner (openid, phone, web chat id)
    text: str
    message_id: str | None = None  # the channel's or client's id, for de-duplication
    # The community the entry point belongs to, when it says (a QR code's scene, a 微信客服 link's
    # scene, an SMS extension, a dialled number, the web chat's ?c=): its code; the gateway routes.
    community: str | None = None

    @property
    def sender(self) -> str:
        """Conversation id used everywhere else: "<channel>:<user>"."""
        return f"{self.channel}:{self.user}"


class Channel(Protocol):
    name: str

    def routes(self) -> list[web.RouteDef]:
        """HTTP endpoints the channel's platform (or page) calls on the public port."""
        ...


class PushChannel(Channel, Protocol):
    also_for: tuple[str, ...]  # other recipient prefixes it delivers for (optional)

    def delivery(self, backend: Backend) -> Deliver:
        """Send one notification; raise DeliveryFailed when it did not get through."""
        ...


def deliveries(backend: Backend, channels: list[Channel] | None = None) -> dict[str, Deliver]:
    """Recipient channel name → delivery function, for every installed channel that delivers."""
    found: dict[str, Deliver] = {}
    for channel in installed_channels() if channels is None else channels:
        if hasattr(channel, "delivery"):
            deliver = channel.delivery(backend)
            for name in (channel.name, *getattr(channel, "also_for", ())):
                found[name] = deliver
    return found


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
