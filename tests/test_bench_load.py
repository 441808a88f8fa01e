"""The load generator (bench/load.py) counts what happened, over real HTTP on loopback.

Protects: every message sent is counted once as answered, held (the gateway's "busy"/"queued"
notice), empty or an error; a refused connection and a non-200 answer are errors, never
latencies; the open loop sends the messages it planned and keeps each owner's turns in order;
the phase timings parse from a /metrics page. For the callbacks' owners (bench/owners.py): an
answer's latency stops at its first message and the owner reads on until the rest has come; a
held notice is known from its first SMS piece; bare Rasa gets the channel's conversation id; the
reconciliation tells a turn whose answer was still arriving when the owner wrote again. No timing
is asserted (those live in bench/). The whole run against a real stack and a bare Rasa is
tests/e2e/test_bench_load.py; the callbacks' owners on the real stack, tests/e2e/test_bench_callbacks.py.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from bench import load, owners
from bot.text.script import Script, render
from connectors.gateway import BUSY_REPLY
from connectors.sms.texts import split_reply


def nothing_listens() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_a_refused_connection_is_an_error_not_a_latency():
    tally = await load.closed_loop(load.gateway_target(nothing_listens()), 2, 0.3)
    assert tally.sent > 0 and tally.errors == tally.sent
    assert tally.answered == 0 and tally.latencies_ms == []


async def test_answers_held_empty_and_failed_are_counted_apart(aiohttp_server):
    said: list[tuple[str, str]] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        said.append((body["sender"], body["text"]))
        if body["text"] in ("谢谢", "谢谢啦"):
            return web.json_response({"error": "boom"}, status=500)
        if body["text"] == "再见":
            return web.json_response({"replies": []})
        if body["text"] == "你好":
            return web.json_response({"replies": [{"text": BUSY_REPLY}]})
        return web.json_response({"replies": [{"text": "好的"}]})

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    server = await aiohttp_server(app)
    texts = load.turns(40)
    tally = await load.sequential(load.gateway_target(str(server.make_url("")).rstrip("/")), 40, texts=texts)

    assert tally.sent == len(said) == 40
    assert tally.errors == texts.count("谢谢") + texts.count("谢谢啦")
    assert tally.empty == texts.count("再见")
    assert tally.held == texts.count("你好")
    assert tally.answered == 40 - tally.errors - tally.empty - tally.held == len(tally.latencies_ms)
    summary = tally.summary()
    assert {"p50_ms", "p99_ms", "max_ms"} <= summary.keys() and summary["sent"] == 40


async def test_the_open_loop_sends_what_it_planned_and_keeps_each_owners_turns_in_order(aiohttp_server):
    said: list[tuple[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        said.append((body["sender"], body["message"]))
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    tally = await load.open_loop(load.bare_target(str(server.make_url("")).rstrip("/")), 40.0, 1.0)

    assert tally.sent == tally.answered == len(said) > 0
    conversations = [turns for turns in load.mixed()]
    by_sender: dict[str, list[str]] = {}
    for sender, text in said:
        by_sender.setdefault(sender, []).append(text)
    for texts in by_sender.values():  # each owner's messages are a prefix of one conversation, in order
        assert any(c[: len(texts)] == texts for c in conversations)


def test_phase_timings_are_read_from_a_metrics_page():
    page = "\n".join(
        [
            "# TYPE wuye_turn_phase_seconds histogram",
            'wuye_turn_phase_seconds_count{phase="record"} 4.0',
            'wuye_turn_phase_seconds_sum{phase="record"} 0.02',
            "# TYPE wuye_rasa_seconds histogram",
            'wuye_rasa_seconds_count{outcome="ok"} 4.0',
            'wuye_rasa_seconds_sum{outcome="ok"} 0.4',
            'wuye_rasa_seconds_count{outcome="unavailable"} 1.0',
            'wuye_rasa_seconds_sum{outcome="unavailable"} 20.0',
            "",
        ]
    )
    totals = load.phase_totals(page)
    assert totals == {"record": (0.02, 4.0), "rasa_call": (0.4, 4.0)}
    assert load.phase_means({"record": (0.01, 2.0)}, totals) == {"record": 5.0, "rasa_call": 100.0}


def test_action_calls_and_bot_api_calls_per_message_are_read_from_the_action_servers_metrics():
    page = "\n".join(
        [
            "# TYPE wuye_action_seconds histogram",
            'wuye_action_seconds_count{action="action_answer_fee",outcome="ok"} 3.0',
            'wuye_action_seconds_sum{action="action_answer_fee",outcome="ok"} 0.3',
            'wuye_action_seconds_count{action="validate_repair_form",outcome="ok"} 1.0',
            'wuye_action_seconds_sum{action="validate_repair_form",outcome="ok"} 0.1',
            "# TYPE wuye_backend_call_seconds histogram",
            'wuye_backend_call_seconds_count{method="GET",route="/bot/v1/fees",outcome="ok"} 2.0',
            'wuye_backend_call_seconds_sum{method="GET",route="/bot/v1/fees",outcome="ok"} 0.04',
            "",
        ]
    )
    totals = load.action_totals(page)
    assert totals == {"action_call": (0.4, 4.0), "bot_api_call": (0.04, 2.0)}
    assert load.per_turn({}, totals, 2) == {
        "action_call": {"calls": 2.0, "ms": 200.0},
        "bot_api_call": {"calls": 1.0, "ms": 20.0},
    }


def test_profile_samples_are_shared_by_category_and_a_waiting_driver_thread_is_not_counted():
    idle = load._idle_leaves()
    assert idle  # aiosqlite's worker thread waiting on its queue: found in the installed source
    raw = "\n".join(
        [
            f"_bootstrap (threading.py:1);{idle[0]} 50",  # waiting: not CPU
            "_bootstrap (threading.py:1);_connection_worker_thread (aiosqlite/core.py:1) 10",
            "handle (connectors/gateway.py:1);execute (sqlalchemy/orm/session.py:1) 20",
            "handle (connectors/gateway.py:1) 10",
            "main (asyncio/runners.py:1) 10",
        ]
    )
    shares = load.categorise(raw, load.CATEGORIES["gateway"])
    assert shares == {
        "SQLite driver thread (statements, commits, fsync)": 20.0,
        "SQLAlchemy in the event loop (ORM, statements)": 40.0,
        "gateway and channels (ours)": 20.0,
        "other": 20.0,
    }


async def test_run_load_plays_whole_conversations_and_counts_what_was_not_answered(aiohttp_server):
    said: list[str] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        said.append(body["text"])
        if body["text"] == "再见":
            return web.json_response({"error": "boom"}, status=500)
        return web.json_response({"replies": [{"text": "好的"}]})

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    server = await aiohttp_server(app)
    conversations = load.mixed()
    result = await load.run_load(str(server.make_url("")).rstrip("/"), len(conversations), 3)

    assert len(said) == sum(len(c) for c in conversations)
    assert result["not_answered"] == said.count("再见") and result["messages"] == len(said) - said.count("再见")
    assert result["concurrent_senders"] == 3 and result["p99_ms"] is not None


def test_a_held_notice_is_known_from_its_first_sms_piece_in_either_script():
    for script in (None, Script.TRADITIONAL):
        first_piece = split_reply(render(BUSY_REPLY, script))[0]
        assert owners.outcome([first_piece]) == "held"
    assert owners.outcome(["好的，请问哪里坏了？"]) == "answered"
    assert owners.outcome([]) == owners.outcome([""]) == "empty"


async def test_an_answer_is_its_messages_after_the_owner_wrote_timed_from_the_first():
    inbox = owners.Inbox()
    inbox.take("o1", "前一个回答")  # the previous turn's: already seen

    async def platform() -> None:
        await asyncio.sleep(0.05)
        inbox.take("o2", "别人的")
        inbox.take("o1", "第一条")
        await asyncio.sleep(0.05)
        inbox.take("o1", "第二条")

    task = asyncio.create_task(platform())
    parts = await inbox.answer("o1", 1, timeout=5, quiet=0.2)
    await task
    assert [p.text for p in parts] == ["第一条", "第二条"]
    assert parts[1].at - parts[0].at >= 0.04  # the latency stops at the first; reading went on to the second
    assert await inbox.answer("o1", 3, timeout=0.1, quiet=0.1) is None  # nothing more: no answer


async def test_bare_rasa_gets_the_channels_conversation_id_and_its_owner_reads_after_the_answer(aiohttp_server):
    said: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        said.append((await request.json())["sender"])
        return web.json_response([{"text": "好的"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    send = owners.paced(load.bare_target(str(server.make_url("")).rstrip("/"), "sms"), 0.2)
    tally = await load.sequential(send, 2, new_sender=lambda: "13900000001")

    assert said == ["sms:13900000001"] * 2 and tally.answered == 2
    assert max(tally.latencies_ms) < 200 <= tally.seconds * 1000 / 2  # the reading is not in the latency


def test_a_turn_whose_answer_was_still_arriving_when_the_owner_wrote_again_is_told():
    part = owners.Part
    sms = owners.SmsOwners()
    turns = [owners.Turn(0.0, "answered"), owners.Turn(1.0, "answered"), owners.Turn(3.0, "answered")]
    logged = [{"replies": ["a", "b"]}, {"replies": ["c"]}, {"replies": ["d"]}]
    # turn 1: two answers (the second in two pieces); turn 2's answer; turn 3's
    in_time = [
        part(0.5, "a", "k1"),
        part(0.6, "b1", "k2"),
        part(0.7, "b2", "k2"),
        part(2, "c", "k3"),
        part(4, "d", "k4"),
    ]
    assert sms._attribute(turns, logged, in_time) == 0
    late = [part(0.5, "a", "k1"), part(0.6, "b1", "k2"), part(1.2, "b2", "k2"), part(2, "c", "k3"), part(4, "d", "k4")]
    assert sms._attribute(turns, logged, late) == 1
