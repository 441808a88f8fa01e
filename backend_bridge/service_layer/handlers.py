"""Command and event handlers: each use case of the backend, in one place.

Command handlers run in one unit of work and commit once. They change aggregates; the events
those raise become notifications in service_layer/notices.py, written by the unit of work in the
same transaction (a status change and its notification are stored together or not at all).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TypeVar

from backend_bridge.domain import categories, commands, events, model
from backend_bridge.service_layer import results, routing
from backend_bridge.service_layer.auth import new_token
from backend_bridge.service_layer.deadlines import check_deadlines
from backend_bridge.service_layer.ports import Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork
from common.addresses import flat_key

log = logging.getLogger(__name__)
T = TypeVar("T")


# -- tickets -------------------------------------------------------------------------------


async def _open(
    uow: UnitOfWork,
    deps: Deps,
    *,
    kind: model.TicketKind,
    sender: str,
    description: str,
    location: model.Location,
    priority: model.Priority = model.Priority.NORMAL,
    community: str | None = None,
    quiet: bool = False,
    **fields: object,
) -> model.Ticket:
    """Store a new ticket with its community's deadlines for its tier (inside the caller's unit of work);
    ``quiet``: no duty-group post (an emergency flagged past the unverified limit)."""
    ticket = model.Ticket.open(
        kind=kind,
        priority=priority,
        location=location,
        description=description,
        sender=sender,
        now=deps.clock(),
        level=deps.content.get(community).level(kind, priority),
        category=categories.categorize(kind.value, description),
        community=community,
        **fields,
    )
    await uow.tickets.add(ticket)
    ticket.events.append(events.TicketOpened(ticket.id, ticket.number, kind.value, priority.value, sender, quiet))
    return ticket


async def open_ticket(cmd: commands.OpenTicket, uow: UnitOfWork, deps: Deps) -> results.TicketOpened:
    kind = model.TicketKind(cmd.kind)
    location = model.Location(cmd.building, cmd.unit, cmd.room, cmd.public_area)
    async with uow:
        community = await routing.community_for_ticket(uow, cmd.sender, location)
        ticket = await _open(
            uow,
            deps,
            kind=kind,
            sender=cmd.sender,
            description=cmd.description,
            location=location,
            anonymous=cmd.anonymous,
            community=community,
        )
        await uow.commit()
        return results.TicketOpened(ticket.number, deps.content.get(community).promise(kind, ticket.priority))


async def open_ticket_for_owner(cmd: commands.OpenTicketForOwner, uow: UnitOfWork, deps: Deps) -> results.TicketOpened:
    try:
        kind, intake = model.TicketKind(cmd.kind), model.Intake(cmd.intake)
        priority = model.Priority(cmd.priority or model.Priority.NORMAL.value)
    except ValueError as exc:
        raise model.DomainError(str(exc)) from exc
    if kind is model.TicketKind.COMPLAINT and priority is model.Priority.EMERGENCY:
        raise model.DomainError("a complaint cannot be an emergency; open a repair")
    location = model.Location(cmd.building, cmd.unit, cmd.room, cmd.public_area)
    sender = cmd.contact or f"staff:{cmd.actor}"
    async with uow:
        if cmd.community is not None:
            known = await routing.known_community(uow, deps.content, cmd.community)
            community = _existing(known, "community", cmd.community).code
        else:
            community = await routing.community_for_ticket(uow, sender, location)
        ticket = await _open(
            uow,
            deps,
            kind=kind,
            sender=sender,
            community=community,
            description=cmd.description,
            location=location,
            priority=priority,
            intake=intake,
            actor=cmd.actor,
        )
        await uow.commit()
        return results.TicketOpened(ticket.number)


# On the ticket of an emergency past the unverified limit, so whoever opens it knows why nobody was paged.
FLAGGED_EMERGENCY = "未核实身份的紧急报告（本小区10分钟内第{count}起），未逐条通知主管，请核实后处理。"


async def report_emergency(cmd: commands.ReportEmergency, uow: UnitOfWork, deps: Deps) -> results.EmergencyOpened:
    """急修: open an emergency ticket at once and hand the conversation to the duty staff.

    The same owner reporting again while their emergency is open (within EMERGENCY_REPEAT_WINDOW)
    adds to that ticket instead: one ticket, one page of the supervisors. A frightened owner
    repeating themselves, or one chat id flooding reports, no longer buries the other emergencies.
    Many throwaway ids flooding reports are limited by ``model.emergency_paging``: every report is
    opened and answered, but past the limit unverified ones are flagged instead of paged.
    """
    location = model.Location(cmd.building, cmd.unit, cmd.room, cmd.public_area)
    now = deps.clock()
    async with uow:
        ticket = await uow.tickets.open_emergency_of(cmd.sender, since=now - model.EMERGENCY_REPEAT_WINDOW)
        if ticket is not None:
            ticket.comment(f"业主再次报告（{cmd.hazard}）：{cmd.description[:500]}", actor=cmd.sender, now=now)
            community = ticket.community
        else:
            community = await routing.community_for_ticket(uow, cmd.sender, location)  # never asks: act first
            verified = bool(await uow.bindings.for_sender(cmd.sender))
            before = 0
            if not verified:
                since = now - model.UNVERIFIED_EMERGENCY_WINDOW
                before = await uow.tickets.unverified_emergencies_since(community, since)
            paging = model.emergency_paging(verified=verified, unverified_before=before)
            ticket = await _open(
                uow,
                deps,
                kind=model.TicketKind.REPAIR,
                sender=cmd.sender,
                community=community,
                description=cmd.description,
                location=location,
                priority=model.Priority.EMERGENCY,
                hazard=cmd.hazard,
                quiet=paging is not model.EmergencyPaging.PAGE,
            )
            if paging is not model.EmergencyPaging.PAGE:
                ticket.comment(FLAGGED_EMERGENCY.format(count=before + 1), actor="system", now=now)
            ticket.events.append(
                events.EmergencyReported(
                    ticket.id, ticket.number, cmd.hazard, paging.value, before + 1 if not verified else 0
                )
            )
        conversation = await uow.conversations.get_or_create(cmd.sender)
        conversation.hand_off(f"emergency:{cmd.hazard}", now)
        await uow.commit()
        content = deps.content.get(community)
        return results.EmergencyOpened(
            ticket.number,
            content.promise(model.TicketKind.REPAIR, model.Priority.EMERGENCY),
            content.advice(cmd.hazard),
            content.duty_hotline,
        )


# On the ticket when the owner takes an emergency back, so staff see why its tier changed.
OWNER_SAID_NOT_URGENT = "业主说明不是紧急情况（“{words}”），改为普通报修"


async def withdraw_emergency(
    cmd: commands.WithdrawEmergency, uow: UnitOfWork, deps: Deps
) -> results.EmergencyWithdrawn:
    """An owner's "不急" after a misread emergency (issue 15): while nobody has taken the
    conversation up and within EMERGENCY_CORRECTION_WINDOW, the ticket becomes an ordinary repair,
    whoever was paged hears so, and the assistant answers again, this message first. Otherwise
    DomainError, and the message stays with staff, like anything written while they have it."""
    now = deps.clock()
    async with uow:
        conversation = await _conversation(uow, cmd.sender)
        if not conversation.waits_after_emergency:
            raise model.DomainError("no emergency waiting for a person in this conversation")
        ticket = await uow.tickets.open_emergency_of(cmd.sender, since=now - model.EMERGENCY_CORRECTION_WINDOW)
        if ticket is None:
            raise model.DomainError("no emergency of this owner's recent enough to take back")
        message = _existing(await uow.messages.inbound(cmd.inbound_id), "inbound message", cmd.inbound_id)
        content = deps.content.get(ticket.community)
        level = content.level(ticket.kind, model.Priority.NORMAL)
        words = OWNER_SAID_NOT_URGENT.format(words=message.text[:40])
        ticket.not_an_emergency(level, actor=cmd.sender, now=now, note=words)
        await _give_back(uow, deps, conversation, cmd.sender)
        message.back_to_the_assistant()  # ... except this message, which takes it back
        await uow.commit()
        return results.EmergencyWithdrawn(ticket.number, content.promise(ticket.kind, model.Priority.NORMAL))


def _existing(found: T | None, what: str, key: object) -> T:
    """What a command names must exist: otherwise NotFound (a 404 at the edge), never None."""
    if found is None:
        raise model.NotFound(what, key)
    return found


async def _ticket(uow: UnitOfWork, number: str) -> model.Ticket:
    return _existing(await uow.tickets.by_number(number), "ticket", number)


async def change_ticket_status(cmd: commands.ChangeTicketStatus, uow: UnitOfWork, deps: Deps) -> results.StatusChanged:
    try:
        status = model.TicketStatus(cmd.status)
    except ValueError as exc:
        raise model.DomainError(f"unknown status {cmd.status!r}") from exc
    async with uow:
        ticket = await _ticket(uow, cmd.number)
        # Staff accounts move tickets within their role; the other actors are the built-in ones
        # (the admin token, the scheduler, an external system), names no account may take.
        member = await uow.staff.by_username(cmd.actor)
        if member is not None:
            member.check_move(ticket, status)
        ticket.move_to(status, actor=cmd.actor, now=deps.clock(), note=cmd.note)
        await uow.commit()
        return results.StatusChanged(ticket.number, status.value)


async def assign_ticket(cmd: commands.AssignTicket, uow: UnitOfWork, deps: Deps) -> results.Assigned:
    async with uow:
        ticket = await _ticket(uow, cmd.number)
        member = await uow.staff.by_username(cmd.assignee)
        if member is None or not member.active:
            raise model.DomainError(f"no active staff member {cmd.assignee!r}")
        if not member.sees(ticket.community):
            raise model.DomainError(f"{cmd.assignee!r} does not work in this ticket's community")
        ticket.assign(member.username, actor=cmd.actor, now=deps.clock(), expected_at=cmd.expected_at)
        await uow.commit()
        return results.Assigned(ticket.number, ticket.status.value, member.username)


async def comment_on_ticket(cmd: commands.CommentOnTicket, uow: UnitOfWork, deps: Deps) -> results.Commented:
    async with uow:
        ticket = await _ticket(uow, cmd.number)
        ticket.comment(cmd.note, actor=cmd.actor, now=deps.clock())
        await uow.commit()
        return results.Commented(ticket.number)


async def merge_tickets(cmd: commands.MergeTickets, uow: UnitOfWork, deps: Deps) -> results.TicketsMerged:
    async with uow:
        duplicate, primary = await _ticket(uow, cmd.duplicate), await _ticket(uow, cmd.primary)
        if None not in (duplicate.community, primary.community) and duplicate.community != primary.community:
            raise model.DomainError("tickets of two communities are not duplicates")
        duplicate.community = duplicate.community or primary.community  # an unrouted report joins it
        duplicate.merge_into(primary, actor=cmd.actor, now=deps.clock())
        for earlier in await uow.tickets.merged_into(duplicate.id):
            earlier.follow_merge(primary, actor=cmd.actor, now=deps.clock())
        await uow.commit()
        return results.TicketsMerged(duplicate.number, primary.number)


async def chase_ticket(cmd: commands.ChaseTicket, uow: UnitOfWork, deps: Deps) -> results.TicketChased:
    """催单 from the chat: the sender's own open ticket only; recorded, staff alerted."""
    async with uow:
        ticket = await uow.tickets.by_owners_number(cmd.number)
        if ticket is None or ticket.sender != cmd.sender:
            raise model.NotFound("ticket for this sender", cmd.number)
        times = ticket.chase(actor=cmd.sender, now=deps.clock())
        await uow.commit()
        return results.TicketChased(ticket.number, ticket.status.value, times, ticket.assignee)


