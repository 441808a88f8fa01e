"""Keeping an external property system of record (HC小区, 明源, …) in step with our tickets.

Out: every ticket we open is created there too (``TicketOpened``); when it cannot be, the
ticket stays open here with ``external_id`` NULL and ``SyncTickets`` (run periodically)
tries again with the same idempotency key, so it is created there exactly once. A ticket
cancelled here after it was created there (its owner withdrew it, staff cancelled it, it was
merged into another) is cancelled there too, or their technicians still go: the cancellation's
own transaction records it as owed (``Ticket.external_cancel_owed_at``), the call after it
(on ``TicketStatusChanged``) clears that, and SyncTickets sends the ones still owed (the system
was down, the process died in between) with the same key. One cancelled before it ever reached
them is simply never created there (``unsynced`` is open tickets only); if its creation was
already on its way, ``Ticket.synced`` makes it owed.

In: their status changes arrive as signed webhooks (entrypoints/external_api.py) and become
``ApplyExternalUpdate``: applied through the same domain methods as our own staff's changes,
with actor ``external:<system>``, and the owner is told in the same transaction. Each event
id is applied once; a redelivery is answered as a duplicate and changes nothing.

Their statuses → ours (EXTERNAL_STATUSES):

    dispatched  → assign to ``assignee`` (派单; again later: handed to someone else)
    processing  → in_progress
    paused      → on_hold
    completed   → resolved (the owner is asked for a rating)
    closed      → closed
    cancelled   → cancelled
    reopened    → reopened

An update naming the status the ticket already has (or the same assignee) is applied as
"unchanged": their "cancelled" for a ticket the owner withdrew is that, and settles any
cancellation we still owed them. One our life cycle refuses (e.g. completed on a new ticket) raises
InvalidTransition: nothing is stored, the webhook is answered 409 with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from backend_bridge.domain import commands, events, model
from backend_bridge.service_layer import results
from backend_bridge.service_layer.ports import DeliveryFailed, Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

DISPATCHED = "dispatched"
EXTERNAL_STATUSES: dict[str, model.TicketStatus] = {
    DISPATCHED: model.TicketStatus.ASSIGNED,  # through Ticket.assign: it names the accountable person
    "processing": model.TicketStatus.IN_PROGRESS,
    "paused": model.TicketStatus.ON_HOLD,
    "completed": model.TicketStatus.RESOLVED,
    "closed": model.TicketStatus.CLOSED,
    "cancelled": model.TicketStatus.CANCELLED,
    "reopened": model.TicketStatus.REOPENED,
}


@dataclass(frozen=True)
class SyncTickets(commands.Command):
    """Create open tickets the external system does not have yet (it was down when they were
    opened), then send the cancellations it is still owed; ``limit`` for each."""

    limit: int = 100


@dataclass(frozen=True)
class ApplyExternalUpdate(commands.Command):
    """One webhook delivery: ticket ``external_id`` in ``system`` reached ``status`` (their vocabulary)."""

    system: str
    event_id: str
    external_id: str
    status: str
    assignee: str | None = None  # with "dispatched": their technician, who is not in our staff table
    expected_at: datetime | None = None
    note: str = ""  # shown to the owner, as our staff's notes are
    # The signed request's own id (its signature): a captured request replayed later, even one
    # refused the first time, is never applied. Empty for callers that are not HTTP deliveries.
    delivery: str = ""


def _level(exc: DeliveryFailed) -> int:
    """A refusal retrying will not cure is an error for an operator; one it may cure, a warning."""
    return logging.ERROR if exc.permanent else logging.WARNING


def ticket_payload(ticket: model.Ticket) -> dict:
    """What the external system is told about a ticket: the work, never the owner's identity."""
    return {
        "number": ticket.number,
        "kind": ticket.kind.value,
        "category": ticket.category,
        "priority": ticket.priority.value,
        "hazard": ticket.hazard,
        "anonymous": ticket.anonymous,
        "description": ticket.description,
        "created_at": ticket.created_at.isoformat(),
        "location": {
            "building": ticket.location.building,
            "unit": ticket.location.unit,
            "room": ticket.location.room,
            "public_area": ticket.location.public_area,
        },
    }


