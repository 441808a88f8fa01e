"""Staff API (public port): the communities, tickets and their lifecycle, visitor passes at the
gate, conversations handed to staff, dead-lettered notifications, staff accounts (added, their
tokens rotated, deactivated).

Every route names the permission it needs (domain.model.PERMISSIONS); the caller's
bearer token decides the role (entrypoints/staff_auth.py). Every answer and action is scoped to
the caller's communities (``scope``): another community's ticket, pass, conversation,
notification or colleague is a 404, exactly as if it did not exist. The staff console (a later
issue) is a client of exactly these routes. Routes hold the success path: the domain's
refusals (NotFound → 404, DomainError → 409, …) are answered by entrypoints/errors.py.
"""

from __future__ import annotations

from aiohttp import web

from backend_bridge.domain import categories, commands, model
from backend_bridge.entrypoints.errors import conflict_as
from backend_bridge.entrypoints.http import (
    BadRequest,
    conversation_id,
    int_param,
    json_error,
    read_json,
    text_field,
    time_field,
)
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.entrypoints.staff_auth import STAFF, actor, community_param, managed_colleague, scope, staff_only
from backend_bridge.service_layer import exports, views
from backend_bridge.service_layer.exports import CSV_TYPE
from common.addresses import parse_flat

routes = web.RouteTableDef()


def _choice(request: web.Request, name: str, allowed: type | frozenset) -> str | None:
    values = {m.value for m in allowed} if isinstance(allowed, type) else set(allowed)
    value = request.query.get(name)
    if value and value not in values:
        raise BadRequest(f"'{name}' must be one of {sorted(values)}")
    return value or None


def _sender(request: web.Request) -> str:
    return conversation_id(request.match_info["sender"])


def _shows_sender(request: web.Request) -> bool:
    """Owner chat ids only for roles that talk to owners (a technician gets the address, not the id)."""
    return request[STAFF].may("conversations")


async def _ticket_answer(request: web.Request, number: str, status: int = 200) -> web.Response:
    backend = request.app[BACKEND]
    found = await views.ticket_for_staff(
        backend.new_uow(), number, show_sender=_shows_sender(request), scope=scope(request), now=backend.clock()
    )
    if found is None:
        raise model.NotFound("ticket", number)
    return web.json_response(found, status=status)


async def _visible_ticket(request: web.Request, number: str) -> None:
    """NotFound unless the ticket exists in the caller's communities (checked before any change)."""
    exists, community = await views.ticket_community(request.app[BACKEND].new_uow(), number)
    if not exists or not request[STAFF].sees(community):
        raise model.NotFound("ticket", number)


async def _change(request: web.Request, command: commands.Command, status: int = 200) -> web.Response:
    """Run a ticket command and answer with the ticket as it now stands."""
    result = await request.app[BACKEND].bus.handle(command)
    return await _ticket_answer(request, result.number, status=status)


async def _own_ticket_only(request: web.Request, number: str) -> web.Response | None:
    """A technician works only on tickets assigned to them (403 otherwise, 404 if none or not
    in the caller's communities)."""
    await _visible_ticket(request, number)
    member: model.StaffMember = request[STAFF]
    if member.role is not model.Role.TECHNICIAN:
        return None
    async with request.app[BACKEND].new_uow() as uow:
        ticket = await uow.tickets.by_number(number)
    if ticket is None:
        raise model.NotFound("ticket", number)
    if not member.may_work_on(ticket):
        return json_error(403, "forbidden", "this ticket is assigned to someone else")
    return None


@routes.get("/api/communities")
@staff_only("tickets.read")
async def list_communities(request: web.Request) -> web.Response:
    """The communities the caller works in (every one for company-wide staff): code, name, address."""
    return web.json_response(await views.communities(request.app[BACKEND].new_uow(), scope(request)))


