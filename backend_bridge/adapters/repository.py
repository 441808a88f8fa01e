"""Repositories: collections of aggregates over an async SQLAlchemy session.

Each remembers the aggregates it handed out (``seen``) so the unit of work can
collect their domain events after a commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import class_mapper, raiseload

from backend_bridge.adapters import orm
from backend_bridge.domain import model

T = TypeVar("T")
UNANSWERED_LIMIT = 50  # the backlog is counted up to this many (as ``unanswered`` lists them)


class _Tracking:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: set = set()

    def _track(self, obj):
        if obj is not None:
            self.seen.add(obj)
        return obj


class TicketRepository(_Tracking):
    async def add(self, ticket: model.Ticket) -> None:
        self.session.add(ticket)
        await self.session.flush()  # assigns the id the ticket number is made from
        self._track(ticket)

    async def get(self, ticket_id: int) -> model.Ticket | None:
        return self._track(await self.session.get(model.Ticket, ticket_id))

    async def by_number(self, number: str) -> model.Ticket | None:
        parsed = model.parse_number(number)
        if parsed is None:
            return None
        kind, ticket_id = parsed
        ticket = await self.get(ticket_id)
        if ticket is None or (kind is not None and ticket.kind is not kind):
            return None
        return ticket

    async def by_owners_number(self, number: str) -> model.Ticket | None:
        """The ticket an owner names: ours (BX000123), or the number the company's property system
        gave it when it was synced (20261030-0017: the hotline and the paper slips quote that one)."""
        return await self.by_number(number) or await self.by_external_id(number.strip()[: model.MAX_EXTERNAL_ID])

    async def by_external_id(self, external_id: str) -> model.Ticket | None:
        stmt = select(model.Ticket).where(model.Ticket.external_id == external_id)
        return self._track((await self.session.scalars(stmt)).first())

    async def merged_into(self, ticket_id: int) -> list[model.Ticket]:
        stmt = select(model.Ticket).where(model.Ticket.merged_into == ticket_id).order_by(model.Ticket.id)
        return [self._track(t) for t in (await self.session.scalars(stmt)).all()]

    async def due_for_sweep(self, now: datetime, limit: int) -> list[model.Ticket]:
        """What the scheduler must look at now (``sweep_at <= now``, through its index), earliest
        first: never every open ticket, however many the store holds."""
        stmt = (
            select(model.Ticket)
            .where(model.Ticket.sweep_at <= now)
            .order_by(model.Ticket.sweep_at, model.Ticket.id)
            .limit(limit)
        )
        return [self._track(t) for t in (await self.session.scalars(stmt)).all()]

    async def sweep_all_again(self, now: datetime) -> int:
        """Every open or resolved ticket due for a look at ``now`` (the communities' alert times
        changed, or a scheduler starts and cannot know with which times the looks were planned).
        One UPDATE: the version is not bumped, as no field the domain decides changes."""
        statuses, sweep_at = [*model.OPEN_STATUSES, model.TicketStatus.RESOLVED], orm.tickets.c.sweep_at
        stmt = (
            update(orm.tickets)
            .where(orm.tickets.c.status.in_(statuses), or_(sweep_at.is_(None), sweep_at > now))
            .values(sweep_at=now)
        )
        return (await self.session.execute(stmt)).rowcount

    async def open_emergency_of(self, sender: str, since: datetime) -> model.Ticket | None:
        """The sender's newest emergency opened since ``since`` and still open."""
        stmt = (
            select(model.Ticket)
            .where(
                model.Ticket.sender == sender,
                model.Ticket.priority == model.Priority.EMERGENCY,
                model.Ticket.status.in_(list(model.OPEN_STATUSES)),
                model.Ticket.created_at >= since,
            )
            .order_by(model.Ticket.id.desc())
        )
        return self._track((await self.session.scalars(stmt)).first())

    async def unverified_emergencies_since(self, community: str | None, since: datetime) -> int:
        """Emergencies opened in ``community`` since ``since`` by senders bound to no flat: what
        the flood limit counts (domain/tickets.py emergency_paging)."""
        bound = select(orm.bindings.c.sender)
        stmt = (
            select(func.count())
            .select_from(model.Ticket)
            .where(
                model.Ticket.priority == model.Priority.EMERGENCY,
                model.Ticket.created_at >= since,
                model.Ticket.community.is_(None) if community is None else model.Ticket.community == community,
                model.Ticket.sender.not_in(bound),
            )
        )
        return int(await self.session.scalar(stmt) or 0)

    async def awaiting_rating(self, sender: str) -> model.Ticket | None:
        """The sender's most recently resolved ticket, which a rating now refers to."""
        stmt = (
            select(model.Ticket)
            .where(model.Ticket.sender == sender, model.Ticket.status == model.TicketStatus.RESOLVED)
            .order_by(model.Ticket.resolved_at.desc(), model.Ticket.id.desc())
        )
        return self._track((await self.session.scalars(stmt)).first())

    async def unsynced(self, limit: int = 100) -> list[model.Ticket]:
        """Open tickets the external system has not got yet (finished ones are no longer work for it)."""
        stmt = select(model.Ticket).where(
            model.Ticket.external_id.is_(None), model.Ticket.status.in_(model.OPEN_STATUSES)
        )
        return list((await self.session.scalars(stmt.order_by(model.Ticket.id).limit(limit))).all())

    async def cancellations_owed(self, limit: int = 100) -> list[model.Ticket]:
        """Tickets the external system must still be told are cancelled, longest owed first."""
        owed = model.Ticket.external_cancel_owed_at
        stmt = select(model.Ticket).where(owed.is_not(None)).order_by(owed, model.Ticket.id).limit(limit)
        return list((await self.session.scalars(stmt)).all())


