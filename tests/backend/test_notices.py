"""The notice table: every domain event has a decision (who hears it, or nobody)."""

from __future__ import annotations

import inspect
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.domain import events
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
