"""Unit of work: one transaction, the repositories inside it, and the events it produced."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_bridge.adapters import repository
from backend_bridge.domain.events import Event


class UnitOfWork:
    """``async with uow: ...; await uow.commit()`` — anything not committed is rolled back."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._repositories: list = []  # filled on entry; a unit never entered has no events
        self.committed_recipients: set[str] = set()  # notified in a committed transaction: wake delivery

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.tickets = repository.TicketRepository(self.session)
        self.rooms = repository.RoomRepository(self.session)
        self.bindings = repository.BindingRepository(self.session)
        self.passes = repository.PassRepository(self.session)
        self.conversations = repository.ConversationRepository(self.session)
        self.messages = repository.MessageRepository(self.session)
        self.notifications = repository.NotificationRepository(self.session)
        self.leases = repository.LeaseRepository(self.session)
        self.staff = repository.StaffRepository(self.session)
        self.external_events = repository.ExternalEventRepository(self.session)
        self._repositories = [
            self.tickets, self.rooms, self.bindings, self.passes, self.conversations, self.messages,
        ]  # fmt: skip
        return self

    async def __aexit__(self, *exc_info) -> None:
        # close() rolls back whatever was not committed and detaches the objects with their
        # loaded state (rollback() would expire them, and a view's results could not be read)
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
        self.committed_recipients |= self.notifications.recipients
        self.notifications.recipients = set()

    def collect_new_events(self) -> Iterator[Event]:
        for repo in self._repositories:
            for aggregate in repo.seen:
                pending = getattr(aggregate, "events", None)
                while pending:
                    yield pending.pop(0)