class CommunityRepository(_Tracking):
    async def all(self) -> list[model.Community]:
        return list((await self.session.scalars(select(model.Community).order_by(model.Community.code))).all())

    async def get(self, code: str) -> model.Community | None:
        return await self.session.get(model.Community, code) if model.valid_code(code) else None

    async def add(self, community: model.Community) -> None:
        self.session.add(community)

    async def ensure(self, code: str, name: str, address: str) -> model.Community:
        """The community, created if new (processes starting together create it once), named as given."""
        insert = _insert(self.session)
        row = {"code": code, "name": name[:64], "address": address[:128]}
        await self.session.execute(insert(orm.communities).values(**row).on_conflict_do_nothing())
        community = await self.session.get(model.Community, code)
        community.name, community.address = row["name"], row["address"]
        return community

    async def only(self) -> str | None:
        """The store's community when it has exactly one: then nobody needs routing."""
        codes = (await self.session.scalars(select(model.Community.code).limit(2))).all()
        return codes[0] if len(codes) == 1 else None


class RoomRepository(_Tracking):
    async def find(self, building: str, unit: str, room: str, community: str | None = None) -> model.Room | None:
        """The flat at this address in ``community``; without one, the flat if only one community has it."""
        found = await self.find_everywhere(building, unit, room, community)
        return found[0] if len(found) == 1 else None

    async def find_everywhere(
        self, building: str, unit: str, room: str, community: str | None = None
    ) -> list[model.Room]:
        """Flats at this address, in ``community`` or in every community (3-2-501 exists in many)."""
        stmt = select(model.Room).where(
            model.Room.building == building, model.Room.unit == unit, model.Room.room == room
        )
        if community is not None:
            stmt = stmt.where(model.Room.community == community)
        return list((await self.session.scalars(stmt.order_by(model.Room.id))).all())

    async def get(self, room_id: int) -> model.Room | None:
        return await self.session.get(model.Room, room_id)

    async def with_owner_phone(self, mobile: str) -> list[model.Room]:
        """Flats with an owner whose phone on file is ``mobile`` (stored as 11 digits)."""
        stmt = (
            select(model.Room)
            .join(model.Owner, model.Owner.room_id == model.Room.id)
            .where(model.Owner.phone == mobile)
            .order_by(model.Room.id)
            .distinct()
        )
        return list((await self.session.scalars(stmt)).all())

    async def find_many(
        self, community: str, addresses: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], model.Room]:
        """The rooms of ``community`` at ``addresses`` that exist, by address: one query for a whole
        import, not one per flat.

        Filters on each part's distinct values (a few buildings, units and room numbers,
        so the IN lists stay short) and keeps the exact addresses asked for.
        """
        wanted = set(addresses)
        if not wanted:
            return {}
        buildings, units, numbers = (sorted({address[i] for address in wanted}) for i in range(3))
        stmt = select(model.Room).where(
            model.Room.community == community,
            model.Room.building.in_(buildings),
            model.Room.unit.in_(units),
            model.Room.room.in_(numbers),
        )
        found = {(r.building, r.unit, r.room): r for r in (await self.session.scalars(stmt)).all()}
        return {address: room for address, room in found.items() if address in wanted}

    async def add(self, room: model.Room) -> None:
        self.session.add(room)

    async def in_community(self, community: str) -> list[model.Room]:
        stmt = select(model.Room).where(model.Room.community == community).order_by(model.Room.id)
        return list((await self.session.scalars(stmt)).all())

    async def any(self, community: str | None = None) -> bool:
        stmt = select(model.Room.id)
        if community is not None:
            stmt = stmt.where(model.Room.community == community)
        return (await self.session.scalars(stmt.limit(1))).first() is not None


