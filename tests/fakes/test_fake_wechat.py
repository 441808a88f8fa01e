"""The fake WeChat behaves like the platform: tokens, windows, quotas, paging, session states, and
failures on demand. Every test talks real HTTP to the fake on 127.0.0.1, as the channel will.

(The drivers that play WeChat calling our callbacks are tested in test_wechat_drivers.py.)
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from tests.fakes.wechat import FakeWeChat

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
STABLE_TOKEN = "/cgi-bin/stable_token"
SYNC = "/cgi-bin/kf/sync_msg"
KF_SEND = "/cgi-bin/kf/send_msg"
STATE_GET = "/cgi-bin/kf/service_state/get"
STATE_TRANS = "/cgi-bin/kf/service_state/trans"
EVENT_SEND = "/cgi-bin/kf/send_msg_on_event"
KFID = "wk-test-kf"


@pytest.fixture
async def fake(clock):
    async with FakeWeChat(clock=clock) as running:
        yield running


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http, fake, path: str, body: Any, token: str | None = None) -> dict[str, Any]:
    params = {"access_token": token} if token is not None else {}
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    async with http.post(fake.url + path, params=params, data=data) as response:
        assert response.status == 200
        return await response.json(content_type=None)


async def mp_token(http, fake, *, force: bool = False, **override: str) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret, "force_refresh": force}
    return await post(http, fake, STABLE_TOKEN, body | override)


async def kf_token(http, fake, **override: str) -> dict[str, Any]:
    query = {"corpid": fake.corpid, "corpsecret": fake.kf_secret} | override
    async with http.get(fake.url + "/cgi-bin/gettoken", params=query) as response:
        return await response.json(content_type=None)


def text(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def kf_text(user: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"touser": user, "open_kfid": KFID, "msgtype": "text", "text": {"content": content}} | extra


# -- 公众号 tokens ----------------------------------------------------------------------------
async def test_stable_token_is_issued_then_the_same_one_is_returned_and_credentials_are_checked(http, fake):
    first = await mp_token(http, fake)
    assert first["expires_in"] == 7200 and first["access_token"]
    again = await mp_token(http, fake)
    assert again["access_token"] == first["access_token"]  # normal mode: no new token while valid
    assert fake.token_requests == 2
    assert (await mp_token(http, fake, appid="wx-other"))["errcode"] == 40013
    assert (await mp_token(http, fake, secret="wrong"))["errcode"] == 40125
    assert fake.token_requests == 2  # refusals issue nothing
    fake.user_wrote("owner-1")
    assert (await post(http, fake, CUSTOM, text("owner-1", "您好"), first["access_token"]))["errcode"] == 0


async def test_a_forced_refresh_retires_the_previous_token(http, fake):
    old = (await mp_token(http, fake))["access_token"]
    new = (await mp_token(http, fake, force=True))["access_token"]
    assert new != old
    fake.user_wrote("owner-1")
    assert (await post(http, fake, CUSTOM, text("owner-1", "a"), old))["errcode"] == 40001
    assert (await post(http, fake, CUSTOM, text("owner-1", "b"), new))["errcode"] == 0


async def test_forced_refreshes_are_limited_per_day(http, fake, clock):
    for _ in range(20):
        assert "access_token" in await mp_token(http, fake, force=True)
    assert (await mp_token(http, fake, force=True))["errcode"] == 45009
    assert "access_token" in await mp_token(http, fake)  # the normal mode still answers
    clock.advance(days=1)
    assert "access_token" in await mp_token(http, fake, force=True)


async def test_in_its_last_five_minutes_a_new_token_is_handed_out_and_both_work(http, fake, clock):
    old = (await mp_token(http, fake))["access_token"]
    clock.advance(seconds=7200 - 200)
    renewed = await mp_token(http, fake)
    assert renewed["access_token"] != old and renewed["expires_in"] == 7200
    fake.user_wrote("owner-1")
    for token in (old, renewed["access_token"]):
        assert (await post(http, fake, CUSTOM, text("owner-1", "ok"), token))["errcode"] == 0


async def test_expired_forged_and_missing_tokens_are_refused_with_the_platform_codes(http, fake, clock):
    token = (await mp_token(http, fake))["access_token"]
    fake.user_wrote("owner-1")
    body = text("owner-1", "您好")
    assert (await post(http, fake, CUSTOM, body, "MP_" + "0" * 48))["errcode"] == 40001  # well-formed, unknown
    assert (await post(http, fake, CUSTOM, body, "not-a-token"))["errcode"] == 40014
    assert (await post(http, fake, CUSTOM, body))["errcode"] == 41001
    fake.expire_tokens()
    assert (await post(http, fake, CUSTOM, body, token))["errcode"] == 42001
    fresh = (await mp_token(http, fake))["access_token"]
    assert fresh != token
    assert (await post(http, fake, CUSTOM, body, fresh))["errcode"] == 0
    clock.advance(seconds=7201)  # natural expiry
    assert (await post(http, fake, CUSTOM, body, fresh))["errcode"] == 42001
    assert [r["errcode"] for r in fake.refused] == [40001, 40014, 41001, 42001, 42001]
    assert len(fake.sent) == 1


# -- 公众号 messages --------------------------------------------------------------------------
async def test_customer_service_messages_only_within_48_hours_of_the_owners_message(http, fake, clock):
    token = (await mp_token(http, fake))["access_token"]
    assert (await post(http, fake, CUSTOM, text("owner-1", "早"), token))["errcode"] == 45015  # never wrote
    fake.user_wrote("owner-1", at=clock() - timedelta(hours=47))
    assert (await post(http, fake, CUSTOM, text("owner-1", "早"), token))["errcode"] == 0
    clock.advance(hours=1, seconds=1)
    answer = await post(http, fake, CUSTOM, text("owner-1", "晚"), token)
    assert answer["errcode"] == 45015 and "out of time limit" in answer["errmsg"]
    fake.unsubscribed.add("owner-2")
    fake.user_wrote("owner-2")
    assert (await post(http, fake, CUSTOM, text("owner-2", "早"), token))["errcode"] == 45015


async def test_five_messages_per_owner_message_then_45047_until_the_owner_writes_again(http, fake, clock):
    token = (await mp_token(http, fake))["access_token"]
    fake.user_wrote("owner-1")
    codes = [(await post(http, fake, CUSTOM, text("owner-1", f"第{i}条"), token))["errcode"] for i in range(6)]
    assert codes == [0, 0, 0, 0, 0, 45047]
    assert [s["content"] for s in fake.sent] == [f"第{i}条" for i in range(5)]
    assert fake.sent[0] | {"at": None} == {
        "api": "custom",
        "touser": "owner-1",
        "msgtype": "text",
        "content": "第0条",
        "template_id": None,
        "data": None,
        "open_kfid": None,
        "url": None,
        "msgid": None,
        "at": None,
    }
    assert fake.sent[0]["at"] == clock()
    fake.user_wrote("owner-1")
    assert (await post(http, fake, CUSTOM, text("owner-1", "又来了"), token))["errcode"] == 0


async def test_text_is_limited_to_2048_utf8_bytes(http, fake):
    token = (await mp_token(http, fake))["access_token"]
    fake.user_wrote("owner-1")
    assert (await post(http, fake, CUSTOM, text("owner-1", "修" * 683), token))["errcode"] == 45002  # 2049 bytes
    assert (await post(http, fake, CUSTOM, text("owner-1", "修" * 682 + "ab"), token))["errcode"] == 0  # 2048
    assert (await post(http, fake, CUSTOM, text("owner-1", ""), token))["errcode"] == 44004
    assert len(fake.sent) == 1


async def test_template_messages_need_an_existing_template_but_no_window(http, fake):
    token = (await mp_token(http, fake))["access_token"]
    data = {"thing1": {"value": "厨房漏水"}, "phrase2": {"value": "处理中"}}
    body = {"touser": "owner-9", "template_id": "TPL_NOPE", "data": data}
    assert (await post(http, fake, TEMPLATE, body, token))["errcode"] == 40037
    answer = await post(http, fake, TEMPLATE, body | {"template_id": "TPL_STATUS", "url": "https://x/t/1"}, token)
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    [sent] = fake.sent
    assert (sent["api"], sent["template_id"], sent["data"], sent["url"]) == (
        "template",
        "TPL_STATUS",
        data,
        "https://x/t/1",
    )
    assert sent["msgid"] == answer["msgid"]
    malformed = body | {"template_id": "TPL_STATUS", "data": "x"}
    assert (await post(http, fake, TEMPLATE, malformed, token))["errcode"] == 47001
    fake.unsubscribed.add("owner-9")
    assert (await post(http, fake, TEMPLATE, body | {"template_id": "TPL_STATUS"}, token))["errcode"] == 43004


async def test_fail_next_injects_errcodes_and_server_errors_then_recovers(http, fake):
    token = (await mp_token(http, fake))["access_token"]
    fake.user_wrote("owner-1")
    fake.fail_next(CUSTOM, -1, times=2)
    codes = [(await post(http, fake, CUSTOM, text("owner-1", "x"), token))["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    fake.fail_next(CUSTOM, -1, http_status=503)
    async with http.post(fake.url + CUSTOM, params={"access_token": token}, json=text("owner-1", "y")) as response:
        assert response.status == 503
        assert "json" not in response.headers.get("Content-Type", "")
    assert (await post(http, fake, CUSTOM, text("owner-1", "z"), token))["errcode"] == 0
    assert [(r["path"], r["errcode"], r["http_status"]) for r in fake.refused] == [
        (CUSTOM, -1, 200),
        (CUSTOM, -1, 200),
        (CUSTOM, -1, 503),
    ]
    assert fake.refused[0]["body"] == text("owner-1", "x")
    assert [s["content"] for s in fake.sent] == ["x", "z"]  # failures use no quota
    fake.fail_next(STABLE_TOKEN, 40125)
    assert (await mp_token(http, fake))["errcode"] == 40125


async def test_delay_slows_a_path_down_so_client_timeouts_can_be_tested(http, fake):
    fake.delay(STABLE_TOKEN, 0.3)
    started = time.monotonic()
    assert "access_token" in await mp_token(http, fake)
    assert time.monotonic() - started >= 0.3
    with pytest.raises(asyncio.TimeoutError):
        body = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}
        async with http.post(fake.url + STABLE_TOKEN, json=body, timeout=aiohttp.ClientTimeout(total=0.1)):
            pass
    fake.delay(STABLE_TOKEN, 0)
    started = time.monotonic()
    await mp_token(http, fake)
    assert time.monotonic() - started < 0.3


async def test_a_held_call_is_accepted_on_release_unless_its_caller_hung_up(http, fake):
    token = (await mp_token(http, fake))["access_token"]
    fake.user_wrote("o-held")
    gone = fake.hold_next(CUSTOM, skip=1)  # the second call: its caller hangs up while it is held
    kept = fake.hold_next(CUSTOM)  # the third: its caller waits
    assert (await post(http, fake, CUSTOM, text("o-held", "一"), token))["errcode"] == 0
    async with aiohttp.ClientSession() as caller:
        call = asyncio.create_task(post(caller, fake, CUSTOM, text("o-held", "二"), token))
        await asyncio.wait_for(gone.arrived.wait(), 5)
        call.cancel()
    await asyncio.sleep(0.1)
    gone.release.set()
    waiting = asyncio.create_task(post(http, fake, CUSTOM, text("o-held", "三"), token))
    await asyncio.wait_for(kept.arrived.wait(), 5)
    assert not waiting.done()
    kept.release.set()
    assert (await waiting)["errcode"] == 0
    assert gone.abandoned and not kept.abandoned
    assert [s["content"] for s in fake.sent] == ["一", "三"]
    assert [a["body"]["text"]["content"] for a in fake.abandoned] == ["二"]


# -- WeCom tokens ----------------------------------------------------------------------------
async def test_wecom_token_is_issued_reused_and_checked(http, fake):
    first = await kf_token(http, fake)
    assert first["errcode"] == 0 and first["expires_in"] == 7200
    assert (await kf_token(http, fake))["access_token"] == first["access_token"]
    assert (await kf_token(http, fake, corpsecret="wrong"))["errcode"] == 40001
    assert (await kf_token(http, fake, corpid="ww-other"))["errcode"] == 40013
    assert fake.token_requests == 2
    fake.kf_customer_writes(KFID, "wm-1", "你好")
    token = first["access_token"]
    assert (await post(http, fake, SYNC, {"open_kfid": KFID}, token))["errcode"] == 0
    assert (await post(http, fake, SYNC, {"open_kfid": KFID}, "WW_" + "0" * 48))["errcode"] == 40014
    mp = (await mp_token(http, fake))["access_token"]
    assert (await post(http, fake, SYNC, {"open_kfid": KFID}, mp))["errcode"] == 40014  # the other platform's
    assert (await post(http, fake, CUSTOM, text("wm-1", "x"), token))["errcode"] == 40001
    fake.expire_tokens()
    assert (await post(http, fake, SYNC, {"open_kfid": KFID}, token))["errcode"] == 42001
    assert (await kf_token(http, fake))["access_token"] != token


async def test_wecom_refuses_unicode_escaped_json(http, fake):
    token = (await kf_token(http, fake))["access_token"]
    fake.kf_customer_writes(KFID, "wm-1", "你好")
    escaped = json.dumps(kf_text("wm-1", "收到")).encode()  # ensure_ascii: \u6536\u5230
    async with http.post(fake.url + KF_SEND, params={"access_token": token}, data=escaped) as response:
        assert (await response.json())["errcode"] == 40033
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "收到"), token))["errcode"] == 0
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "C:\\u00e9 不是转义"), token))["errcode"] == 0


# -- 微信客服 sync_msg ------------------------------------------------------------------------
async def test_sync_msg_pages_with_has_more_and_the_cursor_resumes_exactly_after_the_last(http, fake):
    token = (await kf_token(http, fake))["access_token"]
    written = [f"m{i:04d}" for i in range(2500)]
    for i, msgid in enumerate(written):
        fake.kf_customer_writes(KFID, f"wm-{i % 7}", f"第{i}条", msgid=msgid)
    pages, cursor = [], None
    while True:
        body = {"open_kfid": KFID} | ({"cursor": cursor} if cursor else {})
        page = await post(http, fake, SYNC, body, token)
        assert page["errcode"] == 0
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [len(p["msg_list"]) for p in pages] == [1000, 1000, 500]
    assert [p["has_more"] for p in pages] == [1, 1, 0]
    assert [m["msgid"] for p in pages for m in p["msg_list"]] == written
    first = pages[0]["msg_list"][3]
    assert first | {"send_time": 0} == {
        "msgid": "m0003",
        "open_kfid": KFID,
        "external_userid": "wm-3",
        "send_time": 0,
        "origin": 3,
        "msgtype": "text",
        "text": {"content": "第3条"},
    }
    fake.kf_customer_writes(KFID, "wm-1", "后来的", msgid="late-1")
    fake.kf_customer_writes(KFID, "wm-2", "又一条", msgid="late-2")
    resumed = await post(http, fake, SYNC, {"open_kfid": KFID, "cursor": cursor, "limit": 1}, token)
    assert [m["msgid"] for m in resumed["msg_list"]] == ["late-1"] and resumed["has_more"] == 1
    rest = await post(http, fake, SYNC, {"open_kfid": KFID, "cursor": resumed["next_cursor"]}, token)
    assert [m["msgid"] for m in rest["msg_list"]] == ["late-2"] and rest["has_more"] == 0
    empty = await post(http, fake, SYNC, {"open_kfid": KFID, "cursor": rest["next_cursor"]}, token)
    assert empty["msg_list"] == [] and empty["has_more"] == 0 and empty["next_cursor"] == rest["next_cursor"]
    assert len(fake.sync_calls) == 6 and fake.sync_calls[-1]["cursor"] == rest["next_cursor"]
    for limit in (0, 1001, "10"):
        assert (await post(http, fake, SYNC, {"open_kfid": KFID, "limit": limit}, token))["errcode"] == 40058


async def test_sync_msg_checks_the_callback_token_the_account_and_the_cursor(http, fake, clock):
    token = (await kf_token(http, fake))["access_token"]
    msg_token = fake.kf_customer_writes(KFID, "wm-1", "报修")
    other = fake.kf_customer_writes("wk-other", "wm-2", "投诉")
    ok = await post(http, fake, SYNC, {"open_kfid": KFID, "token": msg_token}, token)
    assert [m["text"]["content"] for m in ok["msg_list"]] == ["报修"]
    assert (await post(http, fake, SYNC, {"open_kfid": KFID, "token": "ENCforged"}, token))["errcode"] == 95007
    assert (await post(http, fake, SYNC, {"open_kfid": KFID, "token": other}, token))["errcode"] == 95007
    assert (await post(http, fake, SYNC, {"open_kfid": "wk-nobody"}, token))["errcode"] == 95000
    assert (await post(http, fake, SYNC, {"open_kfid": KFID, "cursor": "bogus"}, token))["errcode"] == 50100
    foreign = (await post(http, fake, SYNC, {"open_kfid": "wk-other"}, token))["next_cursor"]
    assert (await post(http, fake, SYNC, {"open_kfid": KFID, "cursor": foreign}, token))["errcode"] == 50100
    clock.advance(minutes=10, seconds=1)
    assert (await post(http, fake, SYNC, {"open_kfid": KFID, "token": msg_token}, token))["errcode"] == 95007
    assert (await post(http, fake, SYNC, {"open_kfid": KFID}, token))["errcode"] == 0  # the token is optional


async def test_sync_msg_returns_the_last_three_days_and_enter_session_events(http, fake, clock):
    token = (await kf_token(http, fake))["access_token"]
    fake.kf_customer_writes(KFID, "wm-1", "很久以前")
    clock.advance(days=3, seconds=1)
    fake.kf_enter_session(KFID, "wm-2", scene="building-3")
    fake.kf_customer_writes(KFID, "wm-2", "现在")
    token = (await kf_token(http, fake))["access_token"]  # the old one expired meanwhile
    answer = await post(http, fake, SYNC, {"open_kfid": KFID}, token)
    event, message = answer["msg_list"]
    assert message["text"]["content"] == "现在"
    assert event["origin"] == 4 and event["msgtype"] == "event"
    assert event["event"]["event_type"] == "enter_session"
    assert (event["event"]["external_userid"], event["event"]["scene"]) == ("wm-2", "building-3")


# -- 微信客服 send_msg and service_state -------------------------------------------------------
async def test_kf_send_needs_a_customer_message_within_48_hours_and_allows_five(http, fake, clock):
    token = (await kf_token(http, fake))["access_token"]
    fake.kf_enter_session(KFID, "wm-1")
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "欢迎"), token))["errcode"] == 95018  # not started
    fake.kf_customer_writes(KFID, "wm-1", "水管爆了")
    assert fake.service_state[(KFID, "wm-1")] == 0
    codes = [(await post(http, fake, KF_SEND, kf_text("wm-1", f"回复{i}"), token))["errcode"] for i in range(6)]
    assert codes == [0, 0, 0, 0, 0, 95001]
    assert fake.service_state[(KFID, "wm-1")] == 1  # answered by the API: the assistant's session
    assert [(s["api"], s["open_kfid"], s["touser"]) for s in fake.sent] == [("kf", KFID, "wm-1")] * 5
    fake.kf_customer_writes(KFID, "wm-1", "人呢", origin=5)  # a servicer's message refills nothing
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "x"), token))["errcode"] == 95001
    fake.kf_customer_writes(KFID, "wm-1", "还在吗")
    answer = await post(http, fake, KF_SEND, kf_text("wm-1", "在", msgid="reply-1"), token)
    assert answer == {"errcode": 0, "errmsg": "ok", "msgid": "reply-1"}
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "在", msgid="reply-1"), token))["errcode"] == 40058
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "修" * 683), token))["errcode"] == 45002
    clock.advance(hours=48, seconds=1)
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "迟了"), token))["errcode"] == 42001
    token = (await kf_token(http, fake))["access_token"]
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "迟了"), token))["errcode"] == 95002


async def test_a_welcome_code_sends_one_message_within_20_seconds_and_only_to_a_customer_not_yet_welcomed(
    http, fake, clock
):
    token = (await kf_token(http, fake))["access_token"]

    async def entered(user: str) -> str | None:
        fake.kf_enter_session(KFID, user)
        answer = await post(http, fake, SYNC, {"open_kfid": KFID, "limit": 1000}, token)
        return answer["msg_list"][-1]["event"].get("welcome_code")

    def welcome(code: str | None, content: str = "欢迎") -> dict[str, Any]:
        return {"code": code, "msgtype": "text", "text": {"content": content}}

    code = await entered("wm-new")
    assert code  # never welcomed, never wrote: a welcome_code
    clock.advance(seconds=19)
    assert (await post(http, fake, EVENT_SEND, welcome(code), token))["errcode"] == 0  # no window needed
    assert (await post(http, fake, EVENT_SEND, welcome(code, "再来"), token))["errcode"] == 40058  # once
    assert [(s["api"], s["touser"], s["content"]) for s in fake.sent] == [("kf_event", "wm-new", "欢迎")]
    assert await entered("wm-new") is None  # welcomed within 48 hours
    late = await entered("wm-late")
    clock.advance(seconds=21)
    assert (await post(http, fake, EVENT_SEND, welcome(late), token))["errcode"] == 40058  # over 20 s
    fake.kf_customer_writes(KFID, "wm-wrote", "你好")
    assert await entered("wm-wrote") is None  # wrote within 48 hours: send_msg is the way
    assert (await post(http, fake, EVENT_SEND, welcome("WC-forged"), token))["errcode"] == 40058


async def test_service_state_follows_the_platform_transition_rules(http, fake):
    token = (await kf_token(http, fake))["access_token"]
    key = {"open_kfid": KFID, "external_userid": "wm-1"}

    async def trans(state: int, servicer: str | None = None) -> int:
        body = key | {"service_state": state} | ({"servicer_userid": servicer} if servicer else {})
        return (await post(http, fake, STATE_TRANS, body, token))["errcode"]

    fake.kf_enter_session(KFID, "wm-1")
    assert (await post(http, fake, STATE_GET, key, token))["service_state"] == 4
    assert await trans(1) == 95013  # not started / ended: nothing to change
    fake.kf_customer_writes(KFID, "wm-1", "转人工")
    assert (await post(http, fake, STATE_GET, key, token))["service_state"] == 0
    assert await trans(1) == 0
    assert await trans(0) == 95016
    assert await trans(3) == 95014  # a servicer is required
    fake.kf.servicers.update({"staff-1", "staff-2"})
    assert await trans(3, "stranger") == 95014
    assert await trans(3, "staff-1") == 0
    assert await post(http, fake, STATE_GET, key, token) == {
        "errcode": 0,
        "errmsg": "ok",
        "service_state": 3,
        "servicer_userid": "staff-1",
    }
    assert (await post(http, fake, KF_SEND, kf_text("wm-1", "机器人插话"), token))["errcode"] == 95018
    assert await trans(1) == 95016  # no way back to the assistant
    assert await trans(3, "staff-2") == 0  # transfer to another servicer
    assert await trans(4) == 0
    assert fake.service_state[(KFID, "wm-1")] == 4
    assert await trans(2) == 95013
    fake.kf_customer_writes(KFID, "wm-1", "又坏了")
    assert fake.service_state[(KFID, "wm-1")] == 0  # a new message reopens an ended session
    assert await trans(2) == 0 and await trans(1) == 95016 and await trans(4) == 95016
    assert await trans(7) == 40058
