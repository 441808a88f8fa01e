"""The backend interface the chat actions call (internal port, bearer $WUYE_INTERNAL_TOKEN).

Each route is one thing an action needs: open a ticket, report an emergency, bind
an owner, read their ledger, issue a pass, list their tickets, hand off. Every
request names the ``sender`` it acts for, and answers only concern that sender.
Answers about the community (hotlines, fees, SLAs) are the sender's community's
(service_layer/routing.py). Routes hold the success path; refusals (404, 403 not_bound,
409, 409 which_community, 422) are answered by entrypoints/errors.py.
"""

from __future__ import annotations

import re

from aiohttp import web

from backend_bridge.adapters.content import FEE_TOPICS
from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.errors import conflict_as
from backend_bridge.entrypoints.http import (
    BadRequest,
    bool_field,
    conversation_id,
    read_json,
    require_bearer,
    text_field,
    time_field,
)
from backend_bridge.entrypoints.keys import BACKEND, INTERNAL_TOKEN, TIMEZONE
from backend_bridge.service_layer import handlers, routing, views
from common.fees import FEE_ITEMS

routes = web.RouteTableDef()
internal = require_bearer(INTERNAL_TOKEN, "bot")
_ADDRESS_PART = re.compile(r"[A-Za-z0-9]{1,8}")
_sender = conversation_id


def _address(body: dict, name: str) -> str | None:
    value = text_field(body, name, required=False, max_len=8)
    if value is not None and not _ADDRESS_PART.fullmatch(value):
        raise BadRequest(f"'{name}' must be letters or digits")
    return value


@routes.post("/bot/v1/tickets")
@internal
async def open_ticket(request: web.Request) -> web.Response:
    body = await read_json(request)
    kind = text_field(body, "kind", max_len=16)
    if kind not in {k.value for k in model.TicketKind}:
        raise BadRequest("'kind' must be repair or complaint")
    command = commands.OpenTicket(
        sender=_sender(body.get("sender")),
        kind=kind,
        description=text_field(body, "description", max_len=2000, free_text=True),
        building=_address(body, "building"),
        unit=_address(body, "unit"),
        room=_address(body, "room"),
        public_area=text_field(body, "public_area", required=False, max_len=32),
        anonymous=bool_field(body, "anonymous"),
    )
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response({"id": result.number, "promise": result.promise}, status=201)


