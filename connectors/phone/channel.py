"""Hotline calls as a channel: the call centre's recordings, transcribed by an ASR provider, become
the caller's messages on ``phone:<mobile>``; the caller hears back by SMS.

``POST /phone/<provider>/<token>?caller=<mobile>[&community=<code>]``: the provider's result
callback (connectors/phone/transcripts.py reads both shapes). The token in the path is the only
proof the push is for us, so a wrong one is a 404 before the body is read.

A call is a conversation that already happened between the owner and an agent. The caller's
turns go to the assistant in the order they were spoken, so a request that comes late in a long
call still meets the flat said early, the details said after, and an emergency pages the duty
staff on the turn it is said. The agent's turns are written down for staff ("【坐席】…") and never
read as the owner's. What the assistant answers during the call is kept in the message log but not
sent turn by turn (the owner heard the agent, not the assistant): after the call, one SMS says what
came of it — the answers of the turns that opened a ticket, else everything the assistant said,
ending with what it still needs to know. The owner's SMS answer within FOLLOW_UP continues this
conversation (connectors/sms asks :func:`continues_call`).

Each turn is written down under ``<provider>:<task id>:<turn>``, and the end of the call (with its
SMS) under ``…:end``: a callback the provider repeats is answered once, and one that stopped part
way (a restart) is finished by the repeat. One call is taken at a time per task.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import commands
from backend_bridge.entrypoints.http import token_matches
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from bot.text.pii import mask_pii
from connectors.callbacks import Refused, read_body
from connectors.channel import Inbound
from connectors.gateway import Gateway
from connectors.keys import GATEWAY
from connectors.phone import transcripts
from connectors.settings import PhoneSettings

log = logging.getLogger(__name__)

AGENT = "【坐席】"
NOT_TRANSCRIBED = "【来电录音未能转写：{why}】"
ENDED = "【通话结束】"
FOLLOW_UP = timedelta(hours=24)  # an SMS within this long after a call continues the call's conversation
HANDOFF_REASON = "call_not_transcribed"


def _call_mark(mobile: str) -> str:
    return f"phone:call:{mobile}"


async def continues_call(backend: Backend, mobile: str) -> bool:
    """Whether an SMS from ``mobile`` answers a hotline call of the last FOLLOW_UP: the SMS the
    call ended with may have asked a question, and the answer belongs to that conversation."""
    async with backend.new_uow() as uow:
        return await uow.channel_state.get(_call_mark(mobile), backend.clock()) is not None


class PhoneChannel:
    name = "phone"

    def __init__(self, settings: PhoneSettings) -> None:
        self.settings = settings
        self._calls: dict[str, list] = {}  # task key → [lock, requests using it]; dropped when unused

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/phone/{provider}/{token}", self.receive)]

    def _ours(self, request: web.Request) -> bool:
        same = token_matches(request.match_info["token"], self.settings.push_token)
        return same and request.match_info["provider"] in transcripts.PROVIDERS

    async def receive(self, request: web.Request) -> web.Response:
        if not self._ours(request):
            return web.Response(status=404, text="404 Not Found")
        provider = request.match_info["provider"]
        try:
            mobile = transcripts.caller_mobile(request.query.get("caller"))
            community = request.query.get("community") or None
            if community is not None and (len(community) > 32 or not community.isascii()):
                raise Refused(400, "a malformed community code")
            body = await read_body(request, transcripts.MAX_BODY, "body over 512 KB")
            call = transcripts.parse(provider, body, mobile, self.settings.caller_channel)
        except Refused as exc:
            log.warning("phone transcript refused (%d): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        key = f"{provider}:{call.task_id}"
        entry = self._calls.setdefault(key, [asyncio.Lock(), 0])  # [lock, requests using it]
        entry[1] += 1
        try:
            async with entry[0]:  # the provider's repeat of a call still being taken waits for it
                await self._take(request.app[BACKEND], request.app[GATEWAY], call, key, community)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._calls.pop(key, None)
        return web.json_response(transcripts.ANSWERS[provider])

    async def _take(
        self, backend: Backend, gateway: Gateway, call: transcripts.Call, key: str, community: str | None
    ) -> None:
        def inbound(text: str, part: str) -> Inbound:
            return Inbound(self.name, call.mobile, text, f"{key}:{part}", community)

        sender = inbound("", "").sender
        await backend.bus.handle(commands.BindByPhone(sender, call.mobile))
        if not call.recognised:  # nothing to read: a person calls the owner back
            noted = await gateway.note(inbound(NOT_TRANSCRIBED.format(why=call.failure), "failed"))
            if not noted.duplicate:
                await backend.bus.handle(commands.HandOff(sender, HANDOFF_REASON))
                log.warning("call %s from %s not transcribed (%s)", key, mask_pii(call.mobile), call.failure)
            return
        answered: list[tuple[bool, list[str]]] = []  # per caller turn: (opened a ticket, the replies)
        for number, turn in enumerate(call.turns):
            if not turn.caller:
                await gateway.note(inbound(AGENT + turn.text, str(number)))
                continue
            before = await self._newest_ticket(backend, sender)
            replies = await gateway.handle(inbound(turn.text, str(number)))
            answered.append((await self._newest_ticket(backend, sender) != before, replies))
        summary = _summary(answered)
        ended = await gateway.note(inbound(ENDED, "end"), ("\n".join(summary),) if summary else (), push=True)
        if not ended.duplicate:
            async with backend.new_uow() as uow:
                await uow.channel_state.put(_call_mark(call.mobile), key, backend.clock() + FOLLOW_UP)
                await uow.commit()
            log.info("call %s from %s: %d caller turns", key, mask_pii(call.mobile), len(answered))

    @staticmethod
    async def _newest_ticket(backend: Backend, sender: str) -> str | None:
        newest = await views.tickets_for_sender(backend.new_uow(), sender, open_only=False)
        return newest[0]["id"] if newest else None


def _summary(answered: list[tuple[bool, list[str]]]) -> list[str]:
    """What the SMS after a call says: the answers that opened tickets; else all the assistant
    said (its last words are what it still needs), each once, in order."""
    opened = [replies for ticket, replies in answered if ticket]
    chosen = opened or [replies for _, replies in answered]
    return list(dict.fromkeys(reply for replies in chosen for reply in replies if reply.strip()))
