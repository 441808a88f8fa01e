"""The web chat gateway on bad input and with the dialogue engine (Rasa) down, over real HTTP.

Rasa is deliberately unreachable here (nothing listens on its port), so these tests
protect what the gateway does on its own: refuse malformed requests with a JSON 4xx,
answer empty, over-long and odd messages politely, write every real message down
before anything else (nothing is lost while Rasa is down; a retried message is kept
once), answer in the owner's script, and serve the mailbox the dispatcher delivers to, with a cursor.
The full stack with a real Rasa is tested elsewhere.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Dispatcher
from connectors.gateway import BUSY_REPLY, EMPTY_REPLY, TOO_LONG_REPLY
from tests.conftest import ADMIN_TOKEN, deliver

USER = "a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6"  # what the page makes: a random 128-bit id
SENDER = f"webchat:{USER}"
OTHER_USER = "f0E9d8C7b6A5f4E3d2C1b0A9f8E7d6C5"
BUSY_TRADITIONAL = "抱歉，系統有點忙。您的消息已經記下了，稍後在這裡回覆您；著急的話請撥打物業服務電話。"


async def chat(client, text: object, user: str = USER, **extra: object):
    return await client.post("/api/chat", json={"sender": user, "text": text, **extra})


async def replies(resp) -> list[str]:
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    return [r["text"] for r in body["replies"]]


def _row(message: model.InboundMessage) -> dict:
    return {
        "text": message.text,
        "status": message.status,
        "replies": list(message.replies),
        "client_message_id": message.client_message_id,
    }


async def inbound(backend, sender: str = SENDER) -> list[dict]:
    """The inbound log for ``sender``, as stored, oldest first."""
    async with backend.new_uow() as uow:
        stmt = select(model.InboundMessage).where(model.InboundMessage.sender == sender)
        return [_row(m) for m in (await uow.session.scalars(stmt.order_by(model.InboundMessage.id))).all()]


async def all_inbound(backend) -> list[dict]:
    async with backend.new_uow() as uow:
        return [_row(m) for m in (await uow.session.scalars(select(model.InboundMessage))).all()]


async def unanswered_texts(backend, sender: str = SENDER) -> list[str]:
    return [m["text"] for m in await views.unanswered(backend.new_uow(), sender)]


# -- the page and health -----------------------------------------------------------------------


async def test_the_chat_page_is_served_at_the_root(public_client):
    resp = await public_client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert resp.headers["Cache-Control"] == "no-cache"
    page = await resp.text()
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "物业小助手" in page


async def test_healthz_is_503_and_says_which_process_is_not_answering(public_client, backend):
    resp = await public_client.get("/healthz")
    assert resp.status == 503
    assert await resp.json() == {
        "status": "starting",
        "checks": {"database": True, "actions": False, "rasa": False, "dispatcher": False},
        "rasa_instances": {"1": False},
    }
    await Dispatcher(backend.new_uow, {}, backend.clock).beat(timedelta(seconds=15))  # a dispatcher starts
    checks = (await (await public_client.get("/healthz")).json())["checks"]
    assert checks == {"database": True, "actions": False, "rasa": False, "dispatcher": True}


async def test_unknown_paths_and_wrong_methods_get_json_errors(public_client):
    resp = await public_client.get("/api/chat")
    assert resp.status == 405
    assert resp.content_type == "application/json"
    resp = await public_client.get("/api/nothing-here")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


# -- refused requests --------------------------------------------------------------------------

BAD_RAW_BODIES = {
    "not json": b"sender=abc&text=hello",
    "binary junk": bytes(range(256)) * 8,
    "invalid utf-8": b'{"sender": "abc", "text": "\xff\xfe\xfa"}',
    "truncated json": b'{"sender": "abc", "text": "\xe4\xbd\xa0',
    "json array": b'[{"sender": "abc", "text": "hello"}]',
    "json string": b'"hello"',
    "json number": b"42",
    "json null": b"null",
    "empty body": b"",
}


@pytest.mark.parametrize("raw", BAD_RAW_BODIES.values(), ids=BAD_RAW_BODIES.keys())
async def test_a_body_that_is_not_a_json_object_is_400_json(public_client, backend, raw):
    resp = await public_client.post("/api/chat", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"] == "bad_request"
    assert isinstance(body["message"], str) and body["message"]
    assert await all_inbound(backend) == []


BAD_FIELDS = {
    "sender missing": {"text": "你好"},
    "sender empty": {"sender": "", "text": "你好"},
    "sender null": {"sender": None, "text": "你好"},
    "sender a number": {"sender": 12345, "text": "你好"},
    "sender a list": {"sender": [USER], "text": "你好"},
    "sender too long": {"sender": "a" * 65, "text": "你好"},
    "sender with spaces": {"sender": "abc def", "text": "你好"},
    "sender with a slash": {"sender": "abc/def", "text": "你好"},
    "sender climbing up": {"sender": "../admin", "text": "你好"},
    "sender with a channel prefix": {"sender": "wechat:abc", "text": "你好"},
    "sender in chinese": {"sender": "张伟", "text": "你好"},
    "sender with a newline": {"sender": "abc\ndef", "text": "你好"},
    "sender with a trailing newline": {"sender": "abc\n", "text": "你好"},
    "text missing": {"sender": USER},
    "text null": {"sender": USER, "text": None},
    "text a number": {"sender": USER, "text": 123},
    "text a boolean": {"sender": USER, "text": True},
    "text a list": {"sender": USER, "text": ["你好"]},
    "text an object": {"sender": USER, "text": {"zh": "你好"}},
    "message_id too long": {"sender": USER, "text": "你好", "message_id": "m" * 65},
    "message_id a list": {"sender": USER, "text": "你好", "message_id": ["m1"]},
}


@pytest.mark.parametrize("body", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
async def test_a_missing_or_malformed_field_is_400_json_with_a_message(public_client, backend, body):
    resp = await public_client.post("/api/chat", json=body)
    assert resp.status == 400
    payload = await resp.json()
    assert payload["error"] == "bad_request"
    assert isinstance(payload["message"], str) and payload["message"]
    assert await all_inbound(backend) == []
    assert await views.conversations(backend.new_uow()) == []


@pytest.mark.parametrize("body", [{"sender": USER, "text": "a" * 70_000}, {"sender": USER, "text": "漏" * 30_000}])
async def test_a_body_over_64_kb_is_413_json_and_not_recorded(public_client, backend, body):
    resp = await public_client.post("/api/chat", json=body)
    assert resp.status == 413
    assert resp.content_type == "application/json"
    assert (await resp.json())["error"] == "too_large"
    assert await all_inbound(backend) == []


async def test_a_binary_body_over_64_kb_is_413(public_client, backend):
    resp = await public_client.post("/api/chat", data=bytes(range(256)) * 300)
    assert resp.status == 413
    assert (await resp.json())["error"] == "too_large"


# -- polite answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", " \n\t \r\n ", "\x00\x01\x02\x7f", "\x1b\x1b\x1b"])
async def test_an_empty_message_gets_a_polite_prompt_and_nothing_is_recorded(public_client, backend, text):
    assert await replies(await chat(public_client, text)) == [EMPTY_REPLY]
    assert await all_inbound(backend) == []


async def test_a_message_of_only_invisible_format_characters_counts_as_empty(public_client, backend):
    # Zero-width space, right-to-left override, byte-order mark: nothing a person can read.
    assert await replies(await chat(public_client, "\u200b\u202e\ufeff")) == [EMPTY_REPLY]
    assert await all_inbound(backend) == []


async def test_ten_thousand_characters_get_the_too_long_reply_and_are_kept_in_full(public_client, backend):
    text = ("楼上漏水把我家天花板泡坏了" * 800)[:10_000]
    resp = await chat(public_client, text, message_id="long-1")
    assert await replies(resp) == [TOO_LONG_REPLY]
    [message] = await inbound(backend)
    assert message["text"] == text
    assert len(message["text"]) == 10_000
    assert message["client_message_id"] == "long-1"
    assert message["status"] is model.InboundStatus.ANSWERED
    assert message["replies"] == [TOO_LONG_REPLY]


async def test_a_message_just_at_the_limit_goes_to_the_dialogue_engine(public_client, backend):
    text = "修" * 2000
    assert await replies(await chat(public_client, text)) == [BUSY_REPLY]  # Rasa is down, not "too long"
    assert await unanswered_texts(backend) == [text]


ODD_MESSAGES = {
    "emoji only": ("😀👍🎉🔧", "😀👍🎉🔧"),
    "script tag": ("<script>alert('x')</script>", "<script>alert('x')</script>"),
    "sql": ("501'; DROP TABLE tickets; --", "501'; DROP TABLE tickets; --"),
    "control characters": ("报修\x00水管\x07漏\x1b了\x08", "报修水管漏了"),
    "line breaks": ("水管漏了\r\n在厨房\n", "水管漏了\n在厨房"),
    "rasa command": ("/restart", "/restart"),
    "ordinary": ("我家水管漏水了", "我家水管漏水了"),
}


@pytest.mark.parametrize(("sent", "stored"), ODD_MESSAGES.values(), ids=ODD_MESSAGES.keys())
async def test_with_rasa_down_any_message_gets_the_busy_reply_and_is_kept_for_later(
    public_client, backend, sent, stored
):
    resp = await chat(public_client, sent)
    assert await replies(resp) == [BUSY_REPLY]
    assert "<script>" not in await resp.text()
    assert await unanswered_texts(backend) == [stored]
    [message] = await inbound(backend)
    assert message["status"] is model.InboundStatus.FAILED
    assert (await views.conversation_state(backend.new_uow(), SENDER))[0] == "bot"


async def test_tabs_become_spaces_so_words_stay_apart(public_client, backend):
    assert await replies(await chat(public_client, "kitchen\tpipe\tleaking")) == [BUSY_REPLY]
    assert await unanswered_texts(backend) == ["kitchen pipe leaking"]


async def test_with_rasa_down_nothing_is_lost_and_order_is_kept(public_client, backend):
    texts = ["你好", "我家厨房水管漏水", "3号楼2单元501", "快点来人"]
    for text in texts:
        assert await replies(await chat(public_client, text)) == [BUSY_REPLY]
    await chat(public_client, "别人的消息", user=OTHER_USER)
    assert await unanswered_texts(backend) == texts
    assert await unanswered_texts(backend, f"webchat:{OTHER_USER}") == ["别人的消息"]


async def test_the_same_message_id_sent_twice_is_recorded_once(public_client, backend):
    await chat(public_client, "我家水管漏水了", message_id="m-1")
    await chat(public_client, "我家水管漏水了", message_id="m-1")
    assert [m["text"] for m in await inbound(backend)] == ["我家水管漏水了"]
    assert await unanswered_texts(backend) == ["我家水管漏水了"]


async def test_a_retried_message_gets_the_same_answer_as_the_first_time(public_client, backend):
    first = await replies(await chat(public_client, "我家水管漏水了", message_id="m-1"))
    again = await replies(await chat(public_client, "我家水管漏水了", message_id="m-1"))
    assert first == [BUSY_REPLY]
    assert again == first  # the owner is not left without an answer because the page retried


async def test_a_retried_long_message_gets_the_too_long_reply_again_and_is_kept_once(public_client, backend):
    text = "长" * 5000
    assert await replies(await chat(public_client, text, message_id="m-long")) == [TOO_LONG_REPLY]
    assert await replies(await chat(public_client, text, message_id="m-long")) == [TOO_LONG_REPLY]
    assert len(await inbound(backend)) == 1


async def test_message_ids_are_per_sender(public_client, backend):
    await chat(public_client, "我的消息", message_id="m-1")
    await chat(public_client, "另一位业主的消息", user=OTHER_USER, message_id="m-1")
    assert [m["text"] for m in await inbound(backend)] == ["我的消息"]
    assert [m["text"] for m in await inbound(backend, f"webchat:{OTHER_USER}")] == ["另一位业主的消息"]


async def test_an_owner_writing_traditional_characters_gets_the_busy_reply_in_traditional(public_client, backend):
    assert await replies(await chat(public_client, "我家的水管壞了，請派人來修理")) == [BUSY_TRADITIONAL]
    assert await views.conversation_state(backend.new_uow(), SENDER) == ("bot", "traditional")
    # A message in neither script (digits) keeps the owner's script.
    assert await replies(await chat(public_client, "501")) == [BUSY_TRADITIONAL]
    # Writing simplified switches back.
    assert await replies(await chat(public_client, "我家的水管坏了，请派人来修理")) == [BUSY_REPLY]


async def test_a_traditional_long_message_gets_the_too_long_reply_in_traditional(public_client):
    reply = await replies(await chat(public_client, "請派人來修理" * 500))
    assert len(reply) == 1
    assert reply[0].startswith("您的消息比較長，我已經完整記下來了。")


async def test_with_staff_on_the_conversation_the_assistant_stays_silent_but_keeps_the_message(public_client, backend):
    await backend.bus.handle(commands.HandOff(SENDER, "owner_asked"))
    assert await replies(await chat(public_client, "师傅什么时候到？")) == []
    # kept for staff (the message log shows it), never owed by the assistant: no retry answers it later
    assert await unanswered_texts(backend) == []
    log = await views.message_log(backend.new_uow(), SENDER)
    assert [(e["text"], e["status"]) for e in log] == [("师傅什么时候到？", "for_staff")]


# -- updates -----------------------------------------------------------------------------------


async def staff_says(backend, text: str, sender: str = SENDER) -> None:
    await backend.bus.handle(commands.SendStaffMessage(sender, text, actor="staff"))


async def get_updates(client, user: str = USER, **params: str):
    """The page's poll, after a dispatcher sweep delivered what was queued."""
    await deliver(client.app[BACKEND])
    resp = await client.get(f"/api/chat/{user}/updates", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.mark.parametrize("after", ["abc", "1.5", "", "0x10", "1e3", "一"])
async def test_updates_with_a_bad_after_are_400(public_client, after):
    resp = await public_client.get(f"/api/chat/{USER}/updates", params={"after": after})
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_request"


@pytest.mark.parametrize("user", ["a%20b", "a" * 65, "webchat:" + USER, "%E5%BC%A0%E4%BC%9F", "a%0Ab", "abc%0A"])
async def test_updates_for_a_malformed_sender_are_400(public_client, backend, user):
    await backend.bus.handle(commands.RecordInbound(SENDER, "你好"))
    await staff_says(backend, "私密回复")
    resp = await public_client.get(f"/api/chat/{user}/updates")
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_request"
    assert "私密回复" not in await resp.text()


async def test_updates_follow_the_cursor(public_client, backend):
    await chat(public_client, "你好")
    await staff_says(backend, "第一条")
    await staff_says(backend, "第二条")

    first = await get_updates(public_client)
    assert [u["text"] for u in first["updates"]] == ["第一条", "第二条"]
    assert all(u["kind"] == "staff" for u in first["updates"])
    ids = [u["id"] for u in first["updates"]]
    assert ids == sorted(ids)
    assert first["next_after"] == ids[-1]

    # Nothing new: the cursor stays where it was.
    empty = await get_updates(public_client, after=str(first["next_after"]))
    assert empty == {"updates": [], "next_after": first["next_after"]}

    await staff_says(backend, "第三条")
    later = await get_updates(public_client, after=str(first["next_after"]))
    assert [u["text"] for u in later["updates"]] == ["第三条"]
    assert later["next_after"] == later["updates"][0]["id"] > first["next_after"]

    # A cursor in the middle gives what came after it.
    middle = await get_updates(public_client, after=str(ids[0]))
    assert [u["text"] for u in middle["updates"]] == ["第二条", "第三条"]


async def test_updates_for_a_new_sender_are_empty_and_keep_the_cursor(public_client):
    assert await get_updates(public_client) == {"updates": [], "next_after": 0}
    assert await get_updates(public_client, after="12345") == {"updates": [], "next_after": 12345}


async def test_updates_are_only_the_senders_own(public_client, backend):
    await chat(public_client, "你好")
    await chat(public_client, "你好", user=OTHER_USER)
    await staff_says(backend, "给第一位业主的私密回复")
    assert [u["text"] for u in (await get_updates(public_client))["updates"]] == ["给第一位业主的私密回复"]
    assert await get_updates(public_client, OTHER_USER) == {"updates": [], "next_after": 0}
    # Whatever the cursor, another sender's messages never show.
    assert (await get_updates(public_client, OTHER_USER, after="0"))["updates"] == []


async def test_updates_come_in_the_owners_script(public_client, backend):
    await chat(public_client, "我家的水管壞了")
    await staff_says(backend, "您的工单已经派给维修师傅")
    [update] = (await get_updates(public_client))["updates"]
    assert update["text"] == "您的工單已經派給維修師傅"


async def test_a_huge_cursor_is_a_clear_error_not_a_crash(public_client):
    resp = await public_client.get("/api/chat/abcdef/updates?after=100000000000000000000")
    assert resp.status == 400 and "after" in (await resp.json())["message"]


# -- limits ------------------------------------------------------------------------------------


def limited_app(backend, gateway_rasa, **limits):
    """The public app with a web chat of these limits (settings as connectors/settings.py reads them)."""
    import aiohttp

    from connectors.app import public_app
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from connectors.settings import WebChatSettings
    from connectors.webchat import create_channel

    http = aiohttp.ClientSession()
    rasa = RasaClient(gateway_rasa.url, "token", http, timeout=5)
    channel = create_channel(WebChatSettings.from_env(limits), http)
    app = public_app(
        backend,
        Gateway(backend, rasa),
        admin_token=ADMIN_TOKEN,
        rasa=rasa,
        http=http,
        actions_url="http://127.0.0.1:9",
        channels=[channel],
    )
    app.on_cleanup.append(lambda _: http.close())
    return app


async def test_a_sender_faster_than_the_limit_is_asked_to_wait_and_nothing_is_recorded(aiohttp_client, backend, rasa):
    client = await aiohttp_client(limited_app(backend, rasa, WUYE_CHAT_SENDER_RATE="3"))
    for i in range(3):
        assert await replies(await chat(client, f"第{i}条", user="fast")) == [f"收到：第{i}条"]
    resp = await chat(client, "第3条", user="fast")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    body = await resp.json()
    assert body["error"] == "too_many_requests" and "稍等" in body["message"]
    assert [t for _, t in rasa.seen] == ["第0条", "第1条", "第2条"]  # the fourth was not recorded
    assert await replies(await chat(client, "我是别人", user="calm")) == ["收到：我是别人"]  # others go on


async def test_many_throwaway_senders_from_one_address_are_limited_by_the_address(aiohttp_client, backend, rasa):
    app = limited_app(backend, rasa, WUYE_CHAT_CLIENT_RATE="4", WUYE_TRUSTED_PROXIES="127.0.0.1,::1")
    client = await aiohttp_client(app)
    behind_proxy = {"X-Forwarded-For": "10.9.8.7"}  # nginx on this machine says who the client is
    statuses = [
        (
            await client.post("/api/chat", json={"sender": f"throwaway{i}", "text": "着火了"}, headers=behind_proxy)
        ).status
        for i in range(6)
    ]
    assert statuses == [200] * 4 + [429] * 2
    other = {"X-Forwarded-For": "10.9.8.7, 10.1.1.1"}  # the proxy appends the address it saw last
    assert (await client.post("/api/chat", json={"sender": "neighbour", "text": "你好"}, headers=other)).status == 200
    # A local tool without the header is not limited by address (the sender limit still holds).
    assert (await chat(client, "你好", user="local-tool")).status == 200


def test_rate_limiter_refills_and_stays_bounded():
    from connectors.ratelimit import RateLimiter

    limiter = RateLimiter(60, burst=2, max_keys=3)  # one a second, two at once
    assert [limiter.wait("a", 0.0), limiter.wait("a", 0.0)] == [0.0, 0.0]
    assert limiter.wait("a", 0.0) == pytest.approx(1.0)
    assert limiter.wait("a", 1.0) == 0.0  # a token came back
    for key in "bcd":
        limiter.wait(key, 1.0)
    assert len(limiter._buckets) == 3  # "a" was the least recently seen: dropped
    assert RateLimiter(0).wait("x", 0.0) == 0.0  # 0: off


def test_limit_settings_are_checked():
    from connectors.settings import WebChatSettings

    assert WebChatSettings.from_env({}) == WebChatSettings()
    assert WebChatSettings.from_env({"WUYE_TRUSTED_PROXIES": ""}).trusted_proxies == frozenset()
    for bad in ({"WUYE_CHAT_SENDER_RATE": "fast"}, {"WUYE_CHAT_CLIENT_RATE": "-1"}):
        with pytest.raises(SystemExit, match="WUYE_CHAT"):
            WebChatSettings.from_env(bad)


@pytest.mark.parametrize("after", [2**31 - 1, 2**31, 13800000501, 2**63])
async def test_a_cursor_past_the_mailbox_ids_is_a_400_on_both_stores(public_client, after):
    """Found by tests/fuzz on PostgreSQL (an int4 column refuses larger parameters): a 500 once."""
    resp = await public_client.get("/api/chat/a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6/updates", params={"after": after})
    assert resp.status == (200 if after < 2**31 else 400), await resp.text()
