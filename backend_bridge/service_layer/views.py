"""Read models: what the APIs show. Queries go straight to the session (no bus, no events).

Every view that takes a ``sender`` only ever returns that sender's data: an owner
can see their own tickets and, once bound, their own flat's ledger, never another's.
Every staff view takes a ``scope``: the community codes the member works in, or None for
company-wide staff. Outside it a view finds nothing, exactly as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select, type_coerce

from backend_bridge.adapters import orm
from backend_bridge.domain import categories, model
from backend_bridge.service_layer import routing
from backend_bridge.service_layer.delivery import HEARTBEAT
from backend_bridge.service_layer.unit_of_work import UnitOfWork
from common.addresses import parse_flat
from common.masking import masked_phone
from common.phones import normalize_mobile
from common.wording import describe_place

Scope = list[str] | None  # community codes a staff member sees; None: every community


def visible(scope: Scope, community: str | None) -> bool:
    return scope is None or model.sees(scope, community)


def _within(column, scope: Scope) -> list:
    """The WHERE condition for ``scope`` (nothing when company-wide)."""
    return [] if scope is None else [column.in_(scope)]


async def communities(uow: UnitOfWork, scope: Scope = None) -> list[dict]:
    async with uow:
        return [
            {"code": c.code, "name": c.name, "address": c.address}
            for c in await uow.communities.all()
            if visible(scope, c.code)
        ]


def sla_view(clock: model.SlaClock) -> dict:
    """The countdown a staff list shows (SlaClock: the domain's rule, read at the request's now)."""
    return {
        "deadline": clock.deadline,
        "due_at": _iso(clock.due_at),
        "paused": clock.paused,
        "breached": clock.breached,
        "seconds_left": clock.seconds_left,
    }


def ticket_view(
    ticket: model.Ticket, *, for_staff: bool, show_sender: bool = True, now: datetime | None = None
) -> dict:
    """``now``: staff views then carry ``sla``, the countdown at that moment."""
    loc = ticket.location
    view = {
        "id": ticket.number,
        "community": ticket.community,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "status_label": model.STATUS_LABELS[ticket.status],
        "open": ticket.is_open,  # the domain's word on whether it can still be chased or withdrawn
        "priority": ticket.priority.value,
        "category": ticket.category,
        "building": loc.building,
        "unit": loc.unit,
        "room": loc.room,
        "public_area": loc.public_area,
        "location": loc.describe(),
        "description": ticket.description,
        "hazard": ticket.hazard,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": (ticket.updated_at or ticket.created_at).isoformat(),
        "respond_by": ticket.respond_by.isoformat(),
        "resolve_by": ticket.resolve_by.isoformat(),
    }
    if for_staff:
        view.update(
            assignee=ticket.assignee,
            intake=ticket.intake.value,
            rating=ticket.rating,
            category_label=categories.LABELS.get(ticket.category, ticket.category),
            responded_at=_iso(ticket.responded_at),
            resolved_at=_iso(ticket.resolved_at),
            closed_at=_iso(ticket.closed_at),
            merged_into=format_id(ticket, ticket.merged_into),
            external_id=ticket.external_id,
            chases=ticket.chases,
        )
        if now is not None:
            view["sla"] = sla_view(ticket.sla(now))
        # An anonymous complainant stays anonymous to the team handling the complaint.
        # The chat id reaches the owner's conversation: only for staff who talk to owners.
        view["sender"] = None if ticket.anonymous or not show_sender else ticket.sender
        view["channel"] = ticket.sender.split(":", 1)[0]
        view["anonymous"] = ticket.anonymous
        view["history"] = [
            {
                "at": e.at.isoformat(),
                "type": e.type.value,
                "status": e.status.value if e.status else None,
                "actor": _shown_actor(ticket, e.actor),
                "note": e.note,
                "data": e.data,
            }
            for e in ticket.history
        ]
    return view


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def format_id(ticket: model.Ticket, ticket_id: int | None) -> str | None:
    return model.format_number(ticket.kind, ticket_id) if ticket_id else None


def _shown_actor(ticket: model.Ticket, actor: str) -> str:
    """The owner appears as "owner" in histories: their chat id is personal (and may be anonymous)."""
    return "owner" if actor == ticket.sender and ":" in actor else actor


def _hold_started():
    """When each ticket's current hold began: its latest move to on_hold (a correlated subquery)."""
    events = orm.ticket_events.c
    return (
        select(func.max(events.at))
        .where(
            events.ticket_id == orm.tickets.c.id,
            events.type == model.EventType.STATUS,
            events.status == model.TicketStatus.ON_HOLD,
        )
        .scalar_subquery()
    )


