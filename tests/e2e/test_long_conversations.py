"""A conversation hundreds of events long answers as a short one does (bot/tracker_stores.py).

Its own stack: Redis tracker and lock stores (as production), Rasa sessions continued in a new
one after 30 events so that a few dozen turns rotate several times, and no per-sender rate limit.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.e2e.conftest import Owner, start_stack

CAP = 30
CHATTER = ["你好", "物业费怎么交", "能开发票吗", "查进度", "谢谢"]
# After the chatter: a personal fee question (the flat verified before), then a whole repair.
PROBE = ["我家还欠多少物业费", "报修", "3号楼2单元501", "马桶堵了", "对", "查进度"]
BIND = ["我家还欠多少物业费", "3号楼2单元501", "13800000501"]


@pytest.fixture(scope="module")
def long_stack(tmp_path_factory, redis_url):
    running = start_stack(
        tmp_path_factory.mktemp("long-stack"),
        WUYE_REDIS_URL=redis_url,
        WUYE_RASA_SESSION_EVENTS=str(CAP),
        WUYE_CHAT_SENDER_RATE="0",
    )
    yield running
    running.stop()


def _shape(replies: list[str]) -> list[str]:
    """Replies with ticket numbers and dates blanked: two owners' tickets differ only there."""
    return [re.sub(r"\d{4,}", "#", r) for r in replies]


def test_after_many_turns_the_answers_are_those_of_a_short_conversation(long_stack, redis_url):
    import redis

    short, long = Owner(long_stack, uuid.uuid4().hex), Owner(long_stack, uuid.uuid4().hex)
    for owner in (short, long):
        assert "核对成功" in [owner.said(t) for t in BIND][-1]
    for n in range(40):
        long.say(CHATTER[n % len(CHATTER)])
    expected = [_shape(short.say(t)) for t in PROBE]
    assert [_shape(long.say(t)) for t in PROBE] == expected
    assert any("#" in r for r in expected[-2]), expected  # the repair was opened: a ticket number

    client = redis.Redis.from_url(redis_url)
    assert client.llen(f"wuye:archive:{long.sender}") >= 5  # ~45 turns in sessions of about 6
    current = json.loads(client.get(f"wuye:tracker:{long.sender}"))
    assert len(current["events"]) <= CAP + 40  # the cap, the carried turns and the last turn's form


def test_the_archive_and_the_current_session_hold_every_turn(long_stack, redis_url):
    import redis

    owner = Owner(long_stack, uuid.uuid4().hex)
    said = [f"{CHATTER[n % len(CHATTER)]}" for n in range(25)]
    for text in said:
        owner.say(text)
    client = redis.Redis.from_url(redis_url)
    sessions = [json.loads(chunk) for chunk in client.lrange(f"wuye:archive:{owner.sender}", 0, -1)]
    sessions.append(json.loads(client.get(f"wuye:tracker:{owner.sender}"))["events"])
    # a carried turn appears in two sessions, with the same message id
    seen: dict[str, str] = {}
    for events in sessions:
        for e in events:
            if e["event"] == "user":
                seen.setdefault(e["message_id"], e["text"])
    assert list(seen.values()) == said
    assert len(sessions) >= 3
