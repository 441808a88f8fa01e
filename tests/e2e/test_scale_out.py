"""Two of each: two Rasa instances, two action servers and two gateways on one PostgreSQL database
and one Redis, a dispatcher — the layout of deploy/compose.yml, started the way ``make run`` starts
one of each (ops/stack.py). Owners talk through both gateways; every sender sticks to one Rasa
instance, both instances serve, tickets open once, and a conversation carries on when its Rasa
instance is stopped in the middle of a form (the tracker is in Redis, the other instance takes it).

Two model loads (about a minute and 2 GB together), so one stack for the whole module."""

from __future__ import annotations

import re
import urllib.request
import uuid
from types import SimpleNamespace

import psycopg
import pytest

from connectors.rasa import rendezvous
from ops.stack import Stack
from tests.conftest import ADMIN_TOKEN, DEMO, new_postgres_database
from tests.e2e.conftest import Owner, Staff, http


@pytest.fixture(scope="module")
def layout(tmp_path_factory, redis_url):
    """(the running stack, its PostgreSQL database: one of its own, so its tickets are all this test's)"""
    with new_postgres_database("wuye_scale") as postgres_url:
        yield from _started(tmp_path_factory, postgres_url, redis_url)


def _started(tmp_path_factory, postgres_url: str, redis_url: str):
    stack = Stack.isolated(
        tmp_path_factory.mktemp("scale-out"),
        rasa_instances=2,
        actions_instances=2,
        gateway_instances=2,
        WUYE_DEMO_DATA=str(DEMO),
        WUYE_RETRY_INTERVAL="1",
        WUYE_ADMIN_TOKEN=ADMIN_TOKEN,
        WUYE_DATABASE_URL=postgres_url,
        WUYE_REDIS_URL=redis_url,
    )
    stack.start()
    try:
        stack.wait_ready(timeout=600)  # two Rasa models loading at once on a shared machine
        yield stack, postgres_url
    finally:
        stack.stop()


def owner_on(stack: Stack, gateway: int, instance: int) -> Owner:
    """A new web chat owner, talking through gateway ``gateway``, whose sender Rasa instance
    ``instance`` owns."""
    while True:
        user = uuid.uuid4().hex
        if rendezvous(stack.rasa_urls, f"webchat:{user}")[0] == stack.rasa_urls[instance]:
            return Owner(SimpleNamespace(url=stack.urls[gateway]), user)


def through(owner: Owner, stack: Stack, gateway: int) -> Owner:
    """The same owner, now through another gateway (a load balancer may send them anywhere)."""
    return Owner(SimpleNamespace(url=stack.urls[gateway]), owner.user)


def served(stack: Stack) -> dict[str, float]:
    """Messages each Rasa instance answered, summed over both gateways' /metrics."""
    counts = dict.fromkeys(stack.rasa_urls, 0.0)
    for port in stack.ports("internal"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            text = resp.read().decode()
        for url in counts:
            pattern = rf'wuye_rasa_instance_messages_total\{{instance="{re.escape(url)}",outcome="ok"\}} (\S+)'
            counts[url] += sum(float(v) for v in re.findall(pattern, text))
    return counts


def tickets(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT id, building, unit, room, description FROM tickets ORDER BY id").fetchall()


FLATS = [("3", "2", "501"), ("5", "1", "302")]  # the demo community's
PROBLEMS = ["客厅空调漏水", "马桶堵了"]


def repair(owner: Owner, stack: Stack, flat: tuple[str, str, str], problem: str) -> str:
    """A whole repair conversation, its turns alternating between the two gateways; the ticket's number."""
    address = "{}号楼{}单元{}".format(*flat)
    assert "几号楼" in through(owner, stack, 0).said("报修")
    assert "问题" in through(owner, stack, 1).said(address)
    summary = through(owner, stack, 0).said(problem)
    assert address in summary and problem in summary
    return re.search(r"BX\d{6}", through(owner, stack, 1).said("是")).group()


def test_two_of_each_share_the_work_open_tickets_once_and_survive_losing_a_rasa(layout):
    stack, database_url = layout
    before = served(stack)
    owners = [owner_on(stack, gateway, instance) for gateway in (0, 1) for instance in (0, 1)]
    numbers = [repair(owner, stack, FLATS[n % 2], PROBLEMS[n % 2]) for n, owner in enumerate(owners)]
    opened = [(int(number[2:]), *FLATS[n % 2], PROBLEMS[n % 2]) for n, number in enumerate(numbers)]
    assert tickets(database_url) == opened  # one ticket per conversation, none twice

    # staff on the second gateway dispatch a ticket; its owner reads the news on the first (the dispatcher's)
    Staff(SimpleNamespace(url=stack.urls[1])).assign(numbers[0])
    assert "王师傅" in through(owners[0], stack, 0).wait_for_update("已派单")
    after = served(stack)
    assert all(after[url] - before[url] >= 8 for url in stack.rasa_urls), after  # 2 owners x 4 turns each

    # the sender's own Rasa instance stops in the middle of a form: the other takes the conversation
    halfway = owner_on(stack, 1, 0)
    assert "几号楼" in halfway.said("报修")
    assert "问题" in halfway.said("3号楼2单元501")
    stack.stop_process("rasa")  # the first instance, this owner's
    summary = through(halfway, stack, 0).said("客厅空调漏水")  # answered now, not "kept for later"
    assert "3号楼2单元501" in summary and "客厅空调漏水" in summary
    number = int(re.search(r"BX(\d{6})", halfway.said("是")).group(1))
    assert tickets(database_url) == [*opened, (number, "3", "2", "501", "客厅空调漏水")]
    assert served(stack)[stack.rasa_urls[1]] - after[stack.rasa_urls[1]] >= 2

    # the gateways still take owners (ready), and say which instance is missing (not healthy)
    for url in stack.urls:
        status, body = http("GET", f"{url}/readyz")
        assert status == 200 and body["rasa_instances"] == {"1": False, "2": True}
        status, body = http("GET", f"{url}/healthz")
        assert status == 503 and body["checks"]["rasa"] is False
