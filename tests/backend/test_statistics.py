"""Statistics for the property manager (闭环管理): the pure functions with hand-built tickets, then
the whole path (bus → store → ``GET /api/stats``) on SQLite and PostgreSQL.

Protects: the definitions managers read the numbers by (nearest-rank median/p90, the resolution
that stuck, SLA met/missed/not yet due, every rating counted, backlog ages); months and periods in
the community's local time; duplicates merged into another ticket left out; and statistics only
for supervisors and administrators.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.domain import commands
from backend_bridge.domain.model import (
    Location,
    Priority,
    ServiceLevel,
    Ticket,
    TicketKind,
    TicketStatus,
)
from backend_bridge.service_layer import statistics as stats
from backend_bridge.service_layer.statistics import Outcome
from tests.conftest import ADMIN_TOKEN, bearer

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 on 2 November in Shanghai
NORMAL = ServiceLevel(respond_minutes=30, resolve_hours=24)
EMERGENCY = ServiceLevel(respond_minutes=15, resolve_hours=4)
NOW = T0 + timedelta(days=3)
_ids = iter(range(1, 10_000))


def ticket(
    at: datetime = T0,
    *,
    kind: TicketKind = TicketKind.REPAIR,
    priority: Priority = Priority.NORMAL,
    level: ServiceLevel = NORMAL,
    category: str = "plumbing",
    building: str | None = "3",
    sender: str = "webchat:owner",
) -> Ticket:
    opened = Ticket.open(
        kind=kind,
        location=Location(building, "1" if building else None, "101" if building else None),
        description="厨房水管漏水",
        sender=sender,
        now=at,
        level=level,
        priority=priority,
        category=category,
    )
    opened.id = next(_ids)
    return opened


def handled(
    respond: timedelta | None = None, resolve: timedelta | None = None, score: int | None = None, **kw
) -> Ticket:
    """A ticket assigned ``respond`` after opening, resolved ``resolve`` after, then rated ``score``."""
    t = ticket(**kw)
    if respond is not None:
        t.assign("wang", actor="li", now=t.created_at + respond)
    if resolve is not None:
        t.move_to(TicketStatus.RESOLVED, actor="wang", now=t.created_at + resolve)
        if score is not None:
            t.rate(score, actor=t.sender, now=t.created_at + resolve + timedelta(minutes=30))
    return t


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- percentiles --------------------------------------------------------------------------------


def test_percentiles_use_the_nearest_rank_and_are_none_without_data():
    assert stats.percentile([], 50) is None and stats.percentile([], 90) is None
    assert stats.percentile([7], 50) == 7 and stats.percentile([7], 90) == 7
    assert stats.percentile([4, 1, 3, 2], 50) == 2  # rank ceil(2) = 2: the lower middle, a real value
    assert stats.percentile(range(1, 11), 50) == 5
    assert stats.percentile(range(1, 11), 90) == 9  # rank ceil(9) = 9
    assert stats.percentile(range(1, 12), 90) == 10  # rank ceil(9.9) = 10
    assert stats.percentile([30, 10, 20], 100) == 30
    with pytest.raises(ValueError):
        stats.percentile([1], 0)
    assert stats.summarize([20, 40, 120]) == {"count": 3, "median": 40, "p90": 120}
    assert stats.summarize([]) == {"count": 0, "median": None, "p90": None}


# -- single tickets -------------------------------------------------------------------------------


def test_response_and_resolution_minutes():
    t = handled(minutes(20), timedelta(hours=5), score=5)
    assert t.status is TicketStatus.CLOSED
    assert stats.response_minutes(t) == 20
    assert stats.resolution_minutes(t) == 300
    fresh = ticket()
    assert stats.response_minutes(fresh) is None and stats.resolution_minutes(fresh) is None


def test_resolution_is_the_one_that_stuck_and_a_reopen_undoes_it():
    t = handled(minutes(10), timedelta(hours=2), score=1)  # poor rating: reopened
    assert t.status is TicketStatus.REOPENED and stats.reopened(t)
    assert stats.resolution_minutes(t) is None  # the owner is still waiting
    t.assign("wang", actor="li", now=t.created_at + timedelta(hours=3))
    t.move_to(TicketStatus.RESOLVED, actor="wang", now=t.created_at + timedelta(hours=10))
    t.rate(5, actor=t.sender, now=t.created_at + timedelta(hours=11))
    assert stats.resolution_minutes(t) == 600
    assert stats.response_minutes(t) == 10  # the first assignment; a reassignment changes nothing
    assert stats.ratings(t) == [1, 5]


def test_a_closed_ticket_without_resolved_at_falls_back_to_its_last_resolution_event():
    t = handled(minutes(10), timedelta(hours=4), score=4)
    t.resolved_at = None  # as imported data may be
    assert stats.resolution_minutes(t) == 240


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: handled(minutes(30), timedelta(hours=24)), (Outcome.MET, Outcome.MET, Outcome.MET)),  # on the dot
        (lambda: handled(minutes(31), timedelta(hours=2)), (Outcome.MISSED, Outcome.MET, Outcome.MISSED)),
        (lambda: handled(minutes(5), timedelta(hours=25)), (Outcome.MET, Outcome.MISSED, Outcome.MISSED)),
        (lambda: handled(minutes(5), at=NOW - timedelta(hours=1)), (Outcome.MET, Outcome.NOT_DUE, Outcome.NOT_DUE)),
        (lambda: ticket(NOW - minutes(10)), (Outcome.NOT_DUE, Outcome.NOT_DUE, Outcome.NOT_DUE)),
        (lambda: ticket(NOW - minutes(31)), (Outcome.MISSED, Outcome.NOT_DUE, Outcome.MISSED)),  # nobody came
        (lambda: handled(minutes(5), at=NOW - timedelta(days=2)), (Outcome.MET, Outcome.MISSED, Outcome.MISSED)),
        # the first fix was in time but did not hold, and the deadline passed before a second one
        (
            lambda: handled(minutes(5), timedelta(hours=2), 1, at=NOW - timedelta(days=2)),
            (Outcome.MET, Outcome.MISSED, Outcome.MISSED),
        ),
    ],
)
def test_sla_outcomes_respond_resolve_and_overall(build, expected):
    assert stats.sla_outcomes(build(), NOW) == expected


def test_a_cancelled_ticket_is_judged_only_on_the_deadlines_that_came_before_it_was_cancelled():
    early = ticket()
    early.move_to(TicketStatus.CANCELLED, actor="li", now=T0 + minutes(10))
    assert stats.sla_outcomes(early, NOW) == (Outcome.NOT_APPLICABLE,) * 3
    late = ticket()
    late.move_to(TicketStatus.CANCELLED, actor="li", now=T0 + timedelta(hours=2))
    assert stats.sla_outcomes(late, NOW) == (Outcome.MISSED, Outcome.NOT_APPLICABLE, Outcome.MISSED)


def test_sla_compliance_counts_only_what_is_due():
    tickets = [
        handled(minutes(20), timedelta(hours=5)),  # met
        handled(minutes(40), timedelta(hours=5)),  # late response
        handled(minutes(1), timedelta(hours=1), kind=TicketKind.COMPLAINT),  # met
        handled(minutes(10), at=NOW - timedelta(hours=1)),  # not yet due to be resolved
        ticket(NOW - timedelta(minutes=5), priority=Priority.EMERGENCY, level=EMERGENCY),  # not yet due
        ticket(NOW - timedelta(hours=5), priority=Priority.EMERGENCY, level=EMERGENCY),  # open past both
    ]
    result = stats.sla(tickets, NOW)
    assert {k: result[k] for k in ("due", "met", "missed", "not_yet_due", "rate")} == {
        "due": 4,
        "met": 2,
        "missed": 2,
        "not_yet_due": 2,
        "rate": 0.5,
    }
    assert result["respond"] == {"due": 5, "met": 3, "missed": 2, "not_yet_due": 1, "rate": 0.6}
    assert result["resolve"] == {"due": 4, "met": 3, "missed": 1, "not_yet_due": 2, "rate": 0.75}
    assert result["by_priority"]["emergency"] == {"due": 1, "met": 0, "missed": 1, "not_yet_due": 1, "rate": 0.0}
    assert result["by_priority"]["low"] == {"due": 0, "met": 0, "missed": 0, "not_yet_due": 0, "rate": None}
    assert result["by_kind"]["complaint"]["rate"] == 1.0


def test_satisfaction_counts_every_rating_in_the_history():
    tickets = [
        handled(minutes(5), timedelta(hours=1), 5),
        handled(minutes(5), timedelta(hours=1), 3),
        handled(minutes(5), timedelta(hours=1), 2),  # reopened …
        handled(minutes(5)),
    ]
    again = tickets[2]
    again.move_to(TicketStatus.IN_PROGRESS, actor="wang", now=T0 + timedelta(hours=3))
    again.move_to(TicketStatus.RESOLVED, actor="wang", now=T0 + timedelta(hours=4))
    again.rate(4, actor=again.sender, now=T0 + timedelta(hours=5))  # … and fixed
    assert stats.satisfaction(tickets) == {
        "ratings": 4,
        "satisfied": 2,
        "rate": 0.5,
        "mean": 3.5,
        "good_rating": 4,
        "target": 0.9,
        "meets_target": False,
    }
    nine_of_ten = [handled(minutes(5), timedelta(hours=1), 5) for _ in range(9)]
    nine_of_ten.append(handled(minutes(5), timedelta(hours=1), 3))
    assert stats.satisfaction(nine_of_ten)["meets_target"] is True
    assert stats.satisfaction([ticket()]) == {
        "ratings": 0,
        "satisfied": 0,
        "rate": None,
        "mean": None,
        "good_rating": 4,
        "target": 0.9,
        "meets_target": None,
    }


def test_backlog_by_age_and_status():
    ages = [
        timedelta(0),
        timedelta(hours=23, minutes=59),
        timedelta(days=1),
        timedelta(days=2, hours=23),
        timedelta(days=3),
        timedelta(days=6, hours=23),
        timedelta(days=7),
        timedelta(days=30),
    ]
    assert [stats.age_bucket(a) for a in ages] == ["<1d", "<1d", "1-3d", "1-3d", "3-7d", "3-7d", ">7d", ">7d"]
    new = [ticket(NOW - a) for a in ages]
    working = handled(minutes(5), at=NOW - timedelta(days=4))
    on_hold = handled(minutes(5), at=NOW - timedelta(days=10))
    on_hold.move_to(TicketStatus.ON_HOLD, actor="wang", now=NOW - timedelta(days=9))
    done = handled(minutes(5), timedelta(hours=1), 5, at=NOW - timedelta(days=20))  # closed: not a backlog
    result = stats.backlog([*new, working, on_hold, done], NOW)
    assert result["total"] == 10
    assert result["by_age"] == {"<1d": 2, "1-3d": 2, "3-7d": 3, ">7d": 3}
    assert result["by_status"]["new"] == {"<1d": 2, "1-3d": 2, "3-7d": 2, ">7d": 2}
    assert result["by_status"]["assigned"] == {"<1d": 0, "1-3d": 0, "3-7d": 1, ">7d": 0}
    assert result["by_status"]["on_hold"] == {"<1d": 0, "1-3d": 0, "3-7d": 0, ">7d": 1}
    assert set(result["by_status"]) == {"new", "assigned", "in_progress", "on_hold", "reopened"}


def test_periods_and_months_are_local():
    late_evening_utc = datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)  # 00:30 on 21 November locally
    assert stats.default_period(late_evening_utc, TZ) == (date(2026, 10, 23), date(2026, 11, 21))
    start, end = stats.period_bounds(date(2026, 11, 1), date(2026, 11, 1), TZ)
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 1, 16, 0, tzinfo=timezone.utc)
    assert stats.months_between(date(2026, 11, 30), date(2027, 2, 1)) == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_compute_counts_where_problems_cluster_leaving_out_merged_duplicates():
    first, last = date(2026, 10, 1), date(2026, 11, 30)
    october_local = datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc)  # 23:59 on 31 October
    november_local = datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)  # 00:00 on 1 November
    duplicate = ticket(category="gas")
    duplicate.merged_into = 999
    tickets = [
        ticket(october_local, category="plumbing", building="3"),
        ticket(november_local, category="plumbing", building="10"),
        ticket(category="gas", building="3", priority=Priority.EMERGENCY, level=EMERGENCY),
        ticket(kind=TicketKind.COMPLAINT, category="noise", building="2"),
        ticket(kind=TicketKind.COMPLAINT, category="parking", building=None),
        ticket(category="other", building="A"),
        duplicate,
        ticket(datetime(2026, 9, 30, 15, 59, tzinfo=timezone.utc)),  # 23:59 on 30 September: outside
    ]
    result = stats.compute(tickets, [], first=first, last=last, tz=TZ, now=NOW)
    assert result["tickets"] == 6 and result["excluded"] == {"merged": 1}
    assert result["by_kind"] == {"repair": 4, "complaint": 2}
    assert result["by_priority"] == {"emergency": 1, "urgent": 0, "normal": 5, "low": 0}
    assert result["by_category"] == [
        {"code": "plumbing", "label": "水暖", "count": 2},
        {"code": "gas", "label": "燃气", "count": 1},
        {"code": "noise", "label": "噪音", "count": 1},
        {"code": "other", "label": "其他", "count": 1},
        {"code": "parking", "label": "停车", "count": 1},
    ]
    assert result["by_building"] == [
        {"building": "3", "count": 2},
        {"building": "2", "count": 1},
        {"building": "10", "count": 1},
        {"building": "A", "count": 1},
        {"building": None, "count": 1},
    ]
    assert result["by_month"] == [
        {"month": "2026-10", "total": 1, "repair": 1, "complaint": 0},
        {"month": "2026-11", "total": 5, "repair": 3, "complaint": 2},
    ]
    assert result["period"] == {
        "from": "2026-10-01",
        "to": "2026-11-30",
        "timezone": "Asia/Shanghai",
        "start": "2026-10-01T00:00:00+08:00",
        "end": "2026-12-01T00:00:00+08:00",
    }


def test_durations_per_kind_and_priority():
    tickets = [
        handled(minutes(20), timedelta(hours=5)),
        handled(minutes(120), timedelta(hours=30), kind=TicketKind.COMPLAINT),
        handled(minutes(40), priority=Priority.EMERGENCY, level=EMERGENCY),
        ticket(),
    ]
    response = stats.durations(tickets, stats.response_minutes)
    assert {k: response[k] for k in ("count", "median", "p90")} == {"count": 3, "median": 40, "p90": 120}
    assert response["by_kind"] == {
        "repair": {"count": 2, "median": 20, "p90": 40},
        "complaint": {"count": 1, "median": 120, "p90": 120},
    }
    assert response["by_priority"]["normal"] == {"count": 2, "median": 20, "p90": 120}
    assert response["by_priority"]["urgent"] == {"count": 0, "median": None, "p90": None}
    resolution = stats.durations(tickets, stats.resolution_minutes)
    assert {k: resolution[k] for k in ("count", "median", "p90")} == {"count": 2, "median": 300, "p90": 1800}


# -- end to end: the bus, the store and GET /api/stats -------------------------------------------

S = datetime(2026, 10, 31, 15, 0, tzinfo=timezone.utc)  # 23:00 on 31 October in Shanghai
END = S + timedelta(days=20)  # 23:00 on 20 November
OWNER = {k: f"webchat:owner-{k}" for k in "abcdef"}


async def _scenario(backend, clock) -> dict[str, str]:
    """Six tickets over three weeks; returns the staff tokens by username."""
    bus = backend.bus

    def at(moment: datetime) -> None:
        clock.now = moment

    async def move(number: str, status: str, when: datetime) -> None:
        at(when)
        await bus.handle(commands.ChangeTicketStatus(number, status, "wang", ""))

    async def assign(number: str, when: datetime) -> None:
        at(when)
        await bus.handle(commands.AssignTicket(number, "wang", "li"))

    async def rate(owner: str, score: int, when: datetime) -> None:
        at(when)
        await bus.handle(commands.RateTicket(OWNER[owner], score))

    async def open_(owner: str, kind: str, text: str, when: datetime, **where: str) -> str:
        at(when)
        return (await bus.handle(commands.OpenTicket(OWNER[owner], kind, text, **where))).number

    at(S)
    tokens = {}
    for username, name, role in [
        ("wang", "王师傅", "technician"),
        ("zhao", "赵主管", "supervisor"),
        ("li", "李客服", "agent"),
    ]:
        tokens[username] = (await bus.handle(commands.AddStaff(username, name, role, "admin"))).token
    h = timedelta(hours=1)

    # A: a leak, answered in 20 minutes, fixed in 5 hours, rated 5 (October, locally)
    a = await open_("a", "repair", "厨房水管漏水", S, building="3", unit="2", room="501")
    await assign(a, S + minutes(20))
    await move(a, "in_progress", S + h)
    await move(a, "resolved", S + 5 * h)
    await rate("a", 5, S + 6 * h)
    # B: noise (1 November, locally), answered in 2 hours; the first fix failed (rated 2), the second held (4)
    b = await open_("b", "complaint", "楼上半夜很吵", S + 1.5 * h, building="5", unit="1", room="302")
    await assign(b, S + 3.5 * h)
    await move(b, "resolved", S + 11.5 * h)
    await rate("b", 2, S + 12 * h)
    await assign(b, S + 13 * h)
    await move(b, "resolved", S + 31.5 * h)
    await rate("b", 4, S + 32 * h)
    # C: a gas leak, answered late (40 of 15 minutes) and still not fixed; D reported it again
    at(S + 40 * h)
    c = (
        await bus.handle(
            commands.ReportEmergency(OWNER["c"], "gas_leak", "厨房燃气泄漏", building="3", unit="1", room="101")
        )
    ).number
    d = await open_("d", "repair", "楼道有煤气味", S + 40 * h + minutes(10), building="3")
    at(S + 40 * h + minutes(20))
    await bus.handle(commands.MergeTickets(d, c, "zhao"))
    await assign(c, S + 40 * h + minutes(40))
    await move(c, "in_progress", S + 41 * h)
    # F: parking two days ago, nobody answered within the day; E: a tap ten minutes ago
    await open_("f", "complaint", "小区门口停车乱停占道", END - timedelta(days=2), public_area="小区门口")
    await open_("e", "repair", "卫生间水龙头坏了", END - minutes(10), building="7", unit="1", room="101")
    at(END)
    return tokens


def _none() -> dict:
    return {"count": 0, "median": None, "p90": None}


async def test_statistics_end_to_end(backend, public_client, clock):
    tokens = await _scenario(backend, clock)
    resp = await public_client.get("/api/stats", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["period"]["from"] == "2026-10-22" and body["period"]["to"] == "2026-11-20"
    assert body["tickets"] == 5 and body["excluded"] == {"merged": 1}
    assert body["by_kind"] == {"repair": 3, "complaint": 2}
    assert body["by_priority"] == {"emergency": 1, "urgent": 0, "normal": 4, "low": 0}
    assert {k: v for k, v in body["by_status"].items() if v} == {"new": 2, "in_progress": 1, "closed": 2}
    assert body["by_category"] == [
        {"code": "plumbing", "label": "水暖", "count": 2},
        {"code": "gas", "label": "燃气", "count": 1},
        {"code": "noise", "label": "噪音", "count": 1},
        {"code": "parking", "label": "停车", "count": 1},
    ]
    assert body["by_building"] == [
        {"building": "3", "count": 2},
        {"building": "5", "count": 1},
        {"building": "7", "count": 1},
        {"building": None, "count": 1},
    ]
    assert body["by_month"] == [
        {"month": "2026-10", "total": 1, "repair": 1, "complaint": 0},
        {"month": "2026-11", "total": 4, "repair": 2, "complaint": 2},
    ]
    response = body["response_minutes"]
    assert {k: response[k] for k in ("count", "median", "p90")} == {"count": 3, "median": 40, "p90": 120}
    assert response["by_kind"] == {
        "repair": {"count": 2, "median": 20, "p90": 40},
        "complaint": {"count": 1, "median": 120, "p90": 120},
    }
    assert response["by_priority"] == {
        "emergency": {"count": 1, "median": 40, "p90": 40},
        "urgent": _none(),
        "normal": {"count": 2, "median": 20, "p90": 120},
        "low": _none(),
    }
    resolution = body["resolution_minutes"]
    assert {k: resolution[k] for k in ("count", "median", "p90")} == {"count": 2, "median": 300, "p90": 1800}
    assert resolution["by_kind"]["complaint"] == {"count": 1, "median": 1800, "p90": 1800}  # the fix that held
    assert resolution["by_priority"]["emergency"] == _none()
    assert body["reopened"] == 1
    sla = body["sla"]
    assert {k: sla[k] for k in ("due", "met", "missed", "not_yet_due", "rate")} == {
        "due": 4,
        "met": 2,
        "missed": 2,
        "not_yet_due": 1,
        "rate": 0.5,
    }
    assert sla["respond"] == {"due": 4, "met": 2, "missed": 2, "not_yet_due": 1, "rate": 0.5}
    assert sla["resolve"] == {"due": 3, "met": 2, "missed": 1, "not_yet_due": 2, "rate": 0.6667}
    assert sla["by_priority"]["emergency"]["rate"] == 0.0
    assert body["satisfaction"] == {
        "ratings": 3,
        "satisfied": 2,
        "rate": 0.6667,
        "mean": 3.67,
        "good_rating": 4,
        "target": 0.9,
        "meets_target": False,
    }
    backlog = body["backlog"]
    assert backlog["total"] == 3
    assert backlog["by_age"] == {"<1d": 1, "1-3d": 1, "3-7d": 0, ">7d": 1}
    assert backlog["by_status"]["new"] == {"<1d": 1, "1-3d": 1, "3-7d": 0, ">7d": 0}
    assert backlog["by_status"]["in_progress"] == {"<1d": 0, "1-3d": 0, "3-7d": 0, ">7d": 1}
    assert "merged" in body["method"]["excluded"]

    # A supervisor sees the same; local days decide which tickets a period holds
    resp = await public_client.get("/api/stats", headers=bearer(tokens["zhao"]))
    assert resp.status == 200 and await resp.json() == body
    first_of_november = await public_client.get(
        "/api/stats", params={"from": "2026-11-01", "to": "2026-11-01"}, headers=bearer(tokens["zhao"])
    )
    day = await first_of_november.json()
    assert day["tickets"] == 1 and day["by_category"] == [{"code": "noise", "label": "噪音", "count": 1}]
    assert day["by_month"] == [{"month": "2026-11", "total": 1, "repair": 0, "complaint": 1}]
    assert day["backlog"] == body["backlog"]  # the backlog is now, whatever the period
    october = await (
        await public_client.get("/api/stats?from=2026-10-31&to=2026-10-31", headers=bearer(ADMIN_TOKEN))
    ).json()
    assert october["tickets"] == 1 and october["by_kind"] == {"repair": 1, "complaint": 0}
    assert october["satisfaction"]["ratings"] == 1 and october["satisfaction"]["rate"] == 1.0


async def test_statistics_are_for_supervisors_and_administrators(backend, public_client):
    resp = await public_client.get("/api/stats")
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    resp = await public_client.get("/api/stats", headers=bearer("not-a-token"))
    assert resp.status == 401
    for username, role in [("li", "agent"), ("wang", "technician")]:
        token = (await backend.bus.handle(commands.AddStaff(username, username, role, "admin"))).token
        resp = await public_client.get("/api/stats", headers=bearer(token))
        assert resp.status == 403, role
        assert "tickets" not in await resp.json()
    token = (await backend.bus.handle(commands.AddStaff("zhao", "赵主管", "supervisor", "admin"))).token
    resp = await public_client.get("/api/stats", headers=bearer(token))
    assert resp.status == 200
    assert (await resp.json())["tickets"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=2026-11-5",
        "from=20261101",
        "to=2026-02-30",
        "from=",
        "from=２０２６-11-01",
        "from=2026-11-21&to=2026-11-20",
        "from=2024-11-19&to=2026-11-20",  # 732 days
        "from=1999-12-31&to=2000-01-01",
        "to=9999-12-31",
    ],
)
async def test_bad_periods_are_refused(public_client, query):
    resp = await public_client.get(f"/api/stats?{query}", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 400, query
    assert (await resp.json())["error"] == "bad_request"


async def test_periods_up_to_two_years_and_the_default(public_client, clock):
    resp = await public_client.get("/api/stats?from=2024-11-20&to=2026-11-20", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200  # 731 days
    assert len((await resp.json())["by_month"]) == 25
    resp = await public_client.get("/api/stats?from=2026-11-01", headers=bearer(ADMIN_TOKEN))
    assert (await resp.json())["period"]["to"] == "2026-11-21"  # today in Shanghai (clock: 10:30 on 21 Nov)
    resp = await public_client.get("/api/stats?to=2026-06-30", headers=bearer(ADMIN_TOKEN))
    assert (await resp.json())["period"] == {
        "from": "2026-06-01",
        "to": "2026-06-30",
        "timezone": "Asia/Shanghai",
        "start": "2026-06-01T00:00:00+08:00",
        "end": "2026-07-01T00:00:00+08:00",
    }


# -- months and staff (the console's dashboard) ---------------------------------------------------


def worked(assignee: str, respond: timedelta, resolve: timedelta | None = None, score: int | None = None, **kw):
    """A ticket assigned to ``assignee`` ``respond`` after opening, resolved and rated like ``handled``."""
    t = ticket(**kw)
    t.assign(assignee, actor="desk", now=t.created_at + respond)
    if resolve is not None:
        t.move_to(TicketStatus.RESOLVED, actor=assignee, now=t.created_at + resolve)
        if score is not None:
            t.rate(score, actor=t.sender, now=t.created_at + resolve + timedelta(minutes=30))
    return t


def test_sla_and_satisfaction_by_month_split_the_cohort_by_opening_month_and_add_up():
    october = datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc)  # 23:59 on 31 October locally
    tickets = [
        handled(minutes(10), timedelta(hours=2), 5, at=october),  # rated in November, counted in October
        handled(minutes(40), timedelta(hours=30), 2),  # late twice, rated poorly and reopened
        ticket(),  # nobody came
        ticket(NOW - minutes(10)),  # not yet due
        handled(minutes(5), timedelta(hours=1), 4),
    ]
    months = ["2026-10", "2026-11", "2026-12"]
    none = {"due": 0, "met": 0, "missed": 0, "not_yet_due": 0, "rate": None}
    october_row = {"due": 1, "met": 1, "missed": 0, "not_yet_due": 0, "rate": 1.0}
    november_row = {"due": 3, "met": 1, "missed": 2, "not_yet_due": 1, "rate": 0.3333}
    assert stats.sla_by_month(tickets, months, TZ, NOW) == [
        {"month": "2026-10", "respond": october_row, "resolve": october_row},
        {"month": "2026-11", "respond": november_row, "resolve": november_row},
        {"month": "2026-12", "respond": none, "resolve": none},
    ]
    assert stats.satisfaction_by_month(tickets, months, TZ) == [
        {"month": "2026-10", "ratings": 1, "satisfied": 1, "rate": 1.0},
        {"month": "2026-11", "ratings": 2, "satisfied": 1, "rate": 0.5},
        {"month": "2026-12", "ratings": 0, "satisfied": 0, "rate": None},
    ]
    result = stats.compute(tickets, [], first=date(2026, 10, 1), last=date(2026, 12, 31), tz=TZ, now=NOW)
    assert [m["month"] for m in result["sla_by_month"]] == months
    for deadline in ("respond", "resolve"):
        for key in ("due", "met", "missed", "not_yet_due"):
            assert sum(m[deadline][key] for m in result["sla_by_month"]) == result["sla"][deadline][key]
    assert sum(m["ratings"] for m in result["satisfaction_by_month"]) == result["satisfaction"]["ratings"]
    assert "opened" in result["method"]["months"]


def test_by_staff_counts_each_assignee_s_share_of_the_cohort():
    held = worked("wang", minutes(5))
    held.move_to(TicketStatus.ON_HOLD, actor="wang", now=T0 + timedelta(hours=1))  # 23 hours left, frozen
    late_hold = worked("wang", minutes(5))
    late_hold.move_to(TicketStatus.ON_HOLD, actor="wang", now=T0 + timedelta(hours=25))  # already late
    stuck = worked("wang", minutes(5))
    stuck.move_to(TicketStatus.IN_PROGRESS, actor="wang", now=T0 + timedelta(hours=1))
    tickets = [
        worked("wang", minutes(5), timedelta(hours=2), 5),
        worked("wang", minutes(5), timedelta(hours=3), 2),  # reopened: not resolved, open, late now
        held,
        late_hold,
        stuck,
        worked("li", minutes(5), timedelta(hours=30), 3),
        ticket(),  # nobody's: in no row
    ]
    assert stats.by_staff(tickets, {"wang": "王师傅"}, NOW) == [
        {
            "username": "wang",
            "name": "王师傅",
            "assigned": 5,
            "resolved": 1,
            "open": 4,
            "overdue": 3,  # the reopened one, the late hold and the stuck one; the held one is paused
            "resolve_on_time_rate": 0.25,  # met 1; missed 3; the held one is not yet due
            "satisfaction_rate": 0.5,
        },
        {
            "username": "li",
            "name": None,  # no account by that name
            "assigned": 1,
            "resolved": 1,
            "open": 0,
            "overdue": 0,
            "resolve_on_time_rate": 0.0,
            "satisfaction_rate": 0.0,
        },
    ]
    assert stats.sla_outcomes(held, NOW)[1] is Outcome.NOT_DUE  # the statistics read holds as the list does
    assert stats.sla_outcomes(late_hold, NOW)[1] is Outcome.MISSED
    assert stats.by_staff([], {}, NOW) == []
