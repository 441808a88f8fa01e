"""/metrics on the gateway's loopback app, over real HTTP: it counts what happened.

Protects: owner messages in and replies out are counted per channel (a retried message once,
an empty one not at all), each answered message's wait and each Rasa call are in the histograms
(by count: timings are never asserted), a message Rasa could not answer is not counted as
answered; each phase of a turn answered in the request (sender's lock, recording, answering,
replies, the whole turn) is timed once per message; the outbox's depth and its oldest
notification's age, dead letters and SLA breaches are read from the store when scraped;
/metrics is served on the loopback app only, never on the public one; the output parses as
Prometheus text; two apps in one process count apart.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from backend_bridge.domain import commands, model
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.ports import DeliveryFailed
from connectors.app import internal_app, public_app
from connectors.channel import Inbound
from connectors.gateway import BUSY_REPLY, Gateway
from connectors.metrics import Metrics
from connectors.rasa import RasaClient
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN

WEB = {"channel": "webchat"}


@pytest.fixture
async def apps(aiohttp_client, backend, rasa, unused_tcp_port_factory):
    """``apps(rasa_up=True)`` → (public client, internal client) sharing one Metrics, as
    connectors.app.build wires them; Rasa is the stand-in, or an address where nothing listens."""
    async with aiohttp.ClientSession() as http:

        async def make(rasa_up: bool = True):
            metrics = Metrics()
            url = rasa.url if rasa_up else f"http://127.0.0.1:{unused_tcp_port_factory()}"
            client = RasaClient(url, "token", http, timeout=5, metrics=metrics)
            public = public_app(
                backend,
                Gateway(backend, client, metrics=metrics),
                admin_token=ADMIN_TOKEN,
                rasa=client,
                http=http,
                actions_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
            )
            internal = internal_app(backend, token=INTERNAL_TOKEN, timezone=ZoneInfo("Asia/Shanghai"), metrics=metrics)
            return await aiohttp_client(public), await aiohttp_client(internal)

        yield make


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample /metrics answers, by name and labels."""
    resp = await client.get("/metrics")
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(await resp.text())
        for sample in family.samples
    }


def value(samples: dict, name: str, labels: dict | None = None) -> float:
    """A sample's value; 0 when it was never counted (a labelled series appears on first use)."""
    return samples.get((name, frozenset((labels or {}).items())), 0.0)


async def chat(client, user: str, text: str, message_id: str | None = None) -> list[str]:
    body = {"sender": user, "text": text} | ({"message_id": message_id} if message_id else {})
    resp = await client.post("/api/chat", json=body)
    assert resp.status == 200, await resp.text()
    return [r["text"] for r in (await resp.json())["replies"]]


async def test_n_web_chat_messages_are_counted_in_and_their_replies_out(apps):
    public, internal = await apps()
    before = await scrape(internal)
    assert value(before, "wuye_messages_in_total", WEB) == 0

    for i in range(3):
        assert await chat(public, "owner-a", f"厨房漏水{i}", f"a{i}") == [f"收到：厨房漏水{i}"]
    await chat(public, "owner-b", "查物业费")
    await chat(public, "owner-a", "厨房漏水0", "a0")  # the page's retry: answered again, not counted again
    await chat(public, "owner-b", "  ")  # nothing to write down: answered, not counted

    after = await scrape(internal)
    assert value(after, "wuye_messages_in_total", WEB) == 4
    assert value(after, "wuye_replies_out_total", WEB) == 4
    assert value(after, "wuye_reply_seconds_count", WEB) == 4
    assert value(after, "wuye_reply_seconds_bucket", WEB | {"le": "+Inf"}) == 4
    assert value(after, "wuye_rasa_seconds_count", {"outcome": "ok"}) == 4


async def test_each_message_answered_in_the_request_is_timed_in_every_phase_of_its_turn(apps):
    public, internal = await apps()
    for i in range(3):
        await chat(public, "owner-a", f"厨房漏水{i}", f"a{i}")
    await chat(public, "owner-a", "厨房漏水0", "a0")  # a retry: replayed, no turn of its own
    samples = await scrape(internal)
    for phase in ("lock", "record", "respond", "reply", "turn"):
        assert value(samples, "wuye_turn_phase_seconds_count", {"phase": phase}) == (
            4 if phase in ("lock", "record") else 3
        )
    assert value(samples, "wuye_rasa_seconds_count", {"outcome": "ok"}) == 3  # the Rasa call inside "respond"


