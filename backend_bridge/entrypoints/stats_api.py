"""Statistics for supervisors and administrators: ``GET /api/stats?from=YYYY-MM-DD&to=YYYY-MM-DD``,
and the same numbers as a CSV for Excel, ``GET /api/stats.csv`` (same query, same permission).

``&community=<code>`` for one community; without it, every community the caller works in
(the whole company for company-wide staff).

Dates are the community's local dates, both inclusive; without them the last 30 days up to
today (the backend clock's). What each number means is in service_layer/statistics.py.
"""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web

from backend_bridge.entrypoints.http import BadRequest
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.entrypoints.staff_auth import community_param, scope, staff_only
from backend_bridge.service_layer import exports, statistics

routes = web.RouteTableDef()

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone also takes 20261121 and weeks


def _date(request: web.Request, name: str) -> date | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date written YYYY-MM-DD") from None
    if not statistics.EARLIEST <= parsed <= statistics.LATEST:
        raise BadRequest(f"'{name}' must be between {statistics.EARLIEST} and {statistics.LATEST}")
    return parsed


def _period(request: web.Request, default: tuple[date, date]) -> tuple[date, date]:
    """The requested local dates; a missing end is today, a missing start 30 days before the end."""
    last = _date(request, "to") or default[1]
    first = _date(request, "from") or last - (default[1] - default[0])
    if first > last:
        raise BadRequest("'from' must not be after 'to' (today when not given)")
    if (last - first).days + 1 > statistics.MAX_DAYS:
        raise BadRequest(f"the period may span at most {statistics.MAX_DAYS} days")
    return first, last


async def _statistics(request: web.Request) -> dict:
    """What ``/api/stats`` answers for this request (period, community, the caller's scope)."""
    backend = request.app[BACKEND]
    now, tz = backend.clock(), backend.timezone
    first, last = _period(request, statistics.default_period(now, tz))
    community = community_param(request)
    communities = [community] if community else scope(request)
    found = await statistics.ticket_statistics(
        backend.new_uow(), first=first, last=last, tz=tz, now=now, communities=communities
    )
    return {"community": community, **found}


@routes.get("/api/stats")
@staff_only("stats")
async def stats(request: web.Request) -> web.Response:
    return web.json_response(await _statistics(request))


@routes.get("/api/stats.csv")
@staff_only("stats")
async def stats_csv(request: web.Request) -> web.Response:
    """The statistics as one CSV sheet of sections (KPIs, months, categories, buildings, staff;
    why one sheet: exports.stats_rows), named after the period."""
    found = await _statistics(request)
    period = found["period"]
    filename = f"统计_{found['community'] or '全部'}_{period['from']}_{period['to']}.csv"
    return web.Response(
        body=exports.stats_csv(found),
        headers={
            "Content-Type": exports.CSV_TYPE,
            "Content-Disposition": exports.attachment(filename),
            "Cache-Control": "no-store",
        },
    )
