"""Unit of work: one transaction, the repositories inside it, and the events it produced.

Just before it commits, the unit of work hands the events its aggregates raised to the notice
writer (service_layer/notices.py), so every notification is stored in the same transaction as the
change it reports; afterwards the message bus takes the same events to their handlers.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_bridge.adapters import repository
from backend_bridge.domain.events import Event
from backend_bridge.service_layer.notices import NoticeWriter

RELAXED = "wuye_relaxed_commit"  # a pooled SQLite connection whose next commit skips fsync


class UnitOfWork:
    """``async with uow: ...; await uow.commit()`` — anything not committed is rolled back."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], notices: NoticeWriter) -> None:
        self._session_factory = session_factory
        self._notices = notices
        self._noticed: set[int] = set()  # ids of the events already written as notices
        self._repositories: list = []  # filled on entry; a unit never entered has no events
        self.committed_recipients: set[str] = set()  # notified in a committed transaction: wake delivery
        self._relaxed = False  # relax_commit() was said in this transaction

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        # A new session, new aggregates: the ids of the last one's events may be reused by this
        # one's (a batched handler enters the same unit again), and must not hide them.
        self._noticed = set()
        self._relaxed = False
        self.communities = repository.CommunityRepository(self.session)
        self.tickets = repository.TicketRepository(self.session)
        self.rooms = repository.RoomRepository(self.session)
        self.bindings = repository.BindingRepository(self.session)
        self.passes = repository.PassRepository(self.session)
        self.conversations = repository.ConversationRepository(self.session)
        self.messages = repository.MessageRepository(self.session)
        self.notes = repository.NoteRepository(self.session)
        self.canned_replies = repository.CannedReplyRepository(self.session)
        self.notifications = repository.NotificationRepository(self.session)
        self.leases = repository.LeaseRepository(self.session)
        self.channel_state = repository.ChannelStateRepository(self.session)
        self.staff = repository.StaffRepository(self.session)
        self.staff_sessions = repository.StaffSessionRepository(self.session)
        self.external_events = repository.ExternalEventRepository(self.session)
        self._repositories = [
            self.tickets,
            self.rooms,
            self.bindings,
            self.passes,
            self.conversations,
            self.messages,
        ]
        return self

    async def __aexit__(self, *exc_info) -> None:
        # close() rolls back whatever was not committed and detaches the objects with their
        # loaded state (rollback() would expire them, and a view's results could not be read)
        await self.session.close()

    async def commit(self, *, durable: bool = True) -> None:
        """Commit. ``durable=False``: without waiting for the disk (no fsync of its own) — for
        what can be lost in a power cut at no harm, because the store reads its loss as something
        still to do (an answer's record: the message then reads unanswered, and the backlog
        answers it again). It reaches the disk with the next durable commit (SQLite's WAL) or
        within a fraction of a second (PostgreSQL's WAL writer); a crash of the process alone
        loses nothing."""
        await self._write_notices()
        if not durable:
            await self.relax_commit()
        await self.session.commit()
        self._relaxed = False  # the next transaction waits for the disk unless told otherwise
        self.committed_recipients |= self.notifications.recipients
        self.notifications.recipients = set()

    async def relax_commit(self) -> None:
        """This transaction's commit need not wait for the disk (``commit(durable=False)`` says
        why). ``commit`` says it itself, before the writes it flushes; a handler writing with Core
        statements before that says it first: on SQLite it can only be said before the
        transaction's first write. Said once per transaction."""
        if self._relaxed:
            return
        self._relaxed = True
        connection = await self.session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":  # this transaction only
            await connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        elif dialect == "sqlite":
            # SQLite changes it only outside a transaction (before the first write: the driver
            # begins at the first INSERT/UPDATE), per connection: the pool puts it back on
            # check-in (bootstrap._sqlite_durable_again). Already writing: a durable commit.
            raw = await connection.get_raw_connection()
            if not raw.driver_connection.in_transaction:
                await connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
                raw.info[RELAXED] = True

    async def _write_notices(self) -> None:
        """Each event raised since the last commit becomes its notices, once."""
        raised = [
            (aggregate, event)
            for repo in self._repositories
            for aggregate in list(repo.seen)
            for event in getattr(aggregate, "events", ())
            if id(event) not in self._noticed
        ]
        self._noticed.update(id(event) for _, event in raised)
        await self._notices.write(self, raised)

    def collect_new_events(self) -> Iterator[Event]:
        for repo in self._repositories:
            for aggregate in repo.seen:
                pending = getattr(aggregate, "events", None)
                while pending:
                    yield pending.pop(0)