async def test_a_message_rasa_could_not_answer_is_counted_in_but_not_as_answered(apps):
    public, internal = await apps(rasa_up=False)
    assert await chat(public, "owner-a", "电梯坏了") == [BUSY_REPLY]
    samples = await scrape(internal)
    assert value(samples, "wuye_messages_in_total", WEB) == 1
    assert value(samples, "wuye_replies_out_total", WEB) == 1  # the owner was told to wait
    assert value(samples, "wuye_reply_seconds_count", WEB) == 0  # answered later, through the backlog
    assert value(samples, "wuye_rasa_seconds_count", {"outcome": "unavailable"}) == 1
    assert value(samples, "wuye_rasa_seconds_count", {"outcome": "ok"}) == 0


async def test_messages_answered_in_the_background_count_on_their_own_channel(aiohttp_client, backend, rasa):
    """The path WeChat takes (accept: answered in the background) and the backlog after an outage."""
    metrics = Metrics()
    async with aiohttp.ClientSession() as http:
        gateway = Gateway(backend, RasaClient(rasa.url, "token", http, timeout=5, metrics=metrics), metrics=metrics)
        internal = await aiohttp_client(
            internal_app(backend, token=INTERNAL_TOKEN, timezone=ZoneInfo("Asia/Shanghai"), metrics=metrics)
        )
        assert (await gateway.accept(Inbound("wechat", "openid-1", "你好"), answer_within=5)).replies == ["收到：你好"]
        rasa.down = True
        assert await gateway.handle(Inbound("sms", "13800000501", "报修")) == [BUSY_REPLY]
        rasa.down = False
        await gateway.answer_backlog()  # the SMS owner's answer, pushed through the outbox
        samples = await scrape(internal)

    wechat, sms = {"channel": "wechat"}, {"channel": "sms"}
    assert value(samples, "wuye_messages_in_total", wechat) == 1
    assert value(samples, "wuye_replies_out_total", wechat) == 1
    assert value(samples, "wuye_reply_seconds_count", wechat) == 1
    assert value(samples, "wuye_messages_in_total", sms) == 1
    assert value(samples, "wuye_replies_out_total", sms) == 2  # "please wait", then the answer
    assert value(samples, "wuye_reply_seconds_count", sms) == 1  # answered once
    assert value(samples, "wuye_rasa_seconds_count", {"outcome": "unavailable"}) == 1  # 503: it never reached Rasa
    assert value(samples, "wuye_rasa_seconds_count", {"outcome": "ok"}) == 2
    assert value(samples, "wuye_messages_in_total", WEB) == 0


async def queue(backend, recipient: str, count: int) -> None:
    async with backend.new_uow() as uow:
        for i in range(count):
            await uow.notifications.add(model.Notification(recipient, f"消息 {i}", "test", backend.clock()))
        await uow.commit()


async def test_the_outbox_depth_and_the_age_of_its_oldest_notification(apps, backend, clock):
    _, internal = await apps()
    samples = await scrape(internal)
    assert (value(samples, "wuye_outbox_pending"), value(samples, "wuye_outbox_oldest_seconds")) == (0, 0)

    await queue(backend, "test:a", 2)
    clock.advance(seconds=90)
    await queue(backend, "test:b", 1)
    samples = await scrape(internal)
    assert value(samples, "wuye_outbox_pending") == 3
    assert value(samples, "wuye_outbox_oldest_seconds") == 90

    delivered = await Dispatcher(backend.new_uow, {"test": _accept}, clock).poll_once()
    assert delivered == 3
    samples = await scrape(internal)
    assert (value(samples, "wuye_outbox_pending"), value(samples, "wuye_outbox_oldest_seconds")) == (0, 0)


async def _accept(notification: model.Notification) -> None:
    return None


async def _refuse(notification: model.Notification) -> None:
    raise DeliveryFailed("no such user", permanent=True)


