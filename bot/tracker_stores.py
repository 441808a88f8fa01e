"""Rasa tracker stores whose cost per turn does not grow with the conversation.

A WeChat conversation lives for months. Rasa 3.6 reads and writes a conversation's tracker on
every turn, and every part of a turn (deserialising, replaying the events to find slots and the
active form, featurising for the policies, the tracker posted to the action server) costs in
proportion to the events it holds. Two things made that grow without bound:

- Rasa's own ``RedisTrackerStore`` keeps every session of a conversation in one JSON value: each
  turn reads the whole history twice (``retrieve`` and the merge in ``save``) and writes it once.
- A session only ends after ``session_expiration_time`` of silence, so an owner who keeps writing
  (a busy afternoon, a long chase) grows one session without end.

Both stores here bound a session's length: when the current session holds more than
``max_session_events`` events at the end of a turn, the next turn starts from a new session that
carries on exactly where the old one stopped — every slot (the flat, the phone) and the last few
turns verbatim (never while a form is open), so the policies (MemoizationPolicy looks back ``max_history``
turns) and the rules see the same recent states and answer the next message as they would have.
``SessionRedisTrackerStore`` also keeps only the current session in the conversation's key; past
sessions are appended to an archive list that no turn reads (``retrieve_full_tracker`` does).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

DEFAULT_MAX_SESSION_EVENTS = 150  # about 20 turns: what a session holds at turn 10-20 of a form
CARRIED_TURNS = 3  # owner turns copied verbatim into the new session (MemoizationPolicy max_history 4)


def session_start(events: list[Event]) -> int:
    """Index where the last session begins: its ``action_session_start`` (Rasa's own split)."""
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
            return i
    return 0


def at_turn_end(events: list[Event]) -> bool:
    """True when the assistant has finished answering and listens (never mid-turn)."""
    return bool(events) and isinstance(events[-1], ActionExecuted) and events[-1].action_name == ACTION_LISTEN_NAME


def continuation(tracker: DialogueStateTracker, now: float | None = None) -> list[Event]:
    """The events of a new session that carries on ``tracker``'s current one unchanged in effect.

    The last CARRIED_TURNS owner turns are copied as they happened (from the ``action_listen``
    before the owner's message), preceded by the slots and the form as they stood just before
    them: replaying the copy ends in the same slots and form, and what the policies look at for
    the next prediction (MemoizationPolicy's last ``max_history`` states, the rules) is what
    they would have seen without the rotation. Every event is stamped ``now``: a SQL store reads
    a session from its ``session_started`` timestamp on, and the owner wrote moments ago anyway.
    """
    stamp = time.time() if now is None else now
    events = list(tracker.events)
    tail_from = len(events)
    turns = 0
    for i in range(len(events) - 1, session_start(events), -1):
        if isinstance(events[i], UserUttered):
            turns += 1
            tail_from = i - 1 if isinstance(events[i - 1], ActionExecuted) else i
            if turns == CARRIED_TURNS:
                break
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:tail_from], tracker.slots.values())
    head: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    head += [SlotSet(name, value) for name, value in before.current_slot_values().items() if value is not None]
    if before.active_loop_name:
        head.append(ActiveLoop(before.active_loop_name))
    tail = [copy.deepcopy(e) for e in events[tail_from:]]
    if not at_turn_end(tail):
        tail.append(ActionExecuted(ACTION_LISTEN_NAME))
    new = head + tail
    for event in new:
        event.timestamp = stamp
    return new


class _Bounded:
    """What both stores share: the cap, and the decision to rotate."""

    max_session_events: int = DEFAULT_MAX_SESSION_EVENTS

    def _set_cap(self, kwargs: dict) -> dict:
        cap = kwargs.pop("max_session_events", None)
        self.max_session_events = int(cap) if cap else DEFAULT_MAX_SESSION_EVENTS
        return kwargs

    def due(self, tracker: DialogueStateTracker) -> bool:
        """The current session is over the cap, the turn has ended and no form is open (inside a
        form Rasa's policies look back to the form's start, which a short copy would not hold;
        a form ends within a few turns, and the session is rotated then)."""
        events = list(tracker.events)
        return (
            at_turn_end(events)
            and len(events) - session_start(events) > self.max_session_events
            and not tracker.active_loop_name
            and not tracker.is_paused()  # staff hold the conversation: its pause stays where it is
        )

    def rotated(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        log.debug("conversation session over %d events: continued in a new one", self.max_session_events)
        return DialogueStateTracker.from_events(
            tracker.sender_id,
            continuation(tracker),
            self.domain.slots,  # type: ignore[attr-defined]
        )


class SessionRedisTrackerStore(_Bounded, RedisTrackerStore):
    """Redis: the conversation's key holds its current session only; ended sessions go to
    ``<prefix>archive:<sender>`` (a list, one JSON array of events per session, same expiry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self._set_cap(kwargs))

    def _archive_key(self, sender_id: str) -> str:
        return self.key_prefix.replace("tracker:", "") + "archive:" + sender_id

    def _archive(self, sender_id: str, events: list[Event], pipe: Any) -> None:
        if events:
            key = self._archive_key(sender_id)
            pipe.rpush(key, json.dumps([e.as_dict() for e in events]))
            if self.record_exp:
                pipe.expire(key, int(self.record_exp))

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Write the current session (never read back what is stored: no merge, no history)."""
        await self.stream_events(tracker)
        timeout = timeout or self.record_exp
        events = list(tracker.events)
        start = session_start(events)
        pipe = self.red.pipeline()
        self._archive(tracker.sender_id, events[:start], pipe)  # a session expired during this turn
        current = (
            tracker
            if start == 0
            else DialogueStateTracker.from_events(tracker.sender_id, events[start:], self.domain.slots)
        )
        if self.due(current):
            self._archive(tracker.sender_id, list(current.events), pipe)
            current = self.rotated(current)
        pipe.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(current), ex=timeout)
        pipe.execute()

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
        if tracker is None:
            return None
        events = list(tracker.events)
        start = session_start(events)
        if start and not fetch_all_sessions:  # written by Rasa's own store: move its past out once
            pipe = self.red.pipeline()
            self._archive(sender_id, events[:start], pipe)
            current = DialogueStateTracker.from_events(sender_id, events[start:], self.domain.slots)
            pipe.set(self.key_prefix + sender_id, self.serialise_tracker(current), ex=self.record_exp)
            pipe.execute()
            return current
        if fetch_all_sessions:
            past = [
                Event.from_parameters(e)
                for chunk in self.red.lrange(self._archive_key(sender_id), 0, -1)
                for e in json.loads(chunk)
            ]
            if past:
                return DialogueStateTracker.from_events(sender_id, past + events, self.domain.slots)
        return tracker


class SessionSQLTrackerStore(_Bounded, SQLTrackerStore):
    """SQL (PostgreSQL, or the embedded SQLite file): Rasa already reads only the current session;
    this adds the bound on a session's length (the new session's events are appended)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self._set_cap(kwargs))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        if self.due(tracker):
            new = self.rotated(tracker)
            new._wuye_append_all = True  # type: ignore[attr-defined]
            await super().save(new)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        if getattr(tracker, "_wuye_append_all", False):
            return iter(tracker.events)
        return super()._additional_events(session, tracker)
