"""The staff console's ticket pool: each ticket's SLA countdown and 催单 count, the urgency order,
searching by number or flat, and the CSV exports of the list and of the statistics.

Protects: one SLA rule (domain ``Ticket.sla``) behind the countdown, the urgency order, the
``overdue`` filter and the chase's escalation: respond until assigned, then resolve; on hold
the clock stands still (paused, seconds left frozen, and the deadline shown is exactly where
resuming now puts it); a ticket past its deadline before a hold stays breached. The list pages
in urgency order with the total kept; the exports carry the same filters and permission as the
JSON (a technician exports only their own work), in a file Excel opens (BOM, CRLF, Chinese
headers, no formula from an owner's words) named in RFC 5987 form.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from sqlalchemy import event

from backend_bridge.adapters.spreadsheets import read_table
from backend_bridge.domain import commands
from backend_bridge.domain.model import NOT_COUNTING, Location, ServiceLevel, SlaClock, Ticket, TicketKind
from backend_bridge.domain.model import TicketStatus as S
from backend_bridge.service_layer import exports
from tests.conftest import ADMIN_TOKEN, bearer

AUTH = bearer(ADMIN_TOKEN)
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
LEVEL = ServiceLevel(respond_minutes=30, resolve_hours=24)


def stored(now: datetime = T0) -> Ticket:
    ticket = Ticket.open(
        kind=TicketKind.REPAIR,
        location=Location("3", "2", "501"),
        description="厨房水管漏水",
        sender="webchat:owner",
        now=now,
        level=LEVEL,
    )
    ticket.id = 7
    return ticket


# -- the rule (domain) --------------------------------------------------------------------------


def test_until_someone_is_assigned_the_response_deadline_counts():
    ticket = stored()
    assert ticket.sla(T0 + timedelta(minutes=10)) == SlaClock("respond", T0 + timedelta(minutes=30), False, False, 1200)
    late = ticket.sla(T0 + timedelta(minutes=40))
    assert (late.breached, late.seconds_left) == (True, -600)
    half_a_second = ticket.sla(T0 + timedelta(minutes=30, milliseconds=500))
    assert (half_a_second.breached, half_a_second.seconds_left) == (True, -1)  # never "0 left, breached"


def test_once_assigned_the_resolution_deadline_counts_and_a_finished_ticket_counts_nothing():
    ticket = stored()
    ticket.assign("wang", actor="desk", now=T0 + timedelta(minutes=40))  # late, but answered
    clock = ticket.sla(T0 + timedelta(hours=1))
    assert clock == SlaClock("resolve", T0 + timedelta(hours=24), False, False, 23 * 3600)
    ticket.move_to(S.RESOLVED, actor="wang", now=T0 + timedelta(hours=2))
    assert ticket.sla(T0 + timedelta(days=3)) == NOT_COUNTING
    assert NOT_COUNTING.urgency() == (3, 0)


def test_on_hold_the_countdown_stands_still_and_resuming_puts_the_deadline_where_it_said():
    ticket = stored()
    ticket.assign("wang", actor="desk", now=T0)
    ticket.move_to(S.IN_PROGRESS, actor="wang", now=T0 + timedelta(hours=1))
    ticket.move_to(S.ON_HOLD, actor="wang", now=T0 + timedelta(hours=2), note="等配件")
    first = ticket.sla(T0 + timedelta(hours=3))
    later = ticket.sla(T0 + timedelta(hours=40))  # the promised 24 hours passed while waiting
    assert first.paused and later.paused and not later.breached
    assert first.seconds_left == later.seconds_left == 22 * 3600
    assert later.due_at == T0 + timedelta(hours=40 + 22)
    ticket.move_to(S.IN_PROGRESS, actor="wang", now=T0 + timedelta(hours=40))
    assert ticket.resolve_by == later.due_at  # the domain moved the deadline exactly there
    assert ticket.sla(T0 + timedelta(hours=40)) == SlaClock("resolve", later.due_at, False, False, 22 * 3600)


def test_a_ticket_past_its_deadline_before_the_hold_is_breached_while_held():
    ticket = stored()
    ticket.assign("wang", actor="desk", now=T0)
    ticket.move_to(S.ON_HOLD, actor="wang", now=T0 + timedelta(hours=25))
    held = ticket.sla(T0 + timedelta(hours=30))
    assert (held.paused, held.breached, held.seconds_left) == (True, True, -3600)
    assert held.urgency() == (0, -3600)  # breached comes first, paused or not


def test_urgency_breached_longest_first_then_the_nearest_deadline_then_paused_then_finished():
    clocks = [
        NOT_COUNTING,
        SlaClock("resolve", T0, True, False, 60),
        SlaClock("resolve", T0, False, False, 3600),
        SlaClock("respond", T0, False, False, 600),
        SlaClock("respond", T0, False, True, -60),
        SlaClock("resolve", T0, False, True, -7200),
    ]
    ordered = sorted(clocks, key=SlaClock.urgency)
    assert [c.seconds_left for c in ordered] == [-7200, -60, 600, 3600, 60, None]


def test_a_chase_is_overdue_by_the_same_rule():
    ticket = stored()
    ticket.assign("wang", actor="desk", now=T0)
    ticket.move_to(S.ON_HOLD, actor="wang", now=T0 + timedelta(hours=1))
    assert ticket.chase(actor="webchat:owner", now=T0 + timedelta(hours=30)) == 1
    assert ticket.events[-1].overdue is False  # paused with 23 hours left: not overdue
    assert ticket.chases == 1


# -- the list -----------------------------------------------------------------------------------


async def open_repair(backend, sender: str, flat: tuple[str, str, str] = ("3", "2", "501"), **extra) -> str:
    building, unit, room = flat
    extra.setdefault("description", "厨房水管漏水")
    command = commands.OpenTicket(sender=sender, kind="repair", building=building, unit=unit, room=room, **extra)
    return (await backend.bus.handle(command)).number


async def handle(backend, command) -> None:
    await backend.bus.handle(command)


async def pool(backend, clock) -> dict[str, str]:
    """Five tickets at ten past eleven (normal repairs: 30 minutes to respond, 24 hours to resolve;
    the emergency 15 minutes): A unanswered for 40 minutes and chased twice, E an emergency with
    10 minutes left, B assigned (23.5 hours left), C on hold since now (23h20m left, frozen), D
    done and rated. Also the technicians' tokens (``token:wang``, ``token:li``)."""
    tokens = {}
    for username, name in (("wang", "王师傅"), ("li", "李师傅")):
        added = await backend.bus.handle(commands.AddStaff(username, name, "technician", "admin"))
        tokens[f"token:{username}"] = added.token
    a = await open_repair(backend, "webchat:alice")
    c = await open_repair(backend, "webchat:carol", ("3", "2", "502"))
    d = await open_repair(backend, "webchat:dave", ("5", "1", "101"))
    await handle(backend, commands.AssignTicket(c, "wang", actor="desk"))
    await handle(backend, commands.AssignTicket(d, "wang", actor="desk"))
    clock.advance(minutes=5)
    await handle(backend, commands.ChangeTicketStatus(d, "resolved", actor="wang"))
    await handle(backend, commands.RateTicket("webchat:dave", 5))
    clock.advance(minutes=5)
    b = await open_repair(backend, "webchat:bob", ("5", "1", "101"))
    await handle(backend, commands.AssignTicket(b, "li", actor="desk"))
    await handle(backend, commands.ChangeTicketStatus(c, "in_progress", actor="wang"))
    clock.advance(minutes=25)
    emergency = commands.ReportEmergency(
        sender="webchat:erin", hazard="gas_leak", description="煤气味很重", building="7", unit="1", room="101"
    )
    e = (await backend.bus.handle(emergency)).number
    clock.advance(minutes=5)
    await handle(backend, commands.ChangeTicketStatus(c, "on_hold", actor="wang", note="等配件"))
    for _ in range(2):
        await handle(backend, commands.ChaseTicket("webchat:alice", a))
    return {"A": a, "B": b, "C": c, "D": d, "E": e, **tokens}


