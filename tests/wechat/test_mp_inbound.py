"""The 公众号 callback through the real public app, WeChat played by the driver, the platform by the fake.

Protects: the URL check; owners answered in all three modes (plaintext, compatible, safe: the reply
encrypted when the push was); WeChat's retries of one message (one after another, or at once)
making exactly one assistant turn and one answer; a slow assistant still answering, by the
customer-service API; long answers cut to WeChat's 2048 bytes; voice with and without WeChat's
recognition, pictures and locations acknowledged and shown to staff; following through a
community's QR code routing the owner there with the menu; unfollowing stopping every push; and
forged, stale, malformed or oversized calls refused with nothing processed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
import yaml

from backend_bridge.domain import commands
from backend_bridge.service_layer import views
from connectors.wechat import messages as say
from tests.conftest import ADMIN_TOKEN, ROOT, bearer
from tests.fakes.wechat_driver import to_xml

OPENID = "oAbC-_1234567890abcdefghijkl"
SENDER = f"wechat:{OPENID}"


async def message_log(mp, sender: str = SENDER) -> list[dict]:
    resp = await mp.client.get(f"/api/conversations/{sender}/messages", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def inbound_texts(mp, sender: str = SENDER) -> list[str]:
    """What staff see came in, in the order it came (the log sorts by time, which stands still here)."""
    from sqlalchemy import select

    from backend_bridge.domain import model

    async with mp.backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.InboundMessage).where(model.InboundMessage.sender == sender).order_by(model.InboundMessage.id)
        )
        return [m.text for m in found.all()]


# -- the URL check ---------------------------------------------------------------------------------


async def test_the_url_check_echoes_echostr_when_signed_with_our_token(mp):
    assert await mp.driver().url_check("1234567890") == (200, "1234567890")
    forged = mp.driver()
    forged.token = "someone-elses-token"
    status, body = await forged.url_check("1234567890")
    assert status == 403 and "1234567890" not in body


# -- answering in each mode ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_an_owner_is_answered_in_the_reply_in_every_mode(mp, mode):
    delivery = await mp.driver(mode).send_text(OPENID, "厨房水管漏水了")
    assert (delivery.status, delivery.attempts) == (200, 1)
    assert delivery.reply["Content"] == "收到：厨房水管漏水了"  # the driver checks safe-mode replies are encrypted
    assert delivery.reply["FromUserName"] == "gh_wuye_test"
    assert mp.rasa.seen == [(SENDER, "厨房水管漏水了")]
    await mp.settle_and_deliver()
    assert mp.fake.sent == []  # answered once, in the reply
    assert await inbound_texts(mp) == ["厨房水管漏水了"]


async def test_an_owner_writing_traditional_characters_is_answered_in_kind(mp):
    delivery = await mp.driver().send_text(OPENID, "電梯壞了")
    assert delivery.reply["Content"] == "收到：電梯壞了"


# -- WeChat's retries ------------------------------------------------------------------------------


async def test_wechat_giving_up_and_retrying_makes_one_turn_and_one_answer(mp):
    mp.rasa.delay = 1.5  # longer than WeChat waits in this test, and than our budget
    delivery = await mp.driver(timeout=0.3, attempts=3).send_text(OPENID, "楼道灯不亮", msg_id=7001)
    assert delivery.status == 200 and delivery.attempts == 2 and delivery.reply is None  # the retry: "success"
    await mp.settle_and_deliver()
    assert mp.rasa.seen == [(SENDER, "楼道灯不亮")]
    assert mp.texts_sent(OPENID) == ["收到：楼道灯不亮"]
    assert await inbound_texts(mp) == ["楼道灯不亮"]


async def test_three_deliveries_of_one_message_at_once_make_one_turn_and_one_answer(mp):
    mp.rasa.delay = 0.2
    driver = mp.driver("safe")
    fields = {"ToUserName": "gh_wuye_test", "FromUserName": OPENID, "CreateTime": int(mp.backend.clock().timestamp())}
    fields |= {"MsgType": "text", "Content": "电梯坏了", "MsgId": 8001}
    mp.fake.user_wrote(OPENID)
    answers = await asyncio.gather(*(driver.post(*driver.build(fields)) for _ in range(3)))
    assert [status for status, _ in answers] == [200, 200, 200]
    passive = [driver._reply(body, OPENID) for _, body in answers]
    await mp.settle_and_deliver()
    assert mp.rasa.seen == [(SENDER, "电梯坏了")]
    said = [p["Content"] for p in passive if p] + mp.texts_sent(OPENID)
    assert said == ["收到：电梯坏了"]


async def test_a_repeated_event_is_recorded_and_answered_once(mp):
    driver = mp.driver()
    fields = {"ToUserName": "gh_wuye_test", "FromUserName": OPENID, "CreateTime": int(mp.backend.clock().timestamp())}
    fields |= {"MsgType": "event", "Event": "subscribe"}
    first = driver._reply((await driver.post(*driver.build(fields)))[1], OPENID)
    again = driver._reply((await driver.post(*driver.build(fields)))[1], OPENID)
    assert first["Content"].startswith("您好，欢迎关注") and again is None
    assert await inbound_texts(mp) == [say.SUBSCRIBED_MARK]


# -- a slow assistant ------------------------------------------------------------------------------


async def test_an_answer_later_than_the_budget_comes_by_the_customer_service_api(mp):
    mp.rasa.delay = 1.5
    started = time.monotonic()
    delivery = await mp.driver("compat").send_text(OPENID, "物业费怎么交")
    assert time.monotonic() - started < 1.4  # acknowledged within the budget (1 s here), not after Rasa
    assert (delivery.status, delivery.reply, delivery.body) == (200, None, "success")
    await mp.settle_and_deliver()
    assert mp.texts_sent(OPENID) == ["收到：物业费怎么交"]
    (notice,) = [m for m in await message_log(mp) if m["direction"] == "out"]
    assert (notice["kind"], notice["status"], notice["delivered_via"]) == ("late_reply", "delivered", "custom")


async def test_an_answer_over_2048_bytes_is_sent_in_parts(mp):
    long_text = "楼上装修噪音" * 120  # 2160 bytes, and the answer repeats it
    delivery = await mp.driver().send_text(OPENID, long_text)
    assert delivery.reply is None  # one passive reply cannot carry it
    await mp.settle_and_deliver()
    parts = mp.texts_sent(OPENID)
    assert len(parts) == 2 and all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts) == f"收到：{long_text}"


# -- what the assistant cannot read ----------------------------------------------------------------


async def test_a_voice_with_recognition_is_answered_as_text(mp):
    delivery = await mp.driver().send_voice(OPENID, "我家厨房漏水了")
    assert delivery.reply["Content"] == "收到：我家厨房漏水了"


@pytest.mark.parametrize("recognition", [None, "", "  "])
async def test_a_voice_without_recognition_asks_politely_to_type_and_staff_see_it(mp, recognition):
    delivery = await mp.driver().send_voice(OPENID, recognition)
    assert delivery.reply["Content"] == say.VOICE_UNHEARD
    assert mp.rasa.seen == []
    assert await inbound_texts(mp) == [say.VOICE_MARK]


async def test_pictures_and_locations_are_acknowledged_and_shown_to_staff(mp):
    picture = await mp.driver().send_image(OPENID)
    place = await mp.driver().send_location(OPENID, 30.27, 120.15, "阳光小区3号楼")
    assert picture.reply["Content"] == say.IMAGE_RECEIVED
    assert place.reply["Content"] == say.LOCATION_RECEIVED
    seen = await inbound_texts(mp)
    assert seen[0].startswith("[图片] http://mmbiz.qpic.cn/")
    assert seen[1] == "[位置] 阳光小区3号楼（30.27,120.15）"
    assert mp.rasa.seen == []


# -- following, unfollowing ------------------------------------------------------------------------


async def test_following_through_a_communitys_qr_code_routes_the_owner_there_with_the_menu(mp):
    delivery = await mp.driver().send_event(OPENID, "subscribe", event_key="qrscene_yangguang")
    assert delivery.reply["Content"] == say.WELCOME.format(name="阳光小区")
    conversations = {c["sender"]: c for c in await views.conversations(mp.backend.new_uow())}
    assert conversations[SENDER]["community"] == "yangguang"


async def test_a_menu_button_carrying_a_menu_digit_is_the_owner_typing_it(mp):
    delivery = await mp.driver().send_event(OPENID, "CLICK", event_key="1")
    assert delivery.reply["Content"] == "收到：1"
    assert await mp.driver().send_event(OPENID, "VIEW", event_key="https://wuye.example/pay") is not None
    assert mp.rasa.seen == [(SENDER, "1")]  # a link in the menu is not a message


async def test_the_welcome_menu_is_the_assistants_own(mp):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    greeting = domain["responses"]["utter_greet"][0]["text"]
    assert greeting.endswith(say.MENU)


async def test_after_unfollowing_nothing_more_is_pushed_and_the_path_is_recorded(mp):
    await mp.driver().send_event(OPENID, "subscribe")
    delivery = await mp.driver().send_event(OPENID, "unsubscribe")
    assert (delivery.status, delivery.reply) == (200, None)
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "您好，还需要帮忙吗？", actor="admin"))
    await mp.deliver()
    assert mp.fake.sent == []
    out = [m for m in await message_log(mp) if m["direction"] == "out"]
    assert [(m["status"], m["delivered_via"]) for m in out] == [("delivered", "skipped:unsubscribed")]
    assert await inbound_texts(mp) == [say.SUBSCRIBED_MARK, say.UNSUBSCRIBED_MARK]


# -- refused calls ---------------------------------------------------------------------------------


def _fields(mp, **extra) -> dict:
    base = {"ToUserName": "gh_wuye_test", "FromUserName": OPENID, "CreateTime": int(mp.backend.clock().timestamp())}
    return base | {"MsgType": "text", "Content": "报修", "MsgId": 9001} | extra


async def _nothing_processed(mp) -> None:
    await mp.gateway.settled()
    assert mp.rasa.seen == []
    assert [c for c in await views.conversations(mp.backend.new_uow()) if c["sender"].startswith("wechat:")] == []


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_a_forged_signature_is_403_and_nothing_is_processed(mp, mode):
    driver = mp.driver(mode)
    params, body = driver.build(_fields(mp))
    params["signature"] = "0" * 40
    assert (await driver.post(params, body))[0] == 403
    if mode == "safe":
        params, body = driver.build(_fields(mp))
        params["msg_signature"] = "0" * 40
        assert (await driver.post(params, body))[0] == 403
    await _nothing_processed(mp)


async def test_an_old_timestamp_is_403_even_when_signed(mp, clock):
    driver = mp.driver(clock=lambda: clock.now - timedelta(minutes=6))
    params, body = driver.build(_fields(mp))
    assert (await driver.post(params, body))[0] == 403
    await _nothing_processed(mp)


BAD_BODIES = {
    "not XML": b"hello",
    "truncated": b"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUser",
    "no FromUserName": to_xml({"ToUserName": "gh", "MsgType": "text", "Content": "x", "MsgId": 1}).encode(),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>oAbC-_1234567890abcdefghijkl</FromUserName><MsgType>text</MsgType>"
        b"<Content>&b;</Content></xml>"
    ),
    "not one element": b"<xml>text only</xml>",
    "a bad MsgId": to_xml(
        {"FromUserName": OPENID, "MsgType": "text", "Content": "x", "MsgId": "1; drop table", "CreateTime": 1}
    ).encode(),
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_malformed_body_is_400_and_nothing_is_processed(mp, body):
    driver = mp.driver()
    params, _ = driver.build(_fields(mp))  # correctly signed: the signature does not cover a plain body
    status, _ = await driver.post(params, body)
    assert status == 400
    await _nothing_processed(mp)


async def test_an_oversized_body_is_413_and_nothing_is_processed(mp):
    driver = mp.driver()
    params, _ = driver.build(_fields(mp))
    body = to_xml(_fields(mp, Content="漏" * 30_000)).encode()
    assert len(body) > 64 * 1024
    assert (await driver.post(params, body))[0] == 413
    await _nothing_processed(mp)


async def test_an_encrypted_push_that_does_not_decrypt_is_400(mp):
    driver = mp.driver("safe")
    params, body = driver.build(_fields(mp))
    garbage = "A" * 64
    params["msg_signature"] = __import__("tests.fakes.wechat_driver", fromlist=["sign"]).sign(
        driver.token, params["timestamp"], params["nonce"], garbage
    )
    body = to_xml({"ToUserName": "gh_wuye_test", "Encrypt": garbage}).encode()
    assert (await driver.post(params, body))[0] == 400
    await _nothing_processed(mp)


# -- openids stay out of the logs ------------------------------------------------------------------


async def test_openids_never_reach_the_log_unmasked(mp, caplog):
    caplog.set_level(logging.INFO)
    mp.rasa.delay = 1.5
    driver = mp.driver(timeout=0.3)
    await driver.send_text(OPENID, "报修", msg_id=5)  # a retry, a late answer: the paths that log
    await driver.send_event(OPENID, "unsubscribe")
    await mp.settle_and_deliver()
    ours = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]  # the gateway runs without one
    assert ours and not [line for line in ours if OPENID in line]