def _overdue(at: datetime) -> list:
    """SlaClock.breached as a WHERE condition (the staff list's ``overdue=1`` and the metrics'
    gauge): open, and unanswered past the response deadline, or answered and past the resolution
    one; on hold, only if it had passed before the hold began (the clock stands still on hold)."""
    on_hold = model.Ticket.status == model.TicketStatus.ON_HOLD
    hold_started = func.coalesce(_hold_started(), literal(at, orm.UTCDateTime()))
    return [
        model.Ticket.status.in_(list(model.OPEN_STATUSES)),
        or_(
            and_(model.Ticket.responded_at.is_(None), model.Ticket.respond_by < at),
            and_(model.Ticket.responded_at.is_not(None), ~on_hold, model.Ticket.resolve_by < at),
            and_(model.Ticket.responded_at.is_not(None), on_hold, model.Ticket.resolve_by < hold_started),
        ),
    ]


OPEN = "open"  # the ticket list's status filter for every open status at once (未完结)
SORTS = ("urgency", "created", "updated")  # the staff list's orders; none given: newest number first


async def _by_urgency(uow: UnitOfWork, conditions: list, now: datetime, limit: int, offset: int) -> list[int]:
    """The ids of one page in urgency order (SlaClock.urgency), from a narrow query of every
    matching ticket's deadline columns: the order needs the domain's rule, not a SQL copy of it."""
    t = model.Ticket
    hold = type_coerce(case((t.status == model.TicketStatus.ON_HOLD, _hold_started()), else_=None), orm.UTCDateTime())
    rows = (
        await uow.session.execute(
            select(t.id, t.status, t.responded_at, t.respond_by, t.resolve_by, hold).where(*conditions)
        )
    ).all()

    def key(row) -> tuple:
        ticket_id, status, responded_at, respond_by, resolve_by, held = row
        clock = model.sla_clock(
            status=status,
            responded_at=responded_at,
            respond_by=respond_by,
            resolve_by=resolve_by,
            hold_started=held,
            now=now,
        )
        return (*clock.urgency(), -ticket_id)

    return [row[0] for row in sorted(rows, key=key)[offset : offset + limit]]


async def tickets_for_staff(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    kind: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    building: str | None = None,
    assignee: str | None = None,
    overdue_at: datetime | None = None,
    number: tuple[model.TicketKind | None, int] | None = None,
    flat: tuple[str, str, str] | None = None,
    sort: str | None = None,
    now: datetime | None = None,
    show_sender: bool = True,
    limit: int = 50,
    offset: int = 0,
    scope: Scope = None,
    community: str | None = None,
) -> tuple[list[dict], int]:
    """One page of the staff list and the total matching. ``number`` (model.parse_number's
    answer) or ``flat`` (building, unit, room) is what was searched for; ``now`` gives each
    ticket its ``sla`` countdown (and is required for ``sort="urgency"``). Histories come with
    the page in one more query (selectin), so ``chases`` costs nothing per ticket."""
    conditions = _within(model.Ticket.community, scope)
    if community:
        conditions.append(model.Ticket.community == community)
    if status == OPEN:  # every ticket not yet resolved or closed: what is still to be done
        conditions.append(model.Ticket.status.in_(list(model.OPEN_STATUSES)))
    elif status:
        conditions.append(model.Ticket.status == model.TicketStatus(status))
    if kind:
        conditions.append(model.Ticket.kind == model.TicketKind(kind))
    if priority:
        conditions.append(model.Ticket.priority == model.Priority(priority))
    if category:
        conditions.append(model.Ticket.category == category)
    if building:
        conditions.append(orm.tickets.c.building == building)
    if assignee:
        conditions.append(model.Ticket.assignee == assignee)
    if overdue_at is not None:
        conditions.extend(_overdue(overdue_at))
    if number is not None:
        number_kind, ticket_id = number
        conditions.append(model.Ticket.id == ticket_id)
        if number_kind is not None:
            conditions.append(model.Ticket.kind == number_kind)
    if flat is not None:
        columns = orm.tickets.c
        conditions.extend([columns.building == flat[0], columns.unit == flat[1], columns.room == flat[2]])
    async with uow:
        total = await uow.session.scalar(select(func.count()).select_from(model.Ticket).where(*conditions))
        if sort == "urgency":
            if now is None:
                raise ValueError("the urgency order needs the time it is read at")
            ids = await _by_urgency(uow, conditions, now, limit, offset)
            loaded = {
                t.id: t for t in (await uow.session.scalars(select(model.Ticket).where(model.Ticket.id.in_(ids))))
            }
            found = [loaded[i] for i in ids if i in loaded]
        else:
            order = {
                "created": [model.Ticket.created_at.desc()],
                "updated": [func.coalesce(model.Ticket.updated_at, model.Ticket.created_at).desc()],
            }.get(sort or "", [])
            stmt = select(model.Ticket).where(*conditions).order_by(*order, model.Ticket.id.desc())
            found = (await uow.session.scalars(stmt.limit(limit).offset(offset))).all()
        shown = [ticket_view(t, for_staff=True, show_sender=show_sender, now=now) for t in found]
        names = await staff_names(uow, {t.assignee for t in found if t.assignee})
        for view in shown:
            view["assignee_name"] = names.get(view["assignee"])
        return shown, int(total or 0)