async def _create_there(uow: UnitOfWork, deps: Deps, ticket_id: int) -> bool:
    """Create one ticket in the external system and remember its id there.

    The HTTP call happens between two short transactions, not inside one: no database
    connection waits on another company's server.
    """
    assert deps.external is not None
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None or ticket.external_id is not None:
            return False
        payload = ticket_payload(ticket)
    external_id = await deps.external.create_ticket(payload)  # DeliveryFailed: the caller decides
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        ticket.synced(deps.external.name, external_id, now=deps.clock())
        await uow.commit()
    log.info("ticket %s is %s in %s", payload["number"], external_id, deps.external.name)
    return True


async def create_in_external_system(event: events.TicketOpened, uow: UnitOfWork, deps: Deps) -> None:
    """A new ticket goes to the system of record at once; if it cannot, SyncTickets retries."""
    if deps.external is None:
        return
    try:
        await _create_there(uow, deps, event.ticket_id)
    except DeliveryFailed as exc:
        level = _level(exc)
        log.log(
            level, "ticket %s not created in %s yet (%s); SyncTickets retries", event.number, deps.external.name, exc
        )
    except model.DomainError as exc:  # an id we cannot keep (too long, or a second one)
        log.error("ticket %s: %s answered an unusable id: %s", event.number, deps.external.name, exc)


async def _cancel_there(uow: UnitOfWork, deps: Deps, ticket_id: int) -> bool:
    """Tell the external system a ticket cancelled here is cancelled and settle the debt; False if none is owed.

    As ``_create_there``: the call between two short transactions. The idempotency key is per
    ticket, so a call whose answer was lost and is sent again cancels it there once.
    """
    assert deps.external is not None
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None or ticket.external_cancel_owed_at is None or ticket.external_id is None:
            return False
        external_id, number, reason = ticket.external_id, ticket.number, ticket.cancellation_reason
    await deps.external.cancel_ticket(external_id, number, reason)  # DeliveryFailed: the caller's
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        ticket.cancelled_there()
        await uow.commit()
    log.info("ticket %s (%s) cancelled in %s", number, external_id, deps.external.name)
    return True


async def cancel_in_external_system(event: events.TicketStatusChanged, uow: UnitOfWork, deps: Deps) -> None:
    """Cancelled here (withdrawn, by staff, merged): the system of record hears at once; if it cannot,
    SyncTickets retries. Their own cancellation owes them nothing, so ``_cancel_there`` sends none."""
    if deps.external is None or event.status != model.TicketStatus.CANCELLED.value:
        return
    try:
        await _cancel_there(uow, deps, event.ticket_id)
    except DeliveryFailed as exc:
        log.log(
            _level(exc),
            "cancelled ticket %s not cancelled in %s yet (%s); SyncTickets retries",
            event.number,
            deps.external.name,
            exc,
        )


async def sync_tickets(cmd: SyncTickets, uow: UnitOfWork, deps: Deps) -> results.SyncSweep:
    """Retry open tickets without an external id, oldest first.

    Stops at the first failure that retrying may cure (the system is down: the rest would
    fail too). A permanent refusal (a bad key, a ticket they reject) is logged as an error
    and the sweep goes on; the ticket is tried again next time, once an operator has fixed
    the cause. Finished tickets are never sent: they are no longer work for anyone.

    Then the cancellations still owed, longest owed first, the same way (a refused one stays
    owed). After the creations, so a ticket created late in this sweep (withdrawn while its
    creation was on its way) is cancelled in it too; not at all once the system proved down.
    """
    counts = {"synced": 0, "failed": 0, "cancelled": 0}
    if deps.external is None:
        return results.SyncSweep()
    async with uow:
        pending = [t.id for t in await uow.tickets.unsynced(cmd.limit)]
    down = False
    for ticket_id in pending:
        try:
            counts["synced"] += await _create_there(uow, deps, ticket_id)
        except DeliveryFailed as exc:
            counts["failed"] += 1
            log.log(_level(exc), "sync of ticket %d failed: %s", ticket_id, exc)
            if not exc.permanent:
                down = True
                break
        except model.DomainError as exc:
            counts["failed"] += 1
            log.error("sync of ticket %d: %s answered an unusable id: %s", ticket_id, deps.external.name, exc)
    if down:
        return results.SyncSweep(**counts)
    async with uow:
        owed = [t.id for t in await uow.tickets.cancellations_owed(cmd.limit)]
    for ticket_id in owed:
        try:
            counts["cancelled"] += await _cancel_there(uow, deps, ticket_id)
        except DeliveryFailed as exc:
            counts["failed"] += 1
            level = _level(exc)
            log.log(level, "cancellation of ticket %d failed (still owed): %s", ticket_id, exc)
            if not exc.permanent:
                break
    return results.SyncSweep(**counts)