class BindingRepository(_Tracking):
    async def purge_attempts_before(self, cutoff: datetime, limit: int) -> int:
        return await _delete_some(self.session, orm.binding_attempts, limit, orm.binding_attempts.c.at < cutoff)

    async def for_sender(self, sender: str) -> dict[str, model.Binding]:
        """The sender's bindings by community (one flat per community)."""
        stmt = (
            select(model.Binding, model.Room.community)
            .join(model.Room, model.Room.id == model.Binding.room_id)
            .where(model.Binding.sender == sender)
            .order_by(model.Binding.bound_at, model.Binding.id)
        )
        return {community: binding for binding, community in (await self.session.execute(stmt)).all()}

    async def add(self, binding: model.Binding) -> None:
        self.session.add(binding)

    async def remove_for_owners(self, owner_ids: list[int]) -> None:
        """Owners taken off the roster lose their chat bindings (before the owners go, for the keys)."""
        if owner_ids:
            await self.session.execute(delete(orm.bindings).where(orm.bindings.c.owner_id.in_(owner_ids)))

    async def record_attempt(self, attempt: model.BindingAttempt) -> None:
        self.session.add(attempt)
        await self.session.flush()  # its id: the attempt is told apart from the others when counting

    async def succeeded(self, attempt_id: int) -> None:
        attempt = await self.session.get(model.BindingAttempt, attempt_id)
        attempt.ok = True

    async def attempts_since(
        self, since: datetime, *, sender: str | None = None, flat: str | None = None
    ) -> list[model.BindingAttempt]:
        stmt = select(model.BindingAttempt).where(model.BindingAttempt.at >= since)
        if sender is not None:
            stmt = stmt.where(model.BindingAttempt.sender == sender)
        if flat is not None:
            stmt = stmt.where(model.BindingAttempt.flat == flat)
        return list((await self.session.scalars(stmt)).all())


class PassRepository(_Tracking):
    async def add(self, visitor_pass: model.VisitorPass) -> None:
        self.session.add(visitor_pass)

    async def live_with_code(self, code: str, now: datetime) -> model.VisitorPass | None:
        """The pass a gate should check for ``code``: the unexpired one, else the newest."""
        stmt = (
            select(model.VisitorPass)
            .where(model.VisitorPass.code == code)
            .order_by(model.VisitorPass.valid_until.desc())
        )
        passes = list((await self.session.scalars(stmt)).all())
        live = [p for p in passes if p.valid_until >= now and p.revoked_at is None and p.used_at is None]
        return (live or passes or [None])[0]

    async def still_to_come(self, sender: str, now: datetime) -> list[model.VisitorPass]:
        """The sender's passes that could still admit someone, soonest visit first."""
        stmt = (
            select(model.VisitorPass)
            .where(
                model.VisitorPass.issued_to == sender,
                model.VisitorPass.valid_until >= now,
                model.VisitorPass.revoked_at.is_(None),
                model.VisitorPass.used_at.is_(None),
            )
            .order_by(model.VisitorPass.valid_from, model.VisitorPass.id)
            .limit(20)
        )
        return list((await self.session.scalars(stmt)).all())

    async def owned_with_code(self, sender: str, code: str) -> model.VisitorPass | None:
        """The sender's own pass with ``code``: the newest, if a code came round again."""
        stmt = (
            select(model.VisitorPass)
            .where(model.VisitorPass.issued_to == sender, model.VisitorPass.code == code)
            .order_by(model.VisitorPass.valid_until.desc())
        )
        return (await self.session.scalars(stmt)).first()


@dataclass(frozen=True)
class Arrival:
    """What ``ConversationRepository.read_on_arrival`` found for a new owner message."""

    conversation: model.Conversation
    earlier_id: int | None  # the sender's message with the same client id: this one is a retry
    waiting: int  # the sender's messages waiting for an answer (``MessageRepository.count_unanswered``)


