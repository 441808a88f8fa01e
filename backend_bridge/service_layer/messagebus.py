"""The message bus: routes commands to their handler and the resulting events to theirs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from backend_bridge.domain.commands import Command
from backend_bridge.domain.events import Event
from backend_bridge.domain.model import DomainError
from backend_bridge.service_layer.ports import Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_CONFLICT_RETRIES = 5


class ConcurrentChange(DomainError):
    pass


Handler = Callable[..., Awaitable[object]]


class MessageBus:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        deps: Deps,
        command_handlers: dict[type[Command], Handler],
        event_handlers: dict[type[Event], list[Handler]],
    ) -> None:
        self.uow_factory = uow_factory
        self.deps = deps
        self.command_handlers = command_handlers
        self.event_handlers = event_handlers

    async def handle(self, command: Command) -> object:
        """Run ``command``; then every event it raised (and theirs). Returns the command's result.

        A failing command raises to the caller; a failing event handler is logged and
        the rest still run, because the command's transaction has already committed.
        """
        uow, result = await self._run(command)
        await self._wake(uow)
        queue = list(uow.collect_new_events())
        while queue:
            event = queue.pop(0)
            for handler in self.event_handlers.get(type(event), []):
                handler_uow = self.uow_factory()
                try:
                    await handler(event, handler_uow, self.deps)
                except Exception:
                    log.exception("event handler %s failed for %s", handler.__name__, type(event).__name__)
                await self._wake(handler_uow)
                queue.extend(handler_uow.collect_new_events())
        return result

    async def _run(self, command: Command) -> tuple[UnitOfWork, object]:
        """Run the command's handler; when another transaction changed the same aggregate
        first (a stale version) or added the same natural key first (two imports adding one
        new flat), run it again on the new state, a few times at most."""
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            uow = self.uow_factory()
            try:
                return uow, await self.command_handlers[type(command)](command, uow, self.deps)
            except (StaleDataError, IntegrityError) as exc:
                log.info("%s met a concurrent change (attempt %d)", type(command).__name__, attempt)
                if isinstance(exc, IntegrityError) and attempt == MAX_CONFLICT_RETRIES:
                    raise  # not a race after all: a bug, reported as one
        raise ConcurrentChange("the record was changed by someone else at the same moment; try again")

    async def _wake(self, uow: UnitOfWork) -> None:
        """Tell the dispatchers about new notifications; if this fails they find them by polling."""
        for recipient in sorted(uow.committed_recipients):
            try:
                await self.deps.notifier.queued(recipient)
            except Exception:
                log.warning("could not wake the dispatchers; they will find the notification by polling", exc_info=True)