async def withdraw_ticket(cmd: commands.WithdrawTicket, uow: UnitOfWork, deps: Deps) -> results.TicketWithdrawn:
    """The owner takes back their own open request; whoever holds it is told not to come."""
    async with uow:
        ticket = await uow.tickets.by_owners_number(cmd.number)
        if ticket is None or ticket.sender != cmd.sender:
            raise model.NotFound("ticket for this sender", cmd.number)
        ticket.withdraw(actor=cmd.sender, now=deps.clock())
        await uow.commit()
        return results.TicketWithdrawn(ticket.number, ticket.status.value)


async def revoke_pass(cmd: commands.RevokePass, uow: UnitOfWork, deps: Deps) -> results.PassRevoked:
    """The owner calls a visit off: their own pass stops admitting anyone."""
    async with uow:
        visitor_pass = await uow.passes.owned_with_code(cmd.sender, cmd.code)
        if visitor_pass is None:
            raise model.NotFound("pass for this sender", cmd.code)
        visitor_pass.revoke(now=deps.clock())
        await uow.commit()
        return results.PassRevoked(visitor_pass.code)


async def rate_ticket(cmd: commands.RateTicket, uow: UnitOfWork, deps: Deps) -> results.Rated:
    """回访: the owner's rating closes the ticket, or reopens it and alerts a supervisor."""
    async with uow:
        if cmd.number:
            ticket = await uow.tickets.by_number(cmd.number)
        else:
            ticket = await uow.tickets.awaiting_rating(cmd.sender)
        if ticket is None or ticket.sender != cmd.sender:
            raise model.NotFound("ticket for this sender", cmd.number or cmd.sender)
        if cmd.first_reply_only and await uow.messages.count_since(cmd.sender, ticket.survey_sent_at) > 1:
            raise model.NotFound("rating question", cmd.sender)  # the owner has moved on; a later "5" is not an answer
        ticket.rate(cmd.score, actor=cmd.sender, now=deps.clock(), comment=cmd.comment)
        await uow.commit()
        return results.Rated(ticket.number, ticket.status.value, cmd.score)