async def ticket_for_staff(
    uow: UnitOfWork, number: str, *, show_sender: bool = True, scope: Scope = None, now: datetime | None = None
) -> dict | None:
    async with uow:
        ticket = await uow.tickets.by_number(number)
        if ticket is None or not visible(scope, ticket.community):
            return None
        view = ticket_view(ticket, for_staff=True, show_sender=show_sender, now=now)
        mentioned = {ticket.assignee, *(e.actor for e in ticket.history)}
        mentioned |= {e.data.get(k) for e in ticket.history for k in ("assignee", "previous")}
        view["names"] = await staff_names(uow, {m for m in mentioned if isinstance(m, str) and m})
        view["assignee_name"] = view["names"].get(ticket.assignee) if ticket.assignee else None
        return view


async def staff_names(uow: UnitOfWork, usernames: set[str]) -> dict[str, str]:
    """Display names of the staff accounts among ``usernames``: the console says 吴师傅, not
    shifu_shifan (owners, the scheduler and the built-in admin have no account and stay as they are)."""
    if not usernames:
        return {}
    found = await uow.session.execute(
        select(model.StaffMember.username, model.StaffMember.name).where(model.StaffMember.username.in_(usernames))
    )
    return dict(found.all())


async def ticket_community(uow: UnitOfWork, number: str) -> tuple[bool, str | None]:
    """(exists, community) of a ticket, for the staff API's scope check before a change."""
    async with uow:
        ticket = await uow.tickets.by_number(number)
        return (ticket is not None, ticket.community if ticket else None)


async def tickets_for_sender(uow: UnitOfWork, sender: str, *, open_only: bool = True) -> list[dict]:
    async with uow:
        stmt = select(model.Ticket).where(model.Ticket.sender == sender).order_by(model.Ticket.id.desc())
        if open_only:
            stmt = stmt.where(model.Ticket.status.in_(list(model.OPEN_STATUSES | {model.TicketStatus.RESOLVED})))
            stmt = stmt.where(model.Ticket.merged_into.is_(None))
        return [ticket_view(t, for_staff=False) for t in (await uow.session.scalars(stmt.limit(20))).all()]


async def passes_for_sender(uow: UnitOfWork, sender: str, now: datetime, tz: ZoneInfo) -> list[dict]:
    """The sender's visitor passes that could still admit someone: what an owner may call off."""
    async with uow:
        return [
            {
                "code": p.code,
                "visitor_name": p.visitor_name,
                "plate": p.plate,
                "window": local_window(p.valid_from, p.valid_until, tz),
                "valid_from": p.valid_from.isoformat(),
            }
            for p in await uow.passes.still_to_come(sender, now)
        ]


async def ticket_for_sender(uow: UnitOfWork, sender: str, number: str) -> dict | None:
    async with uow:
        ticket = await uow.tickets.by_owners_number(number)
        if ticket is None or ticket.sender != sender:
            return None
        return ticket_view(ticket, for_staff=False)


async def room_exists(uow: UnitOfWork, sender: str | None, building: str, unit: str, room: str) -> bool:
    """Whether the flat is in the register of the sender's community (of any, when not routed yet);
    with no register loaded yet every address is accepted, so a company that has not imported its
    flats can still take repairs."""
    async with uow:
        community = await routing.community_of(uow, sender) if sender else None
        found = await uow.rooms.find_everywhere(building, unit, room, community)
        return bool(found) or not await uow.rooms.any(community)