def _search(request: web.Request) -> dict:
    """``q``: a ticket number (BX000123, or the bare 123) or a flat (3-2-501, 3号楼2单元501室),
    read by the rules every side shares (model.parse_number, common.addresses.parse_flat)."""
    q = (request.query.get("q") or "").strip()
    if not q:
        return {}
    if len(q) <= 32 and (number := model.parse_number(q)) is not None:
        return {"number": number}
    if len(q) <= 32 and (flat := parse_flat(q)) is not None:
        return {"flat": flat}
    raise BadRequest("'q' must be a ticket number (BX000123) or a flat (3-2-501, 3号楼2单元501)")


def _ticket_filters(request: web.Request) -> dict:
    """The staff list's filters, search and order, as the list and its CSV export both read them:
    a technician's list is their own work, whatever ``assignee`` says."""
    backend = request.app[BACKEND]
    member: model.StaffMember = request[STAFF]
    query = dict(request.query)
    assignee = text_field(query, "assignee", required=False, max_len=64)
    if member.role is model.Role.TECHNICIAN:
        assignee = member.username  # a technician's list is their own work
    overdue = request.query.get("overdue")
    if overdue not in (None, "", "0", "1", "true", "false"):
        raise BadRequest("'overdue' must be 1 or 0")
    now = backend.clock()
    return {
        "status": _choice(request, "status", frozenset({*(s.value for s in model.TicketStatus), views.OPEN})),
        "kind": _choice(request, "kind", model.TicketKind),
        "priority": _choice(request, "priority", model.Priority),
        "category": _choice(request, "category", categories.CODES),
        "building": text_field(query, "building", required=False, max_len=16),
        "assignee": assignee,
        "overdue_at": now if overdue in ("1", "true") else None,
        "sort": _choice(request, "sort", frozenset(views.SORTS)),
        "now": now,
        "show_sender": _shows_sender(request),
        "scope": scope(request),
        "community": community_param(request),
        **_search(request),
    }


@routes.get("/api/tickets")
@staff_only("tickets.read")
async def list_tickets(request: web.Request) -> web.Response:
    """One page of tickets (``limit``, ``offset``; ``X-Total-Count`` the total matching), each with
    its ``chases`` (催单) and ``sla`` countdown. Filters: status, kind, priority, category,
    building, assignee, overdue=1, community; ``q`` a number or a flat; ``sort`` urgency
    (breached first, then the nearest deadline), created or updated (newest first); none: the
    newest number first."""
    found, total = await views.tickets_for_staff(
        request.app[BACKEND].new_uow(),
        limit=int_param(request, "limit", 50, 1, 200),
        offset=int_param(request, "offset", 0, 0, 10**9),
        **_ticket_filters(request),
    )
    return web.json_response(found, headers={"X-Total-Count": str(total)})


@routes.get("/api/tickets.csv")
@staff_only("tickets.read")
async def export_tickets(request: web.Request) -> web.Response:
    """The list as a CSV for Excel: the same filters, order and permission as ``GET /api/tickets``
    (a technician gets their own tickets), at most exports.MAX_ROWS rows; ``X-Total-Count`` says
    how many matched, so a cut export can be told from a complete one."""
    backend = request.app[BACKEND]
    found, total = await views.tickets_for_staff(
        backend.new_uow(), limit=exports.MAX_ROWS, offset=0, **_ticket_filters(request)
    )
    filename = f"工单_{backend.clock().astimezone(backend.timezone):%Y%m%d_%H%M}.csv"
    return web.Response(
        body=exports.tickets_csv(found, backend.timezone),
        headers={
            "Content-Type": CSV_TYPE,
            "Content-Disposition": exports.attachment(filename),
            "X-Total-Count": str(total),
            "Cache-Control": "no-store",
        },
    )