async def use_pass(cmd: commands.UsePass, uow: UnitOfWork, deps: Deps) -> results.PassUsed:
    """A code admits once. Two gates at the same moment both read it unused; the pass's version
    lets only the first commit, and the bus re-runs the other, which finds the pass used."""
    async with uow:
        visitor_pass = _existing(await uow.passes.live_with_code(cmd.code, deps.clock()), "pass", cmd.code)
        visitor_pass.use(actor=cmd.actor, now=deps.clock())
        await uow.commit()
        return results.PassUsed(visitor_pass.code, visitor_pass.used_at)


async def retry_notification(
    cmd: commands.RetryNotification, uow: UnitOfWork, deps: Deps
) -> results.NotificationRetried:
    async with uow:
        notification = _existing(await uow.notifications.get(cmd.notification_id), "notification", cmd.notification_id)
        notification.retry(deps.clock())
        await uow.commit()
        return results.NotificationRetried(notification.id, notification.status.value)


async def add_staff(cmd: commands.AddStaff, uow: UnitOfWork, deps: Deps) -> results.StaffAdded:
    """A staff account; its bearer token is returned once and only its hash is kept."""
    try:
        role = model.Role(cmd.role)
    except ValueError as exc:
        raise model.DomainError(f"role must be one of {[r.value for r in model.Role]}") from exc
    token, hashed = new_token()
    member = model.StaffMember.enrol(
        cmd.username, cmd.name, role, hashed, deps.clock(), list(cmd.communities), cmd.wecom_userid
    )
    async with uow:
        for code in member.communities:
            _existing(await routing.known_community(uow, deps.content, code), "community", code)
        if await uow.staff.by_username(cmd.username) is not None:
            raise model.DomainError(f"{cmd.username!r} exists")
        await _wecom_userid_free(uow, member)
        await uow.staff.add(member)
        await uow.commit()
    return results.StaffAdded(cmd.username, cmd.name, role.value, token, list(member.communities), member.wecom_userid)