def _apply(ticket: model.Ticket, cmd: ApplyExternalUpdate, now: datetime) -> bool:
    """Their change through our domain rules; False when it changes nothing."""
    actor = f"external:{cmd.system}"
    target = EXTERNAL_STATUSES[cmd.status]
    if cmd.status == DISPATCHED:
        if not cmd.assignee:
            raise model.DomainError("a dispatch names the person it went to")
        if ticket.assignee == cmd.assignee.strip() and ticket.status not in (
            model.TicketStatus.NEW,
            model.TicketStatus.REOPENED,
        ):
            return False
        ticket.assign(cmd.assignee, actor=actor, now=now, expected_at=cmd.expected_at)
        return True
    if ticket.status is target:
        return False
    ticket.move_to(target, actor=actor, now=now, note=cmd.note)
    return True


DELIVERY_PREFIX = "request:"  # beside event ids in external_events; event ids are theirs, never this shape


async def apply_external_update(
    cmd: ApplyExternalUpdate, uow: UnitOfWork, deps: Deps
) -> results.ExternalUpdateApplied | results.ExternalUpdateDuplicate:
    """Apply one webhook event once: its id, the change and the owner's notifications in one transaction.

    NotFound for an unknown system or ticket; DomainError (InvalidTransition) when our
    life cycle refuses it. Either way the change is rolled back and the event id is not kept,
    so a corrected redelivery (a new signed request) is still applied. The refused request
    itself is kept (``delivery``): sent again byte for byte within the signature's window — a
    captured request replayed once the ticket's state would let it through — it is refused again.
    """
    if cmd.status not in EXTERNAL_STATUSES:
        raise model.DomainError(f"unknown status {cmd.status!r}; expected one of {sorted(EXTERNAL_STATUSES)}")
    if deps.external is None or cmd.system != deps.external.name:
        raise model.NotFound("external system", cmd.system)
    now = deps.clock()
    refused_before = DELIVERY_PREFIX + cmd.delivery[:32] if cmd.delivery else None
    try:
        async with uow:
            if refused_before and await uow.external_events.known(cmd.system, refused_before):
                log.warning("%s event %s refused: the same request was refused before", cmd.system, cmd.event_id)
                raise model.DomainError("this signed request was refused before; sign a new one to send it again")
            if not await uow.external_events.record(cmd.system, cmd.event_id, now):
                return results.ExternalUpdateDuplicate()
            ticket = await uow.tickets.by_external_id(cmd.external_id)
            if ticket is None:
                raise model.NotFound("ticket", cmd.external_id)
            try:
                changed = _apply(ticket, cmd, now)
            except model.DomainError as exc:
                log.warning("%s event %s for %s refused: %s", cmd.system, cmd.event_id, ticket.number, exc)
                raise
            if ticket.status is model.TicketStatus.CANCELLED and cmd.status == "cancelled":
                ticket.cancelled_there()  # they have it cancelled: nothing is owed them any more
            await uow.commit()
            return results.ExternalUpdateApplied(ticket.number, ticket.status.value, changed)
    except model.DomainError:
        if refused_before:
            async with uow:  # after the rollback: the refusal is all that is kept
                await uow.external_events.record(cmd.system, refused_before, now)
                await uow.commit()
        raise


COMMAND_HANDLERS = {
    SyncTickets: sync_tickets,
    ApplyExternalUpdate: apply_external_update,
}
EVENT_HANDLERS = {
    events.TicketOpened: [create_in_external_system],
    events.TicketStatusChanged: [cancel_in_external_system],
}
