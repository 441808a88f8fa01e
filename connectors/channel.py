"""The one interface every channel adapter implements, and how channels are found.

A channel turns its wire format into :class:`Inbound` messages for the gateway and hands the
replies back. Adding a channel means adding one folder under connectors/ whose package exposes
``create_channel(settings, http) -> Channel | None``:

- ``settings`` is the channel's own section of the settings (connectors/settings.py reads every
  ``WUYE_*`` variable, one section per channel that needs any; None for a channel without one),
- ``http`` is the process's shared aiohttp ClientSession, for calls to the channel's platform,
- None means the channel is off (its settings are empty).

:func:`installed_channels` finds the packages; nothing else needs editing. A channel answers its
platform in one of two ways: ``Gateway.handle`` answers in the request (the web chat), and
``Gateway.accept`` records the message, acknowledges at once and answers through the outbox
(platforms with short deadlines; the answer may still go back in the request if it is ready in
time). A channel that can reach owners later (status updates, staff replies, late answers)
also offers ``delivery(backend)``: the dispatcher calls it for every notification whose
recipient is on that channel. A channel holding resources has ``async close()``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain.model import Notification
from backend_bridge.service_layer.delivery import Deliver
from backend_bridge.service_layer.notices import CONVERSATION_STATE

log = logging.getLogger(__name__)


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
    follows_handoff: bool  # True: it is given the handoff notices too (optional, default False)
    # (optional) True: only while no other channel delivers for the same prefix (the log channel)
    fallback: bool

    def delivery(self, backend: Backend) -> Deliver:
        """Send one notification; raise DeliveryFailed when it did not get through. May return
        how it went (recorded on the notification: "mailbox", "custom", "template", …)."""
        ...


class ClosingChannel(Channel, Protocol):
    async def close(self) -> None:
        """Release what the channel holds (clients, connections); called once at shutdown."""
        ...


def deliveries(backend: Backend, channels: list[Channel] | None = None) -> dict[str, Deliver]:
    """Recipient channel name → delivery function, for every installed channel that delivers.

    The notice that a conversation went to staff or back (kind CONVERSATION_STATE) is written only
    for channels with ``follows_handoff = True`` (their platform keeps its own session state;
    ``Backend.follow_handoffs``); should one reach another channel, it is done with at once,
    recorded as "skipped:not-followed"."""
    found: dict[str, Deliver] = {}
    listed = installed_channels() if channels is None else channels
    # A fallback (the log) first, so a channel that also delivers its recipients takes them over.
    for channel in sorted(listed, key=lambda c: not getattr(c, "fallback", False)):
        if hasattr(channel, "delivery"):
            deliver = channel.delivery(backend)
            if not getattr(channel, "follows_handoff", False):
                deliver = _without_handoffs(deliver)
            for name in (channel.name, *getattr(channel, "also_for", ())):
                found[name] = deliver
    return found


def _without_handoffs(deliver: Deliver) -> Deliver:
    async def delivering(notification: Notification) -> str | None:
        if notification.kind == CONVERSATION_STATE:
            return "skipped:not-followed"
        return await deliver(notification)

    return delivering


def installed_channels(
    sections: Mapping[str, object] | None = None, http: aiohttp.ClientSession | None = None
) -> list[Channel]:
    """One instance of every channel package under connectors/ (those with create_channel) that
    is on. ``sections``: channel name → its settings section (Settings.channels); without it,
    channels that need settings are off. ``http``: the shared client session (needed by the
    channels that call their platform, which are off without one)."""
    import connectors  # noqa: PLC0415 - the package this module belongs to

    found = []
    for info in sorted(pkgutil.iter_modules(connectors.__path__), key=lambda m: m.name):
        if info.ispkg:
            package = importlib.import_module(f"connectors.{info.name}")
            if hasattr(package, "create_channel"):
                channel = package.create_channel((sections or {}).get(info.name), http)
                if channel is not None:
                    found.append(channel)
    return found


async def close_channels(channels: list[Channel]) -> None:
    """Close every channel that holds something; one failing does not keep the others open."""
    for channel in channels:
        close = getattr(channel, "close", None)
        if close is None:
            continue
        try:
            await close()
        except Exception:
            log.exception("channel %s did not close cleanly", channel.name)
