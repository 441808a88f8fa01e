"""Several Rasa instances behind one gateway (connectors/rasa.py): each sender sticks to one
instance, senders spread over all of them, adding an instance moves few, and a sender whose
instance is down fails over to the next one. Stand-ins for Rasa are real HTTP servers on
127.0.0.1 (RasaStandIn, tests/conftest.py); the two-of-each stack with real Rasa is
tests/e2e/test_scale_out.py."""

from __future__ import annotations

from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from connectors.metrics import Metrics
from connectors.rasa import DialogueRejected, DialogueUnavailable, RasaClient, rendezvous
from connectors.settings import Settings
from tests.conftest import RasaStandIn

SENDERS = [f"webchat:owner{n}" for n in range(400)]
TOKENS = {"WUYE_ADMIN_TOKEN": "a", "WUYE_INTERNAL_TOKEN": "i", "WUYE_RASA_TOKEN": "r"}


class Instance(RasaStandIn):
    """A stand-in that also takes tracker events, and can be stopped and started on its port."""

    def __init__(self, aiohttp_server) -> None:
        super().__init__()
        self.events: list[tuple[str, list]] = []
        self.make = aiohttp_server
        self.server = None

    async def tracker_events(self, request):
        self.events.append((request.match_info["sender"], await request.json()))
        return web.json_response({})

    async def start(self, port: int | None = None) -> Instance:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/status", self.status)
        app.router.add_post("/conversations/{sender}/tracker/events", self.tracker_events)
        self.server = await self.make(app, **({"port": port} if port else {}))
        self.url = str(self.server.make_url("")).rstrip("/")
        return self

    async def stop(self) -> None:
        await self.server.close()  # nothing listens on the port any more: connections are refused


@pytest.fixture
async def instances(aiohttp_server):
    return [await Instance(aiohttp_server).start() for _ in range(3)]


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def client(instances, http, **kw) -> RasaClient:
    return RasaClient([i.url for i in instances], "token", http, timeout=kw.pop("timeout", 5), **kw)


def owners_of(instance: Instance) -> set[str]:
    return {sender for sender, _ in instance.seen}


# -- the hashing alone -----------------------------------------------------------------------------


def test_a_sender_always_gets_the_same_order_whatever_order_the_instances_are_listed_in():
    urls = ["http://rasa-a:5005", "http://rasa-b:5005", "http://rasa-c:5005"]
    for sender in SENDERS[:50]:
        assert rendezvous(urls, sender) == rendezvous(list(reversed(urls)), sender)
        assert sorted(rendezvous(urls, sender)) == sorted(urls)


def test_senders_spread_over_every_instance():
    urls = [f"http://rasa-{n}:5005" for n in range(3)]
    shares = Counter(rendezvous(urls, sender)[0] for sender in SENDERS)
    assert set(shares) == set(urls)
    assert min(shares.values()) >= len(SENDERS) // 3 * 0.7, shares  # 400 senders: about 133 each


def test_adding_an_instance_moves_only_the_senders_it_takes():
    before = [f"http://rasa-{n}:5005" for n in range(3)]
    after = [*before, "http://rasa-3:5005"]
    moved = [s for s in SENDERS if rendezvous(before, s)[0] != rendezvous(after, s)[0]]
    assert all(rendezvous(after, s)[0] == "http://rasa-3:5005" for s in moved)  # none between old ones
    assert 0 < len(moved) < len(SENDERS) * 0.4  # about a quarter; a modulo hash would move three quarters


def test_removing_an_instance_moves_only_its_own_senders():
    before = [f"http://rasa-{n}:5005" for n in range(3)]
    after = before[:2]
    for sender in SENDERS:
        own = rendezvous(before, sender)
        if own[0] != "http://rasa-2:5005":
            assert rendezvous(after, sender)[0] == own[0]
        else:  # its fail-over instance is where it goes: the same one the live client would pick
            assert rendezvous(after, sender)[0] == own[1]


# -- over real HTTP --------------------------------------------------------------------------------


async def test_a_sender_stays_on_one_instance_and_senders_use_them_all(instances, http):
    rasa = client(instances, http)
    for turn in range(3):
        for sender in SENDERS[:30]:
            assert await rasa.send(sender, f"第{turn}条") == [f"收到：第{turn}条"]
    served = [owners_of(i) for i in instances]
    assert all(served), [len(s) for s in served]  # every instance took some senders
    assert sum(len(s) for s in served) == 30  # and no sender was on two instances
    for instance in instances:
        for sender in owners_of(instance):
            assert [t for s, t in instance.seen if s == sender] == ["第0条", "第1条", "第2条"]
            assert rasa.route(sender)[0] == instance.url


async def test_the_senders_of_a_stopped_instance_fail_over_and_come_back(instances, http):
    rasa = client(instances, http, down_for=0.0)
    first, others = instances[0], instances[1:]
    own = [s for s in SENDERS[:60] if rasa.route(s)[0] == first.url]
    assert own
    port = first.server.port
    await first.stop()
    for sender in own:
        assert await rasa.send(sender, "还在吗") == ["收到：还在吗"]
        (fallback,) = [i for i in others if sender in owners_of(i)]
        assert fallback.url == rendezvous([i.url for i in instances], sender)[1]  # the next in its order
    await first.start(port)  # back on the same address: its senders return to it
    assert await rasa.send(own[0], "回来了") == ["收到：回来了"]
    assert first.seen == [(own[0], "回来了")]