class ConversationRepository(_Tracking):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._read: dict[int, tuple[model.Conversation, dict]] = {}  # what read() found, by object

    async def get(self, sender: str, *, handoffs: bool = True) -> model.Conversation | None:
        """``handoffs=False``: without its handoff history (one query less on every owner
        message); reading it then raises instead of quietly loading it."""
        options = () if handoffs else (raiseload(model.Conversation.handoffs),)
        return self._track(await self.session.get(model.Conversation, sender, options=options))

    async def held_by(self, username: str) -> list[model.Conversation]:
        """The conversations ``username`` holds (claimed)."""
        stmt = select(model.Conversation).where(model.Conversation.assignee == username)
        return [self._track(c) for c in (await self.session.scalars(stmt)).all()]

    async def get_or_create(self, sender: str, *, handoffs: bool = True) -> model.Conversation:
        """The conversation, created if new; two first messages at once create it once."""
        conversation = await self.get(sender, handoffs=handoffs)
        if conversation is None:
            await self._create(sender)
            conversation = await self.get(sender, handoffs=handoffs)
        return conversation

    async def _create(self, sender: str) -> None:
        row = {"sender": sender, "channel": sender.split(":", 1)[0], "state": model.ConversationState.BOT}
        await self.session.execute(_insert(self.session)(orm.conversations).values(**row).on_conflict_do_nothing())

    # -- every owner message: read with one Core statement, written back with one -----------------
    #
    # The mapped path (get, then a flush at commit) put most of our own cost of a message in the
    # ORM's bookkeeping: identity map, loading, the unit of work's flush (bench/NOTES.md, issue 14).
    # These read the row into a domain object the session does not hold, so the handler decides
    # with the domain as elsewhere, and ``save`` writes back the columns that changed, as a flush
    # would. Not for a change of hands (hand_off, claim, hand_back): that is the mapped path's, with
    # the handoff history, and ``save`` refuses it.

    async def read(self, sender: str) -> model.Conversation | None:
        """The conversation without its handoff history, held by nobody but this repository."""
        row = (await self.session.execute(_CONVERSATION, {"sender": sender})).first()
        return None if row is None else self.adopt(row._asdict())

    async def read_on_arrival(self, sender: str, client_message_id: str | None) -> Arrival:
        """The conversation, created first if new (two first messages at once create it once), with
        what a new message of the sender's needs to know besides — the id of an earlier message
        with the same client id (a retry), and how many of the sender's are waiting for an answer
        (``MessageRepository.count_unanswered``) — in the same statement: on every owner message,
        one round trip instead of three."""
        params = {"sender": sender, "client_id": client_message_id or None, "limit": UNANSWERED_LIMIT}
        row = (await self.session.execute(_ARRIVAL, params)).first()
        if row is None:  # the sender's first message (rare): created, and read again
            await self._create(sender)
            row = (await self.session.execute(_ARRIVAL, params)).first()
        values = row._asdict()
        earlier, waiting = values.pop("_earlier"), values.pop("_waiting")
        return Arrival(self.adopt(values), earlier, int(waiting or 0))

    def adopt(self, values: dict) -> model.Conversation:
        """A conversation from its row's ``values`` (read by this repository, or with a message:
        MessageRepository.read_with_conversation), remembered for ``save`` and tracked."""
        conversation = _unheld(model.Conversation, values)
        self._read[id(conversation)] = (conversation, values)
        return self._track(conversation)  # its events, if any, reach the notices and the bus

    async def save(self, conversation: model.Conversation) -> None:
        """Write what changed since ``read`` (nothing: no statement): one UPDATE of those columns
        alone, so a colleague's change to another column meanwhile (a binding's community) stays."""
        read = self._read.get(id(conversation))
        if read is None or read[0] is not conversation:
            raise ValueError("save() takes a conversation from read()")
        before = read[1]
        changed = {key: value for key, value in vars(conversation).items() if key in before and value != before[key]}
        # hand_off, hand_back and a claim from the assistant change the state and the handoff
        # history, which was not read: only the mapped conversation (get) keeps them together
        if "state" in changed or vars(conversation).get("handoffs"):
            raise ValueError("a change of hands is saved through the mapped conversation (get), with its history")
        if changed:
            await self.session.execute(_CONVERSATION_UPDATE, {"_sender": conversation.sender, **changed})
            before.update(changed)


class NoteRepository:
    """Staff notes on conversations (append-only)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, note: model.Note) -> None:
        self.session.add(note)
        await self.session.flush()


class CannedReplyRepository:
    """常用语: kept as written; a community's staff see the company's and their communities'."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, reply: model.CannedReply) -> None:
        self.session.add(reply)
        await self.session.flush()

    async def get(self, reply_id: int) -> model.CannedReply | None:
        return await self.session.get(model.CannedReply, reply_id)

    async def remove(self, reply: model.CannedReply) -> None:
        await self.session.delete(reply)