async def _wecom_userid_free(uow: UnitOfWork, member: model.StaffMember) -> None:
    """One account per WeCom member (WeCom ignores case): two would share the member's 30
    messages a minute without either knowing, and one would read the other's work."""
    wanted = member.wecom_userid.casefold() if member.wecom_userid else None
    if wanted is None:
        return
    for other in await uow.staff.all():
        if other.username != member.username and (other.wecom_userid or "").casefold() == wanted:
            # not named: the caller may not see that account (another community's)
            raise model.DomainError(f"WeCom UserID {member.wecom_userid!r} is another staff account's")


async def link_staff_wecom(cmd: commands.LinkStaffWeCom, uow: UnitOfWork, deps: Deps) -> results.StaffAccount:
    async with uow:
        member = _existing(await uow.staff.by_username(cmd.username), "staff member", cmd.username)
        member.link_wecom(cmd.wecom_userid)
        await _wecom_userid_free(uow, member)
        await uow.commit()
    log.info("%s set the WeCom UserID of %s (%s)", cmd.actor, cmd.username, "set" if member.wecom_userid else "cleared")
    return results.StaffAccount(member.username, member.name, member.role.value, member.active, member.wecom_userid)


async def rotate_staff_token(cmd: commands.RotateStaffToken, uow: UnitOfWork, deps: Deps) -> results.StaffToken:
    """A new token, returned once; the old one is unknown from this commit on."""
    token, hashed = new_token()
    async with uow:
        member = _existing(await uow.staff.by_username(cmd.username), "staff member", cmd.username)
        member.new_token(hashed)
        await uow.commit()
    log.info("%s rotated the token of %s", cmd.actor, cmd.username)
    return results.StaffToken(cmd.username, token)


async def deactivate_staff(cmd: commands.DeactivateStaff, uow: UnitOfWork, deps: Deps) -> results.StaffAccount:
    async with uow:
        member = _existing(await uow.staff.by_username(cmd.username), "staff member", cmd.username)
        member.deactivate()
        ended = await uow.staff_sessions.revoke_all(member.username, deps.clock())  # the console too, at once
        held = await uow.conversations.held_by(member.username)
        for conversation in held:  # owners they were answering wait for a colleague again
            conversation.release()
        await uow.commit()
    log.info(
        "%s deactivated %s (%d console sessions ended, %d conversations released)",
        cmd.actor,
        cmd.username,
        ended,
        len(held),
    )
    return results.StaffAccount(member.username, member.name, member.role.value, member.active, member.wecom_userid)


# -- communities -----------------------------------------------------------------------------


async def sync_communities(cmd: commands.SyncCommunities, uow: UnitOfWork, deps: Deps) -> results.CommunitiesSynced:
    """Every community the content names is in the store, named as the content says.

    A deployment whose content names none is a one-community deployment: its community is
    ``default``, named after the company file (a store migrated from before had it already).
    Communities are never deleted here: their flats and tickets stay, whatever the files say.
    """
    listed = deps.content.communities()
    async with uow:
        for content in listed:
            await uow.communities.ensure(content.code, content.name, content.address)
        if not listed and not await uow.communities.all():
            company = deps.content.get()
            await uow.communities.ensure(model.DEFAULT_CODE, company.name, company.address)
        await uow.commit()
        return results.CommunitiesSynced([c.code for c in await uow.communities.all()])


# -- identity, ledger and passes -------------------------------------------------------------


