"""While staff hold a conversation the assistant never answers, through the real gateway
(connectors/gateway.py) and a loopback stand-in for Rasa's REST channel (tests/conftest.py).

Protects: a message written to staff never reaches Rasa; the retry loop (Gateway.retry_forever)
leaves what staff took alone; an answer on its way when staff took over is dropped, whether
the owner's request still waits for it or it would be pushed later (late_reply); the assistant's
own handoff answer ("正在为您转接") still goes out; after the handback the owner's next message
gets exactly one answer and nothing written during the handoff is answered.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from backend_bridge.domain import commands
from backend_bridge.service_layer import views
from connectors.channel import Inbound
from connectors.gateway import BUSY_REPLY, Gateway
from connectors.rasa import RasaClient
from tests.conftest import deliver

OWNER = "webchat:owner1"


def message(text: str, message_id: str | None = None) -> Inbound:
    return Inbound("webchat", "owner1", text, message_id)


async def pushed(backend) -> list[tuple[str, str]]:
    """What reached the owner's mailbox after the request (late replies, staff messages)."""
    await deliver(backend)
    return [(u["kind"], u["text"]) for u in await views.updates_for(backend.new_uow(), OWNER, 0)]


async def statuses(backend) -> list[tuple[str, str, list[str]]]:
    log = await views.message_log(backend.new_uow(), OWNER)
    return [(e["text"], e["status"], e["replies"]) for e in log if e["direction"] == "in"]


async def claim(backend, who: str = "kefu") -> None:
    await backend.bus.handle(commands.ClaimConversation(OWNER, actor=who))


@contextlib.asynccontextmanager
async def retry_loop(gateway: Gateway):
    """Gateway.retry_forever as the app runs it, every 20 ms."""
    task = asyncio.create_task(gateway.retry_forever(0.02))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_message_to_staff_never_reaches_rasa(gateway, rasa, backend):
    assert await gateway.handle(message("你好")) == ["收到：你好"]
    await claim(backend)
    assert await gateway.handle(message("师傅几点到")) == []
    accepted = await gateway.accept(message("还要多久"), answer_within=1)
    assert accepted.replies == []
    await gateway.settled()
    assert [t for _, t in rasa.seen] == ["你好"]
    assert [s for _, s, _ in await statuses(backend)] == ["answered", "for_staff", "for_staff"]
    assert await pushed(backend) == []


async def test_the_retry_loop_leaves_what_staff_took(gateway, rasa, backend):
    rasa.down = True
    assert await gateway.handle(message("报修")) == [BUSY_REPLY]  # failed: the backlog owes an answer
    await claim(backend)
    rasa.down = False
    async with retry_loop(gateway):
        await asyncio.sleep(0.3)
    assert rasa.seen == [] and await pushed(backend) == []
    assert await views.unanswered(backend.new_uow()) == []
    assert [s for _, s, _ in await statuses(backend)] == ["for_staff"]


async def test_a_failed_message_of_a_conversation_handed_off_is_not_retried(gateway, rasa, backend):
    rasa.down = True
    await gateway.handle(message("报修"))
    await backend.bus.handle(commands.HandOff(OWNER, "call_not_transcribed"))
    rasa.down = False
    async with retry_loop(gateway):
        await asyncio.sleep(0.3)
    assert rasa.seen == [] and await pushed(backend) == []


async def test_a_late_answer_is_dropped_when_staff_took_over_meanwhile(gateway, rasa, backend):
    rasa.delay = 0.6
    accepted = await gateway.accept(message("厨房漏水"), answer_within=0)
    assert accepted.replies is None  # it would have gone out later, as a late_reply
    await asyncio.sleep(0.2)
    await claim(backend)  # while Rasa is answering
    await gateway.settled()
    assert rasa.seen == [(OWNER, "厨房漏水")]
    assert await pushed(backend) == []
    assert await statuses(backend) == [("厨房漏水", "for_staff", [])]


async def test_an_answer_in_the_request_is_dropped_when_staff_took_over_meanwhile(gateway, rasa, backend):
    rasa.delay = 0.6
    answer = asyncio.create_task(gateway.handle(message("厨房漏水")))
    await asyncio.sleep(0.2)
    await claim(backend)
    assert await answer == []
    assert await pushed(backend) == []


async def test_a_queued_message_is_left_to_staff_who_took_over_before_its_turn(gateway, rasa, backend):
    rasa.delay = 0.4
    first = await gateway.accept(message("第一条"), answer_within=0)
    second = await gateway.accept(message("第二条"), answer_within=0)
    await asyncio.sleep(0.1)
    await claim(backend)
    await gateway.settled()
    assert [t for _, t in rasa.seen] == ["第一条"]  # the second never went to Rasa
    assert first.inbound_id and second.inbound_id
    assert await pushed(backend) == []


async def test_after_the_handback_the_next_message_gets_exactly_one_answer(gateway, rasa, backend, dialogue):
    rasa.down = True
    await gateway.handle(message("在吗"))  # failed before the handoff: still owed
    await backend.bus.handle(commands.HandOff(OWNER, "requested"))
    for text in ("人呢", "快点", "师傅几点到"):  # written to staff, Rasa still down
        assert await gateway.handle(message(text)) == []
    await claim(backend)
    await backend.bus.handle(commands.SendStaffMessage(OWNER, "您好，师傅下午到", actor="kefu"))
    await backend.bus.handle(commands.HandBack(OWNER, actor="kefu"))
    rasa.down = False
    async with retry_loop(gateway):  # nothing of the handoff is retried
        await asyncio.sleep(0.2)
    assert rasa.seen == []
    assert await gateway.handle(message("谢谢")) == ["收到：谢谢"]
    async with retry_loop(gateway):
        await asyncio.sleep(0.2)
    assert [t for _, t in rasa.seen] == ["谢谢"]  # exactly one turn, the new one
    assert await pushed(backend) == [("staff", "您好，师傅下午到")]  # no late answer to anything else
    assert dialogue.resumed == [OWNER]


async def test_the_assistants_own_handoff_answer_still_reaches_the_owner(backend, aiohttp_server):
    """Rasa hands off in its answer (转人工): the handoff happens mid-turn, its words still go out."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        await backend.bus.handle(commands.HandOff(body["sender"], "requested"))  # as action_handoff does
        return web.json_response([{"recipient_id": body["sender"], "text": "好的，正在为您转接人工客服"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        gateway = Gateway(backend, RasaClient(str(server.make_url("")), "token", http, timeout=5))
        assert await gateway.handle(message("转人工")) == ["好的，正在为您转接人工客服"]
        accepted = await gateway.accept(message("在吗"), answer_within=1)
        assert accepted.replies == []  # now with staff
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
