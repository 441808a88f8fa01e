"""The desk's rules without I/O: claims, when a late answer of the assistant is silenced, messages
that are staff's, 常用语; and the text rules the desk's search and binding view use (common/).

Protects: a claim takes a conversation from the assistant (staff_took_over) and a colleague's only
by force; the handback ends it; the assistant's own handoff (转人工, an emergency) keeps its
answer while staff taking over drops one; a message that is staff's keeps no answer of the
assistant's; 3-2-501 and 3号楼2单元501 name one flat; a phone shows as 138****0501.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend_bridge.domain import events, model
from common.addresses import parse_flat
from common.masking import masked_phone

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)


def conversation() -> model.Conversation:
    return model.Conversation("webchat:o1", "webchat")


def test_a_claim_takes_the_conversation_from_the_assistant():
    c = conversation()
    c.claim("li", NOW)
    assert (c.state, c.handoff_reason, c.assignee, c.claimed_at) == (
        model.ConversationState.HANDED_OFF,
        model.STAFF_TOOK_OVER,
        "li",
        NOW,
    )
    assert [type(e) for e in c.events] == [events.ConversationHandedOff, events.ConversationClaimed]
    assert not c.waiting


def test_a_colleagues_conversation_only_by_force_and_the_handback_ends_the_claim():
    c = conversation()
    c.hand_off("requested", NOW)
    assert c.waiting
    c.claim("li", NOW)
    c.claim("li", NOW)  # again: nothing changes
    with pytest.raises(model.Claimed) as refused:
        c.claim("wang", NOW)
    assert refused.value.assignee == "li"
    c.claim("zhuguan", NOW, force=True)
    assert c.assignee == "zhuguan"
    c.hand_back("zhuguan", NOW)
    assert (c.state, c.assignee, c.claimed_at) == (model.ConversationState.BOT, None, None)


@pytest.mark.parametrize(
    "reason, claimed, silenced",
    [
        ("requested", False, False),  # 转人工: the assistant's own answer says so
        ("emergency:gas_leak", False, False),  # the safety advice goes out
        ("not_understood", False, False),
        ("owner_asked", False, False),  # any reason the bot API is given is the assistant's own
        ("requested", True, True),  # staff are there now
        (model.STAFF_TOOK_OVER, True, True),
        ("assistant_unreachable", False, True),
        ("call_not_transcribed", False, True),
    ],
)
def test_which_late_answers_are_silenced(reason, claimed, silenced):
    c = conversation()
    assert not c.silences_late_answers()
    c.hand_off(reason, NOW)
    if claimed:
        c.claim("li", NOW)
    assert c.silences_late_answers() is silenced


def test_a_message_that_is_staffs_keeps_no_answer_of_the_assistants():
    message = model.InboundMessage("webchat:o1", "人呢", NOW)
    message.for_staff()
    message.record_answer(["收到"], answered=True, push=True)
    assert (message.status, message.replies, message.events, message.attempts) == (
        model.InboundStatus.FOR_STAFF,
        [],
        [],
        0,
    )
    answered = model.InboundMessage("webchat:o1", "你好", NOW)
    answered.record_answer(["您好"], answered=True, push=False)
    answered.for_staff()  # already answered: stays so
    assert answered.status is model.InboundStatus.ANSWERED


def test_notes_and_canned_replies_need_words():
    with pytest.raises(model.DomainError):
        conversation().add_note("  ", "li", NOW)
    assert conversation().add_note(" 已回电 ", "li", NOW).text == "已回电"
    reply = model.CannedReply(" 问候 ", "您好", None, "li", NOW)
    reply.check()
    assert reply.title == "问候"
    with pytest.raises(model.DomainError):
        reply.revise("li", NOW, text="")
    with pytest.raises(model.DomainError):
        reply.revise("li", NOW, title="长" * (model.MAX_CANNED_TITLE + 1))


@pytest.mark.parametrize(
    "text, flat",
    [
        ("3-2-501", ("3", "2", "501")),
        ("3号楼2单元501", ("3", "2", "501")),
        ("3栋2单元0501室", ("3", "2", "501")),
        ("A座1单元1203", ("A", "1", "1203")),
        (" 3 / 2 / 501 ", ("3", "2", "501")),
        ("3-2", None),
        ("13800000501", None),
        ("张伟", None),
        ("", None),
    ],
)
def test_a_flat_in_one_string(text, flat):
    assert parse_flat(text) == flat


def test_a_phone_shows_its_shape_only():
    assert masked_phone("13800000501") == masked_phone("+86 138-0000-0501") == "138****0501"