@routes.post("/api/tickets")
@staff_only("tickets.create")
async def open_for_owner(request: web.Request) -> web.Response:
    """Staff open a ticket on an owner's behalf (walk-in, hotline call), in one of their communities:
    ``community`` names it (required for staff of several communities; a member of one may omit it)."""
    body = await read_json(request)
    member: model.StaffMember = request[STAFF]
    community = text_field(body, "community", required=False, max_len=model.MAX_CODE)
    if community is None and len(member.communities) == 1:
        community = member.communities[0]
    if community is None and not member.company_wide:
        raise BadRequest("'community' is required: you work in several communities")
    if community is not None and not member.sees(community):
        raise model.NotFound("community", community)
    contact = body.get("contact")
    command = commands.OpenTicketForOwner(
        actor=actor(request),
        kind=text_field(body, "kind", max_len=16),
        description=text_field(body, "description", max_len=2000, free_text=True),
        intake=text_field(body, "intake", required=False, max_len=16) or model.Intake.STAFF.value,
        priority=text_field(body, "priority", required=False, max_len=16),
        building=text_field(body, "building", required=False, max_len=8),
        unit=text_field(body, "unit", required=False, max_len=8),
        room=text_field(body, "room", required=False, max_len=8),
        public_area=text_field(body, "public_area", required=False, max_len=32),
        contact=conversation_id(contact) if contact is not None else None,
        community=community,
    )
    if command.intake == model.Intake.ASSISTANT.value:
        raise BadRequest("'intake' must be staff or phone")
    return await _change(request, command, status=201)


@routes.get("/api/tickets/{number}")
@staff_only("tickets.read")
async def get_ticket(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    if refused := await _own_ticket_only(request, number):  # a technician reads their own work
        return refused
    return await _ticket_answer(request, number)


@routes.post("/api/tickets/{number}/assign")
@staff_only("tickets.assign")
async def assign(request: web.Request) -> web.Response:
    body = await read_json(request)
    number = request.match_info["number"]
    await _visible_ticket(request, number)
    command = commands.AssignTicket(
        number, text_field(body, "assignee", max_len=64), actor(request), time_field(body, "expected_at")
    )
    return await _change(request, command)


@routes.post("/api/tickets/{number}/status")
@staff_only("tickets.work")
async def change_status(request: web.Request) -> web.Response:
    """Who may make which move (a technician: their own ticket, forward only) is the domain's
    rule (StaffMember.check_move), applied by the handler: a refusal is a 403."""
    body = await read_json(request)
    await _visible_ticket(request, request.match_info["number"])
    command = commands.ChangeTicketStatus(
        number=request.match_info["number"],
        status=text_field(body, "status", max_len=32),
        actor=actor(request),
        note=text_field(body, "note", required=False, max_len=500, free_text=True) or "",
    )
    return await _change(request, command)


@routes.post("/api/tickets/{number}/comments")
@staff_only("tickets.work")
async def comment(request: web.Request) -> web.Response:
    body = await read_json(request)
    number = request.match_info["number"]
    if refused := await _own_ticket_only(request, number):
        return refused
    command = commands.CommentOnTicket(number, text_field(body, "note", max_len=2000, free_text=True), actor(request))
    return await _change(request, command, status=201)


@routes.post("/api/tickets/{number}/merge")
@staff_only("tickets.merge")
async def merge(request: web.Request) -> web.Response:
    """Merge this ticket (a duplicate) into ``{"into": "BX000012"}``."""
    body = await read_json(request)
    number = request.match_info["number"]
    into = text_field(body, "into", max_len=16)
    await _visible_ticket(request, number)
    await _visible_ticket(request, into)
    command = commands.MergeTickets(number, into, actor(request))
    return await _change(request, command)


def _pass_code(request: web.Request) -> str | None:
    code = request.match_info["code"].strip()
    return code if code.isascii() and code.isdigit() and len(code) == model.PASS_CODE_DIGITS else None


@routes.get("/api/passes/{code}")
@staff_only("passes")
async def check_pass(request: web.Request) -> web.Response:
    """The gate asks: may this visitor code pass now?"""
    code = _pass_code(request)
    backend = request.app[BACKEND]
    found = await views.check_pass(backend.new_uow(), code, backend.clock(), scope(request)) if code else None
    if found is None:
        return web.json_response({"code": request.match_info["code"], "valid": False, "state": "unknown"}, status=404)
    return web.json_response(found)


@routes.post("/api/passes/{code}/use")
@staff_only("passes")
@conflict_as("not_valid")  # the gate's word for a pass that is used, expired or not yet valid
async def use_pass(request: web.Request) -> web.Response:
    """The visitor came in: the code will not admit anyone again."""
    code = _pass_code(request)
    backend = request.app[BACKEND]
    if code is None or await views.check_pass(backend.new_uow(), code, backend.clock(), scope(request)) is None:
        raise model.NotFound("pass", request.match_info["code"])
    await backend.bus.handle(commands.UsePass(code, actor(request)))
    return web.json_response(await views.check_pass(backend.new_uow(), code, backend.clock()))


@routes.get("/api/conversations")
@staff_only("conversations")
async def list_conversations(request: web.Request) -> web.Response:
    """``tab=waiting|mine|bot|all`` (``state=`` still filters), ``q=`` a flat or a phone, ``community=``."""
    backend = request.app[BACKEND]
    found = await views.conversations(
        backend.new_uow(),
        _choice(request, "state", model.ConversationState),
        scope(request),
        tab=_choice(request, "tab", frozenset(views.TABS)) or "all",
        me=actor(request),
        q=text_field(dict(request.query), "q", required=False, max_len=64),
        community=community_param(request),
        now=backend.clock(),
    )
    return web.json_response(found)


async def _visible_conversation(request: web.Request) -> str:
    sender = _sender(request)
    if not await views.conversation_visible(request.app[BACKEND].new_uow(), sender, scope(request)):
        raise model.NotFound("conversation", request.match_info["sender"])
    return sender


@routes.get("/api/conversations/{sender}")
@staff_only("conversations")
async def conversation(request: web.Request) -> web.Response:
    """Who holds it, the owner's flat (phone masked) and their open tickets."""
    found = await views.conversation_detail(request.app[BACKEND].new_uow(), _sender(request), scope(request))
    if found is None:
        raise model.NotFound("conversation", request.match_info["sender"])
    return web.json_response(found)


@routes.post("/api/conversations/{sender}/claim")
@staff_only("conversations")
async def claim(request: web.Request) -> web.Response:
    """Take the conversation (from the assistant too); a colleague's only with ``force`` as a lead (else 409)."""
    body = await read_json(request) if request.can_read_body else {}
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadRequest("'force' must be true or false")
    member: model.StaffMember = request[STAFF]
    command = commands.ClaimConversation(
        await _visible_conversation(request), actor=actor(request), force=force and member.leads
    )
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())


