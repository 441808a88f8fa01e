"""bot/tracker_stores.py: a conversation's session stays bounded, and rotating it changes nothing
the assistant needs (slots, the open form, what the policies see), on real Redis and SQLite."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from tests.bot.conftest import ROOT

CAP = 40
MAX_HISTORY = 4  # config.yml's MemoizationPolicy


@pytest.fixture(scope="module")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def redis_store(domain):
    import redis

    from bot.tracker_stores import SessionRedisTrackerStore

    url = os.environ.get("WUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unavailable: {exc}")
    kw = client.connection_pool.connection_kwargs
    return SessionRedisTrackerStore(
        domain, host=kw["host"], port=kw["port"], db=kw["db"], key_prefix="wuye", max_session_events=CAP
    )


@pytest.fixture
def sql_store(domain, tmp_path):
    from bot.tracker_stores import SessionSQLTrackerStore

    return SessionSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"), max_session_events=CAP)


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def turn(n: int, loop: str | None = None):
    """One owner turn as Rasa logs it: listen, the owner's words, an answer, listen again."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered

    intent = "report_repair" if loop else "ask_fee"
    events = [
        UserUttered(f"第{n}句", {"name": intent, "confidence": 0.99}),
        SlotSet("phone", f"1380000{n % 10000:04d}"),
    ]
    if loop:
        events += [ActionExecuted(loop), ActiveLoop(loop), SlotSet("requested_slot", "room")]
    else:
        events += [ActionExecuted("action_answer_fee")]
    events += [BotUttered(f"答{n}"), ActionExecuted("action_listen")]
    return events


async def converse(store, sender: str, turns: int, *, bind_at: int = 3, form_from: int | None = None):
    """``turns`` turns through ``store`` as the processor does (retrieve, update, save); the
    owner's flat is said once at turn ``bind_at``; a form opens at ``form_from`` and stays open."""
    from rasa.shared.core.events import SlotSet

    sizes = []
    for n in range(turns):
        tracker = await store.get_or_create_tracker(sender)
        sizes.append(len(tracker.events))
        for event in turn(n, "repair_form" if form_from is not None and n >= form_from else None):
            tracker.update(event)
        if n == bind_at:
            tracker.update(SlotSet("building", "3"))
            tracker.update(SlotSet("room", "1502"))
        await store.save(tracker)
    return sizes


@pytest.mark.parametrize("kind", ["redis_store", "sql_store"])
def test_a_session_never_grows_past_the_cap_and_keeps_slots_and_the_open_form(kind, request):
    store = request.getfixturevalue(kind)
    sizes = run(converse(store, "webchat:o1", 300, form_from=290))
    assert max(sizes[:290]) <= CAP + 3 * len(turn(0)) + 30  # cap + carried turns + slots
    assert max(sizes[-100:-10]) <= max(sizes[:100])  # turn 290 reads no more than turns 1-100 did
    assert max(sizes[-10:]) <= CAP + 30 + 10 * len(turn(0, "repair_form"))  # a form runs to its end
    tracker = run(store.retrieve("webchat:o1"))
    slots = tracker.current_slot_values()
    assert (slots["building"], slots["room"]) == ("3", "1502")  # said at turn 3, hundreds of turns ago
    assert slots["phone"] == "13800000299"
    assert tracker.active_loop_name == "repair_form"  # the form opened at turn 290 is still open
    assert [e.text for e in tracker.events if e.type_name == "user"][-3:] == ["第297句", "第298句", "第299句"]


def test_redis_keeps_past_sessions_in_an_archive_no_turn_reads(redis_store):
    run(converse(redis_store, "webchat:o2", 120))
    current = json.loads(redis_store.red.get("wuye:tracker:webchat:o2"))
    assert len(current["events"]) <= CAP + 60
    full = run(redis_store.retrieve_full_tracker("webchat:o2"))
    said = [e.text for e in full.events if e.type_name == "user"]
    assert [f"第{n}句" for n in range(120)] == sorted(set(said), key=lambda t: int(t[1:-1]))


def test_rasas_own_one_value_history_is_split_once(redis_store, domain):
    """A conversation written by Rasa's RedisTrackerStore (every session in one value) is read as
    its current session and its past moved to the archive."""
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    kw = redis_store.red.connection_pool.connection_kwargs
    stock = RedisTrackerStore(domain, host=kw["host"], port=kw["port"], db=kw["db"], key_prefix="wuye")
    tracker = run(stock.get_or_create_tracker("webchat:o3"))
    for n in range(5):
        for e in turn(n):
            tracker.update(e)
    for e in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"), *turn(9)]:
        tracker.update(e)
    run(stock.save(tracker))
    current = run(redis_store.retrieve("webchat:o3"))
    assert [e.text for e in current.events if e.type_name == "user"] == ["第9句"]
    assert redis_store.red.llen("wuye:archive:webchat:o3") == 1


def test_the_policies_see_the_same_recent_states_after_a_rotation(domain):
    """What MemoizationPolicy and the rules read (the last states) is unchanged by continuing a
    session in a new one: the next message is answered as it would have been."""
    from rasa.shared.core.events import ActiveLoop, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_stores import continuation

    form = [e for n in range(20, 25) for e in turn(n, "repair_form")] + [ActiveLoop(None)]
    after = [SlotSet("building", "3")] + [e for n in range(25, 28) for e in turn(n)] + [SlotSet("building", "5")]
    events = [e for n in range(20) for e in turn(n)] + form + after + turn(28)
    long = DialogueStateTracker.from_events("s", events, domain.slots)
    short = DialogueStateTracker.from_events("s", continuation(long), domain.slots)
    assert len(short.events) < len(long.events) / 4
    assert long.past_states(domain)[-(MAX_HISTORY + 1) :] == short.past_states(domain)[-(MAX_HISTORY + 1) :]
    assert long.current_slot_values() == short.current_slot_values()
    assert short.current_slot_values()["building"] == "5"
    assert short.active_loop_name is long.active_loop_name is None


def test_a_conversation_staff_hold_is_not_rotated_until_they_hand_it_back(redis_store):
    """While paused (handoff) Rasa only logs the owner's words; a pause carried past a rotation
    could be lost, so the session waits for the resume."""
    from rasa.shared.core.events import ActionExecuted, ConversationPaused, ConversationResumed

    run(converse(redis_store, "webchat:o4", 5))
    tracker = run(redis_store.retrieve("webchat:o4"))
    tracker.update(ConversationPaused())
    for n in range(20):
        for e in turn(100 + n):
            tracker.update(e)
    run(redis_store.save(tracker))
    assert redis_store.red.llen("wuye:archive:webchat:o4") == 0
    held = run(redis_store.retrieve("webchat:o4"))
    assert held.is_paused()
    for e in (ConversationResumed(), ActionExecuted("action_listen")):
        held.update(e)
    run(redis_store.save(held))
    assert redis_store.red.llen("wuye:archive:webchat:o4") == 1
    assert not run(redis_store.retrieve("webchat:o4")).is_paused()
