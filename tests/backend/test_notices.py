"""The notice table: every domain event has a decision (who hears it, or nobody); the shared staff
recipients are names no staff account may take."""

from __future__ import annotations

import inspect
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.domain import events, model
from backend_bridge.service_layer import notices


def _event_types() -> set[type[events.Event]]:
    return {
        cls
        for _, cls in inspect.getmembers(events, inspect.isclass)
        if issubclass(cls, events.Event) and cls is not events.Event
    }


def test_every_event_is_either_told_or_silent_never_both():
    told, silent = set(notices.NOTICES), set(notices.SILENT)
    assert told | silent == _event_types()
    assert not told & silent


async def test_an_event_with_no_decision_stops_the_commit():
    class Unheard(events.Event):
        pass

    writer = notices.NoticeWriter(clock=lambda: None, timezone=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(TypeError, match="Unheard"):
        await writer.write(uow=None, raised=[(object(), Unheard())])  # type: ignore[arg-type]


def test_the_shared_recipients_are_reserved_so_no_account_reads_the_whole_desk_s_alerts():
    shared = {notices.NO_SUPERVISOR, notices.NO_AGENT, *notices.OWNER_CHANNELS_WITHOUT_PUSH}
    assert shared <= model.RESERVED_USERNAMES
