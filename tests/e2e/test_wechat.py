"""WeChat through the whole running stack (gateway, real Rasa, actions, dispatcher) against the fake
WeChat: the 公众号 in each of its three message modes, and 微信客服."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Staff
from tests.e2e.test_conversations import ticket_number
from tests.e2e.wechat_world import KFID, sent_to
from tests.fakes.wechat_driver import DEFAULT_ECHOSTR


def test_the_url_check_echoes_what_wechat_sent(wechat_world):
    driver = wechat_world.owner("plain").driver
    assert wechat_world.fake.run(driver.url_check()) == (200, DEFAULT_ECHOSTR)
    driver.token = "not-the-account-token"
    assert wechat_world.fake.run(driver.url_check())[0] == 403


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_a_repair_in_wechat_opens_a_ticket(wechat_world, mode):
    owner = wechat_world.owner(mode)
    summary = owner.said("3号楼2单元501 卫生间水管漏水", "请确认")
    assert "3号楼2单元501" in summary and "卫生间水管漏水" in summary
    number = ticket_number(owner.said("是", "工单号"))
    ticket = Staff(wechat_world.stack).ticket(number)
    assert (ticket["kind"], ticket["sender"]) == ("repair", owner.sender)
    assert (ticket["building"], ticket["unit"], ticket["room"]) == ("3", "2", "501")
    assert ticket["description"].startswith("卫生间水管漏水")
    assert owner.passive + owner.custom >= 2  # every answer reached WeChat, one way or the other


def test_a_repair_in_wechat_kf_opens_a_ticket(wechat_world):
    customer = wechat_world.kf_customer()
    summary = customer.said("3号楼2单元501 厨房水管漏水了", "请确认")
    assert "3号楼2单元501" in summary
    number = ticket_number(customer.said("是", "工单号"))
    ticket = Staff(wechat_world.stack).ticket(number)
    assert (ticket["kind"], ticket["sender"], ticket["room"]) == ("repair", customer.sender, "501")
    assert wechat_world.fake.call(lambda f: f.service_state[(KFID, customer.user)]) == 1


def test_in_wechat_kf_a_handed_off_customer_hears_the_consoles_staff(wechat_world):
    """No WeCom servicer configured: the session stays the assistant's (1), so our staff's reply
    from the console goes out by kf/send_msg and reaches the customer."""
    customer = wechat_world.kf_customer()
    assert "人工" in customer.said("转人工", "人工")
    staff = Staff(wechat_world.stack)
    status, body = staff.post(f"/api/conversations/{customer.sender}/messages", {"text": "您好，我是客服小李"})
    assert status == 202, body
    wechat_world.fake.wait_for(lambda f: "您好，我是客服小李" in sent_to(f, "kf", customer.user), 30, "the reply")
    assert wechat_world.fake.call(lambda f: f.service_state[(KFID, customer.user)]) == 1