HELD = 23 * 3600 + 20 * 60  # C's time left when its hold began


async def listed(client, auth=AUTH, **params: str) -> tuple[list[dict], str]:
    resp = await client.get("/api/tickets", params=params, headers=auth)
    assert resp.status == 200, await resp.text()
    return await resp.json(), resp.headers["X-Total-Count"]


async def test_each_ticket_carries_its_countdown_and_chases(public_client, backend, clock):
    t = await pool(backend, clock)
    found, total = await listed(public_client)
    by_number = {item["id"]: item for item in found}
    assert total == "5"
    a, b, c, d, e = (by_number[t[k]] for k in "ABCDE")
    assert a["chases"] == 2 and b["chases"] == 0
    assert a["sla"] == {
        "deadline": "respond",
        "due_at": a["respond_by"],
        "paused": False,
        "breached": True,
        "seconds_left": -600,
    }
    assert e["sla"]["deadline"] == "respond" and e["sla"]["seconds_left"] == 600
    assert b["sla"] == {
        "deadline": "resolve",
        "due_at": b["resolve_by"],
        "paused": False,
        "breached": False,
        "seconds_left": 23 * 3600 + 30 * 60,
    }
    assert (c["status"], c["sla"]["paused"], c["sla"]["seconds_left"]) == ("on_hold", True, HELD)
    assert d["sla"] == {"deadline": None, "due_at": None, "paused": False, "breached": False, "seconds_left": None}
    clock.advance(hours=2)
    [held] = (await listed(public_client, q=t["C"]))[0]
    assert held["sla"]["seconds_left"] == HELD  # frozen
    assert datetime.fromisoformat(held["sla"]["due_at"]) == clock.now + timedelta(seconds=HELD)
    detail = await (await public_client.get(f"/api/tickets/{t['A']}", headers=AUTH)).json()
    assert detail["chases"] == 2 and detail["sla"]["breached"] is True  # the detail says the same