async def binding_for_sender(uow: UnitOfWork, sender: str) -> dict | None:
    """The sender's flat in their community (the latest bound one when undecided), or None."""
    async with uow:
        bound = await uow.bindings.for_sender(sender)
        if not bound:
            return None
        community = await routing.community_of(uow, sender)
        binding = bound.get(community) or list(bound.values())[-1]
        room = await uow.rooms.get(binding.room_id)
        return {"building": room.building, "unit": room.unit, "room": room.room, "community": room.community}


async def ledger_for_sender(uow: UnitOfWork, sender: str) -> dict | None:
    """The bound flat's ledger, or ``None`` when the sender is not bound to any flat; an owner
    with flats in several communities who has not said which is asked (WhichCommunity)."""
    async with uow:
        _, binding = await routing.binding_in_community(uow, sender)
        if binding is None:
            return None
        room = await uow.rooms.get(binding.room_id)
        summary = room.ledger()
        return {
            "building": room.building,
            "unit": room.unit,
            "room": room.room,
            "location": room.location.describe(),
            "owed_cents": summary.owed_cents,
            "paid_until": summary.paid_until,
            "unpaid": [
                {
                    "period": b.period,
                    "item": b.item,
                    "amount_cents": b.amount_cents,
                    "due_date": b.due_date.date().isoformat(),
                }
                for b in summary.unpaid
            ],
        }


def pass_view(visitor_pass: model.VisitorPass, room: model.Room, now: datetime) -> dict:
    state = visitor_pass.state(now)
    return {
        "used_at": _iso(visitor_pass.used_at),
        "code": visitor_pass.code,
        "valid": state is model.PassState.VALID,
        "state": state.value,
        "visitor_name": visitor_pass.visitor_name,
        "plate": visitor_pass.plate,
        "valid_from": visitor_pass.valid_from.isoformat(),
        "valid_until": visitor_pass.valid_until.isoformat(),
        "building": room.building,
        "unit": room.unit,
        "room": room.room,
        "community": room.community,
    }


async def check_pass(uow: UnitOfWork, code: str, now: datetime, scope: Scope = None) -> dict | None:
    async with uow:
        visitor_pass = await uow.passes.live_with_code(code, now)
        if visitor_pass is None:
            return None
        room = await uow.rooms.get(visitor_pass.room_id)
        return pass_view(visitor_pass, room, now) if visible(scope, room.community) else None


# How the console names why a conversation went to staff (the reason's code before any ":").
REASON_LABELS = {
    "requested": "业主要求人工",
    "not_understood": "两次未能理解",
    "emergency": "紧急情况",
    "assistant_unreachable": "助手暂时无法连接",
    "call_not_transcribed": "电话未能转写",
    model.STAFF_TOOK_OVER: "客服主动接管",
}
TABS = ("waiting", "mine", "bot", "all")
LAST_TEXT = 60  # characters of the owner's last words in a list item


def reason_label(reason: str | None) -> str | None:
    if not reason:
        return None
    return REASON_LABELS.get(reason.split(":", 1)[0], reason)


def _waiting_clause() -> list:
    """Handed off and nobody holds it: an owner waits for a person."""
    return [model.Conversation.state == model.ConversationState.HANDED_OFF, model.Conversation.assignee.is_(None)]


async def _senders_matching(uow: UnitOfWork, q: str, scope: Scope) -> list[str] | None:
    """Chat ids a search names: a phone (owners on file with it, and chats whose id is that number:
    SMS, the hotline) or a flat (3-2-501, 3号楼2单元501) in the caller's communities. None: the
    search is neither, so nothing matches."""
    phone = normalize_mobile(q)
    if phone is not None:
        bound = select(model.Binding.sender).join(model.Owner, model.Owner.id == model.Binding.owner_id)
        found = set((await uow.session.scalars(bound.where(model.Owner.phone == phone))).all())
        by_id = select(model.Conversation.sender).where(model.Conversation.sender.like(f"%{phone}"))
        return sorted(found | set((await uow.session.scalars(by_id)).all()))
    flat = parse_flat(q)
    if flat is None:
        return None
    building, unit, room = flat
    stmt = (
        select(model.Binding.sender)
        .join(model.Room, model.Room.id == model.Binding.room_id)
        .where(model.Room.building == building, model.Room.unit == unit, model.Room.room == room)
        .where(*_within(model.Room.community, scope))
    )
    return sorted(set((await uow.session.scalars(stmt)).all()))


