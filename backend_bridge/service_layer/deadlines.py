"""The SLA scheduler's sweep (commands.CheckDeadlines): warn the accountable person, escalate when a
deadline passes, close resolved tickets whose owner never answered the rating question.

It reads only the tickets due for a look (``Ticket.sweep_at <= now``, indexed), in batches of
short transactions, and plans each one's next look with its community's times. Loading every
open ticket with its history on every sweep made the sweep's cost, and the dispatcher's heap,
grow with the tickets left open (issue 14: costs stay flat with 10k or 100k tickets stored).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backend_bridge.domain import commands, model
from backend_bridge.service_layer import results
from backend_bridge.service_layer.ports import ContentSource, Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork

SWEEP_BATCH = 200  # tickets per transaction: writers never wait long behind the sweep
MAX_BATCHES = 500  # a bound on one run (100,000 looks); what is left is the next run's, earliest first


def alert_times(content: ContentSource) -> dict[str, tuple[int, int]]:
    """(warn_before_minutes, follow_up_close_hours) per community code, "" for the company's."""
    company = content.get(None)
    times = {"": (company.warn_before_minutes, company.follow_up_close_hours)}
    times.update({c.code: (c.warn_before_minutes, c.follow_up_close_hours) for c in content.communities()})
    return times


async def check_deadlines(cmd: commands.CheckDeadlines, uow: UnitOfWork, deps: Deps) -> results.DeadlineSweep:
    """SLA alerts and unanswered follow-ups closed, for the tickets due for a look. When the
    communities' times are not those the looks were planned with (changed, or this process's
    first sweep), every open or resolved ticket is due again first: a longer warn_before or a
    shorter close_after may bring a look forward, and none may be missed."""
    now = deps.clock()
    counts = {"warnings": 0, "escalations": 0, "closed": 0}
    times = alert_times(deps.content)
    if deps.sweeps.alert_times != times:
        async with uow:
            await uow.tickets.sweep_all_again(now)
            await uow.commit()
        deps.sweeps.alert_times = times
    for _ in range(MAX_BATCHES):
        async with uow:
            due = await uow.tickets.due_for_sweep(now, SWEEP_BATCH)
            for ticket in due:
                _look_at(ticket, now, deps, counts)
            await uow.commit()
        if len(due) < SWEEP_BATCH:
            break
    return results.DeadlineSweep(**counts)


def _look_at(ticket: model.Ticket, now: datetime, deps: Deps, counts: dict[str, int]) -> None:
    content = deps.content.get(ticket.community)  # each community publishes its own times
    warn_before = timedelta(minutes=content.warn_before_minutes)
    close_after = timedelta(hours=content.follow_up_close_hours)
    if ticket.status is model.TicketStatus.RESOLVED:
        if ticket.survey_sent_at and now - ticket.survey_sent_at >= close_after:
            ticket.move_to(model.TicketStatus.CLOSED, actor="system", now=now, note="回访未答复，自动办结")
            counts["closed"] += 1
    else:
        for deadline, kind in ticket.deadline_alerts(now, warn_before):
            ticket.record_alert(deadline, kind, now=now)
            counts["warnings" if kind is model.EventType.SLA_WARNING else "escalations"] += 1
    ticket.plan_sweep(now, warn_before, close_after)
