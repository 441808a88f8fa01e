"""Notifications reaching an owner's phone, and what the provider tells us about them afterwards.

Protects: a receipt confirming a notification; a failed receipt putting it back in the outbox
with the provider's error, sent again, and dead-lettered after the last attempt; a provider
failure retried and a refusal that cannot succeed dead-lettered at once; the per-number daily
cap honoured before sending (the rest waits for the next day, never dropped), and the
provider's own limit error deferring too; 退订 handled before the assistant sees it, confirmed
once, stopping everything but the owner's own service messages; a wrong key refused by the
provider's signature check; the log provider when no provider is configured.
"""

from __future__ import annotations

import logging

import pytest

from backend_bridge.domain import commands, model
from connectors.channel import installed_channels
from connectors.sms import texts
from tests.sms.conftest import MOBILE, SENDER, settings_for

LIMITED = {"aliyun": "isv.BUSINESS_LIMIT_CONTROL", "tencent": "LimitExceeded.PhoneNumberDailyLimit"}
TRANSIENT = {"aliyun": "isp.SYSTEM_ERROR", "tencent": "InternalError.Timeout"}
PERMANENT = {"aliyun": "isv.SMS_TEMPLATE_ILLEGAL", "tencent": "FailedOperation.TemplateIncorrectOrUnapproved"}
FAILED_RECEIPT = {
    "aliyun": {"success": False, "err_code": "IC_BUSY"},
    "tencent": {"success": False, "errmsg": "MK:0004"},
}


async def owner_wrote(sms, text: str = "你好") -> None:
    await sms.writes(text)
    await sms.deliver()


async def staff_says(sms, text: str) -> None:
    await sms.backend.bus.handle(commands.SendStaffMessage(SENDER, text, actor="admin"))


async def open_ticket(sms) -> str:
    """A ticket of the owner's, assigned (that notice delivered already)."""
    opened = await sms.backend.bus.handle(commands.OpenTicket(SENDER, "repair", "厨房水管漏水", "3", "2", "501"))
    await sms.backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin"))
    await sms.backend.bus.handle(commands.AssignTicket(opened.number, "wang", actor="admin"))
    await sms.deliver()
    return opened.number


async def test_a_receipt_confirms_the_notification(sms, provider):
    await owner_wrote(sms)
    (answer,) = await sms.notices()
    assert answer.provider_message_id and answer.confirmed_at is None
    assert await sms.receipt(answer.provider_message_id) == (200, await sms.push_answer())
    (answer,) = await sms.notices()
    assert answer.status is model.NotificationStatus.DELIVERED and answer.confirmed_at == sms.backend.clock()


async def test_a_failed_delivery_is_sent_again_then_dead_lettered_with_the_providers_error(sms, provider, clock):
    await owner_wrote(sms)
    await staff_says(sms, "维修师傅明天上午到")
    await sms.deliver()
    ids = []
    for attempt in range(1, model.MAX_DELIVERY_ATTEMPTS + 1):
        _, notice = await sms.notices()
        assert notice.status is model.NotificationStatus.DELIVERED
        ids.append(notice.provider_message_id)
        assert (await sms.receipt(notice.provider_message_id, **FAILED_RECEIPT[provider]))[0] == 200
        _, notice = await sms.notices()
        code = FAILED_RECEIPT[provider].get("err_code") or FAILED_RECEIPT[provider]["errmsg"]
        assert notice.attempts == attempt and code in notice.last_error
        if attempt < model.MAX_DELIVERY_ATTEMPTS:
            assert notice.status is model.NotificationStatus.PENDING
            clock.advance(minutes=11)
            assert await sms.deliver() == 1
    assert notice.status is model.NotificationStatus.DEAD
    assert len(set(ids)) == model.MAX_DELIVERY_ATTEMPTS  # each attempt a new message
    assert sms.received().count("维修师傅明天上午到") == model.MAX_DELIVERY_ATTEMPTS
    # a receipt repeated for an earlier attempt changes nothing
    assert (await sms.receipt(ids[0], **FAILED_RECEIPT[provider]))[0] == 200
    assert (await sms.notices())[1].status is model.NotificationStatus.DEAD