@routes.post("/api/conversations/{sender}/notes")
@staff_only("conversations")
async def add_note(request: web.Request) -> web.Response:
    """A note for colleagues, in the message log; never sent to the owner."""
    body = await read_json(request)
    text = text_field(body, "text", max_len=2000, free_text=True)
    command = commands.AddNote(await _visible_conversation(request), text, actor=actor(request))
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json(), status=201)


@routes.get("/api/conversations/{sender}/messages")
@staff_only("conversations")
async def message_log(request: web.Request) -> web.Response:
    """Every message in and out of one conversation, with channel delivery state and times."""
    found = await views.message_log(request.app[BACKEND].new_uow(), _sender(request), scope=scope(request))
    if found is None:
        raise model.NotFound("conversation", request.match_info["sender"])
    return web.json_response(found)


@routes.post("/api/conversations/{sender}/handback")
@staff_only("conversations")
async def hand_back(request: web.Request) -> web.Response:
    """The assistant answers again; with the assistant unreachable, a 503 and the conversation stays with staff."""
    sender = await _visible_conversation(request)
    result = await request.app[BACKEND].bus.handle(commands.HandBack(sender, actor=actor(request)))
    return web.json_response(result.as_json())


@routes.post("/api/conversations/{sender}/binding")
@staff_only("conversations")
async def bind_owner(request: web.Request) -> web.Response:
    """Staff checked who the owner is (a call back, at the desk) and bind the conversation to their
    flat: the way back for an owner locked out by other people's wrong guesses. The phone must be on
    file for the flat, in the caller's communities (else 404, the same as for a flat that is not)."""
    body = await read_json(request)
    parts = {name: text_field(body, name, max_len=16) for name in ("building", "unit", "room")}
    phone = text_field(body, "phone", max_len=32)
    member: model.StaffMember = request[STAFF]
    command = commands.BindByStaff(
        await _visible_conversation(request),
        phone=phone,
        actor=actor(request),
        communities=None if member.company_wide else tuple(member.communities),
        **parts,
    )
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response(result.as_json())


