"""An external property system of record (HC小区, 明源, …), over real HTTP on 127.0.0.1.

Protects: tickets we open are created there with our number and nothing that identifies
the owner; a system that is down (or answers too late) costs the owner nothing, and
SyncTickets later creates each ticket there exactly once (the idempotency key); their
status changes come back by signed webhook and reach the owner like our own staff's; and
a forged, stale, replayed, unknown or illegal webhook changes nothing.

The fake system checks what it receives the way a real one would: the bearer key, the
request signature and its timestamp, the idempotency key, and it replays the first
answer for a key it has seen. It signs its webhooks with its own HMAC code, not ours.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from backend_bridge.adapters import orm
from backend_bridge.adapters.external import HttpTicketSystem
from backend_bridge.domain import commands, model
from backend_bridge.service_layer.external_sync import DELIVERY_PREFIX, SyncTickets
from backend_bridge.service_layer.ports import DeliveryFailed
from tests.conftest import CONTENT, DEMO, chunked

SYSTEM = "hc"
API_KEY = "hc-api-key-7f3e"
SECRET = "hc-webhook-secret-c41a"
TIMEOUT = 1.0  # our adapter's; the fake's "slow" answers take longer
OWNER_ID = "owner-zhang-4c1d9e"
OWNER = f"webchat:{OWNER_ID}"
PHONE = "13800000501"
LEAK = "卫生间下水道堵了-91ce"


def signature(secret: str, timestamp: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()


class FakePropertySystem:
    """The external system: POST /tickets as a real one checks it, and signed webhooks to us."""

    def __init__(self, clock, port: int) -> None:
        self.clock = clock
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.tickets: dict[str, dict] = {}  # their id → what we sent, with the idempotency key
        self.by_key: dict[str, tuple[dict, str]] = {}
        self.received: list[bytes] = []  # every request body, accepted or not
        self.refused: list[int] = []
        self.replayed = 0
        self.answer_after = 0.0  # seconds: the ticket is created, the answer comes late
        self.fail_with: int | None = None
        self.garbled: bytes | None = None  # answered (chunked, no Content-Length) instead of its answer
        self.cancelled: dict[str, dict] = {}  # their id → the cancellation we sent, with its idempotency key
        self.cancel_calls: list[tuple[str, dict]] = []  # every cancel that passed the checks, replays too
        self.cancel_fails_with: int | None = None
        self.server = None
        self._events = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/tickets", self.create)
        app.router.add_post("/tickets/{their_id}/cancel", self.cancel)
        return app

    def _unsigned(self, request: web.Request, raw: bytes) -> str | None:
        """Why a request is refused before its body is read: key, timestamp, signature, idempotency key."""
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return "bad api key"
        timestamp = request.headers.get("X-Wuye-Timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.clock().timestamp()) > 300:
            return "stale or missing timestamp"
        given = request.headers.get("X-Wuye-Signature", "")
        if not hmac.compare_digest(given.encode(), signature(SECRET, timestamp, raw).encode()):
            return "bad signature"
        if not request.headers.get("Idempotency-Key"):
            return "Idempotency-Key is required"
        return None

    async def cancel(self, request: web.Request) -> web.Response:
        """Cancel one of their tickets: signed like a creation; again with the same key is a success."""
        raw = await request.read()
        self.received.append(raw)
        if why := self._unsigned(request, raw):
            return await self._refuse(request, 400 if "Idempotency" in why else 401, why)
        if self.cancel_fails_with:
            return await self._refuse(request, self.cancel_fails_with, "unavailable")
        their_id, key = request.match_info["their_id"], request.headers["Idempotency-Key"]
        body = json.loads(raw)
        if their_id not in self.tickets:
            return await self._refuse(request, 404, "no such ticket")
        if body.get("number") != self.tickets[their_id]["number"] or not body.get("reason"):
            return await self._refuse(request, 422, "number does not match or no reason")
        self.cancel_calls.append((their_id, {**body, "idempotency_key": key}))
        if their_id in self.cancelled:
            self.replayed += 1
            return web.json_response({"id": their_id, "status": "cancelled"}, headers={"Idempotent-Replayed": "true"})
        self.cancelled[their_id] = {**body, "idempotency_key": key}
        return web.json_response({"id": their_id, "status": "cancelled"})

    async def _refuse(self, request: web.Request, status: int, message: str) -> web.StreamResponse:
        self.refused.append(status)
        if self.garbled is not None:
            return await chunked(request, self.garbled, status, hold=self.answer_after)
        return web.json_response({"error": message}, status=status)

    async def create(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(raw)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return await self._refuse(request, 401, "bad api key")
        timestamp = request.headers.get("X-Wuye-Timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.clock().timestamp()) > 300:
            return await self._refuse(request, 401, "stale or missing timestamp")
        given = request.headers.get("X-Wuye-Signature", "")
        if not hmac.compare_digest(given.encode(), signature(SECRET, timestamp, raw).encode()):
            return await self._refuse(request, 401, "bad signature")
        key = request.headers.get("Idempotency-Key")
        if not key:
            return await self._refuse(request, 400, "Idempotency-Key is required")
        if self.fail_with:
            return await self._refuse(request, self.fail_with, "unavailable")
        try:
            body = json.loads(raw)
        except ValueError:
            return await self._refuse(request, 400, "not json")
        if not all(body.get(k) for k in ("number", "kind", "description", "location")):
            return await self._refuse(request, 400, "missing fields")
        if key in self.by_key:
            first, their_id = self.by_key[key]
            if first != body:
                return await self._refuse(request, 422, "Idempotency-Key reused with a different request")
            self.replayed += 1
            if self.garbled is not None:
                return await chunked(request, self.garbled)
            return web.json_response({"id": their_id}, headers={"Idempotent-Replayed": "true"})
        their_id = f"HC-{len(self.tickets) + 1:05d}"
        self.tickets[their_id] = {**body, "idempotency_key": key}
        self.by_key[key] = (body, their_id)
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        if self.garbled is not None:
            return await chunked(request, self.garbled, 201)
        return web.json_response({"id": their_id}, status=201)

    async def webhook(
        self,
        target: str,
        their_id: str,
        status: str,
        *,
        event_id: str | None = None,
        secret: str = SECRET,
        at: datetime | None = None,
        raw: bytes | None = None,
        signed: bytes | None = None,
        headers: dict | None = None,
        **fields: str,
    ) -> tuple[int, dict]:
        """POST a signed status change to our public app; (status, JSON answer).

        ``raw`` replaces the JSON body, ``signed`` is what gets signed instead of the body,
        ``headers`` override ours (None removes one).
        """
        self._events += 1
        body = {"event_id": event_id or f"evt-{self._events}", "ticket_id": their_id, "status": status, **fields}
        raw = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        timestamp = str(int((at or self.clock()).timestamp()))
        sent = {
            "Content-Type": "application/json",
            "X-Wuye-Timestamp": timestamp,
            "X-Wuye-Signature": signature(secret, timestamp, raw if signed is None else signed),
        }
        sent = {k: v for k, v in {**sent, **(headers or {})}.items() if v is not None}
        async with aiohttp.ClientSession() as http, http.post(target, data=raw, headers=sent) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def fake(aiohttp_server, unused_tcp_port_factory, clock):
    system = FakePropertySystem(clock, unused_tcp_port_factory())

    async def up() -> None:
        system.server = await aiohttp_server(system.app(), port=system.port)

    async def down() -> None:
        await system.server.close()

    system.up, system.down = up, down
    await up()
    return system


@pytest.fixture
async def backend(database_url, clock, dialogue, fake):
    """As in tests/conftest.py, with the fake as the system of record (public_client uses this one)."""
    from zoneinfo import ZoneInfo

    from backend_bridge.adapters.orm import metadata
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.demo import load_demo
    from backend_bridge.domain.commands import SyncCommunities
    from backend_bridge.service_layer.ports import NullNotifier

    async with aiohttp.ClientSession() as http:
        external = HttpTicketSystem(SYSTEM, fake.url, API_KEY, SECRET, http, timeout=TIMEOUT, clock=clock)
        built = await bootstrap(database_url, CONTENT, dialogue, NullNotifier(), clock=clock, external=external)
        async with built.engine.begin() as conn:  # the PostgreSQL database is shared by the session
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await built.bus.handle(SyncCommunities())
        await load_demo(built, DEMO, ZoneInfo("Asia/Shanghai"), with_staff=False)
        yield built
        await built.close()


async def open_ticket(backend) -> str:
    await backend.bus.handle(commands.BindSender(sender=OWNER, building="3", unit="2", room="501", phone=PHONE))
    result = await backend.bus.handle(
        commands.OpenTicket(sender=OWNER, kind="repair", description=LEAK, building="3", unit="2", room="501")
    )
    return result.number


async def ticket(backend, number: str) -> model.Ticket:
    async with backend.new_uow() as uow:
        found = await uow.tickets.by_number(number)
        uow.session.expunge(found)  # readable after the unit of work rolls back
        return found


async def owner_notifications(backend, recipient: str = OWNER) -> list[tuple[str, str]]:
    async with backend.new_uow() as uow:
        stmt = select(model.Notification).where(model.Notification.recipient == recipient)
        return [(n.kind, n.text) for n in await uow.session.scalars(stmt.order_by(model.Notification.id))]


async def state(backend, number: str) -> tuple:
    """Everything a refused webhook must leave alone."""
    found = await ticket(backend, number)
    async with backend.new_uow() as uow:
        notifications = await uow.session.scalar(select(func.count()).select_from(orm.notifications))
        events = orm.external_events  # event ids used up; a refused request is kept apart, by design
        applied = events.c.event_id.not_like(f"{DELIVERY_PREFIX}%")
        seen = await uow.session.scalar(select(func.count()).select_from(events).where(applied))
    return found.status, found.assignee, len(found.history), notifications, seen


def hook(client, system: str = SYSTEM) -> str:
    return str(client.make_url(f"/api/external/{system}/webhook"))


# -- out: tickets created there ------------------------------------------------------------------


async def test_a_ticket_we_open_is_created_there_with_our_number_and_nothing_about_the_owner(backend, fake, clock):
    number = await open_ticket(backend)

    [(their_id, sent)] = fake.tickets.items()
    assert sent["number"] == number and sent["idempotency_key"] == number
    assert (sent["kind"], sent["priority"], sent["description"]) == ("repair", "normal", LEAK)
    assert sent["location"] == {"building": "3", "unit": "2", "room": "501", "public_area": None}
    assert datetime.fromisoformat(sent["created_at"]) == clock()
    [raw] = fake.received
    assert OWNER_ID.encode() not in raw and PHONE.encode() not in raw and b"sender" not in raw
    assert fake.refused == []

    stored = await ticket(backend, number)
    assert stored.external_id == their_id and stored.status is model.TicketStatus.NEW
    synced = stored.history[-1]
    assert synced.type is model.EventType.SYNCED and synced.data == {"system": SYSTEM, "external_id": their_id}


async def test_what_the_system_refuses_is_permanent_unless_retrying_can_help(fake, clock):
    payload = {"number": "BX000042", "kind": "repair", "description": "灯不亮", "location": {"building": "1"}}
    async with aiohttp.ClientSession() as http:

        async def create(api_key: str = API_KEY, secret: str = SECRET) -> str:
            return await HttpTicketSystem(
                SYSTEM, fake.url, api_key, secret, http, timeout=TIMEOUT, clock=clock
            ).create_ticket(payload)

        for api_key, secret in (("wrong-key", SECRET), (API_KEY, "wrong-secret")):
            with pytest.raises(DeliveryFailed) as refused:
                await create(api_key, secret)
            assert refused.value.permanent and "401" in str(refused.value)
            assert API_KEY not in str(refused.value) and SECRET not in str(refused.value)
        for status, permanent in ((503, False), (429, False), (408, False), (500, False), (422, True), (404, True)):
            fake.fail_with = status
            with pytest.raises(DeliveryFailed) as failed:
                await create()
            assert failed.value.permanent is permanent, status
        fake.fail_with = None
        assert await create() == await create() == "HC-00001"  # the second is a replay of the first
        assert fake.replayed == 1
        clock.advance(minutes=10)  # our clock runs ahead of theirs: they refuse the stale signature
        fake.clock = lambda: clock() - timedelta(minutes=10)
        with pytest.raises(DeliveryFailed):
            await create()
        await fake.down()
        with pytest.raises(DeliveryFailed) as down:
            await create()
        assert not down.value.permanent


async def test_while_the_system_is_down_the_ticket_stays_open_here_and_syncs_once_later(backend, fake):
    await fake.down()
    number = await open_ticket(backend)  # the owner gets a number whatever the other system does

    stored = await ticket(backend, number)
    assert stored.status is model.TicketStatus.NEW and stored.external_id is None
    assert model.EventType.SYNCED not in [e.type for e in stored.history]
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 1, "cancelled": 0}

    await fake.up()
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 1, "failed": 0, "cancelled": 0}
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    [(their_id, sent)] = fake.tickets.items()
    assert sent["number"] == number and len(fake.received) == 1
    stored = await ticket(backend, number)
    assert stored.external_id == their_id
    assert [e.type for e in stored.history].count(model.EventType.SYNCED) == 1


async def test_an_answer_lost_to_a_timeout_is_retried_with_the_same_key_and_creates_one_ticket(backend, fake):
    fake.answer_after = TIMEOUT + 0.5
    number = await open_ticket(backend)
    assert (await ticket(backend, number)).external_id is None  # we could not know it was created
    assert len(fake.tickets) == 1

    fake.answer_after = 0
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 1, "failed": 0, "cancelled": 0}
    [their_id] = fake.tickets
    assert fake.replayed == 1 and len(fake.received) == 2
    assert (await ticket(backend, number)).external_id == their_id


GARBLED_ANSWERS = {
    "over 1 MiB": b'{"id": "HC-00001", "padding": "' + b"x" * 2 * 1024 * 1024 + b'"}',
    "not JSON": b"<html>502 Bad Gateway</html>",
    "nested too deeply": b"[" * 100_000,
    "an integer past the conversion limit": b'{"id": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("garbled", GARBLED_ANSWERS.values(), ids=GARBLED_ANSWERS.keys())
async def test_a_garbled_answer_is_the_system_failing_and_the_ticket_syncs_once_later(backend, fake, garbled):
    fake.garbled = garbled
    number = await open_ticket(backend)
    assert (await ticket(backend, number)).external_id is None  # as if it timed out: retried later
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 1, "cancelled": 0}

    fake.garbled = None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 1, "failed": 0, "cancelled": 0}
    [their_id] = fake.tickets
    assert (await ticket(backend, number)).external_id == their_id and fake.replayed == 2


async def test_only_the_start_of_a_huge_error_answer_is_read_and_quoted(fake, clock):
    fake.fail_with, fake.garbled = 503, b"x" * 2 * 1024 * 1024
    fake.answer_after = TIMEOUT + 0.5  # its end comes after our timeout: reading to the end would time out
    payload = {"number": "BX000042", "kind": "repair", "description": "灯不亮", "location": {"building": "1"}}
    async with aiohttp.ClientSession() as http:
        system = HttpTicketSystem(SYSTEM, fake.url, API_KEY, SECRET, http, timeout=TIMEOUT, clock=clock)
        with pytest.raises(DeliveryFailed) as failed:
            await system.create_ticket(payload)
    assert not failed.value.permanent and "503" in str(failed.value) and len(str(failed.value)) < 300


async def test_tickets_finished_while_the_system_was_down_are_not_sent_later(backend, fake):
    await fake.down()
    number = await open_ticket(backend)
    await backend.bus.handle(commands.ChangeTicketStatus(number, "cancelled", "staff:前台", "业主自己修好了"))
    await fake.up()
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    assert fake.tickets == {} and (await ticket(backend, number)).external_id is None


# -- out: withdrawals cancelled there ------------------------------------------------------------


async def withdraw(backend, number: str) -> None:
    answer = await backend.bus.handle(commands.WithdrawTicket(OWNER, number))
    assert answer.status == "cancelled"  # the owner's answer never waits on the other system


async def owed(backend, number: str) -> datetime | None:
    return (await ticket(backend, number)).external_cancel_owed_at


async def test_a_withdrawn_ticket_is_cancelled_there_once_by_a_signed_call_with_its_own_key(backend, fake):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    await withdraw(backend, number)

    assert fake.cancelled == {
        their_id: {"number": number, "reason": model.OWNER_WITHDREW, "idempotency_key": f"cancel:{number}"}
    }
    assert fake.refused == []  # the key, the timestamp and the signature all checked
    raw = fake.received[-1]
    assert OWNER_ID.encode() not in raw and PHONE.encode() not in raw and b"sender" not in raw
    assert await owed(backend, number) is None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    assert len(fake.cancel_calls) == 1


@pytest.mark.parametrize("outage", ["down", "503"])
async def test_a_withdrawal_the_system_missed_stays_owed_and_the_sweep_sends_it_once(backend, fake, clock, outage):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    if outage == "down":
        await fake.down()
    else:
        fake.cancel_fails_with = 503
    clock.advance(minutes=1)
    await withdraw(backend, number)
    assert fake.cancelled == {} and await owed(backend, number) == clock()  # recorded with the withdrawal
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 1, "cancelled": 0}
    assert await owed(backend, number) == clock()

    if outage == "down":
        await fake.up()
    fake.cancel_fails_with = None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 1}
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    assert list(fake.cancelled) == [their_id] and len(fake.cancel_calls) == 1
    assert fake.cancelled[their_id]["idempotency_key"] == f"cancel:{number}"
    assert await owed(backend, number) is None


async def open_second(backend) -> str:
    result = await backend.bus.handle(
        commands.OpenTicket(
            sender=OWNER, kind="repair", description="客厅的灯不亮了", building="3", unit="2", room="501"
        )
    )
    return result.number


async def test_the_sweep_stops_at_a_transient_failure_and_goes_past_a_permanent_refusal(backend, fake, caplog):
    first, second = await open_ticket(backend), await open_second(backend)
    assert len(fake.tickets) == 2
    fake.cancel_fails_with = 409  # e.g. already completed there: retrying cannot help until someone looks
    await withdraw(backend, first)
    await withdraw(backend, second)
    assert any(r.levelname == "ERROR" and "not cancelled" in r.getMessage() for r in caplog.records)
    assert await owed(backend, first) and await owed(backend, second)  # kept owed: logged, not forgotten

    refused = len(fake.refused)
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 2, "cancelled": 0}
    assert len(fake.refused) == refused + 2  # a permanent refusal does not stop the sweep
    fake.cancel_fails_with = 503
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 1, "cancelled": 0}
    assert len(fake.refused) == refused + 3  # the system is failing: the rest would too

    fake.cancel_fails_with = None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 2}
    assert len(fake.cancelled) == 2 and len(fake.cancel_calls) == 2


async def test_what_the_system_refuses_to_cancel_is_permanent_unless_retrying_can_help(fake, clock):
    async with aiohttp.ClientSession() as http:
        system = HttpTicketSystem(SYSTEM, fake.url, API_KEY, SECRET, http, timeout=TIMEOUT, clock=clock)
        with pytest.raises(DeliveryFailed) as unknown:
            await system.cancel_ticket("HC/00009 ?", "BX000042", model.OWNER_WITHDREW)  # not theirs
        assert unknown.value.permanent and "404" in str(unknown.value)
        for status, permanent in ((503, False), (429, False), (500, False), (422, True), (401, True)):
            fake.cancel_fails_with = status
            with pytest.raises(DeliveryFailed) as failed:
                await system.cancel_ticket("HC-00001", "BX000042", model.OWNER_WITHDREW)
            assert failed.value.permanent is permanent, status
        await fake.down()
        with pytest.raises(DeliveryFailed) as down:
            await system.cancel_ticket("HC-00001", "BX000042", model.OWNER_WITHDREW)
        assert not down.value.permanent


async def test_a_ticket_withdrawn_before_it_reached_them_is_never_created_or_cancelled_there(backend, fake):
    await fake.down()
    number = await open_ticket(backend)
    await withdraw(backend, number)
    await fake.up()

    async with backend.new_uow() as uow:
        assert await uow.tickets.unsynced() == [] and await uow.tickets.cancellations_owed() == []
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    assert fake.tickets == {} and fake.received == []
    stored = await ticket(backend, number)
    assert stored.external_id is None and stored.external_cancel_owed_at is None


async def test_a_ticket_withdrawn_while_its_creation_is_on_its_way_is_cancelled_in_the_same_sweep(backend, fake):
    await fake.down()
    number = await open_ticket(backend)
    await fake.up()
    fake.answer_after = TIMEOUT / 2  # created there at once, answered late: time to withdraw meanwhile
    sweep = asyncio.create_task(backend.bus.handle(SyncTickets()))
    while not fake.tickets:
        await asyncio.sleep(0.01)
    await withdraw(backend, number)  # nothing to cancel yet: we do not know their id
    assert fake.cancel_calls == []

    assert (await sweep).as_json() == {"synced": 1, "failed": 0, "cancelled": 1}
    [their_id] = fake.tickets
    assert list(fake.cancelled) == [their_id]
    stored = await ticket(backend, number)
    assert stored.external_id == their_id and stored.external_cancel_owed_at is None


async def test_their_cancelled_for_a_withdrawn_ticket_is_unchanged_and_settles_what_we_owed(
    public_client, backend, fake
):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    await withdraw(backend, number)
    status, answer = await fake.webhook(hook(public_client), their_id, "cancelled")
    assert status == 200 and answer["changed"] is False and answer["status"] == "cancelled", answer

    second = await open_second(backend)
    [second_id] = [i for i in fake.tickets if i != their_id]
    fake.cancel_fails_with = 503
    await withdraw(backend, second)
    assert await owed(backend, second)
    status, answer = await fake.webhook(hook(public_client), second_id, "cancelled")  # they cancelled it themselves
    assert status == 200 and answer["changed"] is False, answer
    assert await owed(backend, second) is None
    fake.cancel_fails_with = None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}
    assert list(fake.cancelled) == [their_id]


# -- in: their status changes, by signed webhook -------------------------------------------------


async def test_a_ticket_staff_cancel_here_is_cancelled_there_without_their_note(backend, fake, clock):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    fake.cancel_fails_with = 503  # the first call fails: the debt is kept with the cancellation
    note = f"业主电话{PHONE}说不修了"  # a staff note may name the owner: it stays here
    await backend.bus.handle(commands.ChangeTicketStatus(number, "cancelled", actor="admin", note=note))
    assert await owed(backend, number) == clock() and fake.cancelled == {}

    fake.cancel_fails_with = None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 1}
    assert fake.cancelled == {
        their_id: {"number": number, "reason": model.STAFF_CANCELLED, "idempotency_key": f"cancel:{number}"}
    }
    assert all(PHONE.encode() not in raw and "说不修了".encode() not in raw for raw in fake.received)
    assert await owed(backend, number) is None


async def test_a_duplicate_merged_here_is_cancelled_there_and_its_primary_is_not(backend, fake):
    primary, duplicate = await open_ticket(backend), await open_second(backend)
    ids = {sent["number"]: their_id for their_id, sent in fake.tickets.items()}
    await backend.bus.handle(commands.MergeTickets(duplicate=duplicate, primary=primary, actor="admin"))

    assert fake.cancelled == {
        ids[duplicate]: {
            "number": duplicate,
            "reason": f"与 {primary} 合并处理",
            "idempotency_key": f"cancel:{duplicate}",
        }
    }
    assert await owed(backend, duplicate) is None and await owed(backend, primary) is None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}


async def test_their_own_cancellation_is_never_sent_back_to_them(public_client, backend, fake):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    status, answer = await fake.webhook(hook(public_client), their_id, "cancelled")
    assert status == 200 and answer["changed"] is True and answer["status"] == "cancelled", answer
    assert fake.cancel_calls == [] and await owed(backend, number) is None
    assert (await backend.bus.handle(SyncTickets())).as_json() == {"synced": 0, "failed": 0, "cancelled": 0}


async def test_their_status_changes_move_our_ticket_and_reach_the_owner(public_client, backend, fake, clock):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    arrival = (clock() + timedelta(hours=2)).isoformat()

    status, answer = await fake.webhook(target, their_id, "dispatched", assignee="王师傅", expected_at=arrival)
    assert status == 200 and answer.get("applied") and answer["status"] == "assigned", answer
    clock.advance(minutes=30)
    assert (await fake.webhook(target, their_id, "processing"))[0] == 200
    assert (await fake.webhook(target, their_id, "processing"))[1]["changed"] is False  # said twice: once here
    clock.advance(hours=1)
    assert (await fake.webhook(target, their_id, "completed", note="已更换下水管"))[0] == 200

    stored = await ticket(backend, number)
    assert stored.status is model.TicketStatus.RESOLVED and stored.assignee == "王师傅"
    moves = [(e.type, e.status, e.actor) for e in stored.history if e.actor.startswith("external:")]
    assert moves == [
        (model.EventType.ASSIGNED, model.TicketStatus.ASSIGNED, "external:hc"),
        (model.EventType.STATUS, model.TicketStatus.IN_PROGRESS, "external:hc"),
        (model.EventType.STATUS, model.TicketStatus.RESOLVED, "external:hc"),
    ]
    told = await owner_notifications(backend)
    assert [kind for kind, _ in told] == ["ticket_assigned", "ticket_in_progress", "ticket_resolved"]
    assert all(number in text for _, text in told)
    assert "王师傅" in told[0][1] and "12:30" in told[0][1]  # the expected arrival, Shanghai time
    assert "评价" in told[2][1]  # resolved: the owner is asked for a rating
    assert await owner_notifications(backend, "staff:王师傅") == []  # their technician is not our staff


async def test_a_replayed_event_is_answered_as_a_duplicate_and_applied_once(public_client, backend, fake):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    assert (await fake.webhook(target, their_id, "dispatched", event_id="evt-9", assignee="王师傅"))[0] == 200
    before = await state(backend, number)

    assert await fake.webhook(target, their_id, "dispatched", event_id="evt-9", assignee="王师傅") == (
        200,
        {"duplicate": True},
    )
    assert await state(backend, number) == before

    # The same event delivered twice at once: one applies it, the other is the duplicate.
    answers = await asyncio.gather(*(fake.webhook(target, their_id, "processing", event_id="evt-10") for _ in range(2)))
    outcomes = sorted((status, "applied" in answer, answer.get("duplicate", False)) for status, answer in answers)
    assert outcomes == [(200, False, True), (200, True, False)]
    assert [k for k, _ in await owner_notifications(backend)] == ["ticket_assigned", "ticket_in_progress"]


BAD_SIGNATURES = {
    "forged": {"secret": "not-their-secret"},
    "unsigned": {"headers": {"X-Wuye-Signature": None}},
    "no timestamp": {"headers": {"X-Wuye-Timestamp": None}},
    "timestamp not a number": {"headers": {"X-Wuye-Timestamp": "yesterday"}},
    "stale": {"at": timedelta(minutes=-6)},
    "from the future": {"at": timedelta(minutes=6)},
    "body changed after signing": {"signed": b'{"status": "cancelled"}'},
    "not hex": {"headers": {"X-Wuye-Signature": "z" * 64}},
    "empty": {"headers": {"X-Wuye-Signature": ""}},
}


@pytest.mark.parametrize("case", BAD_SIGNATURES)
async def test_a_webhook_without_a_valid_current_signature_is_refused(public_client, backend, fake, clock, case):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    before = await state(backend, number)
    options = dict(BAD_SIGNATURES[case])
    options["at"] = clock() + options.get("at", timedelta())
    status, answer = await fake.webhook(hook(public_client), their_id, "dispatched", assignee="王师傅", **options)
    assert status == 401 and answer["error"] == "unauthorized", answer
    assert await state(backend, number) == before


async def test_a_signature_at_the_edge_of_the_window_is_accepted(public_client, backend, fake, clock):
    await open_ticket(backend)
    [their_id] = fake.tickets
    at = clock() - timedelta(minutes=4, seconds=59)
    assert (await fake.webhook(hook(public_client), their_id, "dispatched", assignee="王师傅", at=at))[0] == 200


async def test_refused_webhooks_change_nothing(public_client, backend, fake):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    before = await state(backend, number)

    status, answer = await fake.webhook(target, their_id, "completed")  # a new ticket cannot be resolved
    assert status == 409 and answer["error"] == "conflict"
    assert "cannot move a new ticket to resolved" in answer["message"]
    assert (await fake.webhook(target, their_id, "processing"))[0] == 409  # nobody was dispatched
    assert (await fake.webhook(target, "HC-99999", "dispatched", assignee="王师傅"))[0] == 404
    assert (await fake.webhook(hook(public_client, "mingyuan"), their_id, "processing"))[0] == 404
    assert (await fake.webhook(target, their_id, "dispatched"))[0] == 400  # to whom?
    assert (await fake.webhook(target, their_id, "teleported"))[0] == 400
    assert (await fake.webhook(target, their_id, "dispatched", assignee="王师傅", expected_at="tomorrow"))[0] == 400
    for raw in (b"{not json", b"[]", "\xff".encode("latin-1")):
        status, answer = await fake.webhook(target, their_id, "processing", raw=raw)  # signed, but not an object
        assert status == 400 and answer["error"] == "bad_request"
    assert await state(backend, number) == before
    assert await owner_notifications(backend) == []

    # A refused event id is not used up: delivered again once it makes sense, it applies.
    assert (await fake.webhook(target, their_id, "dispatched", event_id="evt-1", assignee="王师傅"))[0] == 200
    assert (await ticket(backend, number)).status is model.TicketStatus.ASSIGNED


async def test_a_captured_refused_request_replayed_once_it_would_fit_is_refused_again(
    public_client, backend, fake, clock
):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    captured = {"event_id": "evt-done", "at": clock()}  # the same bytes, the same signature
    assert (await fake.webhook(target, their_id, "completed", **captured))[0] == 409  # a new ticket
    assert (await fake.webhook(target, their_id, "dispatched", assignee="王师傅"))[0] == 200
    assert (await fake.webhook(target, their_id, "processing"))[0] == 200
    clock.advance(minutes=2)  # still inside the signature's five minutes

    status, answer = await fake.webhook(target, their_id, "completed", **captured)
    assert status == 409 and "refused before" in answer["message"]
    assert (await ticket(backend, number)).status is model.TicketStatus.IN_PROGRESS

    # Their own corrected redelivery is a new signed request, and applies.
    assert (await fake.webhook(target, their_id, "completed", event_id="evt-done"))[0] == 200
    assert (await ticket(backend, number)).status is model.TicketStatus.RESOLVED


async def test_hostile_json_and_unstorable_ids_in_a_signed_webhook_are_400_and_change_nothing(
    public_client, backend, fake
):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    before = await state(backend, number)
    for raw in (b"[" * 50_000, b'{"a":' * 10_000, b'{"event_id": "evt-1", "n": ' + b"9" * 5000 + b"}"):
        status, answer = await fake.webhook(target, their_id, "processing", raw=raw)  # signed, but hostile
        assert status == 400 and answer["error"] == "bad_request", answer
    for bad in ("\x00", "\ud800"):
        for fields in ({"event_id": f"evt{bad}2"}, {"assignee": f"王{bad}师傅"}, {"expected_at": f"2026{bad}"}):
            body = {"event_id": "evt-2", "ticket_id": their_id, "status": "dispatched", "assignee": "王师傅", **fields}
            status, answer = await fake.webhook(target, their_id, "dispatched", raw=json.dumps(body).encode())
            assert status == 400 and answer["error"] == "bad_request", (fields, answer)
        body = {"event_id": "evt-3", "ticket_id": f"{their_id}{bad}", "status": "processing"}
        assert (await fake.webhook(target, their_id, "processing", raw=json.dumps(body).encode()))[0] == 400
    assert await state(backend, number) == before


async def test_a_webhooks_note_for_the_owner_keeps_its_words_without_nul_or_lone_surrogates(
    public_client, backend, fake
):
    number = await open_ticket(backend)
    [their_id] = fake.tickets
    target = hook(public_client)
    assert (await fake.webhook(target, their_id, "dispatched", assignee="王师傅"))[0] == 200
    body = {"event_id": "evt-note", "ticket_id": their_id, "status": "processing", "note": "师傅\x00带好\ud800配件"}
    status, answer = await fake.webhook(target, their_id, "processing", raw=json.dumps(body).encode())
    assert status == 200 and answer["applied"], answer
    assert (await ticket(backend, number)).history[-1].note == "师傅带好配件"