async def test_a_provider_failure_is_retried_and_a_refusal_that_cannot_succeed_is_dead_lettered(sms, provider, clock):
    await owner_wrote(sms)
    sms.fake.fail_next(TRANSIENT[provider])
    await staff_says(sms, "第一条")
    assert await sms.deliver() == 0
    _, first = await sms.notices()
    assert first.status is model.NotificationStatus.PENDING and TRANSIENT[provider] in first.last_error
    clock.advance(seconds=5)
    sms.fake.fail_next("", http_status=503)
    assert await sms.deliver() == 0
    clock.advance(seconds=10)
    assert await sms.deliver() == 1
    sms.fake.fail_next(PERMANENT[provider])
    await staff_says(sms, "第二条")
    await sms.deliver()
    _, first, second = await sms.notices()
    assert first.status is model.NotificationStatus.DELIVERED and first.attempts == 2
    assert second.status is model.NotificationStatus.DEAD and PERMANENT[provider] in second.last_error
    assert sms.received()[1:] == ["第一条"]


async def test_over_the_daily_cap_messages_wait_for_the_next_day(sms, sms_backend, fake, provider, clock):
    channel = next(c for c in sms.channels if c.name == "sms")
    channel.settings = settings_for(fake, daily_cap=3)
    await owner_wrote(sms)  # 1
    for i in range(4):
        await staff_says(sms, f"通知{i}")
    assert await sms.deliver() == 2  # 2 and 3; the rest wait
    notices = await sms.notices()
    assert [n.status for n in notices[3:]] == [model.NotificationStatus.PENDING] * 2
    assert notices[3].attempts == 0 and "today" in notices[3].last_error
    tomorrow = notices[3].next_attempt_at
    assert tomorrow.astimezone(sms_backend.timezone).strftime("%d %H:%M") == "22 00:00"
    clock.advance(hours=12)  # still the 21st in Shanghai (22:30)
    assert await sms.deliver() == 0
    clock.advance(hours=2)  # 00:30 on the 22nd
    assert await sms.deliver() == 2
    assert sms.received()[1:] == ["通知0", "通知1", "通知2", "通知3"]
    assert len(fake.refused) == 0  # the cap was honoured before sending, not found out from errors


async def test_the_providers_own_limit_defers_to_the_next_day_too(sms, provider, fake, clock):
    fake.per_day = 2
    await owner_wrote(sms)
    await staff_says(sms, "一")
    await staff_says(sms, "二")
    assert await sms.deliver() == 1
    _, _, waiting = await sms.notices()
    assert waiting.status is model.NotificationStatus.PENDING and waiting.attempts == 0
    assert LIMITED[provider] in waiting.last_error and [r["code"] for r in fake.refused] == [LIMITED[provider]]
    clock.advance(hours=14)
    assert await sms.deliver() == 1
    assert sms.received()[1:] == ["一", "二"]


@pytest.mark.parametrize("word", ["退订", "TD", " t ", "Ｎ", "r"])
async def test_unsubscribing_stops_all_but_the_owners_own_service_messages(sms, provider, word, clock):
    number = await open_ticket(sms)
    await sms.writes(word)
    clock.advance(seconds=1)
    await sms.writes("退订")  # again: not confirmed twice
    await sms.deliver()
    assert sms.received()[1:] == [texts.OPTED_OUT]
    assert sms.rasa.seen == []  # the assistant never saw it
    assert await sms.inbound() == [word.strip(), "退订"]
    await staff_says(sms, "本周六停水通知")
    # A staff message takes the conversation (the console's rule); handed back, the assistant answers again.
    await sms.backend.bus.handle(commands.HandBack(SENDER, "admin"))
    await sms.backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", actor="admin"))
    await sms.writes("我家水管什么时候修")
    await sms.deliver()
    assert sms.received()[2:] == [f"{number}|处理中", "收到：我家水管什么时候修"]
    staff_notice = next(n for n in await sms.notices() if n.kind == "staff")
    assert staff_notice.delivered_via == "skipped:optout"