async def test_urgency_order_pages_and_keeps_the_total(public_client, backend, clock):
    t = await pool(backend, clock)
    urgent = [t[k] for k in "AEBCD"]
    assert await listed(public_client, sort="urgency") == (await listed(public_client, sort="urgency", limit="200"))
    assert [i["id"] for i in (await listed(public_client, sort="urgency"))[0]] == urgent
    page, total = await listed(public_client, sort="urgency", limit="2", offset="1")
    assert ([i["id"] for i in page], total) == (urgent[1:3], "5")
    # A day later A, E and B are past their deadlines (A the longest); C is still paused, not late
    clock.advance(hours=24)
    assert [i["id"] for i in (await listed(public_client, sort="urgency"))[0]] == urgent
    overdue, total = await listed(public_client, overdue="1", sort="urgency")
    assert ([i["id"] for i in overdue], total) == ([t["A"], t["E"], t["B"]], "3")
    assert all(i["sla"]["breached"] for i in overdue)
    held = (await listed(public_client, q=t["C"]))[0][0]
    assert held["sla"]["breached"] is False and datetime.fromisoformat(held["resolve_by"]) < clock.now


async def test_created_and_updated_orders(public_client, backend, clock):
    await pool(backend, clock)
    by_created = (await listed(public_client, sort="created"))[0]
    assert [i["created_at"] for i in by_created] == sorted((i["created_at"] for i in by_created), reverse=True)
    by_updated = (await listed(public_client, sort="updated"))[0]
    assert [i["updated_at"] for i in by_updated] == sorted((i["updated_at"] for i in by_updated), reverse=True)
    assert by_updated[0]["id"] != by_created[0]["id"]  # C went on hold last; E was opened last


async def test_search_by_number_or_flat(public_client, backend, clock):
    t = await pool(backend, clock)
    ids = lambda found: [i["id"] for i in found[0]]  # noqa: E731
    assert ids(await listed(public_client, q=t["A"])) == [t["A"]]
    assert ids(await listed(public_client, q=t["A"].lower())) == [t["A"]]
    assert ids(await listed(public_client, q=str(int(t["A"][2:])))) == [t["A"]]  # the bare number
    complaint_prefix = "TS" + t["A"][2:]
    assert ids(await listed(public_client, q=complaint_prefix)) == []  # a repair's number is BX
    assert ids(await listed(public_client, q="5-1-101")) == [t["B"], t["D"]]
    assert ids(await listed(public_client, q="5号楼1单元0101室", status="closed")) == [t["D"]]
    assert ids(await listed(public_client, q=" 3-2-502 ")) == [t["C"]]
    assert ids(await listed(public_client, q="9-9-909")) == []
    for q in ("漏水", "3号楼", "BX", "1" * 40):
        resp = await public_client.get("/api/tickets", params={"q": q}, headers=AUTH)
        assert resp.status == 400, q
        assert (await resp.json())["error"] == "bad_request"
    resp = await public_client.get("/api/tickets", params={"sort": "nearest"}, headers=AUTH)
    assert resp.status == 400


async def test_the_list_reads_histories_in_one_query_however_long_the_page(public_client, backend, clock):
    """No N+1: the queries a page costs do not grow with the tickets (and histories) on it."""
    chased = [await open_repair(backend, f"webchat:n{i}") for i in range(3)]
    counted: list[str] = []

    def count(*_args) -> None:
        counted.append("query")

    async def queries(**params: str) -> int:
        counted.clear()
        await listed(public_client, limit="200", **params)
        return len(counted)

    engine = backend.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        few = {sort: await queries(sort=sort) for sort in ("urgency", "updated")}
        for i in range(12):
            await open_repair(backend, f"webchat:m{i}")
            await handle(backend, commands.ChaseTicket(f"webchat:n{i % 3}", chased[i % 3]))
        assert {sort: await queries(sort=sort) for sort in ("urgency", "updated")} == few
        assert few["updated"] <= 4
    finally:
        event.remove(engine, "before_cursor_execute", count)


