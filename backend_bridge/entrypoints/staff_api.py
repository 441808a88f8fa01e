"""Staff API (public port, ``Authorization: Bearer $WUYE_ADMIN_TOKEN`` on every call).

Tickets and their status, the gate's visitor-pass check, and conversations handed
to staff. The staff console (a later issue) is a client of exactly these routes.
"""

from __future__ import annotations

from aiohttp import web

from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.http import (
    BadRequest,
    conversation_id,
    int_param,
    json_error,
    read_json,
    require_bearer,
    text_field,
)
from backend_bridge.entrypoints.keys import ADMIN_TOKEN, BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.ports import DialogueUnavailable

routes = web.RouteTableDef()
staff_only = require_bearer(ADMIN_TOKEN, "staff")


def _choice(request: web.Request, name: str, allowed: type) -> str | None:
    value = request.query.get(name)
    if value and value not in {m.value for m in allowed}:
        raise BadRequest(f"'{name}' must be one of {sorted(m.value for m in allowed)}")
    return value or None


def _sender(request: web.Request) -> str:
    return conversation_id(request.match_info["sender"])


@routes.get("/api/tickets")
@staff_only
async def list_tickets(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    found, total = await views.tickets_for_staff(
        backend.new_uow(),
        status=_choice(request, "status", model.TicketStatus),
        kind=_choice(request, "kind", model.TicketKind),
        priority=_choice(request, "priority", model.Priority),
        limit=int_param(request, "limit", 50, 1, 200),
        offset=int_param(request, "offset", 0, 0, 10**9),
    )
    return web.json_response(found, headers={"X-Total-Count": str(total)})


@routes.get("/api/tickets/{number}")
@staff_only
async def get_ticket(request: web.Request) -> web.Response:
    found = await views.ticket_for_staff(request.app[BACKEND].new_uow(), request.match_info["number"])
    if found is None:
        return json_error(404, "not_found", "no such ticket")
    return web.json_response(found)


@routes.post("/api/tickets/{number}/status")
@staff_only
async def change_status(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.ChangeTicketStatus(
        number=request.match_info["number"],
        status=text_field(body, "status", max_len=32),
        actor=text_field(body, "actor", required=False, max_len=64) or "staff",
        note=text_field(body, "note", required=False, max_len=500) or "",
    )
    backend = request.app[BACKEND]
    try:
        await backend.bus.handle(command)
    except LookupError:
        return json_error(404, "not_found", "no such ticket")
    except model.DomainError as exc:
        return json_error(409, "conflict", str(exc))
    return web.json_response(await views.ticket_for_staff(backend.new_uow(), command.number))


@routes.get("/api/passes/{code}")
@staff_only
async def check_pass(request: web.Request) -> web.Response:
    """The gate asks: may this visitor code pass now?"""
    code = request.match_info["code"].strip()
    backend = request.app[BACKEND]
    found = None
    if code.isdigit() and len(code) == model.PASS_CODE_DIGITS:
        found = await views.check_pass(backend.new_uow(), code, backend.clock())
    if found is None:
        return web.json_response({"code": code, "valid": False, "state": "unknown"}, status=404)
    return web.json_response(found)


@routes.get("/api/conversations")
@staff_only
async def list_conversations(request: web.Request) -> web.Response:
    state = _choice(request, "state", model.ConversationState)
    return web.json_response(await views.conversations(request.app[BACKEND].new_uow(), state))


@routes.post("/api/conversations/{sender}/handback")
@staff_only
async def hand_back(request: web.Request) -> web.Response:
    try:
        result = await request.app[BACKEND].bus.handle(commands.HandBack(_sender(request), actor="staff"))
    except LookupError:
        return json_error(404, "not_found", "no such conversation")
    except model.DomainError as exc:
        return json_error(409, "conflict", str(exc))
    except DialogueUnavailable:  # nothing changed: the conversation stays with staff
        return json_error(503, "dialogue_unavailable", "the assistant is not reachable; try again shortly")
    return web.json_response(result)


@routes.post("/api/conversations/{sender}/messages")
@staff_only
async def send_message(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.SendStaffMessage(_sender(request), text_field(body, "text", max_len=2000), actor="staff")
    try:
        result = await request.app[BACKEND].bus.handle(command)
    except LookupError:
        return json_error(404, "not_found", "no such conversation")
    return web.json_response(result, status=202)
