"""Command and event handlers: each use case of the backend, in one place.

Command handlers run in one unit of work and commit once. Messages to owners are
written to the outbox inside that same transaction (a status change and its
notification are stored together or not at all); delivery happens afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from backend_bridge.adapters.content import ContentStore
from backend_bridge.domain import categories, commands, events, model
from backend_bridge.service_layer.ports import Clock, DialogueEngine, Notifier
from backend_bridge.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """Everything handlers may use besides the unit of work."""

    clock: Clock
    content: ContentStore
    dialogue: DialogueEngine
    notifier: Notifier


# -- tickets -------------------------------------------------------------------------------


async def _open(
    uow: UnitOfWork,
    deps: Deps,
    *,
    kind: model.TicketKind,
    level: str,
    sender: str,
    description: str,
    location: model.Location,
    priority: model.Priority = model.Priority.NORMAL,
    **fields: object,
) -> model.Ticket:
    """Store a new ticket with the service level ``level`` (inside the caller's unit of work)."""
    ticket = model.Ticket.open(
        kind=kind, priority=priority, location=location, description=description, sender=sender,
        now=deps.clock(), level=deps.content.get().service_levels[level],
        category=categories.categorize(kind.value, description), **fields,
    )  # fmt: skip
    await uow.tickets.add(ticket)
    ticket.events.append(events.TicketOpened(ticket.id, ticket.number, kind.value, priority.value, sender))
    return ticket


async def open_ticket(cmd: commands.OpenTicket, uow: UnitOfWork, deps: Deps) -> dict:
    kind = model.TicketKind(cmd.kind)
    location = model.Location(cmd.building, cmd.unit, cmd.room, cmd.public_area)
    async with uow:
        ticket = await _open(
            uow, deps, kind=kind, level=kind.value, sender=cmd.sender, description=cmd.description,
            location=location, anonymous=cmd.anonymous,
        )  # fmt: skip
        await uow.commit()
        return {"number": ticket.number, "promise": deps.content.get().promise(kind.value)}


async def report_emergency(cmd: commands.ReportEmergency, uow: UnitOfWork, deps: Deps) -> dict:
    """急修: open an urgent ticket at once and hand the conversation to the duty staff."""
    location = model.Location(cmd.building, cmd.unit, cmd.room, cmd.public_area)
    async with uow:
        ticket = await _open(
            uow, deps, kind=model.TicketKind.REPAIR, level="urgent", sender=cmd.sender,
            description=cmd.description, location=location, priority=model.Priority.URGENT, hazard=cmd.hazard,
        )  # fmt: skip
        conversation = await uow.conversations.get_or_create(cmd.sender)
        conversation.hand_off(f"emergency:{cmd.hazard}", deps.clock())
        await uow.commit()
        content = deps.content.get()
        return {
            "number": ticket.number,
            "promise": content.promise("urgent"),
            "advice": content.advice(cmd.hazard),
            "duty_hotline": content.duty_hotline,
        }


STATUS_MESSAGES = {
    model.TicketStatus.ACCEPTED: "您的工单 {number} 已派单，师傅会尽快和您联系。",
    model.TicketStatus.IN_PROGRESS: "您的工单 {number} 正在处理中。",
    # The satisfaction survey (回访) comes with the staff console; until then, no question we would ignore.
    model.TicketStatus.RESOLVED: "您的工单 {number} 已处理完。如果问题还在，请直接在这里告诉我们。",
    model.TicketStatus.CLOSED: "您的工单 {number} 已办结，感谢您的支持。",
    model.TicketStatus.CANCELLED: "您的工单 {number} 已取消。",
}


async def change_ticket_status(cmd: commands.ChangeTicketStatus, uow: UnitOfWork, deps: Deps) -> dict:
    try:
        status = model.TicketStatus(cmd.status)
    except ValueError as exc:
        raise model.DomainError(f"unknown status {cmd.status!r}") from exc
    async with uow:
        ticket = await uow.tickets.by_number(cmd.number)
        if ticket is None:
            raise LookupError(cmd.number)
        now = deps.clock()
        ticket.move_to(status, actor=cmd.actor, now=now, note=cmd.note)
        text = STATUS_MESSAGES[status].format(number=ticket.number)
        if cmd.note:
            text += f"\n备注：{cmd.note}"
        await uow.messages.queue(model.OutboundMessage(ticket.sender, text, "status_update", now))
        await uow.commit()
        return {"number": ticket.number, "status": status.value}


# -- identity, ledger and passes -------------------------------------------------------------


async def bind_sender(cmd: commands.BindSender, uow: UnitOfWork, deps: Deps) -> dict:
    """Bind a chat identity to a flat when the phone given is on file for that flat.

    The answer is the same whether the flat does not exist or the phone is wrong,
    so nobody learns which flats or phones are on file by guessing.
    """
    now = deps.clock()
    flat = f"{cmd.building}-{cmd.unit}-{cmd.room}"
    async with uow:
        day_ago = now - timedelta(days=1)
        by_sender = await uow.bindings.attempts_since(day_ago, sender=cmd.sender)
        by_flat = await uow.bindings.attempts_since(day_ago, flat=flat)
        if model.binding_locked(by_sender, now) or model.binding_locked(
            by_flat, now, model.MAX_FAILED_BINDINGS_PER_FLAT
        ):
            return {"status": "locked"}
        room = await uow.rooms.find(cmd.building, cmd.unit, cmd.room)
        owner = room.phone_matches(cmd.phone) if room else None
        await uow.bindings.record_attempt(model.BindingAttempt(cmd.sender, now, owner is not None, flat))
        if room is None or owner is None:
            await uow.commit()
            return {"status": "mismatch"}
        binding = await uow.bindings.get(cmd.sender)
        if binding is None:
            await uow.bindings.add(model.Binding(cmd.sender, room.id, owner.id, now))
        else:
            binding.room_id, binding.owner_id, binding.bound_at = room.id, owner.id, now
        await uow.commit()
        return {"status": "bound"}


class NotBound(model.DomainError):
    """Personal data or passes asked for by a sender not bound to a flat."""


async def issue_pass(cmd: commands.IssuePass, uow: UnitOfWork, deps: Deps) -> dict:
    now = deps.clock()
    valid_from, valid_until = model.pass_window(cmd.start, cmd.end, cmd.time_kind)
    if valid_until <= now:
        raise model.PassRefused("past")
    if valid_from > now + timedelta(days=model.MAX_PASS_DAYS):
        raise model.PassRefused("too_far")
    async with uow:
        binding = await uow.bindings.get(cmd.sender)
        if binding is None:
            raise NotBound(cmd.sender)
        for _ in range(20):  # a six-digit code collides rarely; never hand out a live duplicate
            code = model.new_pass_code()
            clash = await uow.passes.live_with_code(code, now)
            if clash is None or clash.valid_until < now:
                break
        else:
            raise model.DomainError("no free pass code")
        visitor_pass = model.VisitorPass(
            code=code,
            room_id=binding.room_id,
            visitor_name=cmd.visitor_name.strip()[:64],
            valid_from=max(valid_from, now - timedelta(minutes=5)),
            valid_until=valid_until,
            issued_to=cmd.sender,
            issued_at=now,
            plate=cmd.plate,
        )
        await uow.passes.add(visitor_pass)
        await uow.commit()
        return {"code": code, "valid_from": visitor_pass.valid_from, "valid_until": valid_until}


# -- conversations -----------------------------------------------------------------------------


async def hand_off(cmd: commands.HandOff, uow: UnitOfWork, deps: Deps) -> dict:
    async with uow:
        conversation = await uow.conversations.get_or_create(cmd.sender)
        conversation.hand_off(cmd.reason, deps.clock())
        await uow.commit()
        return {"state": conversation.state.value}


async def hand_back(cmd: commands.HandBack, uow: UnitOfWork, deps: Deps) -> dict:
    """Staff give the conversation back: resume the engine first, so a failure leaves it with staff."""
    async with uow:
        conversation = await uow.conversations.get(cmd.sender)
        if conversation is None:
            raise LookupError(cmd.sender)
        conversation.hand_back(cmd.actor)
        await deps.dialogue.resume(cmd.sender)
        await uow.commit()
        return {"state": conversation.state.value}


async def send_staff_message(cmd: commands.SendStaffMessage, uow: UnitOfWork, deps: Deps) -> dict:
    async with uow:
        conversation = await uow.conversations.get(cmd.sender)
        if conversation is None:
            raise LookupError(cmd.sender)
        await uow.messages.queue(model.OutboundMessage(cmd.sender, cmd.text, "staff", deps.clock()))
        await uow.commit()
    try:
        await deps.dialogue.log_staff_message(cmd.sender, cmd.text, cmd.actor)
    except Exception:
        log.warning("could not copy a staff message into the dialogue transcript", exc_info=True)
    return {"queued": True}


async def record_inbound(cmd: commands.RecordInbound, uow: UnitOfWork, deps: Deps) -> dict:
    """Write the owner's message down before anything else; replay a retried client message."""
    now = deps.clock()
    async with uow:
        conversation = await uow.conversations.get_or_create(cmd.sender)
        if cmd.client_message_id:
            earlier = await uow.messages.inbound_by_client_id(cmd.sender, cmd.client_message_id)
            if earlier is not None:
                return {
                    "id": earlier.id, "duplicate": True, "replies": list(earlier.replies),
                    "status": earlier.status.value, "state": conversation.state.value,
                    "script": conversation.script, "waiting": 0,
                }  # fmt: skip
        waiting = len(await uow.messages.unanswered(sender=cmd.sender))
        if cmd.script:
            conversation.script = cmd.script
        conversation.last_inbound_at = now
        message = model.InboundMessage(cmd.sender, cmd.text, now, cmd.client_message_id)
        await uow.messages.add_inbound(message)
        await uow.commit()
        return {
            "id": message.id, "duplicate": False, "replies": [], "status": message.status.value,
            "state": conversation.state.value, "script": conversation.script, "waiting": waiting,
        }  # fmt: skip


async def record_replies(cmd: commands.RecordReplies, uow: UnitOfWork, deps: Deps) -> dict:
    async with uow:
        message = await uow.messages.inbound(cmd.inbound_id)
        if message is None:
            raise LookupError(cmd.inbound_id)
        message.attempts += 1
        if cmd.answered or cmd.replies:  # a failed retry keeps what the owner was told before
            message.replies = list(cmd.replies)
        if cmd.answered:
            message.status = model.InboundStatus.ANSWERED
            if cmd.push:
                now = deps.clock()
                for reply in cmd.replies:
                    await uow.messages.queue(model.OutboundMessage(message.sender, reply, "late_reply", now))
        else:
            message.status = model.InboundStatus.FAILED
        await uow.commit()
    if cmd.push and cmd.replies:
        await deps.notifier.queued(message.sender)
    return {"status": message.status.value}


# -- events ------------------------------------------------------------------------------------


async def log_ticket_opened(event: events.TicketOpened, uow: UnitOfWork, deps: Deps) -> None:
    level = logging.WARNING if event.priority == model.Priority.URGENT.value else logging.INFO
    log.log(level, "ticket %s opened (%s, %s)", event.number, event.kind, event.priority)


async def wake_delivery(event: events.TicketStatusChanged, uow: UnitOfWork, deps: Deps) -> None:
    await deps.notifier.queued(event.sender)


async def log_handoff(event: events.ConversationHandedOff, uow: UnitOfWork, deps: Deps) -> None:
    log.warning("conversation handed to staff (%s)", event.reason)


COMMAND_HANDLERS = {
    commands.OpenTicket: open_ticket,
    commands.ReportEmergency: report_emergency,
    commands.ChangeTicketStatus: change_ticket_status,
    commands.BindSender: bind_sender,
    commands.IssuePass: issue_pass,
    commands.HandOff: hand_off,
    commands.HandBack: hand_back,
    commands.SendStaffMessage: send_staff_message,
    commands.RecordInbound: record_inbound,
    commands.RecordReplies: record_replies,
}
EVENT_HANDLERS = {
    events.TicketOpened: [log_ticket_opened],
    events.TicketStatusChanged: [wake_delivery],
    events.ConversationHandedOff: [log_handoff],
}
