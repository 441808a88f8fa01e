"""Ticket statistics for the property manager (闭环管理): where problems cluster and how well
they are handled against the published norms (an ordinary repair answered in 30 minutes and
done in 24 hours, satisfaction at least 90%).

The numbers are pure functions over domain tickets (no I/O, testable with hand-built tickets);
``ticket_statistics`` is the one read that loads tickets through a unit of work and feeds them in.

Definitions, chosen once so every report means the same thing:

* Cohort: the tickets *opened* in the period (local dates, inclusive). Counts, times, SLA,
  reopens and ratings are about that cohort and what has happened to it up to ``now``, so a
  month's figures settle as its last tickets are finished and rated.
* Tickets merged into another (``merged_into`` set) are duplicates of a problem already counted:
  they are left out of everything and reported as ``excluded.merged``.
* Response time: ``responded_at - created_at`` (the first assignment), in minutes.
* Resolution time: from opening to the resolution that stuck, i.e. ``resolved_at``, which the
  domain clears on a reopen and keeps on close. A ticket reopened and not yet resolved again has
  no resolution time: the owner is still waiting, and counting its first, failed fix would flatter
  the team (reopens are counted separately). A closed ticket without ``resolved_at`` (imported
  data) falls back to its last RESOLVED event.
* Percentiles: nearest rank (the smallest value with at least q% of the values at or below it),
  so the median and p90 are always minutes some ticket really took; ``None`` with no data.
* SLA: a deadline is met when done at or before it, missed when done after it or when it passed
  while the ticket was open (or before it was cancelled), not yet due otherwise; a cancelled
  ticket's deadlines after its cancellation do not apply; on hold the resolution clock stands
  still (``Ticket.sla``), so a held ticket misses only a deadline that passed before the hold.
  A ticket complies when every deadline that applies is met, misses when any is missed; tickets
  with nothing missed and something not yet due are excluded from the rate.
* Satisfaction: every RATING event of the cohort (a poor rating and the good one after the rework
  both count); satisfied means score >= ``GOOD_RATING``.
* Backlog: every ticket open at ``now``, whatever the period, by age since opening; the oldest
  problems are exactly the ones a window would hide.
* Months (``by_month``, ``sla_by_month``, ``satisfaction_by_month``): the cohort split by the
  local month each ticket was *opened*, every month of the period shown; so the months add up to
  the period's totals (a rating given in December for a November ticket counts for November).
* Staff (``by_staff``): the cohort's tickets by their accountable person now (``assignee``; a
  hand-over moves the ticket to the new one); unassigned tickets are in no row. ``resolved`` has
  a resolution that stuck, ``open`` is still open, ``overdue`` is open and past the deadline that
  counts now (``Ticket.sla``: on hold the clock stands still); the on-time rate is the resolution
  deadline's, the satisfaction rate over every rating of those tickets.
"""

from __future__ import annotations

import statistics as pystats
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend_bridge.domain import categories, model
from backend_bridge.service_layer.unit_of_work import UnitOfWork

COMMAND_HANDLERS: dict = {}  # statistics only read; bootstrap merges these with the other modules'
EVENT_HANDLERS: dict = {}

SATISFACTION_TARGET = 0.9  # the community norm: at least 90% of ratings satisfied
DEFAULT_DAYS = 30
MAX_DAYS = 731  # about two years: every ticket and its history is loaded, so the range is bounded
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # beyond these the dates are typos
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("<1d", timedelta(days=1)),
    ("1-3d", timedelta(days=3)),
    ("3-7d", timedelta(days=7)),
    (">7d", None),
)  # each bucket holds ages from the previous bound (inclusive) up to its own (exclusive)
OPEN_ORDER = [s for s in model.TicketStatus if s in model.OPEN_STATUSES]


class Outcome(str, Enum):
    MET = "met"
    MISSED = "missed"
    NOT_DUE = "not_due"  # still open and the deadline is ahead
    NOT_APPLICABLE = "n/a"  # cancelled before the deadline came


# -- periods -----------------------------------------------------------------------------------