async def test_a_dead_lettered_notification_shows_in_the_gauge_until_retried(apps, backend):
    _, internal = await apps()
    await queue(backend, "test:a", 1)
    assert value(await scrape(internal), "wuye_dead_letters") == 0

    await Dispatcher(backend.new_uow, {"test": _refuse}, backend.clock).poll_once()
    samples = await scrape(internal)
    assert value(samples, "wuye_dead_letters") == 1
    assert value(samples, "wuye_outbox_pending") == 0

    async with backend.new_uow() as uow:
        (dead,) = await uow.notifications.dead()
    await backend.bus.handle(commands.RetryNotification(dead.id, actor="admin"))
    samples = await scrape(internal)
    assert (value(samples, "wuye_dead_letters"), value(samples, "wuye_outbox_pending")) == (0, 1)


async def test_open_tickets_past_a_deadline_are_sla_breaches(apps, backend, clock):
    _, internal = await apps()
    opened = await backend.bus.handle(
        commands.OpenTicket("webchat:alice", "repair", "厨房水龙头漏水", building="3", unit="2", room="501")
    )
    assert value(await scrape(internal), "wuye_sla_breaches") == 0

    clock.advance(hours=24, seconds=1)  # past the 30-minute response and the 24-hour resolution promise
    assert value(await scrape(internal), "wuye_sla_breaches") == 1

    await backend.bus.handle(commands.ChangeTicketStatus(opened.number, "cancelled", actor="admin"))
    assert value(await scrape(internal), "wuye_sla_breaches") == 0  # no longer open


async def test_metrics_are_not_served_on_the_public_port(apps):
    public, internal = await apps()
    assert (await public.get("/metrics")).status == 404
    assert (await internal.get("/metrics")).status == 200


async def test_the_output_is_prometheus_text_with_every_metric_typed(apps):
    public, internal = await apps()
    await chat(public, "owner-a", "你好")
    resp = await internal.get("/metrics")
    families = {f.name: f.type for f in text_string_to_metric_families(await resp.text())}
    ours = {n: kind for n, kind in families.items() if n.startswith("wuye_") and not n.endswith("_created")}
    assert ours == {
        "wuye_messages_in": "counter",
        "wuye_replies_out": "counter",
        "wuye_reply_seconds": "histogram",
        "wuye_rasa_seconds": "histogram",
        "wuye_rasa_instance_messages": "counter",  # connectors/rasa.py: per Rasa instance
        "wuye_turn_phase_seconds": "histogram",
        "wuye_outbox_pending": "gauge",
        "wuye_outbox_oldest_seconds": "gauge",
        "wuye_dead_letters": "gauge",
        "wuye_sla_breaches": "gauge",
    }


async def test_a_scraper_asking_for_openmetrics_gets_it(apps):
    public, internal = await apps()
    await chat(public, "owner-a", "你好")
    resp = await internal.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert resp.content_type == "application/openmetrics-text"
    families = {f.name: f for f in openmetrics_families(await resp.text())}
    assert families["wuye_messages_in"].type == "counter"
    totals = {(s.name, s.labels["channel"]): s.value for s in families["wuye_messages_in"].samples}
    assert totals[("wuye_messages_in_total", "webchat")] == 1


async def test_two_apps_in_one_process_count_apart(apps):
    first_public, first_internal = await apps()
    _, second_internal = await apps()
    await chat(first_public, "owner-a", "你好")
    assert value(await scrape(first_internal), "wuye_messages_in_total", WEB) == 1
    assert value(await scrape(second_internal), "wuye_messages_in_total", WEB) == 0


def test_action_server_labels_stay_few():
    """Ticket numbers and ids in bot API paths fold into one series; words stay; status codes
    become the outcome words the histogram is labelled by."""
    from actions.metrics import outcome_of, route_of

    assert route_of("/bot/v1/tickets/WY20261128-0012/chase") == "/bot/v1/tickets/{id}/chase"
    assert route_of("/bot/v1/tickets/20261030-0017?sender=x") == "/bot/v1/tickets/{id}"
    assert route_of("/bot/v1/content/fees/parking") == "/bot/v1/content/fees/parking"
    assert route_of("/bot/v1/tickets") == "/bot/v1/tickets"
    assert [outcome_of(s) for s in (200, 400, 404, 449, 500)] == ["ok", "rejected", "not_found", "error", "error"]