@routes.post("/bot/v1/emergencies")
@internal
async def report_emergency(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.ReportEmergency(
        sender=_sender(body.get("sender")),
        hazard=text_field(body, "hazard", max_len=32),
        description=text_field(body, "description", max_len=2000, free_text=True),
        building=_address(body, "building"),
        unit=_address(body, "unit"),
        room=_address(body, "room"),
        public_area=text_field(body, "public_area", required=False, max_len=32),
    )
    result = await request.app[BACKEND].bus.handle(command)
    answer = result.as_json()
    return web.json_response({"id": answer.pop("number"), **answer}, status=201)


@routes.get("/bot/v1/tickets")
@internal
async def list_tickets(request: web.Request) -> web.Response:
    sender = _sender(request.query.get("sender"))
    open_only = request.query.get("open", "1") != "0"
    return web.json_response(
        await views.tickets_for_sender(request.app[BACKEND].new_uow(), sender, open_only=open_only)
    )


@routes.get("/bot/v1/tickets/{number}")
@internal
async def get_ticket(request: web.Request) -> web.Response:
    sender = _sender(request.query.get("sender"))
    found = await views.ticket_for_sender(request.app[BACKEND].new_uow(), sender, request.match_info["number"])
    if found is None:
        raise model.NotFound("ticket for this sender", request.match_info["number"])
    return web.json_response(found)


@routes.post("/bot/v1/tickets/{number}/chase")
@internal
@conflict_as("not_open")  # a finished ticket cannot be chased; the chat action tells the owner so
async def chase_ticket(request: web.Request) -> web.Response:
    """催单: recorded on the sender's own open ticket; staff (and, when overdue, a supervisor) told."""
    body = await read_json(request)
    command = commands.ChaseTicket(_sender(body.get("sender")), request.match_info["number"])
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response(
        {
            "id": result.number,
            "status": result.status,
            "times": result.times,
            "assigned": bool(result.assignee),
        }
    )


@routes.post("/bot/v1/tickets/{number}/withdraw")
@internal
@conflict_as("not_open")  # done, already cancelled, or an emergency (the duty staff close those)
async def withdraw_ticket(request: web.Request) -> web.Response:
    """The owner takes back their own open request (不用来了); whoever holds it is told."""
    body = await read_json(request)
    command = commands.WithdrawTicket(_sender(body.get("sender")), request.match_info["number"])
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response({"id": result.number, "status": result.status})


@routes.get("/bot/v1/rooms")
@internal
async def room_exists(request: web.Request) -> web.Response:
    """Whether the flat exists in the sender's community (in any, while the owner is not routed)."""
    q = request.query
    if not all(_ADDRESS_PART.fullmatch(q.get(k, "")) for k in ("building", "unit", "room")):
        raise BadRequest("building, unit and room are required")
    sender = _sender(q["sender"]) if "sender" in q else None
    exists = await views.room_exists(request.app[BACKEND].new_uow(), sender, q["building"], q["unit"], q["room"])
    return web.json_response({"exists": exists})


@routes.post("/bot/v1/bindings")
@internal
async def bind(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.BindSender(
        sender=_sender(body.get("sender")),
        building=_address(body, "building") or "",
        unit=_address(body, "unit") or "",
        room=_address(body, "room") or "",
        phone=text_field(body, "phone", max_len=20),
    )
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())


@routes.get("/bot/v1/bindings")
@internal
async def binding(request: web.Request) -> web.Response:
    found = await views.binding_for_sender(request.app[BACKEND].new_uow(), _sender(request.query.get("sender")))
    return web.json_response({"bound": found is not None, **(found or {})})


@routes.get("/bot/v1/ledger")
@internal
async def ledger(request: web.Request) -> web.Response:
    sender = _sender(request.query.get("sender"))
    found = await views.ledger_for_sender(request.app[BACKEND].new_uow(), sender)
    if found is None:
        raise handlers.NotBound(sender)
    return web.json_response(found)


async def _content(request: web.Request):
    """The sender's community's content; the company's while the owner is not routed to one."""
    backend = request.app[BACKEND]
    if "sender" not in request.query:
        return backend.content.get()
    async with backend.new_uow() as uow:
        community = await routing.community_of(uow, _sender(request.query["sender"]))
    return backend.content.get(community)


@routes.get("/bot/v1/content")
@internal
async def community(request: web.Request) -> web.Response:
    content = await _content(request)
    return web.json_response(
        {
            "code": content.code,
            "name": content.name,
            "service_hotline": content.service_hotline,
            "duty_hotline": content.duty_hotline,
            "office_hours": content.office_hours,
        }
    )


@routes.get("/bot/v1/content/fees/{topic}")
@internal
async def fee_answer(request: web.Request) -> web.Response:
    """{"text": the answer} or {"text": null} when the fee asked about (``item``) is not covered."""
    topic, item = request.match_info["topic"], request.query.get("item") or None
    if topic not in FEE_TOPICS:
        raise BadRequest(f"topic must be one of {list(FEE_TOPICS)}")
    if item is not None and item not in FEE_ITEMS:
        raise BadRequest(f"item must be one of {list(FEE_ITEMS)}")
    return web.json_response({"text": (await _content(request)).fee_answer(topic, item)})


@routes.post("/bot/v1/passes")
@internal
async def issue_pass(request: web.Request) -> web.Response:
    body = await read_json(request)
    kind = text_field(body, "time_kind", max_len=8)
    if kind not in {"point", "period", "span", "day"}:
        raise BadRequest("'time_kind' must be point, period, span or day")
    command = commands.IssuePass(
        sender=_sender(body.get("sender")),
        visitor_name=text_field(body, "visitor_name", max_len=64),
        start=time_field(body, "start", required=True),
        end=time_field(body, "end"),
        time_kind=kind,
        plate=text_field(body, "plate", required=False, max_len=16),
    )
    result = await request.app[BACKEND].bus.handle(command)
    window = views.local_window(result.valid_from, result.valid_until, request.app[TIMEZONE])
    return web.json_response(
        {
            "code": result.code,
            "window": window,
            "valid_from": result.valid_from.isoformat(),
            "valid_until": result.valid_until.isoformat(),
        },
        status=201,
    )


@routes.get("/bot/v1/passes")
@internal
async def list_passes(request: web.Request) -> web.Response:
    """The sender's passes that could still admit someone (what they may call off)."""
    backend = request.app[BACKEND]
    sender = _sender(request.query.get("sender"))
    return web.json_response(
        await views.passes_for_sender(backend.new_uow(), sender, backend.clock(), request.app[TIMEZONE])
    )


@routes.post("/bot/v1/passes/{code}/revoke")
@internal
@conflict_as("not_live")  # used, expired or already revoked
async def revoke_pass(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.RevokePass(_sender(body.get("sender")), request.match_info["code"][:8])
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response({"code": result.code, "revoked": True})


@routes.post("/bot/v1/handoffs")
@internal
async def hand_off(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.HandOff(_sender(body.get("sender")), text_field(body, "reason", max_len=64))
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json(), status=201)
