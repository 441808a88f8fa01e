"""微信客服 through the real public app: WeCom played by KfDriver, the platform by the fake.

Protects: the URL check (WeCom crypto); a customer's message pulled with sync_msg and answered
with send_msg; paging while has_more; the cursor kept across a gateway restart, nothing lost or
answered twice; one msgid read twice answered once; servicers' messages not answered; forged or
stale callbacks refused with nothing pulled.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.wechat_kf.channel import _cursor

KFID = "wkKFtest0001"
USER = "wmUser-0001abcdef"
SENDER = f"wechat_kf:{USER}"


async def inbound_texts(kf, sender: str = SENDER) -> list[str]:
    from sqlalchemy import select

    from backend_bridge.domain import model

    async with kf.backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.InboundMessage).where(model.InboundMessage.sender == sender).order_by(model.InboundMessage.id)
        )
        return [m.text for m in found.all()]


async def test_the_url_check_answers_the_decrypted_echostr_only_when_signed_with_our_token(kf):
    assert await kf.driver().url_check("987654321") == (200, "987654321")
    forged = kf.driver()
    forged.token = "someone-elses-token"
    status, body = await forged.url_check("987654321")
    assert status == 403 and "987654321" not in body


async def test_a_customer_message_is_pulled_with_sync_msg_and_answered_with_send_msg(kf):
    assert await kf.write(KFID, USER, "厨房漏水") == 200
    await kf.deliver()
    assert kf.rasa.seen == [(SENDER, "厨房漏水")]
    assert kf.texts_sent(USER) == ["收到：厨房漏水"]
    assert [s["open_kfid"] for s in kf.fake.sent] == [KFID]
    assert kf.fake.sync_calls[0]["token"]  # the callback's Token went with the pull


async def test_pages_are_read_while_has_more(kf):
    kf.channel.api.page_size = 2
    for i in range(5):
        kf.fake.kf_customer_writes(KFID, f"{USER}{i}", f"第{i}条")
    assert await kf.write(KFID, USER, "第5条") == 200
    await kf.settle()
    assert len(kf.fake.sync_calls) == 3
    assert sorted(t for _, t in kf.rasa.seen) == sorted(f"第{i}条" for i in range(6))
    assert [c.get("limit") for c in kf.fake.sync_calls] == [2, 2, 2]


async def test_the_cursor_survives_a_restart_nothing_lost_or_repeated(kf, kf_start):
    await kf.write(KFID, USER, "第一条")
    await kf.deliver()
    await kf.gateway.close()
    again = await kf_start()  # a new process over the same database
    kf.fake.kf_customer_writes(KFID, USER, "第二条")  # written while nobody listened
    assert await again.write(KFID, USER, "第三条") == 200
    await again.deliver()
    assert await inbound_texts(again) == ["第一条", "第二条", "第三条"]
    assert [t for _, t in kf.rasa.seen] == ["第一条", "第二条", "第三条"]
    assert again.texts_sent(USER) == ["收到：第一条", "收到：第二条", "收到：第三条"]
    assert kf.fake.sync_calls[-1].get("cursor")  # resumed from the saved cursor, not from the start


async def test_the_same_msgid_read_twice_is_answered_once(kf):
    await kf.write(KFID, USER, "你好", msgid="MSG-same-1")
    await kf.settle()
    async with kf.backend.new_uow() as uow:  # as if the cursor had not been saved (a crash before it)
        await uow.channel_state.remove(_cursor(KFID))
        await uow.commit()
    await kf.write(KFID, USER, "在吗", msgid="MSG-other-2")
    await kf.deliver()
    assert [t for _, t in kf.rasa.seen] == ["你好", "在吗"]
    assert kf.texts_sent(USER) == ["收到：你好", "收到：在吗"]


async def test_a_servicers_messages_are_not_answered(kf):
    await kf.write(KFID, USER, "师傅下午到", origin=5)
    await kf.deliver()
    assert kf.rasa.seen == [] and kf.texts_sent() == []
    assert await inbound_texts(kf) == []


async def test_a_forged_or_stale_callback_is_refused_and_nothing_is_pulled(kf, clock):
    token = kf.fake.kf_customer_writes(KFID, USER, "你好")
    forged = kf.driver()
    forged.token = "someone-elses-token"
    assert (await forged.notify(KFID, token))[0] == 403
    stale = kf.driver(clock=lambda: kf.fake.now() - timedelta(minutes=10))
    assert (await stale.notify(KFID, token))[0] == 403
    params, body = kf.driver().build(KFID, token)
    resp = await kf.client.post("/wechat/kf", params=params, data=b"<xml><Encrypt>not-base64!</Encrypt></xml>")
    assert resp.status in (400, 403)
    resp = await kf.client.post("/wechat/kf", params=params, data=body + b" " * (70 * 1024))
    assert resp.status == 413
    resp = await kf.client.post("/wechat/kf", params=params, data=b"not xml at all")
    assert resp.status == 400
    await kf.settle()
    assert kf.fake.sync_calls == [] and kf.rasa.seen == []


async def test_entering_through_a_communitys_link_routes_the_customer_there(kf):
    from backend_bridge.service_layer import views

    token = kf.fake.kf_enter_session(KFID, USER, scene="yangguang")
    assert (await kf.driver().notify(KFID, token))[0] == 200
    await kf.settle()
    conversations = {c["sender"]: c for c in await views.conversations(kf.backend.new_uow())}
    assert conversations[SENDER]["community"] == "yangguang"
    assert await inbound_texts(kf) == ["[进入会话 yangguang]"]
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    assert kf.texts_sent(USER) == ["收到：你好"]


async def test_a_new_customer_is_welcomed_once_by_the_events_welcome_code(kf):
    token = kf.fake.kf_enter_session(KFID, USER, scene="yangguang")
    assert (await kf.driver().notify(KFID, token))[0] == 200
    await kf.settle()
    welcomes = [(s["api"], s["content"]) for s in kf.fake.sent if s["touser"] == USER]
    assert len(welcomes) == 1 and welcomes[0][0] == "kf_event"  # send_msg could not reach them yet
    assert "阳光" in welcomes[0][1] and "1" in welcomes[0][1]  # the community's welcome with the menu
    async with kf.backend.new_uow() as uow:  # the page is read again (a restart before the cursor was saved)
        await uow.channel_state.remove(_cursor(KFID))
        await uow.commit()
    assert (await kf.driver().notify(KFID, token))[0] == 200
    await kf.settle()
    assert len([s for s in kf.fake.sent if s["touser"] == USER]) == 1  # welcomed once


async def test_a_welcome_code_read_after_its_20_seconds_is_not_used(kf, clock):
    token = kf.fake.kf_enter_session(KFID, USER)
    clock.advance(seconds=25)  # the callback was lost; the event is read with a later one
    assert (await kf.driver().notify(KFID, token))[0] == 200
    await kf.settle()
    assert not [c for c in kf.fake.calls if c[1] == "/cgi-bin/kf/send_msg_on_event"]
    assert await inbound_texts(kf) == ["[进入会话 ]"]  # recorded for staff all the same
