"""The web chat channel: ``POST /api/chat`` and ``GET /api/chat/{sender}/updates``.

The sender id is chosen by the page (a random 128-bit id kept in the browser) and doubles
as the conversation's secret; the API accepts any id of the allowed characters, so other
clients must choose unguessable ids themselves.
Status updates, staff replies and late answers reach the page through the mailbox: the
dispatcher delivers each notification there once (its key is unique), the page pulls.
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path

from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.entrypoints.http import BadRequest, client_address, int_param, read_json, text_field
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Deliver
from bot.text.script import render
from connectors.channel import Inbound
from connectors.keys import GATEWAY
from connectors.ratelimit import RateLimiter
from connectors.settings import WebChatSettings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
_SENDER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


# The cursor is a mailbox id: an INTEGER column, 32 bits on PostgreSQL, which refuses a larger
# parameter outright (a 500 once, for ?after=13800000501); past it is a 400 like any bad cursor.
MAX_MAILBOX_ID = 2**31 - 1


def _sender(value: object) -> str:
    if not isinstance(value, str) or not _SENDER.fullmatch(value):
        raise BadRequest("'sender' must be 1-64 characters of letters, digits, '.', '_', '-' or '@'")
    return value


TOO_FAST = "发得太快了，请稍等片刻再发。"


class WebChat:
    name = "webchat"

    def __init__(self, settings: WebChatSettings | None = None) -> None:
        self.settings = settings or WebChatSettings()
        self._per_sender = RateLimiter(self.settings.sender_per_minute)
        self._per_client = RateLimiter(self.settings.client_per_minute)

    def _client(self, request: web.Request) -> str | None:
        """The address to limit (http.client_address: the connection's, or a trusted proxy's X-Forwarded-For)."""
        return client_address(request, self.settings.trusted_proxies)

    def _too_fast(self, request: web.Request, sender: str) -> web.Response | None:
        """429 with Retry-After when the sender or the client sends faster than allowed; the
        message is not recorded (the page keeps it and the owner can send it again)."""
        now = time.monotonic()
        client = self._client(request)
        wait = max(
            self._per_sender.wait(f"sender:{sender}", now),
            self._per_client.wait(f"client:{client}", now) if client is not None else 0.0,
        )
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        log.warning("web chat: too fast from a client; asked to wait %d s", seconds)
        return web.json_response(
            {"error": "too_many_requests", "message": TOO_FAST, "retry_after": seconds},
            status=429,
            headers={"Retry-After": str(seconds)},
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.post("/api/chat", self.chat),
            web.get("/api/chat/{sender}/updates", self.updates),
        ]

    def delivery(self, backend: Backend) -> Deliver:
        async def deliver(notification: model.Notification) -> str:
            async with backend.new_uow() as uow:
                await uow.notifications.put_in_mailbox(notification, backend.clock())
                await uow.commit()
            return "mailbox"

        return deliver

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def chat(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        sender = _sender(body.get("sender"))
        text = body.get("text")
        if not isinstance(text, str):
            raise BadRequest("'text' must be a string")
        message_id = text_field(body, "message_id", required=False, max_len=64)
        community = text_field(body, "community", required=False, max_len=model.MAX_CODE)
        if community is not None and not model.valid_code(community):
            raise BadRequest("'community' must be a community code")
        if (refused := self._too_fast(request, sender)) is not None:
            return refused
        replies = await request.app[GATEWAY].handle(Inbound(self.name, sender, text, message_id, community))
        return web.json_response({"replies": [{"text": r} for r in replies]})

    async def updates(self, request: web.Request) -> web.Response:
        sender = _sender(request.match_info["sender"])
        after = int_param(request, "after", 0, 0, MAX_MAILBOX_ID)
        backend = request.app[BACKEND]
        conversation = f"{self.name}:{sender}"
        found = await views.updates_for(backend.new_uow(), conversation, after)
        _, script = await views.conversation_state(backend.new_uow(), conversation)
        for update in found:
            update["text"] = render(update["text"], script)
        return web.json_response({"updates": found, "next_after": found[-1]["id"] if found else after})