async def test_an_instance_found_down_is_tried_last_for_a_while(instances, http):
    rasa = client(instances, http, down_for=60.0)
    first = instances[0]
    own = [s for s in SENDERS[:60] if rasa.route(s)[0] == first.url]
    await first.stop()
    await rasa.send(own[0], "一")
    assert rasa.route(own[1])[-1] == first.url  # the next sender does not wait on it first
    assert await rasa.instances_ready() == {first.url: False, instances[1].url: True, instances[2].url: True}
    assert await rasa.ready()


async def test_an_instance_answering_503_is_passed_over(instances, http):
    rasa = client(instances, http)
    instances[0].down = True  # a proxy in front of it: 503, the message never reached Rasa
    for sender in SENDERS[:30]:
        assert await rasa.send(sender, "你好") == ["收到：你好"]
    assert instances[0].seen == []


async def test_every_instance_down_is_rasa_unavailable(instances, http):
    rasa = client(instances, http)
    for instance in instances:
        await instance.stop()
    with pytest.raises(DialogueUnavailable):
        await rasa.send("webchat:someone", "你好")
    assert not await rasa.ready()


async def test_a_message_that_timed_out_is_not_sent_again_elsewhere(instances, http):
    """It may have been acted on (a ticket opened): the gateway's retry loop decides, later."""
    rasa = client(instances, http, timeout=0.3)
    sender = SENDERS[0]
    own = next(i for i in instances if i.url == rasa.route(sender)[0])
    own.delay = 2.0
    with pytest.raises(DialogueUnavailable) as failure:
        await rasa.send(sender, "报修")
    assert not isinstance(failure.value, DialogueRejected)
    assert [i.seen for i in instances if i is not own] == [[], []]
    assert rasa.route(sender)[-1] == own.url  # but the next message tries the others first


async def test_rasa_failing_on_a_message_is_not_sent_again_elsewhere(instances, http):
    rasa = client(instances, http)
    with pytest.raises(DialogueRejected):
        await rasa.send(SENDERS[0], "boom")  # a 500: Rasa got it
    assert sum(len(i.seen) for i in instances) == 1


async def test_handoff_events_go_to_the_senders_instance_or_its_fallback(instances, http):
    rasa = client(instances, http)
    sender = SENDERS[1]
    own = next(i for i in instances if i.url == rasa.route(sender)[0])
    await rasa.resume(sender)
    assert [s for s, _ in own.events] == [sender]
    await own.stop()
    await rasa.log_staff_message(sender, "师傅下午到", "staff1")
    fallback = next(i for i in instances if i.url == rasa.route(sender)[0])
    assert fallback is not own and fallback.events[-1][1][0]["text"] == "师傅下午到"


async def test_each_instance_counts_what_it_served(instances, http):
    metrics = Metrics()
    rasa = client(instances, http, metrics=metrics)
    for sender in SENDERS[:20]:
        await rasa.send(sender, "你好")
    text = metrics.registry.get_sample_value
    counted = [text("wuye_rasa_instance_messages_total", {"instance": i.url, "outcome": "ok"}) or 0 for i in instances]
    assert counted == [len(i.seen) for i in instances] and sum(counted) == 20


# -- the setting -------------------------------------------------------------------------------------


def test_one_rasa_url_still_works_and_several_are_read_in_order():
    assert Settings.from_env(TOKENS | {"WUYE_RASA_URL": "http://rasa:5005/"}).rasa_instances == ("http://rasa:5005",)
    assert Settings.from_env(TOKENS).rasa_instances == ("http://127.0.0.1:5005",)
    several = Settings.from_env(TOKENS | {"WUYE_RASA_URLS": "http://rasa-0:5005, http://rasa-1:5005,"})
    assert several.rasa_instances == ("http://rasa-0:5005", "http://rasa-1:5005")
    assert several.rasa_url == "http://rasa-0:5005"
    with pytest.raises(SystemExit, match="WUYE_RASA_URLS"):
        Settings.from_env(TOKENS | {"WUYE_RASA_URLS": "rasa-0:5005"})


# -- the probes ------------------------------------------------------------------------------------


@pytest.fixture
async def probed(aiohttp_client, backend, instances, http, unused_tcp_port_factory):
    from connectors.app import public_app
    from connectors.gateway import Gateway

    rasa = client(instances[:2], http)
    app = public_app(
        backend,
        Gateway(backend, rasa),
        admin_token="t",
        rasa=rasa,
        http=http,
        actions_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
    )
    return await aiohttp_client(app)


async def test_readiness_follows_the_rasa_instances_and_liveness_does_not(probed, instances):
    resp = await probed.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "database": True, "rasa_instances": {"1": True, "2": True}}
    await instances[0].stop()
    resp = await probed.get("/readyz")
    assert resp.status == 200  # one instance answers: its senders fail over
    assert (await resp.json())["rasa_instances"] == {"1": False, "2": True}
    health = await (await probed.get("/healthz")).json()
    assert health["checks"]["rasa"] is False and health["rasa_instances"] == {"1": False, "2": True}
    await instances[1].stop()
    resp = await probed.get("/readyz")
    assert resp.status == 503 and (await resp.json())["status"] == "not ready"
    assert (await probed.get("/livez")).status == 200