async def bind_sender(cmd: commands.BindSender, uow: UnitOfWork, deps: Deps) -> results.BindingChecked:
    """Bind a chat identity to a flat when the phone given is on file for that flat.

    The answer is the same whether the flat does not exist or the phone is wrong,
    so nobody learns which flats or phones are on file by guessing.
    """
    now = deps.clock()
    flat = flat_key(cmd.building, cmd.unit, cmd.room)
    # The guess is written down (as failed) and committed before the limits are counted: guesses
    # made at the same moment then see each other, so no more than the limit are ever checked
    # (counting first and writing after let 60 concurrent guesses through a limit of 10).
    attempt = model.BindingAttempt(cmd.sender, now, False, flat)
    async with uow:
        await uow.bindings.record_attempt(attempt)
        await uow.commit()
    async with uow:
        day_ago = now - timedelta(days=1)
        others = [a for a in await uow.bindings.attempts_since(day_ago, sender=cmd.sender) if a.id != attempt.id]
        on_flat = [a for a in await uow.bindings.attempts_since(day_ago, flat=flat) if a.id != attempt.id]
        if model.binding_locked(others, now) or model.binding_locked(on_flat, now, model.MAX_FAILED_BINDINGS_PER_FLAT):
            return results.BindingChecked("locked")
        # 3-2-501 exists in many communities; the phone on file says which flat is the owner's
        # (the community the owner came in through first, when it has a match there too).
        conversation = await uow.conversations.get_or_create(cmd.sender)
        matches = [
            (room, owner)
            for room in await uow.rooms.find_everywhere(cmd.building, cmd.unit, cmd.room)
            if (owner := room.phone_matches(cmd.phone)) is not None
        ]
        matches = [m for m in matches if m[0].community == conversation.community] or matches
        if not matches:
            await uow.commit()
            return results.BindingChecked("mismatch")
        await uow.bindings.succeeded(attempt.id)
        await _bind(uow, conversation, matches, now)
        await uow.commit()
        return results.BindingChecked("bound")


async def _bind(
    uow: UnitOfWork, conversation: model.Conversation, matches: list[tuple[model.Room, model.Owner]], now: datetime
) -> None:
    """Bind the conversation to the matched flats, one per community (a new one there replaces
    the old); what the owner asks next is about the first."""
    bound = await uow.bindings.for_sender(conversation.sender)
    for room, owner in matches:
        binding = bound.get(room.community)
        if binding is None:
            await uow.bindings.add(model.Binding(conversation.sender, room.id, owner.id, now))
        else:
            binding.room_id, binding.owner_id, binding.bound_at = room.id, owner.id, now
    conversation.community = matches[0][0].community


async def bind_by_staff(cmd: commands.BindByStaff, uow: UnitOfWork, deps: Deps) -> results.BindingChecked:
    """Staff vouch for the owner: no guess is counted and no lock applies (staff checked the
    person), but the phone must still be on file for the flat, in the staff member's communities."""
    async with uow:
        conversation = _existing(await uow.conversations.get(cmd.sender), "conversation", cmd.sender)
        matches = [
            (room, owner)
            for room in await uow.rooms.find_everywhere(cmd.building, cmd.unit, cmd.room)
            if (cmd.communities is None or room.community in cmd.communities)
            and (owner := room.phone_matches(cmd.phone)) is not None
        ]
        if not matches:
            raise model.NotFound("owner with this phone at", flat_key(cmd.building, cmd.unit, cmd.room))
        await _bind(uow, conversation, matches, deps.clock())
        await uow.commit()
    log.info("staff %s bound a conversation to %s", cmd.actor, flat_key(cmd.building, cmd.unit, cmd.room))
    return results.BindingChecked("bound")


async def bind_by_phone(cmd: commands.BindByPhone, uow: UnitOfWork, deps: Deps) -> results.BindingChecked:
    """Bind an SMS conversation to the flats where its mobile is on file, one per community (the
    first flat when a number is on file for several there); "mismatch" when it is on file nowhere.
    An existing binding is kept: the owner may have chosen another flat since."""
    async with uow:
        bound = await uow.bindings.for_sender(cmd.sender)
        matches = [
            (room, owner)
            for room in await uow.rooms.with_owner_phone(cmd.mobile)
            if (owner := room.phone_matches(cmd.mobile)) is not None
        ]
        if not matches:
            return results.BindingChecked("mismatch")
        now = deps.clock()
        for room, owner in matches:
            if room.community not in bound:
                binding = model.Binding(cmd.sender, room.id, owner.id, now)
                await uow.bindings.add(binding)
                bound[room.community] = binding
        await uow.commit()
        return results.BindingChecked("bound")


async def record_delivery_receipt(
    cmd: commands.RecordDeliveryReceipt, uow: UnitOfWork, deps: Deps
) -> results.ReceiptRecorded:
    """A receipt confirms the notification, or puts it back in the outbox (retried with back-off,
    dead-lettered after the last attempt) with the platform's error."""
    async with uow:
        notification = await uow.notifications.by_provider_message_id(cmd.channel, cmd.message_id)
        if notification is None:
            return results.ReceiptRecorded(None)
        if cmd.delivered:
            notification.confirmed(deps.clock(), cmd.parts)
        else:
            notification.bounced(cmd.error or "not delivered", deps.clock(), permanent=cmd.permanent)
            uow.notifications.recipients.add(notification.recipient)  # wake a dispatcher for the retry
        await uow.commit()
        return results.ReceiptRecorded(notification.status.value)


