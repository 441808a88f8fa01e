"""The log channel: notifications for recipients without a push channel of their own.

Staff ("staff:<username>") get SLA warnings, escalations, chases and poor ratings here, and
duty groups ("duty:<community>") new urgent and emergency tickets, unless WeCom is set up
(connectors/wecom takes both over and comes back here for staff without a WeCom UserID);
operators read them in the dispatcher's log. Lines are
masked like every other log line (bot.text.pii) and carry the idempotency key, so a
repeat after a crashed dispatcher is recognisable.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.service_layer.delivery import Deliver

log = logging.getLogger("wuye.notifications")


class LogChannel:
    name = "log"
    also_for = ("staff", "duty")  # recipient channels this one delivers for
    fallback = True  # a channel that also delivers for these takes them over (channel.deliveries)

    def routes(self) -> list[web.RouteDef]:
        return []

    def delivery(self, backend: Backend) -> Deliver:
        async def deliver(notification: model.Notification) -> str:
            log.info(
                "to %s [%s] key=%s: %s",
                notification.recipient,
                notification.kind,
                notification.key,
                notification.text,
            )
            return "log"

        return deliver


def create_channel(settings: None = None, http: aiohttp.ClientSession | None = None) -> LogChannel:
    """Always on; needs no settings and no client."""
    return LogChannel()
