"""The SLA scheduler reads only the tickets due for a look (Ticket.sweep_at), and still misses no
alert and gives none twice.

Protects: a ticket whose next look is planned after its alert falls due (on hold, responded,
resolved awaiting its rating, reopened with alerts already given, an emergency turned ordinary),
a change of the communities' times (a longer warn_before, a shorter follow-up) that would bring an
alert forward, and the sweep's cost growing with the open tickets stored. The oracle is the rule
itself: after every sweep, ``Ticket.deadline_alerts`` finds nothing due on any ticket in the store.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands, model
from backend_bridge.domain.model import Location, Priority, ServiceLevel, Ticket, TicketKind
from backend_bridge.domain.model import TicketStatus as S
from backend_bridge.service_layer.ports import NullNotifier
from bench.growth_store import StatementCounter, seed
from tests.backend.test_lifecycle import NOW, assign, move, open_repair, team
from tests.conftest import CONTENT, demo_store

WARN, CLOSE = timedelta(minutes=30), timedelta(hours=72)

# --- the planned look, on the model: never after the first moment something is due --------------


def _opened(level: ServiceLevel | None = None, priority: Priority = Priority.NORMAL) -> Ticket:
    ticket = Ticket.open(
        kind=TicketKind.REPAIR,
        location=Location("3", "2", "501"),
        description="厨房水管漏水",
        sender="webchat:owner",
        now=NOW,
        level=level or ServiceLevel(30, 24),
        priority=priority,
    )
    ticket.id = 7
    return ticket


def _at(minutes: float):
    return NOW + timedelta(minutes=minutes)


def _sweep(ticket: Ticket, now, warn: timedelta, close: timedelta) -> None:
    """What the scheduler does to one ticket it looks at (service_layer/deadlines.py)."""
    if ticket.status is S.RESOLVED:
        if ticket.survey_sent_at and now - ticket.survey_sent_at >= close:
            ticket.move_to(S.CLOSED, actor="system", now=now)
    else:
        for deadline, kind in ticket.deadline_alerts(now, warn):
            ticket.record_alert(deadline, kind, now=now)
    ticket.plan_sweep(now, warn, close)


def _first_due(ticket: Ticket, after, warn: timedelta, close: timedelta, step=timedelta(minutes=1)):
    """The first minute after ``after`` at which the scheduler would have something to do."""
    at = after
    for _ in range(6 * 24 * 60):
        at += step
        if ticket.is_open and ticket.deadline_alerts(at, warn):
            return at
        if ticket.status is S.RESOLVED and ticket.survey_sent_at and at - ticket.survey_sent_at >= close:
            return at
    return None


def _responded() -> Ticket:
    ticket = _opened()
    ticket.assign("li", actor="desk", now=_at(10))
    return ticket


def _on_hold() -> Ticket:
    ticket = _responded()
    ticket.move_to(S.ON_HOLD, actor="li", now=_at(60))
    return ticket


def _resumed() -> Ticket:
    ticket = _on_hold()
    ticket.move_to(S.IN_PROGRESS, actor="li", now=_at(60 * 30))
    return ticket


def _awaiting_rating() -> Ticket:
    ticket = _responded()
    ticket.move_to(S.RESOLVED, actor="li", now=_at(120))
    return ticket


def _reopened_after_alerts() -> Ticket:
    ticket = _opened()
    _sweep(ticket, _at(30), WARN, CLOSE)  # the response escalated
    ticket.assign("li", actor="desk", now=_at(40))
    _sweep(ticket, _at(60 * 23 + 30), WARN, CLOSE)  # the resolution warned
    ticket.move_to(S.RESOLVED, actor="li", now=_at(60 * 23 + 40))
    ticket.rate(1, actor="webchat:owner", now=_at(60 * 24))  # reopened: the resolution escalates later
    return ticket


def _emergency_withdrawn() -> Ticket:
    ticket = _opened(ServiceLevel(15, 4), Priority.EMERGENCY)
    _sweep(ticket, _at(15), WARN, CLOSE)  # the 15-minute response escalated
    ticket.not_an_emergency(ServiceLevel(240, 72), actor="webchat:owner", now=_at(20), note="不急")
    return ticket


STATES = {
    "new": _opened,
    "responded": _responded,
    "on hold": _on_hold,
    "resumed after a hold": _resumed,
    "resolved awaiting the rating": _awaiting_rating,
    "reopened with alerts given": _reopened_after_alerts,
    "emergency withdrawn after an escalation": _emergency_withdrawn,
}
TIMES = [(timedelta(0), timedelta(hours=1)), (WARN, CLOSE), (timedelta(hours=10), timedelta(hours=72))]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("warn, close", TIMES, ids=["warn-0-close-1h", "warn-30m-close-72h", "warn-10h-close-72h"])
def test_the_planned_look_is_never_after_the_first_moment_something_is_due(state, warn, close):
    ticket = STATES[state]()
    looked = ticket.history[-1].at
    assert ticket.sweep_at == looked  # a change is looked at on the next sweep
    _sweep(ticket, looked, warn, close)
    given = Counter((e.data.get("deadline"), e.type) for e in ticket.history if e.type.value.startswith("sla"))
    for _ in range(8):  # follow the ticket from look to look, as the scheduler would
        due = _first_due(ticket, looked, warn, close)
        if due is None:
            break
        assert ticket.sweep_at is not None and looked < ticket.sweep_at <= due, (state, looked, due)
        looked = ticket.sweep_at
        _sweep(ticket, looked, warn, close)
    given = Counter((e.data.get("deadline"), e.type) for e in ticket.history if e.type.value.startswith("sla"))
    assert all(n == 1 for n in given.values()), given
    assert _first_due(ticket, looked, warn, close) is None


def test_a_change_is_looked_at_on_the_next_sweep_and_a_finished_ticket_never():
    ticket = _responded()
    ticket.plan_sweep(_at(10), WARN, CLOSE)
    assert ticket.sweep_at == _at(60 * 23 + 30)  # the resolution's warning
    ticket.comment("需要换阀门", actor="li", now=_at(11))
    assert ticket.sweep_at == _at(11)
    ticket.move_to(S.CANCELLED, actor="desk", now=_at(12))
    assert ticket.sweep_at is None


# --- through the scheduler, on both databases ---------------------------------------------------


@pytest.fixture
async def editable(database_url, clock, dialogue, tmp_path):
    """A backend whose content is a copy this test may edit (the communities' times)."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    built = await bootstrap(database_url, content, dialogue, NullNotifier(), clock=clock)
    await demo_store(built, with_staff=False, mark=False)
    yield built, content
    await built.close()


def _set_times(content, warn_minutes: int, close_hours: int) -> None:
    path = content / "company.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["sla"] = {"warn_before_minutes": warn_minutes, "follow_up_close_hours": close_hours}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


async def _nothing_missed_nor_given_twice(backend) -> None:
    """The oracle: with every ticket in the store in hand, nothing is due that was not given."""
    now = backend.clock()
    async with backend.new_uow() as uow:
        tickets = (await uow.session.scalars(select(model.Ticket))).all()
        for ticket in tickets:
            content = backend.content.get(ticket.community)
            warn = timedelta(minutes=content.warn_before_minutes)
            close = timedelta(hours=content.follow_up_close_hours)
            assert ticket.deadline_alerts(now, warn) == [], (ticket.number, ticket.status, now)
            if ticket.status is S.RESOLVED:
                assert now - ticket.survey_sent_at < close, (ticket.number, now)
            given = Counter((e.data.get("deadline"), e.type) for e in ticket.history if e.type.value.startswith("sla"))
            assert all(n == 1 for n in given.values()), (ticket.number, given)


async def test_four_days_of_sweeps_miss_no_alert_and_give_none_twice_as_tickets_and_times_change(editable, clock):
    backend, content = editable
    await team(backend)
    left_alone = await open_repair(backend)
    held = await open_repair(backend, description="卫生间漏水")
    rated_poorly = await open_repair(backend, description="门锁坏了")
    never_rated = await open_repair(backend, description="灯不亮")
    steps = {  # at the 10-minute step: what staff and owners do
        1: lambda: assign(backend, held),
        2: lambda: assign(backend, rated_poorly),
        3: lambda: assign(backend, never_rated),
        6: lambda: move(backend, held, "on_hold", note="等配件"),
        12: lambda: move(backend, never_rated, "resolved"),
        140: lambda: move(backend, rated_poorly, "resolved"),
        150: lambda: backend.bus.handle(commands.RateTicket("webchat:alice", 1, number=rated_poorly)),
        200: lambda: move(backend, held, "in_progress", note="配件到了"),
    }
    warnings_and_escalations = Counter()
    for step in range(4 * 24 * 6):
        clock.advance(minutes=10)
        if step in steps:
            await steps[step]()
        if step == 100:  # warn ten hours ahead: warnings planned for 30 minutes ahead come forward
            _set_times(content, 600, 72)
            backend.content.refresh()
        if step == 300:  # a follow-up closes after 6 hours, no longer 72
            _set_times(content, 600, 6)
            backend.content.refresh()
        swept = await backend.bus.handle(commands.CheckDeadlines())
        warnings_and_escalations.update({"warnings": swept.warnings, "escalations": swept.escalations})
        await _nothing_missed_nor_given_twice(backend)
    async with backend.new_uow() as uow:
        statuses = {n: (await uow.tickets.by_number(n)).status for n in (left_alone, held, rated_poorly, never_rated)}
    assert statuses == {left_alone: S.NEW, held: S.IN_PROGRESS, rated_poorly: S.REOPENED, never_rated: S.CLOSED}
    # left alone: both deadlines warned and escalated (the resolution's warning at the change to ten
    # hours ahead); held: its moved resolution warned and escalated; rated poorly: the response
    # warned (assigned at the deadline), the resolution warned at the change and escalated once
    # reopened past it; never rated: the response warned and escalated, closed at the 6-hour change
    assert warnings_and_escalations == {"warnings": 6, "escalations": 5}


async def test_a_sweep_reads_only_the_tickets_due_however_many_are_open(backend, clock):
    """Costs flat with the store (issue 14): with 3,000 more open tickets, none of them due, a sweep
    runs the same statements and loads no ticket."""
    community = next(iter(c.code for c in backend.content.communities()))
    await open_repair(backend)
    await backend.bus.handle(commands.CheckDeadlines())  # this process's first sweep looks at all once

    async def one_sweep() -> tuple[int, object]:
        with StatementCounter(backend.engine) as counter:
            swept = await backend.bus.handle(commands.CheckDeadlines())
        return counter.count, swept

    before = await one_sweep()
    await seed(backend.engine, 3000, community)
    assert await one_sweep() == before
    clock.advance(minutes=30)  # the one ticket opened through the bus escalates; the seeded are not due
    assert (await one_sweep())[1].escalations == 1