# -- the exports --------------------------------------------------------------------------------


def _filename(disposition: str) -> str:
    assert disposition.startswith("attachment; filename=")
    star = disposition.split("filename*=UTF-8''", 1)[1]
    return star


async def test_the_list_exports_as_a_csv_excel_opens(public_client, backend, clock):
    t = await pool(backend, clock)
    formula = await open_repair(backend, "webchat:mallory", description='=HYPERLINK("http://x.invalid","点我")')
    resp = await public_client.get("/api/tickets.csv", params={"sort": "urgency"}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["X-Total-Count"] == "6"
    disposition = resp.headers["Content-Disposition"]
    assert 'filename="__' in disposition  # an ASCII stand-in for old clients
    assert _filename(disposition) == quote("工单_20261121_1110.csv", safe="")
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\r\n") >= 7
    rows = [cells for _, cells in read_table(body)]
    assert rows[0] == exports.TICKET_HEADER
    assert [r[0] for r in rows[1:]] == [t["A"], t["E"], formula, t["B"], t["C"], t["D"]]
    a = dict(zip(rows[0], rows[1], strict=True))
    assert (a["类型"], a["状态"], a["优先级"], a["位置"], a["催单次数"]) == (
        "报修",
        "待派单",
        "普通",
        "3号楼2单元501",
        "2",
    )
    assert (a["当前时限"], a["剩余分钟"], a["已超时"], a["暂停中"]) == ("响应", "-10", "是", "否")
    assert a["创建时间"] == "2026-11-21 10:30"  # local time (the clock starts at 02:30 UTC)
    injected = dict(zip(rows[0], rows[3], strict=True))
    assert injected["描述"] == "'" + '=HYPERLINK("http://x.invalid","点我")'
    assert "webchat:" not in body.decode("utf-8-sig")  # no owner chat ids in a file that travels
    narrowed = await public_client.get("/api/tickets.csv", params={"q": "5-1-101"}, headers=AUTH)
    assert [cells[0] for _, cells in read_table(await narrowed.read())[1:]] == [t["B"], t["D"]]


async def test_a_technician_exports_only_their_own_tickets(public_client, backend, clock):
    t = await pool(backend, clock)
    resp = await public_client.get("/api/tickets.csv", params={"assignee": "li"}, headers=bearer(t["token:wang"]))
    assert resp.status == 200
    assert sorted(cells[0] for _, cells in read_table(await resp.read())[1:]) == sorted([t["C"], t["D"]])
    assert (await public_client.get("/api/tickets.csv")).status == 401


async def test_the_statistics_export_as_sections_with_the_same_numbers(public_client, backend, clock):
    await pool(backend, clock)
    params = {"from": "2026-11-01", "to": "2026-11-21"}
    stats = await (await public_client.get("/api/stats", params=params, headers=AUTH)).json()
    resp = await public_client.get("/api/stats.csv", params=params, headers=AUTH)
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert _filename(resp.headers["Content-Disposition"]) == quote("统计_全部_2026-11-01_2026-11-21.csv", safe="")
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n\r\n" in body  # a blank line between sections
    rows = [cells for _, cells in read_table(body)]
    kpis = {r[0]: r[1] for r in rows if len(r) >= 2}
    assert kpis["工单数"] == str(stats["tickets"]) == "5"
    assert kpis["满意度"] == "100.0%" and kpis["当前积压"] == str(stats["backlog"]["total"])
    titles = [r[0] for r in rows if len(r) == 1 or not any(r[1:])]
    assert titles == ["概况", "按月", "按分类", "按楼栋", "按人员"]
    staff = rows[rows.index(next(r for r in rows if r[0] == "按人员")) + 2 :]
    assert [r[0] for r in staff] == [s["username"] for s in stats["by_staff"]] == ["wang", "li"]
    for username, role, status in (("zhao", "supervisor", 200), ("chen", "agent", 403), ("wu", "technician", 403)):
        token = (await backend.bus.handle(commands.AddStaff(username, username, role, "admin"))).token
        assert (await public_client.get("/api/stats.csv", headers=bearer(token))).status == status, role
    assert (await public_client.get("/api/stats.csv", params={"from": "2026-13-01"}, headers=AUTH)).status == 400