@routes.post("/api/conversations/{sender}/messages")
@staff_only("conversations")
async def send_message(request: web.Request) -> web.Response:
    body = await read_json(request)
    text = text_field(body, "text", max_len=2000, free_text=True)
    command = commands.SendStaffMessage(await _visible_conversation(request), text, actor=actor(request))
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response(result.as_json(), status=202)


def _canned_community(request: web.Request, body: dict) -> str | None:
    """The community a 常用语 is for: one of the caller's; company-wide (null) only for company-wide staff."""
    member: model.StaffMember = request[STAFF]
    code = text_field(body, "community", required=False, max_len=model.MAX_CODE)
    if code is None and len(member.communities) == 1:
        code = member.communities[0]
    if code is None and not member.company_wide:
        raise BadRequest("'community' is required: you work in several communities")
    if code is not None and (not model.valid_code(code) or not member.sees(code)):
        raise model.NotFound("community", code)
    return code


async def _visible_canned(request: web.Request) -> int:
    """A 常用语 the caller may change: their communities' (the company's: company-wide staff only)."""
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise model.NotFound("canned reply", raw)
    reply = await views.canned_reply(request.app[BACKEND].new_uow(), int(raw))
    member: model.StaffMember = request[STAFF]
    if reply is None or not (member.sees(reply.community) if reply.community else member.company_wide):
        raise model.NotFound("canned reply", raw)
    return reply.id


async def _canned_answer(request: web.Request, reply_id: int, status: int = 200) -> web.Response:
    found = next(r for r in await views.canned_replies(request.app[BACKEND].new_uow()) if r["id"] == reply_id)
    return web.json_response(found, status=status)


@routes.get("/api/canned-replies")
@staff_only("conversations")
async def list_canned(request: web.Request) -> web.Response:
    """常用语: the company's and the caller's communities' (``community=``: that one's and the company's)."""
    found = await views.canned_replies(request.app[BACKEND].new_uow(), scope(request), community_param(request))
    return web.json_response(found)


@routes.post("/api/canned-replies")
@staff_only("conversations")
async def add_canned(request: web.Request) -> web.Response:
    body = await read_json(request)
    command = commands.SaveCannedReply(
        actor(request),
        title=text_field(body, "title", max_len=model.MAX_CANNED_TITLE, free_text=True),
        text=text_field(body, "text", max_len=model.MAX_CANNED_TEXT, free_text=True),
        community=_canned_community(request, body),
    )
    result = await request.app[BACKEND].bus.handle(command)
    return await _canned_answer(request, result.id, status=201)


@routes.patch("/api/canned-replies/{id}")
@staff_only("conversations")
async def change_canned(request: web.Request) -> web.Response:
    """Change the title or text (the community stays)."""
    reply_id = await _visible_canned(request)
    body = await read_json(request)
    if not body or set(body) - {"title", "text"}:
        raise BadRequest("only 'title' and 'text' can be changed")
    command = commands.SaveCannedReply(
        actor(request),
        reply_id,
        title=text_field(body, "title", required=False, max_len=model.MAX_CANNED_TITLE, free_text=True),
        text=text_field(body, "text", required=False, max_len=model.MAX_CANNED_TEXT, free_text=True),
    )
    await request.app[BACKEND].bus.handle(command)
    return await _canned_answer(request, reply_id)


@routes.delete("/api/canned-replies/{id}")
@staff_only("conversations")
async def remove_canned(request: web.Request) -> web.Response:
    command = commands.RemoveCannedReply(await _visible_canned(request), actor(request))
    await request.app[BACKEND].bus.handle(command)
    return web.Response(status=204)