async def _flats_of(uow: UnitOfWork, senders: list[str]) -> dict[str, dict[str, model.Room]]:
    """Each sender's bound flats by community."""
    if not senders:
        return {}
    stmt = (
        select(model.Binding.sender, model.Room)
        .join(model.Room, model.Room.id == model.Binding.room_id)
        .where(model.Binding.sender.in_(senders))
        .order_by(model.Binding.bound_at, model.Binding.id)
    )
    flats: dict[str, dict[str, model.Room]] = {}
    for sender, room in (await uow.session.execute(stmt)).all():
        flats.setdefault(sender, {})[room.community] = room
    return flats


def _flat_of(rooms: dict[str, model.Room], community: str | None) -> model.Room | None:
    """The flat of the conversation's community, else the latest bound."""
    if not rooms:
        return None
    return rooms.get(community) or list(rooms.values())[-1]


def _flat_words(room: model.Room | None) -> str | None:
    return describe_place(room.building, room.unit, room.room) if room is not None else None


async def _last_words(uow: UnitOfWork, senders: list[str]) -> dict[str, str]:
    if not senders:
        return {}
    newest = (
        select(func.max(model.InboundMessage.id))
        .where(model.InboundMessage.sender.in_(senders))
        .group_by(model.InboundMessage.sender)
    )
    stmt = select(model.InboundMessage.sender, model.InboundMessage.text).where(model.InboundMessage.id.in_(newest))
    return {sender: text[:LAST_TEXT] for sender, text in (await uow.session.execute(stmt)).all()}


def _conversation_head(c: model.Conversation) -> dict:
    return {
        "sender": c.sender,
        "channel": c.channel,
        "community": c.community,
        "state": c.state.value,
        "handoff_reason": c.handoff_reason,
        "reason_label": reason_label(c.handoff_reason),
        "handed_off_at": _iso(c.handed_off_at),
        "assignee": c.assignee,
        "claimed_at": _iso(c.claimed_at),
    }


