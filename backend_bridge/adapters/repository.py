"""Repositories: collections of aggregates over an async SQLAlchemy session.

Each remembers the aggregates it handed out (``seen``) so the unit of work can
collect their domain events after a commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend_bridge.adapters import orm
from backend_bridge.domain import model


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


class RoomRepository(_Tracking):
    async def find(self, building: str, unit: str, room: str) -> model.Room | None:
        stmt = select(model.Room).where(
            model.Room.building == building, model.Room.unit == unit, model.Room.room == room
        )
        return (await self.session.scalars(stmt)).first()

    async def get(self, room_id: int) -> model.Room | None:
        return await self.session.get(model.Room, room_id)

    async def add(self, room: model.Room) -> None:
        self.session.add(room)

    async def any(self) -> bool:
        return (await self.session.scalars(select(model.Room.id).limit(1))).first() is not None


class BindingRepository(_Tracking):
    async def get(self, sender: str) -> model.Binding | None:
        stmt = select(model.Binding).where(model.Binding.sender == sender)
        return (await self.session.scalars(stmt)).first()

    async def add(self, binding: model.Binding) -> None:
        self.session.add(binding)

    async def record_attempt(self, attempt: model.BindingAttempt) -> None:
        self.session.add(attempt)

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
        live = [p for p in passes if p.valid_until >= now and p.revoked_at is None]
        return (live or passes or [None])[0]


class ConversationRepository(_Tracking):
    async def get(self, sender: str) -> model.Conversation | None:
        return self._track(await self.session.get(model.Conversation, sender))

    async def get_or_create(self, sender: str) -> model.Conversation:
        """The conversation, created if new; two first messages at once create it once."""
        conversation = await self.get(sender)
        if conversation is None:
            insert = postgresql.insert if self.session.bind.dialect.name == "postgresql" else sqlite.insert
            row = {"sender": sender, "channel": sender.split(":", 1)[0], "state": model.ConversationState.BOT}
            await self.session.execute(insert(orm.conversations).values(**row).on_conflict_do_nothing())
            conversation = await self.get(sender)
        return conversation


class MessageRepository(_Tracking):
    """The inbound log and the outbound outbox."""

    async def add_inbound(self, message: model.InboundMessage) -> None:
        self.session.add(message)
        await self.session.flush()

    async def inbound(self, inbound_id: int) -> model.InboundMessage | None:
        return await self.session.get(model.InboundMessage, inbound_id)

    async def inbound_by_client_id(self, sender: str, client_message_id: str) -> model.InboundMessage | None:
        stmt = select(model.InboundMessage).where(
            model.InboundMessage.sender == sender,
            model.InboundMessage.client_message_id == client_message_id,
        )
        return (await self.session.scalars(stmt)).first()

    async def unanswered(self, *, sender: str | None = None, limit: int = 50) -> list[model.InboundMessage]:
        """Messages the dialogue engine has not answered yet, oldest first."""
        stmt = select(model.InboundMessage).where(
            model.InboundMessage.status == model.InboundStatus.FAILED,
            model.InboundMessage.attempts < model.MAX_ANSWER_ATTEMPTS,
        )
        if sender is not None:
            stmt = stmt.where(model.InboundMessage.sender == sender)
        return list((await self.session.scalars(stmt.order_by(model.InboundMessage.id).limit(limit))).all())

    async def queue(self, message: model.OutboundMessage) -> None:
        self.session.add(message)