def default_period(now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The last 30 local days, today included."""
    today = now.astimezone(tz).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def period_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight starting ``first``, local midnight after ``last``): aware datetimes."""
    return datetime.combine(first, time(), tz), datetime.combine(last + timedelta(days=1), time(), tz)


def months_between(first: date, last: date) -> list[str]:
    """Every YYYY-MM from ``first``'s month to ``last``'s, so empty months show as zero."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


# -- single tickets ------------------------------------------------------------------------------


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def response_minutes(ticket: model.Ticket) -> float | None:
    return _minutes(ticket.responded_at - ticket.created_at) if ticket.responded_at else None


def resolution_time(ticket: model.Ticket) -> datetime | None:
    """When the resolution that stuck happened (see the module docstring), or None."""
    if ticket.resolved_at is not None:
        return ticket.resolved_at
    if ticket.status is not model.TicketStatus.CLOSED:
        return None
    resolved = [
        e.at for e in ticket.history if e.type is model.EventType.STATUS and e.status is model.TicketStatus.RESOLVED
    ]
    return resolved[-1] if resolved else None


def resolution_minutes(ticket: model.Ticket) -> float | None:
    resolved = resolution_time(ticket)
    return _minutes(resolved - ticket.created_at) if resolved else None


def reopened(ticket: model.Ticket) -> bool:
    return any(e.type is model.EventType.STATUS and e.status is model.TicketStatus.REOPENED for e in ticket.history)


def deadline_outcome(ticket: model.Ticket, done_at: datetime | None, due: datetime, now: datetime) -> Outcome:
    if done_at is not None:
        return Outcome.MET if done_at <= due else Outcome.MISSED
    stopped = now if ticket.is_open or ticket.closed_at is None else ticket.closed_at
    if stopped > due:
        return Outcome.MISSED
    return Outcome.NOT_DUE if ticket.is_open else Outcome.NOT_APPLICABLE


def sla_outcomes(ticket: model.Ticket, now: datetime) -> tuple[Outcome, Outcome, Outcome]:
    """(respond, resolve, the ticket as a whole)."""
    respond = deadline_outcome(ticket, ticket.responded_at, ticket.respond_by, now)
    resolve = deadline_outcome(ticket, resolution_time(ticket), ticket.resolve_by, now)
    if resolve is Outcome.MISSED and ticket.status is model.TicketStatus.ON_HOLD and not ticket.sla(now).breached:
        resolve = Outcome.NOT_DUE  # on hold the clock stands still: the deadline moves on when work resumes
    both = {respond, resolve}
    if Outcome.MISSED in both:
        overall = Outcome.MISSED
    elif Outcome.NOT_DUE in both:
        overall = Outcome.NOT_DUE
    elif Outcome.MET in both:
        overall = Outcome.MET
    else:
        overall = Outcome.NOT_APPLICABLE
    return respond, resolve, overall


def ratings(ticket: model.Ticket) -> list[int]:
    """Every score the owner gave, from the history (``rating`` only keeps the last)."""
    scores = (e.data.get("score") for e in ticket.history if e.type is model.EventType.RATING)
    return [s for s in scores if isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 5]


def age_bucket(age: timedelta) -> str:
    for name, upper in AGE_BUCKETS:
        if upper is None or age < upper:
            return name
    raise AssertionError("the last bucket is open-ended")


# -- aggregates ----------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: int) -> float | None:
    """Nearest rank: the value at rank ceil(q/100 * n) of the sorted values; None when empty."""
    if not 0 < q <= 100:
        raise ValueError("q is a percentage in (0, 100]")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = -(-q * len(ordered) // 100)  # ceiling in integers: no float rounding at the edges
    return ordered[rank - 1]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def summarize(values: Sequence[float]) -> dict:
    return {
        "count": len(values),
        "median": _round(percentile(values, 50), 1),
        "p90": _round(percentile(values, 90), 1),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def durations(tickets: Sequence[model.Ticket], measure: Callable[[model.Ticket], float | None]) -> dict:
    """``measure`` (minutes or None) summarized overall, per kind and per priority."""
    measured = [(t, m) for t in tickets if (m := measure(t)) is not None]
    return {
        **summarize([m for _, m in measured]),
        "by_kind": {k.value: summarize([m for t, m in measured if t.kind is k]) for k in model.TicketKind},
        "by_priority": {p.value: summarize([m for t, m in measured if t.priority is p]) for p in model.Priority},
    }


def _compliance(outcomes: Iterable[Outcome]) -> dict:
    counted = Counter(outcomes)
    met, missed = counted[Outcome.MET], counted[Outcome.MISSED]
    return {
        "due": met + missed,
        "met": met,
        "missed": missed,
        "not_yet_due": counted[Outcome.NOT_DUE],
        "rate": _rate(met, met + missed),
    }


def sla(tickets: Sequence[model.Ticket], now: datetime) -> dict:
    judged = [(t, sla_outcomes(t, now)) for t in tickets]
    return {
        **_compliance(o[2] for _, o in judged),
        "respond": _compliance(o[0] for _, o in judged),
        "resolve": _compliance(o[1] for _, o in judged),
        "by_kind": {k.value: _compliance(o[2] for t, o in judged if t.kind is k) for k in model.TicketKind},
        "by_priority": {p.value: _compliance(o[2] for t, o in judged if t.priority is p) for p in model.Priority},
    }


def satisfaction(tickets: Sequence[model.Ticket]) -> dict:
    scores = [s for t in tickets for s in ratings(t)]
    good = sum(1 for s in scores if s >= model.GOOD_RATING)
    rate = _rate(good, len(scores))
    return {
        "ratings": len(scores),
        "satisfied": good,
        "rate": rate,
        "mean": _round(pystats.fmean(scores), 2) if scores else None,
        "good_rating": model.GOOD_RATING,
        "target": SATISFACTION_TARGET,
        "meets_target": None if not scores else good / len(scores) >= SATISFACTION_TARGET,  # unrounded
    }


def backlog(open_tickets: Iterable[model.Ticket], now: datetime) -> dict:
    """Open tickets by age since opening, overall and per status (every bucket shown)."""
    names = [name for name, _ in AGE_BUCKETS]
    by_status = {s.value: dict.fromkeys(names, 0) for s in OPEN_ORDER}
    for ticket in open_tickets:
        if ticket.is_open and ticket.merged_into is None:
            by_status[ticket.status.value][age_bucket(now - ticket.created_at)] += 1
    by_age = {name: sum(row[name] for row in by_status.values()) for name in names}
    return {"as_of": now.isoformat(), "total": sum(by_age.values()), "by_age": by_age, "by_status": by_status}


def _building_order(item: tuple[str | None, int]) -> tuple:
    """Most tickets first; then 2 before 10, named buildings after numbered, none (public areas) last."""
    building, count = item
    if building is None:
        return (-count, 2, 0, "")
    if building.isascii() and building.isdigit():
        return (-count, 0, int(building), "")
    return (-count, 1, 0, building)


def _by_building(tickets: Sequence[model.Ticket]) -> list[dict]:
    counted = Counter(t.location.building for t in tickets)
    return [{"building": b, "count": n} for b, n in sorted(counted.items(), key=_building_order)]


def _by_community(tickets: Sequence[model.Ticket]) -> list[dict]:
    """Tickets per community (code; null: not routed to one yet), most first."""
    counts = Counter(t.community for t in tickets)
    return [{"community": code, "count": n} for code, n in sorted(counts.items(), key=lambda i: (-i[1], i[0] or ""))]


def _by_month(tickets: Sequence[model.Ticket], months: list[str], tz: ZoneInfo) -> list[dict]:
    rows = {m: {"month": m, "total": 0} | {k.value: 0 for k in model.TicketKind} for m in months}
    for ticket in tickets:
        row = rows[f"{ticket.created_at.astimezone(tz):%Y-%m}"]
        row["total"] += 1
        row[ticket.kind.value] += 1
    return list(rows.values())


def _month_of(ticket: model.Ticket, tz: ZoneInfo) -> str:
    return f"{ticket.created_at.astimezone(tz):%Y-%m}"


def sla_by_month(tickets: Sequence[model.Ticket], months: list[str], tz: ZoneInfo, now: datetime) -> list[dict]:
    """Response and resolution compliance of each month's tickets (by opening month)."""
    judged: dict[str, list[tuple[Outcome, Outcome]]] = {m: [] for m in months}
    for ticket in tickets:
        respond, resolve, _ = sla_outcomes(ticket, now)
        judged[_month_of(ticket, tz)].append((respond, resolve))
    return [
        {
            "month": month,
            "respond": _compliance(r for r, _ in outcomes),
            "resolve": _compliance(r for _, r in outcomes),
        }
        for month, outcomes in judged.items()
    ]


def satisfaction_by_month(tickets: Sequence[model.Ticket], months: list[str], tz: ZoneInfo) -> list[dict]:
    """Every rating of each month's tickets (by opening month) and the share satisfied."""
    scores: dict[str, list[int]] = {m: [] for m in months}
    for ticket in tickets:
        scores[_month_of(ticket, tz)].extend(ratings(ticket))
    rows = []
    for month, given in scores.items():
        good = sum(1 for s in given if s >= model.GOOD_RATING)
        rows.append({"month": month, "ratings": len(given), "satisfied": good, "rate": _rate(good, len(given))})
    return rows


def by_staff(tickets: Sequence[model.Ticket], names: dict[str, str], now: datetime) -> list[dict]:
    """Each accountable person's share of the cohort (see the module docstring), most tickets
    first; ``names``: usernames to display names (None for an assignee with no account)."""
    mine: dict[str, list[model.Ticket]] = {}
    for ticket in tickets:
        if ticket.assignee:
            mine.setdefault(ticket.assignee, []).append(ticket)
    rows = []
    for username, theirs in mine.items():
        resolve = _compliance(sla_outcomes(t, now)[1] for t in theirs)
        scores = [s for t in theirs for s in ratings(t)]
        rows.append(
            {
                "username": username,
                "name": names.get(username),
                "assigned": len(theirs),
                "resolved": sum(1 for t in theirs if resolution_time(t) is not None),
                "open": sum(1 for t in theirs if t.is_open),
                "overdue": sum(1 for t in theirs if t.sla(now).breached),
                "resolve_on_time_rate": resolve["rate"],
                "satisfaction_rate": _rate(sum(1 for s in scores if s >= model.GOOD_RATING), len(scores)),
            }
        )
    return sorted(rows, key=lambda row: (-row["assigned"], row["username"]))


def compute(
    tickets: Iterable[model.Ticket],
    open_tickets: Iterable[model.Ticket],
    *,
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
    staff_names: dict[str, str] | None = None,
) -> dict:
    """Everything ``GET /api/stats`` shows. ``tickets`` may hold more than the period (only those
    opened in it count); ``open_tickets`` are the ones open at ``now``, for the backlog;
    ``staff_names`` name the assignees in ``by_staff``."""
    start, end = period_bounds(first, last, tz)
    cohort, merged = [], 0
    for ticket in tickets:
        if not start <= ticket.created_at < end:
            continue
        if ticket.merged_into is None:
            cohort.append(ticket)
        else:
            merged += 1
    by_category = Counter(t.category for t in cohort)
    months = months_between(first, last)
    return {
        "period": {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": tz.key,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
        "generated_at": now.isoformat(),
        "tickets": len(cohort),
        "excluded": {"merged": merged},
        "by_kind": {k.value: sum(1 for t in cohort if t.kind is k) for k in model.TicketKind},
        "by_priority": {p.value: sum(1 for t in cohort if t.priority is p) for p in model.Priority},
        "by_status": {s.value: sum(1 for t in cohort if t.status is s) for s in model.TicketStatus},
        "by_category": [
            {"code": code, "label": categories.LABELS.get(code, code), "count": count}
            for code, count in sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
        ],
        "by_community": _by_community(cohort),
        "by_building": _by_building(cohort),  # within one community; company-wide, buildings of all add up
        "by_month": _by_month(cohort, months, tz),
        "response_minutes": durations(cohort, response_minutes),
        "resolution_minutes": durations(cohort, resolution_minutes),
        "reopened": sum(1 for t in cohort if reopened(t)),
        "sla": sla(cohort, now),
        "satisfaction": satisfaction(cohort),
        "backlog": backlog(open_tickets, now),
        "sla_by_month": sla_by_month(cohort, months, tz, now),
        "satisfaction_by_month": satisfaction_by_month(cohort, months, tz),
        "by_staff": by_staff(cohort, staff_names or {}, now),
        "method": {
            "cohort": "tickets opened in the period (local dates, inclusive), as they stand now",
            "excluded": "tickets merged into another are duplicates and not counted",
            "percentile": "nearest rank; null without data",
            "resolution": "opening to the resolution that stuck (a reopen undoes a resolution)",
            "sla": "met at or before the deadline; open past it is missed (on hold the clock stands still); "
            "not yet due is excluded",
            "satisfaction": f"every rating in the history; satisfied at {model.GOOD_RATING} or more",
            "backlog": "every ticket open now, whenever it was opened, by age",
            "months": "the period's tickets by the local month they were opened; the months add up to the totals",
            "by_staff": "the period's tickets by their assignee now; overdue: open and past the deadline "
            "that counts now (on hold the clock stands still); on time: the resolution deadline",
        },
    }


# -- the read ------------------------------------------------------------------------------------


async def ticket_statistics(
    uow: UnitOfWork, *, first: date, last: date, tz: ZoneInfo, now: datetime, communities: list[str] | None = None
) -> dict:
    """Load the period's tickets and the open ones (histories come with them) and compute.

    ``communities``: only these communities' tickets (codes); None: the whole company's.
    """
    start, end = period_bounds(first, last, tz)
    within = [] if communities is None else [model.Ticket.community.in_(communities)]
    async with uow:
        cohort = select(model.Ticket).where(model.Ticket.created_at >= start, model.Ticket.created_at < end, *within)
        opened = (await uow.session.scalars(cohort.order_by(model.Ticket.id))).all()
        still_open = select(model.Ticket).where(
            model.Ticket.status.in_(list(model.OPEN_STATUSES)), model.Ticket.merged_into.is_(None), *within
        )
        open_now = (await uow.session.scalars(still_open.order_by(model.Ticket.id))).all()
        names = dict((await uow.session.execute(select(model.StaffMember.username, model.StaffMember.name))).all())
        # Computed inside the unit of work: leaving it rolls back, which expires the objects.
        return compute(opened, open_now, first=first, last=last, tz=tz, now=now, staff_names=names)