class NotBound(model.DomainError):
    """Personal data or passes asked for by a sender not bound to a flat."""


async def issue_pass(cmd: commands.IssuePass, uow: UnitOfWork, deps: Deps) -> results.PassIssued:
    now = deps.clock()
    valid_from, valid_until = model.pass_window(cmd.start, cmd.end, cmd.time_kind)
    if valid_until <= now:
        raise model.PassRefused("past")
    if valid_from > now + timedelta(days=model.MAX_PASS_DAYS):
        raise model.PassRefused("too_far")
    async with uow:
        _, binding = await routing.binding_in_community(uow, cmd.sender)
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
        return results.PassIssued(code, visitor_pass.valid_from, valid_until)


# -- conversations -----------------------------------------------------------------------------


async def _conversation(uow: UnitOfWork, sender: str) -> model.Conversation:
    return _existing(await uow.conversations.get(sender), "conversation", sender)


async def _owed_to_staff(uow: UnitOfWork, sender: str, *, failed_only: bool) -> None:
    """The sender's messages the assistant has not answered become staff's: it never answers them
    later (the retry loop, a late reply). At a handoff only the failed ones (a received one may be
    the very message whose answer makes the handoff); at the handback all of them."""
    for message in await uow.messages.owed(sender):
        if not failed_only or message.status is model.InboundStatus.FAILED:
            message.for_staff()


async def hand_off(cmd: commands.HandOff, uow: UnitOfWork, deps: Deps) -> results.ConversationState:
    async with uow:
        conversation = await uow.conversations.get_or_create(cmd.sender)
        conversation.hand_off(cmd.reason, deps.clock())
        await _owed_to_staff(uow, cmd.sender, failed_only=True)
        await uow.commit()
        return results.ConversationState(conversation.state.value)


async def claim_conversation(
    cmd: commands.ClaimConversation, uow: UnitOfWork, deps: Deps
) -> results.ConversationClaimed:
    """A member takes the conversation (from the assistant: it goes to staff at once, and what
    the assistant still owes the owner is theirs)."""
    async with uow:
        conversation = await _conversation(uow, cmd.sender)
        conversation.claim(cmd.actor, deps.clock(), force=cmd.force)
        await _owed_to_staff(uow, cmd.sender, failed_only=False)
        await uow.commit()
        return results.ConversationClaimed(
            conversation.sender, conversation.state.value, conversation.assignee, conversation.claimed_at
        )


async def hand_back(cmd: commands.HandBack, uow: UnitOfWork, deps: Deps) -> results.ConversationState:
    """Staff give the conversation back: resume the engine first, so a failure leaves it with staff.
    What the owner wrote meanwhile was staff's: the assistant answers only what comes next."""
    async with uow:
        conversation = await _conversation(uow, cmd.sender)
        await _give_back(uow, deps, conversation, cmd.actor)
        await uow.commit()
        return results.ConversationState(conversation.state.value)


async def _give_back(uow: UnitOfWork, deps: Deps, conversation: model.Conversation, actor: str) -> None:
    """The assistant answers again: what was written to staff stays theirs, and the engine is
    resumed before the caller commits, so a failure leaves the conversation with staff."""
    conversation.hand_back(actor, deps.clock())
    await _owed_to_staff(uow, conversation.sender, failed_only=False)
    await deps.dialogue.resume(conversation.sender)


async def add_note(cmd: commands.AddNote, uow: UnitOfWork, deps: Deps) -> results.NoteAdded:
    """A note for colleagues: stored beside the conversation, never in the outbox."""
    async with uow:
        conversation = await _conversation(uow, cmd.sender)
        note = conversation.add_note(cmd.text, cmd.actor, deps.clock())
        await uow.notes.add(note)
        await uow.commit()
        return results.NoteAdded(note.id, note.author, note.text, note.at)


async def leave_to_staff(cmd: commands.LeaveToStaff, uow: UnitOfWork, deps: Deps) -> results.RepliesRecorded:
    async with uow:
        message = _existing(await uow.messages.inbound(cmd.inbound_id), "inbound message", cmd.inbound_id)
        message.for_staff()
        await uow.commit()
        return results.RepliesRecorded(message.status.value)


async def save_canned_reply(cmd: commands.SaveCannedReply, uow: UnitOfWork, deps: Deps) -> results.CannedReplySaved:
    now = deps.clock()
    async with uow:
        if cmd.reply_id is None:
            if cmd.community is not None:
                _existing(await routing.known_community(uow, deps.content, cmd.community), "community", cmd.community)
            reply = model.CannedReply(cmd.title or "", cmd.text or "", cmd.community, cmd.actor, now)
            reply.check()
            await uow.canned_replies.add(reply)
        else:
            reply = _existing(await uow.canned_replies.get(cmd.reply_id), "canned reply", cmd.reply_id)
            reply.revise(cmd.actor, now, title=cmd.title, text=cmd.text)
        await uow.commit()
        return results.CannedReplySaved(reply.id)


