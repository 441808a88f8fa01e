"""bench/load.py's owners on the WeChat and SMS callbacks (bench/owners.py), a few seconds of the
closed loop each on the shared channel stack (tests/e2e/conftest.py ``wechat_world``, real Rasa).

Protects: an owner posting through the 公众号 callback (safe mode: signed and encrypted) or the
SMS provider's upstream push gets an answer to every message, counted once as answered; each
message is recorded once and answered in the conversation's log; every answer pushed later is
delivered once, to the owner who wrote it (not twice, not to another), and its messages arrive
before that owner writes again, so each latency belongs to its message. No timing is asserted
(bench/RESULTS.md has them); the whole run beside bare Rasa is `make load CHANNEL=wechat|sms`.
"""

from __future__ import annotations

import aiohttp

from bench import load
from bench.owners import CallbackOwners, SmsOwners, WeChatOwners

READING = 1.0  # generous on a busy machine: the answer's last message always before the next turn


def play(world, thread, owners: CallbackOwners, senders: int = 2, seconds: float = 4.0):
    """The closed loop on the fake's own loop (where its listener wakes the owners); then the check."""

    async def run():
        async with owners:
            tally = await load.closed_loop(owners.target(world.stack), senders, seconds, new_sender=owners.new_sender)
            async with aiohttp.ClientSession() as http:
                return tally, owners.take_counts(), await owners.reconcile(world.stack, http)

    return thread.run(run(), timeout=300)


def every_message_answered_once(tally: load.Tally, checked: dict) -> None:
    assert tally.sent > 0 and tally.answered == tally.sent and tally.errors == tally.empty == tally.held == 0
    assert checked["messages_sent"] == checked["messages_recorded"] == checked["messages_answered"] == tally.sent
    assert checked["answers_pushed"] == checked["answers_pushed_delivered"] == checked["pushed_answers_received"]
    assert checked["platform_messages_repeated"] == 0
    assert checked["owners_not_matched"] == 0 and checked["turns_overlapped"] == 0


def test_owners_on_the_wechat_callback_get_one_answer_to_each_message(wechat_world):
    owners = WeChatOwners("safe", fake=wechat_world.fake.fake, reading=READING)
    tally, counts, checked = play(wechat_world, wechat_world.fake, owners)

    every_message_answered_once(tally, checked)
    assert counts.get("answered_in_callback", 0) + counts.get("answered_later", 0) == tally.sent
    assert counts["callback_deliveries"] >= tally.sent  # WeChat's own retries, if the answer took over 5 s


def test_owners_texting_get_one_answer_to_each_message_by_sms(wechat_world):
    owners = SmsOwners(fake=wechat_world.sms.fake, reading=READING)
    tally, counts, checked = play(wechat_world, wechat_world.sms, owners)

    every_message_answered_once(tally, checked)
    assert counts["answered_later"] == tally.sent  # SMS has no answer in the request
    assert checked["answers_pushed"] >= tally.sent
    # the pieces of one answer carry its key: counted by key, each answer arrived whole or not at all
    assert checked["platform_messages_received"] >= checked["pushed_answers_received"]