class MessageRepository(_Tracking):
    """The inbound log: every owner message, and what the assistant answered."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._read: dict[int, tuple[model.InboundMessage, dict]] = {}  # what read() found, by object

    async def purge_answered_before(self, cutoff: datetime, limit: int) -> int:
        """Answered messages (by the assistant, or staff's) received before ``cutoff`` (an
        unanswered one is still owed)."""
        table = orm.inbound_messages
        answered = table.c.status.in_([model.InboundStatus.ANSWERED, model.InboundStatus.FOR_STAFF])
        return await _delete_some(self.session, table, limit, answered, table.c.received_at < cutoff)

    async def add_inbound(self, message: model.InboundMessage) -> None:
        """Insert the message at once (one Core INSERT; its id is set): the session does not hold
        it, so a later change is written with ``save``, like a message from ``read``."""
        values = {column: getattr(message, column) for column in _INBOUND_VALUES}
        values["replies"] = list(values["replies"])
        result = await self.session.execute(_INBOUND_INSERT, values)
        message.id = result.inserted_primary_key[0]
        self._remember(message)
        self._track(message)

    async def read(self, inbound_id: int) -> model.InboundMessage | None:
        """The message as one Core row, held by nobody but this repository (ConversationRepository.read
        says why); its answer is written back with ``save``."""
        row = (await self.session.execute(_INBOUND, {"id": inbound_id})).first()
        return None if row is None else self._adopt(row._asdict())

    async def read_with_conversation(
        self, inbound_id: int, conversations: ConversationRepository
    ) -> tuple[model.InboundMessage, model.Conversation | None] | None:
        """``read`` and its sender's ``conversations.read`` (None if it has none) in one statement:
        answering a message needs both, and a round trip less on every owner message."""
        row = (await self.session.execute(_INBOUND_WITH_CONVERSATION, {"id": inbound_id})).first()
        if row is None:
            return None
        values = row._asdict()
        conversation = {column: values.pop(label) for column, label in _CONVERSATION_LABELS.items()}
        message = self._adopt(values)
        return message, (None if conversation["sender"] is None else conversations.adopt(conversation))

    def _adopt(self, values: dict) -> model.InboundMessage:
        message = _unheld(model.InboundMessage, values)
        self._remember(message)
        return self._track(message)  # RepliesDeferred reaches the notices and the bus as from a mapped one

    async def save(self, message: model.InboundMessage) -> None:
        """Write the message's status, replies and attempts if they changed since ``read`` or
        ``add_inbound``: one UPDATE of those alone."""
        read = self._read.get(id(message))
        if read is None or read[0] is not message:
            raise ValueError("save() takes a message from read() or add_inbound()")
        before = read[1]
        now = {column: getattr(message, column) for column in _INBOUND_WRITTEN}
        changed = {column: value for column, value in now.items() if value != before[column]}
        if "replies" in changed:
            changed["replies"] = list(changed["replies"])
        if changed:
            await self.session.execute(_INBOUND_UPDATE, {"_id": message.id, **changed})
            self._remember(message)

    def _remember(self, message: model.InboundMessage) -> None:
        """What ``save`` compares with (a copy of the replies: the list may change in place)."""
        written = {column: getattr(message, column) for column in _INBOUND_WRITTEN}
        written["replies"] = list(written["replies"])
        self._read[id(message)] = (message, written)

    async def claim(self, inbound_id: int, now: datetime, *, held_since: datetime | None = None) -> bool:
        """Take a message still "received" to answer it now; False when it is not there to take.

        ``held_since`` None: a gateway that did not answer it so far (a client's retry, the
        backlog) takes it only once it is no longer in flight (InboundMessage.in_flight). Given:
        the attempt that holds it since then (its arrival, or its own take-over), about to reach
        the engine late, keeps it only if nobody took it over meanwhile. Either way one
        conditional UPDATE, so of two gateways deciding at once exactly one wins: the loser's
        statement waits for the winner's row and then no longer matches. The message is then in
        flight from ``now``."""
        table, since = orm.inbound_messages, _in_flight_since
        free = since <= now - model.IN_FLIGHT_FOR if held_since is None else since == held_since
        stmt = (
            update(table)
            .where(table.c.id == inbound_id, table.c.status == model.InboundStatus.RECEIVED, free)
            .values(claimed_at=now)
            .returning(table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def count_unanswered(self, sender: str, limit: int = UNANSWERED_LIMIT) -> int:
        """How many of ``unanswered(sender=sender, limit=limit)`` there are, counted in the store."""
        return int(await self.session.scalar(_UNANSWERED_COUNT, {"sender": sender, "limit": limit}) or 0)

    async def owed(self, sender: str) -> list[model.InboundMessage]:
        """The sender's messages nobody has answered yet (received or failed), oldest first."""
        stmt = select(model.InboundMessage).where(
            model.InboundMessage.sender == sender,
            model.InboundMessage.status.in_([model.InboundStatus.RECEIVED, model.InboundStatus.FAILED]),
        )
        return [self._track(m) for m in (await self.session.scalars(stmt.order_by(model.InboundMessage.id))).all()]

    async def inbound(self, inbound_id: int) -> model.InboundMessage | None:
        return self._track(await self.session.get(model.InboundMessage, inbound_id))

    async def count_since(self, sender: str, since: datetime) -> int:
        stmt = select(func.count()).where(
            model.InboundMessage.sender == sender, model.InboundMessage.received_at >= since
        )
        return int(await self.session.scalar(stmt) or 0)

    async def unanswered(
        self, *, sender: str | None = None, limit: int = 50, now: datetime | None = None
    ) -> list[model.InboundMessage]:
        """Messages the dialogue engine has not answered yet, oldest first; given ``now``, also those
        left "received" for longer than STALLED_AFTER since they came or were last taken over
        (dropped half-way: nothing is lost silently)."""
        waiting = model.InboundMessage.status == model.InboundStatus.FAILED
        if now is not None:
            stalled = and_(
                model.InboundMessage.status == model.InboundStatus.RECEIVED,
                _in_flight_since < now - model.STALLED_AFTER,
            )
            waiting = or_(waiting, stalled)
        stmt = select(model.InboundMessage).where(waiting, model.InboundMessage.attempts < model.MAX_ANSWER_ATTEMPTS)
        if sender is not None:
            stmt = stmt.where(model.InboundMessage.sender == sender)
        return list((await self.session.scalars(stmt.order_by(model.InboundMessage.id).limit(limit))).all())