async def remove_canned_reply(cmd: commands.RemoveCannedReply, uow: UnitOfWork, deps: Deps) -> results.CannedReplySaved:
    async with uow:
        reply = _existing(await uow.canned_replies.get(cmd.reply_id), "canned reply", cmd.reply_id)
        await uow.canned_replies.remove(reply)
        await uow.commit()
        return results.CannedReplySaved(cmd.reply_id)


async def send_staff_message(cmd: commands.SendStaffMessage, uow: UnitOfWork, deps: Deps) -> results.StaffMessageQueued:
    async with uow:
        conversation = await _conversation(uow, cmd.sender)
        if conversation.staff_message(cmd.text, cmd.actor, deps.clock()):
            await _owed_to_staff(uow, cmd.sender, failed_only=False)  # as a claim does
        await uow.commit()
    try:
        await deps.dialogue.log_staff_message(cmd.sender, cmd.text, cmd.actor)
    except Exception:
        log.warning("could not copy a staff message into the dialogue transcript", exc_info=True)
    return results.StaffMessageQueued()


async def record_inbound(cmd: commands.RecordInbound, uow: UnitOfWork, deps: Deps) -> results.InboundRecorded:
    """Write the owner's message down before anything else; replay a retried client message."""
    now = deps.clock()
    async with uow:
        # read and written back with one statement each (repository: why), not loaded and flushed;
        # the read also finds a retry's first attempt and counts the sender's backlog
        arrival = await uow.conversations.read_on_arrival(cmd.sender, cmd.client_message_id)
        conversation, waiting = arrival.conversation, arrival.waiting
        if arrival.earlier_id is not None:
            earlier = await uow.messages.read(arrival.earlier_id)
            return results.InboundRecorded(
                earlier.id,
                True,
                list(earlier.replies),
                earlier.status.value,
                conversation.state.value,
                conversation.script,
                waiting=0,
                # a retry of one still "received": the gateway tells the owner it is kept while
                # the first attempt may be answering it, and takes it over after
                in_flight_since=earlier.in_flight_since,
                in_flight=earlier.in_flight(now),
                received_at=earlier.received_at,
            )
        if cmd.script:
            conversation.script = cmd.script
        routed_to, names_only = await _route_conversation(uow, deps, conversation, cmd)
        conversation.last_inbound_at = now
        message = model.InboundMessage(cmd.sender, cmd.text, now, cmd.client_message_id)
        if conversation.state is model.ConversationState.HANDED_OFF:
            message.for_staff()  # staff answer what the owner writes to them; the assistant never will
        await uow.messages.add_inbound(message)
        await uow.conversations.save(conversation)
        await uow.commit()
        return results.InboundRecorded(
            message.id,
            False,
            [],
            message.status.value,
            conversation.state.value,
            conversation.script,
            waiting,
            routed_to,
            names_only,
            message.in_flight_since,
            message.in_flight(now),
            message.received_at,
        )


async def claim_inbound(cmd: commands.ClaimInbound, uow: UnitOfWork, deps: Deps) -> results.InboundClaimed:
    """Take a message still "received" to answer it (MessageRepository.claim): in the store, in
    one statement, so two gateways never both answer it."""
    now = deps.clock()
    async with uow:
        claimed = await uow.messages.claim(cmd.inbound_id, now, held_since=cmd.held_since)
        await uow.commit()
    return results.InboundClaimed(claimed, now)


async def _route_conversation(
    uow: UnitOfWork, deps: Deps, conversation: model.Conversation, cmd: commands.RecordInbound
) -> tuple[str | None, bool]:
    """The community the owner names ("我是阳光小区的") routes the conversation; the entry point's
    (a community's own link or QR code) does while it has none, so a link pinned in a group does
    not undo what the owner said.

    Returns the community's name when this message chose it (and whether the message did nothing
    else but name it), so the gateway can confirm instead of asking the assistant.
    """
    aliases = {c.code: c.aliases for c in deps.content.communities()}
    named = model.mentioned(cmd.text, aliases) if aliases and cmd.owners_words else None
    code = named or (cmd.community if conversation.community is None else None)
    if code is None or code == conversation.community or not await routing.known_community(uow, deps.content, code):
        return None, False
    conversation.community = code
    return deps.content.get(code).name, named is not None and model.names_only(cmd.text, aliases[code])


async def record_replies(cmd: commands.RecordReplies, uow: UnitOfWork, deps: Deps) -> results.RepliesRecorded:
    """The assistant's answer, unless staff took the conversation while it was on its way: then
    the message is theirs and the answer is dropped (status "for_staff": nothing to send)."""
    async with uow:
        # read and written back with one statement each (repository: why), not loaded and flushed
        message, conversation = _existing(
            await uow.messages.read_with_conversation(cmd.inbound_id, uow.conversations),
            "inbound message",
            cmd.inbound_id,
        )
        if conversation is not None and conversation.silences_late_answers():
            message.for_staff()
        message.record_answer(list(cmd.replies), answered=cmd.answered, push=cmd.push)
        # An answer given in the request (not pushed) need not wait for the disk: lost in a power
        # cut, the message reads unanswered and is answered again — as after a crash between
        # Rasa's answer and this commit. The owner's message itself was committed durably.
        # Said before the write, which on SQLite begins the transaction (unit_of_work.relax_commit).
        if not cmd.push:
            await uow.relax_commit()
        await uow.messages.save(message)
        await uow.commit(durable=cmd.push)
    return results.RepliesRecorded(message.status.value)