async def test_a_wrong_key_is_refused_by_the_providers_signature_check(sms, provider, fake, http_session):
    from backend_bridge.service_layer.ports import DeliveryFailed
    from connectors.channel import close_channels

    channels = installed_channels({"sms": settings_for(fake, key_secret="not-the-secret")}, http_session)
    deliver = next(c for c in channels if c.name == "sms").delivery(sms.backend)
    await owner_wrote(sms)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await deliver(model.Notification(SENDER, "您好", "staff", sms.backend.clock()))
    finally:
        await close_channels(channels)
    assert failed.value.permanent
    code = "SignatureDoesNotMatch" if provider == "aliyun" else "AuthFailure.SignatureFailure"
    assert fake.refused[-1]["code"] == code and code in str(failed.value)


async def test_without_a_provider_notifications_to_a_phone_go_to_the_log_masked(backend, caplog):
    from connectors.settings import SmsSettings

    (channel,) = [c for c in installed_channels({"sms": SmsSettings()}) if c.name == "sms"]
    assert channel.routes() == []  # nobody pushes to the log provider
    deliver = channel.delivery(backend)
    with caplog.at_level(logging.INFO, logger="wuye.notifications"):
        via = await deliver(model.Notification(SENDER, "您的工单已派单", "ticket_assigned", backend.clock()))
    assert via == "log"
    line = next(r.getMessage() for r in caplog.records if r.name == "wuye.notifications")
    assert "您的工单已派单" in line and MOBILE not in line and "0501" in line


@pytest.mark.parametrize("wrong", ["sign_name", "template"])
async def test_a_sign_name_or_template_the_provider_did_not_approve_is_dead_lettered(sms, provider, fake, wrong):
    if wrong == "sign_name":
        next(c for c in sms.channels if c.name == "sms").provider.sign_name = "别家物业"
    else:
        fake.templates.pop(next(iter(fake.templates)))  # the status template was withdrawn
    await sms.backend.bus.handle(commands.RecordInbound(SENDER, "你好"))
    opened = await sms.backend.bus.handle(commands.OpenTicket(SENDER, "repair", "厨房水管漏水", "3", "2", "501"))
    await sms.backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin"))
    await sms.backend.bus.handle(commands.AssignTicket(opened.number, "wang", actor="admin"))
    await sms.deliver()
    (notice,) = await sms.notices()
    codes = {
        ("aliyun", "sign_name"): "isv.SMS_SIGNATURE_ILLEGAL",
        ("aliyun", "template"): "isv.SMS_TEMPLATE_ILLEGAL",
        ("tencent", "sign_name"): "FailedOperation.SignatureIncorrectOrUnapproved",
        ("tencent", "template"): "FailedOperation.TemplateIncorrectOrUnapproved",
    }
    assert notice.kind == "ticket_assigned"
    assert notice.status is model.NotificationStatus.DEAD and notice.attempts == 1
    assert codes[provider, wrong] in notice.last_error and fake.sent == []


@pytest.mark.parametrize("provider", ["aliyun"])  # Tencent's receipts do not single out a dead number
async def test_a_receipt_saying_the_number_cannot_receive_dead_letters_at_once(sms, provider):
    await owner_wrote(sms)
    (answer,) = await sms.notices()
    await sms.receipt(answer.provider_message_id, success=False, err_code="MOBILE_NOT_ON_SERVICE")
    (answer,) = await sms.notices()
    assert answer.status is model.NotificationStatus.DEAD and "MOBILE_NOT_ON_SERVICE" in answer.last_error