class NotificationRepository(_Tracking):
    """The outbox and the pull channels' mailbox."""

    async def purge_settled_before(self, cutoff: datetime, limit: int) -> int:
        """Delivered or dead notifications created before ``cutoff`` (a pending one is owed)."""
        table = orm.notifications
        settled = table.c.status.in_([model.NotificationStatus.DELIVERED, model.NotificationStatus.DEAD])
        return await _delete_some(self.session, table, limit, settled, table.c.created_at < cutoff)

    async def purge_mailbox_before(self, cutoff: datetime, limit: int) -> int:
        return await _delete_some(self.session, orm.mailbox, limit, orm.mailbox.c.created_at < cutoff)

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.recipients: set[str] = set()  # who got something new in this unit of work

    async def add(self, notification: model.Notification) -> None:
        notification.next_attempt_at = notification.next_attempt_at or notification.created_at
        self.session.add(notification)
        self.recipients.add(notification.recipient)

    async def get(self, notification_id: int) -> model.Notification | None:
        return await self.session.get(model.Notification, notification_id)

    async def due_recipients(self, now: datetime, limit: int = 100) -> list[str]:
        """Recipients whose oldest pending notification may be tried now (one waiting for its
        retry holds its recipient back, and must not crowd the others out of the sweep)."""
        n, older = orm.notifications.alias("n"), orm.notifications.alias("older")
        pending = model.NotificationStatus.PENDING
        stmt = (
            select(n.c.recipient)
            .where(n.c.status == pending, n.c.next_attempt_at <= now)
            .where(
                ~select(older.c.id)
                .where(older.c.recipient == n.c.recipient, older.c.status == pending, older.c.id < n.c.id)
                .exists()
            )
            .order_by(n.c.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def by_provider_message_id(self, channel: str, message_id: str) -> model.Notification | None:
        """The ``channel`` notification a platform's receipt names (the latest, if ids repeat)."""
        stmt = (
            select(model.Notification)
            .where(
                model.Notification.provider_message_id == message_id,
                model.Notification.recipient.startswith(f"{channel}:", autoescape=True),
            )
            .order_by(model.Notification.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def head(self, recipient: str) -> model.Notification | None:
        """The recipient's oldest pending notification: nothing newer goes out before it."""
        stmt = (
            select(model.Notification)
            .where(
                model.Notification.recipient == recipient,
                model.Notification.status == model.NotificationStatus.PENDING,
            )
            .order_by(model.Notification.id)
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def dead(self, limit: int = 200) -> list[model.Notification]:
        stmt = (
            select(model.Notification)
            .where(model.Notification.status == model.NotificationStatus.DEAD)
            .order_by(model.Notification.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def put_in_mailbox(self, notification: model.Notification, now: datetime) -> bool:
        """Make a notification visible to a pull channel; False when its key was already there."""
        row = {
            "recipient": notification.recipient,
            "key": notification.key,
            "kind": notification.kind,
            "text": notification.text,
            "created_at": now,
        }
        return await _insert_if_new(self.session, orm.mailbox, row)

    async def mailbox(self, recipient: str, after: int, limit: int = 100) -> list[dict]:
        stmt = (
            select(orm.mailbox)
            .where(orm.mailbox.c.recipient == recipient, orm.mailbox.c.id > after)
            .order_by(orm.mailbox.c.id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self.session.execute(stmt)]


class LeaseRepository:
    """Named, expiring locks in the database: one dispatcher per recipient at a time, one SLA
    sweep at a time, and each dispatcher's heartbeat (for /healthz). Work without Redis."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold ``name`` until now + ttl unless someone else holds it unexpired (commit to publish)."""
        leases = orm.leases
        stmt = (
            _insert(self.session)(leases)
            .values(name=name, holder=holder, until=now + ttl)
            .on_conflict_do_update(
                index_elements=[leases.c.name],
                set_={"holder": holder, "until": now + ttl},
                where=(leases.c.until < now) | (leases.c.holder == holder),
            )
        )
        await self.session.execute(stmt)
        held_by = await self.session.scalar(select(leases.c.holder).where(leases.c.name == name))
        return held_by == holder

    async def release_lease(self, name: str, holder: str) -> None:
        await self.session.execute(delete(orm.leases).where(orm.leases.c.name == name, orm.leases.c.holder == holder))

    async def live_leases(self, prefix: str, now: datetime) -> list[str]:
        """Names of the unexpired leases starting with ``prefix`` (the dispatchers' heartbeats)."""
        leases = orm.leases
        stmt = select(leases.c.name).where(leases.c.name.startswith(prefix, autoescape=True), leases.c.until >= now)
        return list((await self.session.scalars(stmt.order_by(leases.c.name))).all())

    async def drop_leases(self, prefix: str, expired_before: datetime) -> None:
        """Forget the heartbeats of processes that stopped long ago (killed, never released)."""
        leases = orm.leases
        await self.session.execute(
            delete(leases).where(leases.c.name.startswith(prefix, autoescape=True), leases.c.until < expired_before)
        )


class ChannelStateRepository:
    """Small named values channels keep and share between processes (orm.channel_state)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str, now: datetime) -> str | None:
        """The value, unless it is missing or expired."""
        table = orm.channel_state
        stmt = select(table.c.value).where(table.c.name == name, (table.c.until.is_(None)) | (table.c.until > now))
        return await self.session.scalar(stmt)

    async def put(self, name: str, value: str, until: datetime | None = None) -> None:
        table = orm.channel_state
        stmt = (
            _insert(self.session)(table)
            .values(name=name, value=value, until=until)
            .on_conflict_do_update(index_elements=[table.c.name], set_={"value": value, "until": until})
        )
        await self.session.execute(stmt)

    async def remove(self, name: str) -> None:
        await self.session.execute(delete(orm.channel_state).where(orm.channel_state.c.name == name))

    async def purge(self, prefix: str, now: datetime) -> None:
        """Forget the expired values whose names start with ``prefix``."""
        table = orm.channel_state
        await self.session.execute(
            delete(table).where(table.c.name.startswith(prefix, autoescape=True), table.c.until < now)
        )


class StaffRepository(_Tracking):
    async def by_token_hash(self, token_hash: str) -> model.StaffMember | None:
        stmt = select(model.StaffMember).where(model.StaffMember.token_hash == token_hash)
        return (await self.session.scalars(stmt)).first()

    async def by_username(self, username: str) -> model.StaffMember | None:
        stmt = select(model.StaffMember).where(model.StaffMember.username == username)
        return (await self.session.scalars(stmt)).first()

    async def with_role(self, role: model.Role) -> list[model.StaffMember]:
        stmt = select(model.StaffMember).where(model.StaffMember.role == role, model.StaffMember.active.is_(True))
        return list((await self.session.scalars(stmt.order_by(model.StaffMember.id))).all())

    async def all(self) -> list[model.StaffMember]:
        return list((await self.session.scalars(select(model.StaffMember).order_by(model.StaffMember.id))).all())

    async def add(self, member: model.StaffMember) -> None:
        self.session.add(member)
        await self.session.flush()

    async def by_invite_hash(self, invite_hash: str) -> model.StaffMember | None:
        stmt = select(model.StaffMember).where(model.StaffMember.invite_hash == invite_hash)
        return (await self.session.scalars(stmt)).first()


class StaffSessionRepository(_Tracking):
    """Console sessions, found by the sha256 of their cookie."""

    async def add(self, staff_session: model.StaffSession) -> None:
        self.session.add(staff_session)
        await self.session.flush()

    async def by_token_hash(self, token_hash: str) -> model.StaffSession | None:
        stmt = select(model.StaffSession).where(model.StaffSession.token_hash == token_hash)
        return (await self.session.scalars(stmt)).first()

    async def revoke_all(self, username: str, now: datetime, *, keep: str | None = None) -> int:
        """End every live session of ``username`` but the one whose hash is ``keep`` (one
        statement: none slips through); how many ended."""
        table = orm.staff_sessions
        conditions = [table.c.username == username, table.c.revoked_at.is_(None)]
        if keep:
            conditions.append(table.c.token_hash != keep)
        result = await self.session.execute(
            update(table)
            .where(*conditions)
            .values(revoked_at=now)
            .returning(table.c.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())

    async def purge_before(self, cutoff: datetime, limit: int) -> int:
        """Forget sessions that ended (expired) before ``cutoff``."""
        table = orm.staff_sessions
        return await _delete_some(self.session, table, limit, table.c.expires_at < cutoff)


class ExternalEventRepository(_Tracking):
    """Webhook event ids already applied, per external system."""

    async def purge_before(self, cutoff: datetime, limit: int) -> int:
        table = orm.external_events
        return await _delete_some(self.session, table, limit, table.c.received_at < cutoff)

    async def record(self, system: str, event_id: str, now: datetime) -> bool:
        """Remember the event; False when it was already there (a redelivery).

        An insert rather than a lookup: a concurrent delivery of the same event waits on the
        unique key and then finds it taken, so it can never be applied twice.
        """
        row = {"system": system, "event_id": event_id, "received_at": now}
        return await _insert_if_new(self.session, orm.external_events, row)

    async def known(self, system: str, event_id: str) -> bool:
        table = orm.external_events
        found = await self.session.scalar(
            select(table.c.id).where(table.c.system == system, table.c.event_id == event_id)
        )
        return found is not None


# The per-message statements, built once: a statement built anew is compiled from its cache but its
# cache key is worked out again on every use, which was a tenth of the ORM's time (issue 14).
_CONVERSATION = select(orm.conversations).where(orm.conversations.c.sender == bindparam("sender"))
_INBOUND = select(orm.inbound_messages).where(orm.inbound_messages.c.id == bindparam("id"))
_UNANSWERED_COUNT = select(func.count()).select_from(
    select(orm.inbound_messages.c.id)
    .where(
        orm.inbound_messages.c.sender == bindparam("sender"),
        orm.inbound_messages.c.status == model.InboundStatus.FAILED,
        orm.inbound_messages.c.attempts < model.MAX_ANSWER_ATTEMPTS,
    )
    .limit(bindparam("limit"))
    .subquery()
)
# ConversationRepository.read_on_arrival: the conversation, a retry's first attempt and the backlog's size
_ARRIVAL = select(
    orm.conversations,
    select(orm.inbound_messages.c.id)
    .where(
        orm.inbound_messages.c.sender == bindparam("sender"),
        orm.inbound_messages.c.client_message_id == bindparam("client_id"),  # NULL: no row
    )
    .scalar_subquery()
    .label("_earlier"),
    _UNANSWERED_COUNT.scalar_subquery().label("_waiting"),
).where(orm.conversations.c.sender == bindparam("sender"))
# MessageRepository.read_with_conversation: the message's columns as they are, its conversation's
# under labels of their own (NULL when it has none)
_CONVERSATION_LABELS = {column.name: f"_conversation_{column.name}" for column in orm.conversations.c}
_INBOUND_WITH_CONVERSATION = (
    select(
        orm.inbound_messages,
        *(column.label(_CONVERSATION_LABELS[column.name]) for column in orm.conversations.c),
    )
    .select_from(
        orm.inbound_messages.outerjoin(orm.conversations, orm.conversations.c.sender == orm.inbound_messages.c.sender)
    )
    .where(orm.inbound_messages.c.id == bindparam("id"))
)
_CONVERSATION_UPDATE = update(orm.conversations).where(orm.conversations.c.sender == bindparam("_sender"))
_INBOUND_INSERT = insert(orm.inbound_messages)
_INBOUND_UPDATE = update(orm.inbound_messages).where(orm.inbound_messages.c.id == bindparam("_id"))
_INBOUND_VALUES = ("sender", "text", "received_at", "client_message_id", "status", "replies", "attempts")
_INBOUND_WRITTEN = ("status", "replies", "attempts")  # what answering a message changes (claim: claimed_at)
# since when a message still "received" may be being answered (InboundMessage.in_flight_since)
_in_flight_since = func.coalesce(orm.inbound_messages.c.claimed_at, orm.inbound_messages.c.received_at)


def _unheld(cls: type[T], values: dict) -> T:
    """A domain object from a row, built as the ORM builds those it loads (the values put in
    place, no attribute events: a few microseconds, where the mapped dataclass's ``__init__``
    took tens, on every message), but held by no session: nothing of it is flushed, its
    repository writes what changed. Its relationships are not read (empty if touched)."""
    obj = class_mapper(cls).class_manager.new_instance()
    vars(obj).update(values)
    obj.events = []  # as orm._with_event_list gives a loaded one
    return obj


def _insert(session: AsyncSession):
    """The dialect's INSERT, for ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def _insert_if_new(session: AsyncSession, table: Table, row: dict) -> bool:
    """Insert ``row`` unless a unique key already holds it; True when it was new.

    RETURNING rather than rowcount: psycopg's async cursor reports -1 for this statement.
    """
    stmt = _insert(session)(table).values(**row).on_conflict_do_nothing().returning(table.c.id)
    return await session.scalar(stmt) is not None


async def _delete_some(session: AsyncSession, table: Table, limit: int, *conditions) -> int:
    """Delete up to ``limit`` rows matching ``conditions``; how many went."""
    ids = select(table.c.id).where(*conditions).limit(limit).scalar_subquery()
    result = await session.execute(delete(table).where(table.c.id.in_(ids)).returning(table.c.id))
    return len(result.all())