PURGE_BATCH = 500  # rows per transaction: a first purge of years of messages never holds a long lock


async def purge_expired(cmd: commands.PurgeExpired, uow: UnitOfWork, deps: Deps) -> results.Purged:
    """Remove what the retention policy (domain/retention.py) no longer allows us to keep.

    A batch per transaction, so owners' messages are never kept waiting behind a long delete;
    stopping half way (a restart) loses nothing, the next run goes on where this one stopped.
    """
    now, policy = deps.clock(), cmd.policy
    kept_messages = policy.before(now, policy.messages_days)
    purges = {
        "messages": lambda: uow.messages.purge_answered_before(kept_messages, PURGE_BATCH),
        "mailbox": lambda: uow.notifications.purge_mailbox_before(kept_messages, PURGE_BATCH),
        "notifications": lambda: uow.notifications.purge_settled_before(
            policy.before(now, policy.notifications_days), PURGE_BATCH
        ),
        "binding_attempts": lambda: uow.bindings.purge_attempts_before(
            policy.before(now, policy.attempts_days), PURGE_BATCH
        ),
        # console sessions (who signed in, when) once ended by their 7 days, as long as the guesses
        "staff_sessions": lambda: uow.staff_sessions.purge_before(
            policy.before(now, policy.attempts_days), PURGE_BATCH
        ),
        "external_events": lambda: uow.external_events.purge_before(
            policy.before(now, policy.webhook_days), PURGE_BATCH
        ),
    }
    removed = {}
    for kind, purge in purges.items():
        removed[kind] = 0
        while True:
            async with uow:
                count = await purge()
                await uow.commit()
            removed[kind] += count
            if count < PURGE_BATCH:
                break
    if any(removed.values()):
        log.info("retention: removed %s", ", ".join(f"{n} {kind}" for kind, n in removed.items() if n))
    return results.Purged(removed)


# -- events ------------------------------------------------------------------------------------


async def log_ticket_opened(event: events.TicketOpened, uow: UnitOfWork, deps: Deps) -> None:
    level = logging.WARNING if event.priority == model.Priority.EMERGENCY.value else logging.INFO
    log.log(level, "ticket %s opened (%s, %s)", event.number, event.kind, event.priority)


async def log_handoff(event: events.ConversationHandedOff, uow: UnitOfWork, deps: Deps) -> None:
    log.warning("conversation handed to staff (%s)", event.reason)


COMMAND_HANDLERS = {
    commands.PurgeExpired: purge_expired,
    commands.OpenTicket: open_ticket,
    commands.ReportEmergency: report_emergency,
    commands.WithdrawEmergency: withdraw_emergency,
    commands.OpenTicketForOwner: open_ticket_for_owner,
    commands.ChangeTicketStatus: change_ticket_status,
    commands.AssignTicket: assign_ticket,
    commands.CommentOnTicket: comment_on_ticket,
    commands.MergeTickets: merge_tickets,
    commands.ChaseTicket: chase_ticket,
    commands.RateTicket: rate_ticket,
    commands.CheckDeadlines: check_deadlines,
    commands.UsePass: use_pass,
    commands.RetryNotification: retry_notification,
    commands.AddStaff: add_staff,
    commands.SyncCommunities: sync_communities,
    commands.RotateStaffToken: rotate_staff_token,
    commands.DeactivateStaff: deactivate_staff,
    commands.LinkStaffWeCom: link_staff_wecom,
    commands.BindSender: bind_sender,
    commands.BindByStaff: bind_by_staff,
    commands.BindByPhone: bind_by_phone,
    commands.RecordDeliveryReceipt: record_delivery_receipt,
    commands.IssuePass: issue_pass,
    commands.WithdrawTicket: withdraw_ticket,
    commands.RevokePass: revoke_pass,
    commands.HandOff: hand_off,
    commands.HandBack: hand_back,
    commands.SendStaffMessage: send_staff_message,
    commands.ClaimConversation: claim_conversation,
    commands.AddNote: add_note,
    commands.LeaveToStaff: leave_to_staff,
    commands.SaveCannedReply: save_canned_reply,
    commands.RemoveCannedReply: remove_canned_reply,
    commands.RecordInbound: record_inbound,
    commands.RecordReplies: record_replies,
    commands.ClaimInbound: claim_inbound,
}
EVENT_HANDLERS = {
    events.TicketOpened: [log_ticket_opened],
    events.ConversationHandedOff: [log_handoff],
}
