"""The web chat channel: ``POST /api/chat`` and ``GET /api/chat/{sender}/updates``.

The sender id is chosen by the page (a random 128-bit id kept in the browser) and doubles
as the conversation's secret; the API accepts any id of the allowed characters, so other
clients must choose unguessable ids themselves.
Status updates, staff replies and late answers reach the page through the mailbox: the
dispatcher delivers each notification there once (its key is unique), the page pulls.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.entrypoints.http import BadRequest, int_param, read_json, text_field
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Deliver
from bot.text.script import render
from connectors.channel import Inbound
from connectors.keys import GATEWAY

STATIC = Path(__file__).parent / "static"
_SENDER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _sender(value: object) -> str:
    if not isinstance(value, str) or not _SENDER.fullmatch(value):
        raise BadRequest("'sender' must be 1-64 characters of letters, digits, '.', '_', '-' or '@'")
    return value


class WebChat:
    name = "webchat"

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
        replies = await request.app[GATEWAY].handle(Inbound(self.name, sender, text, message_id, community))
        return web.json_response({"replies": [{"text": r} for r in replies]})

    async def updates(self, request: web.Request) -> web.Response:
        sender = _sender(request.match_info["sender"])
        after = int_param(request, "after", 0, 0, 2**63 - 1)
        backend = request.app[BACKEND]
        conversation = f"{self.name}:{sender}"
        found = await views.updates_for(backend.new_uow(), conversation, after)
        _, script = await views.conversation_state(backend.new_uow(), conversation)
        for update in found:
            update["text"] = render(update["text"], script)
        return web.json_response({"updates": found, "next_after": found[-1]["id"] if found else after})