@routes.get("/api/notifications/dead")
@staff_only("notifications")
async def dead_letters(request: web.Request) -> web.Response:
    return web.json_response(await views.dead_notifications(request.app[BACKEND].new_uow(), scope(request)))


@routes.post("/api/notifications/{id}/retry")
@staff_only("notifications")
async def retry(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise model.NotFound("notification", raw)
    if not await views.notification_visible(request.app[BACKEND].new_uow(), int(raw), scope(request)):
        raise model.NotFound("notification", raw)
    result = await request.app[BACKEND].bus.handle(commands.RetryNotification(int(raw), actor(request)))
    return web.json_response(result.as_json())


@routes.get("/api/staff")
@staff_only("staff")
async def list_staff(request: web.Request) -> web.Response:
    caller: model.StaffMember = request[STAFF]
    async with request.app[BACKEND].new_uow() as uow:
        members = [m for m in await uow.staff.all() if caller.covers(m)]
    return web.json_response(
        [
            {
                "username": m.username,
                "name": m.name,
                "role": m.role.value,
                "active": m.active,
                "communities": list(m.communities),
                "wecom_userid": m.wecom_userid,
            }
            for m in members
        ]
    )


@routes.post("/api/staff")
@staff_only("staff")
async def add_staff(request: web.Request) -> web.Response:
    """A staff account; the answer carries its token, shown this once."""
    body = await read_json(request)
    username = text_field(body, "username", max_len=64)
    if not (username.isascii() and username.replace("_", "").replace(".", "").replace("-", "").isalnum()):
        raise BadRequest("'username' must be letters, digits, '.', '_' or '-'")
    member: model.StaffMember = request[STAFF]
    codes = body.get("communities", [])
    if not isinstance(codes, list) or len(codes) > 1000 or not all(model.valid_code(c) for c in codes):
        raise BadRequest("'communities' must be a list of community codes (empty: company-wide)")
    if not codes and not member.company_wide:
        codes = list(member.communities)  # a community's admin adds staff to their own communities
    if not all(member.sees(c) for c in codes):
        raise model.NotFound("community", next(c for c in codes if not member.sees(c)))
    command = commands.AddStaff(
        username,
        text_field(body, "name", max_len=64),
        text_field(body, "role", max_len=16),
        actor(request),
        tuple(codes),
        _wecom_userid(body),
    )
    result = await request.app[BACKEND].bus.handle(command)
    return web.json_response(result.as_json(), status=201)


def _wecom_userid(body: dict) -> str | None:
    """``wecom_userid``: a string (the domain checks its form) or null/absent for none."""
    value = body.get("wecom_userid")
    if value is not None and not isinstance(value, str):
        raise BadRequest("'wecom_userid' must be a string, or null for none")
    try:
        return model.wecom_userid(value)
    except model.DomainError as exc:
        raise BadRequest(str(exc)) from exc


@routes.patch("/api/staff/{username}")
@staff_only("staff")
async def update_staff(request: web.Request) -> web.Response:
    """Change a member's account: today their WeCom UserID (``wecom_userid``; null clears it)."""
    username = await managed_colleague(request)
    body = await read_json(request)
    unknown = set(body) - {"wecom_userid"}
    if unknown or not body:
        raise BadRequest("only 'wecom_userid' can be changed here")
    command = commands.LinkStaffWeCom(username, _wecom_userid(body), actor(request))
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())


@routes.post("/api/staff/{username}/token")
@staff_only("staff")
async def rotate_token(request: web.Request) -> web.Response:
    """A new token for the member, shown this once; the old one stops working at once."""
    command = commands.RotateStaffToken(await managed_colleague(request), actor(request))
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())


@routes.post("/api/staff/{username}/deactivate")
@staff_only("staff")
async def deactivate(request: web.Request) -> web.Response:
    """The member left: their token stops working at once; their name stays in the histories."""
    command = commands.DeactivateStaff(await managed_colleague(request), actor(request))
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())