async def conversations(
    uow: UnitOfWork,
    state: str | None = None,
    scope: Scope = None,
    *,
    tab: str = "all",
    me: str | None = None,
    q: str | None = None,
    community: str | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[dict]:
    """The console's conversation list. ``tab``: waiting (handed off, nobody holds it, longest
    wait first), mine (held by ``me``), bot (with the assistant), all; ``q`` a flat or a phone."""
    conditions = _within(model.Conversation.community, scope)
    if community:
        conditions.append(model.Conversation.community == community)
    if state:
        conditions.append(model.Conversation.state == model.ConversationState(state))
    order = [model.Conversation.last_inbound_at.desc(), model.Conversation.sender]
    if tab == "waiting":
        conditions += _waiting_clause()
        order = [model.Conversation.handed_off_at, model.Conversation.sender]
    elif tab == "mine":
        conditions.append(model.Conversation.assignee == me)
    elif tab == "bot":
        conditions.append(model.Conversation.state == model.ConversationState.BOT)
    async with uow:
        if q:
            senders = await _senders_matching(uow, q, scope)
            if not senders:
                return []
            conditions.append(model.Conversation.sender.in_(senders))
        stmt = select(model.Conversation).where(*conditions).order_by(*order).limit(limit)
        found = (await uow.session.scalars(stmt)).all()
        names = [c.sender for c in found]
        flats, words = await _flats_of(uow, names), await _last_words(uow, names)
        holders = await staff_names(uow, {c.assignee for c in found if c.assignee})
    items = []
    for c in found:
        waited = None
        if c.state is model.ConversationState.HANDED_OFF and c.handed_off_at and now is not None:
            waited = max(int((now - c.handed_off_at).total_seconds()), 0)
        items.append(
            {
                **_conversation_head(c),
                "assignee_name": holders.get(c.assignee) if c.assignee else None,
                "waiting_seconds": waited,
                "last_inbound_at": _iso(c.last_inbound_at),
                "last_text": words.get(c.sender),
                "flat": _flat_words(_flat_of(flats.get(c.sender, {}), c.community)),
            }
        )
    return items


async def conversation_detail(uow: UnitOfWork, sender: str, scope: Scope = None) -> dict | None:
    """One conversation for the console: who holds it, the owner's flat (phone masked), their
    open tickets in the caller's communities; None when unknown or out of scope."""
    async with uow:
        c = await uow.conversations.get(sender)
        if c is None or not visible(scope, c.community):
            return None
        room = _flat_of((await _flats_of(uow, [sender])).get(sender, {}), c.community)
        binding = None
        if room is not None:
            bound = (await uow.bindings.for_sender(sender)).get(room.community)
            owner = next((o for o in room.owners if bound is not None and o.id == bound.owner_id), None)
            binding = {
                "community": room.community,
                "building": room.building,
                "unit": room.unit,
                "room": room.room,
                "flat": _flat_words(room),
                "owner_name": owner.name if owner else None,
                "phone": masked_phone(owner.phone) if owner and owner.phone else None,
            }
        stmt = (
            select(model.Ticket)
            .where(model.Ticket.sender == sender, model.Ticket.status.in_(list(model.OPEN_STATUSES)))
            .where(model.Ticket.merged_into.is_(None), *_within(model.Ticket.community, scope))
            .order_by(model.Ticket.id.desc())
            .limit(20)
        )
        tickets = [ticket_view(t, for_staff=True) for t in (await uow.session.scalars(stmt)).all()]
        holder = await staff_names(uow, {c.assignee} if c.assignee else set())
        return {
            **_conversation_head(c),
            "assignee_name": holder.get(c.assignee) if c.assignee else None,
            "last_inbound_at": _iso(c.last_inbound_at),
            "binding": binding,
            "open_tickets": tickets,
        }


async def waiting_count(uow: UnitOfWork, scope: Scope = None) -> int:
    """Handed-off conversations nobody holds, in ``scope`` (the console's badge)."""
    async with uow:
        stmt = select(func.count()).select_from(model.Conversation).where(*_waiting_clause())
        return int(await uow.session.scalar(stmt.where(*_within(model.Conversation.community, scope))) or 0)


async def desk_watermark(uow: UnitOfWork) -> tuple:
    """What changes whenever the console's lists may have: the newest owner message,
    notification, ticket history row, handoff, note; the latest handback and claim; how many
    conversations wait. One cheap query (maxima over primary keys and small tables); the live
    feed compares it with the last one and tells listeners only that something changed."""
    newest = [
        select(func.max(table.c.id)).scalar_subquery()
        for table in (
            orm.inbound_messages,
            orm.notifications,
            orm.ticket_events,
            orm.handoffs,
            orm.conversation_notes,
        )
    ]
    latest = [
        select(func.max(orm.handoffs.c.ended_at)).scalar_subquery(),
        select(func.max(orm.conversations.c.claimed_at)).scalar_subquery(),
        select(func.count()).select_from(model.Conversation).where(*_waiting_clause()).scalar_subquery(),
    ]
    async with uow:
        return tuple((await uow.session.execute(select(*newest, *latest))).one())


async def conversation_state(uow: UnitOfWork, sender: str) -> tuple[str, str | None]:
    """(state, script) of a conversation; a new sender talks to the bot in no known script."""
    async with uow:
        conversation = await uow.conversations.get(sender)
        if conversation is None:
            return model.ConversationState.BOT.value, None
        return conversation.state.value, conversation.script


async def late_answers_silenced(uow: UnitOfWork, sender: str) -> bool:
    """Whether an answer the assistant is still giving must not reach the owner (staff took over)."""
    async with uow:
        conversation = await uow.conversations.get(sender)
        return conversation is not None and conversation.silences_late_answers()


async def still_to_tell(uow: UnitOfWork, sender: str, after_notification: int) -> bool:
    """Whether ``sender`` has an answer on its way: a message of theirs the assistant has not
    answered yet (in flight, or failed and to be retried), or a notification queued after
    ``after_notification``. A channel that must close the platform's session to our messages
    (微信客服 handing to its servicer) waits for these first."""
    async with uow:
        unanswered = await uow.session.scalar(
            select(func.count())
            .select_from(model.InboundMessage)
            .where(
                model.InboundMessage.sender == sender,
                model.InboundMessage.status.in_([model.InboundStatus.RECEIVED, model.InboundStatus.FAILED]),
            )
        )
        queued = await uow.session.scalar(
            select(func.count())
            .select_from(model.Notification)
            .where(
                model.Notification.recipient == sender,
                model.Notification.status == model.NotificationStatus.PENDING,
                model.Notification.id > after_notification,
            )
        )
        return bool(unanswered or queued)


async def updates_for(uow: UnitOfWork, sender: str, after: int) -> list[dict]:
    """What the dispatcher delivered to ``sender``'s mailbox after mailbox id ``after``, oldest first."""
    async with uow:
        found = await uow.notifications.mailbox(sender, after)
        return [
            {"id": m["id"], "text": m["text"], "kind": m["kind"], "created_at": m["created_at"].isoformat()}
            for m in found
        ]


async def conversation_visible(uow: UnitOfWork, sender: str, scope: Scope) -> bool:
    """Whether the conversation exists and is in ``scope`` (its routed community)."""
    async with uow:
        conversation = await uow.conversations.get(sender)
        return conversation is not None and visible(scope, conversation.community)


ANONYMOUS_NUMBER = "[匿名投诉]"
STAFF_MESSAGE = "staff"  # the notification kind of a staff member's message to the owner (notices.py)


async def message_log(uow: UnitOfWork, sender: str, limit: int = 200, scope: Scope = None) -> list[dict] | None:
    """One conversation as staff read it: owner messages with the assistant's answers, everything
    pushed later (status updates, staff replies with their author) and staff notes, oldest first;
    None if unknown."""
    async with uow:
        conversation = await uow.conversations.get(sender)
        if conversation is None or not visible(scope, conversation.community):
            return None
        inbound = (
            await uow.session.scalars(
                select(model.InboundMessage)
                .where(model.InboundMessage.sender == sender)
                .order_by(model.InboundMessage.id.desc())
                .limit(limit)
            )
        ).all()
        pushed = (
            await uow.session.scalars(
                select(model.Notification)
                .where(model.Notification.recipient == sender)
                .order_by(model.Notification.id.desc())
                .limit(limit)
            )
        ).all()
        anonymous = (
            await uow.session.scalars(
                select(model.Ticket).where(model.Ticket.sender == sender, model.Ticket.anonymous.is_(True))
            )
        ).all()
        notes = (
            await uow.session.scalars(
                select(model.Note).where(model.Note.sender == sender).order_by(model.Note.id.desc()).limit(limit)
            )
        ).all()
        authors = {(n.fields or {}).get("author") for n in pushed if n.kind == STAFF_MESSAGE} | {
            n.author for n in notes
        }
        names = await staff_names(uow, {a for a in authors if isinstance(a, str) and a})
    hidden = [t.number for t in anonymous]

    def shown(text: str) -> str:
        """An anonymous complaint's number never appears beside the chat id that made it."""
        for number in hidden:
            text = text.replace(number, ANONYMOUS_NUMBER)
        return text

    log = (
        [
            {
                "at": m.received_at.isoformat(),
                "direction": "in",
                "text": m.text,
                "status": m.status.value,
                "replies": [shown(r) for r in m.replies],
            }
            for m in reversed(inbound)  # oldest first, so equal times keep the order they were written
        ]
        + [
            {
                "at": n.created_at.isoformat(),
                "direction": "out",
                "kind": n.kind,
                "text": shown(n.text),
                "status": n.status.value,
                "delivered_at": _iso(n.delivered_at),
                "delivered_via": n.delivered_via,
                "author": (n.fields or {}).get("author") if n.kind == STAFF_MESSAGE else None,
            }
            for n in reversed(pushed)
        ]
        + [
            # never sent: what staff wrote down for colleagues
            {"at": note.at.isoformat(), "direction": "note", "author": note.author, "text": note.text}
            for note in reversed(notes)
        ]
    )
    for entry in log:  # the console says 吴师傅, not shifu_shifan
        if entry.get("author"):
            entry["author_name"] = names.get(entry["author"])
    return sorted(log, key=lambda entry: entry["at"])[-limit:]


def notification_view(n: model.Notification) -> dict:
    return {
        "id": n.id,
        "recipient": n.recipient,
        "channel": n.channel,
        "kind": n.kind,
        "text": n.text,
        "status": n.status.value,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "delivered_via": n.delivered_via,
        "created_at": n.created_at.isoformat(),
        "next_attempt_at": _iso(n.next_attempt_at),
    }


async def notification_communities(uow: UnitOfWork, found: list[model.Notification]) -> dict[int, str | None]:
    """Each notification's community (by id): its ticket's, else its recipient's conversation's.
    Two queries whatever the number of notifications (the dead-letter list holds up to 200)."""
    ticket_ids = {n.ticket_id for n in found if n.ticket_id is not None}
    of_ticket: dict[int, str | None] = {}
    if ticket_ids:
        rows = await uow.session.execute(
            select(model.Ticket.id, model.Ticket.community).where(model.Ticket.id.in_(ticket_ids))
        )
        of_ticket = {ticket_id: community for ticket_id, community in rows.all()}
    recipients = {n.recipient for n in found if n.ticket_id not in of_ticket}
    of_conversation: dict[str, str | None] = {}
    if recipients:
        rows = await uow.session.execute(
            select(model.Conversation.sender, model.Conversation.community).where(
                model.Conversation.sender.in_(recipients)
            )
        )
        of_conversation = {sender: community for sender, community in rows.all()}
    return {
        n.id: of_ticket[n.ticket_id] if n.ticket_id in of_ticket else of_conversation.get(n.recipient) for n in found
    }


async def dead_notifications(uow: UnitOfWork, scope: Scope = None) -> list[dict]:
    async with uow:
        dead = await uow.notifications.dead()
        communities = await notification_communities(uow, dead) if scope is not None else {}
        return [notification_view(n) for n in dead if scope is None or visible(scope, communities[n.id])]


async def notification_visible(uow: UnitOfWork, notification_id: int, scope: Scope) -> bool:
    async with uow:
        n = await uow.notifications.get(notification_id)
        if n is None:
            return False
        return scope is None or visible(scope, (await notification_communities(uow, [n]))[n.id])


async def unanswered(uow: UnitOfWork, sender: str | None = None, now: datetime | None = None) -> list[dict]:
    """Owner messages still waiting for the dialogue engine (it was down, or the message was dropped
    half-way and has stalled since ``now - STALLED_AFTER``), oldest first."""
    async with uow:
        waiting = await uow.messages.unanswered(sender=sender, now=now)
        return [
            {
                "id": m.id,
                "sender": m.sender,
                "text": m.text,
                "status": m.status.value,  # "received": stalled, taken over (ClaimInbound) before it is answered
                "attempts": m.attempts,
                "received_at": m.received_at,
            }
            for m in waiting
        ]


def local_window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """11月22日 14:00 - 19:00 (or across days: 11月22日 14:00 - 11月23日 09:00), local time."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    until = f"{b:%H:%M}" if a.date() == b.date() else model.local_time(b)
    return f"{model.local_time(a)} - {until}"


async def running_dispatchers(uow: UnitOfWork, now: datetime) -> list[str]:
    """The dispatchers whose heartbeat has not run out: without one, nothing reaches owners."""
    async with uow:
        return [name.removeprefix(HEARTBEAT) for name in await uow.leases.live_leases(HEARTBEAT, now)]


async def operations(uow: UnitOfWork, now: datetime) -> dict:
    """What an operator watches, read from the store when metrics are scraped: notifications
    waiting to go out and how long the oldest has waited (a stuck or missing dispatcher shows
    here first), dead letters nobody has retried, and open tickets past a deadline."""
    pending = model.Notification.status == model.NotificationStatus.PENDING
    async with uow:
        waiting, oldest = (
            await uow.session.execute(
                select(func.count(), func.min(model.Notification.created_at))
                .select_from(model.Notification)
                .where(pending)
            )
        ).one()
        dead = await uow.session.scalar(
            select(func.count())
            .select_from(model.Notification)
            .where(model.Notification.status == model.NotificationStatus.DEAD)
        )
        breached = await uow.session.scalar(select(func.count()).select_from(model.Ticket).where(*_overdue(now)))
    return {
        "outbox_pending": int(waiting or 0),
        "outbox_oldest_seconds": max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0,
        "dead_letters": int(dead or 0),
        "sla_breaches": int(breached or 0),
    }


def canned_view(reply: model.CannedReply) -> dict:
    return {
        "id": reply.id,
        "title": reply.title,
        "text": reply.text,
        "community": reply.community,
        "updated_by": reply.updated_by,
        "updated_at": reply.updated_at.isoformat(),
    }


async def canned_replies(uow: UnitOfWork, scope: Scope = None, community: str | None = None) -> list[dict]:
    """常用语 the caller may use: the company's and their communities' (``community``: that one's
    and the company's)."""
    stmt = select(model.CannedReply)
    if community:
        stmt = stmt.where(or_(model.CannedReply.community.is_(None), model.CannedReply.community == community))
    elif scope is not None:
        stmt = stmt.where(or_(model.CannedReply.community.is_(None), model.CannedReply.community.in_(scope)))
    async with uow:
        found = (await uow.session.scalars(stmt.order_by(model.CannedReply.id))).all()
        return [canned_view(r) for r in found]


async def canned_reply(uow: UnitOfWork, reply_id: int) -> model.CannedReply | None:
    async with uow:
        return await uow.canned_replies.get(reply_id)
