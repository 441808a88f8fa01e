"""The gateway core: every owner message, from any channel, goes through the ``Gateway``.

Order of work, so nothing is lost: clean the text, write it down (with its script
and the client's message id), then ask Rasa. A retried client message gets the
replies recorded the first time. When Rasa is down the owner is told politely,
and the message is answered later through the outbox. While staff have the
conversation the assistant stays silent.

A retry of a message nobody has answered yet (still "received": the gateway that had it was
killed mid-request, or is still at it, maybe another gateway) is told it is kept while the first
attempt may still be answering it (IN_FLIGHT_FOR, domain/conversations.py); after that the retry
takes it over and answers it. Taking a message over is a claim in the store (ClaimInbound), so two
gateways never both send it to Rasa; the backlog claims a stalled one the same way, and a first
attempt that reaches Rasa late (after the owner's older messages) takes its message again first.

Two ways in. ``handle`` answers in the request (the web chat waits for its answer).
``accept`` writes the message down and returns at once, for platforms that give a
callback only a few seconds (WeChat: 5): the message is answered in the background and the
answer goes out through the outbox like any late answer (RepliesDeferred → "late_reply"),
unless it is ready within the time the caller can wait, when the caller sends it in its own
answer. Either way one owner's messages reach Rasa one at a time and in order.

While staff hold a conversation the assistant says nothing, however late: a message written to
staff is theirs ("for_staff") and never reaches Rasa; one still waiting when staff took over
(queued, in the backlog) is left to them; an answer on its way when they did is dropped
(RecordReplies decides, by the conversation's state). After the handback the assistant answers
what the owner writes next, never what was written to staff.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import commands, model
from backend_bridge.domain.model import POOR_RATING, ConversationState, DomainError, InboundStatus
from backend_bridge.service_layer import views
from backend_bridge.service_layer.results import InboundRecorded
from bot.text.normalize import without_invisible
from bot.text.rasa_input import as_plain_text
from bot.text.rating import parse_rating
from bot.text.script import detect_script, render
from bot.text.urgency import says_not_urgent
from connectors.channel import Inbound
from connectors.metrics import Metrics
from connectors.rasa import DialogueRejected, DialogueUnavailable, RasaClient

log = logging.getLogger(__name__)

MAX_TEXT = 2000
EMPTY_REPLY = "您好，请问有什么可以帮您？可以直接说要办的事，比如“报修”“查物业费”。"
TOO_LONG_REPLY = "您的消息比较长，我已经完整记下来了。请用一两句话告诉我要办什么事，比如“投诉楼上噪音”，我来帮您登记。"
RATED_REPLY = "感谢您的评价！工单 {number} 已办结。还有什么需要，随时找我。"
POOR_RATING_REPLY = "很抱歉没让您满意。工单 {number} 已重新打开，主管会跟进，尽快重新安排处理。"
BUSY_REPLY = "抱歉，系统有点忙。您的消息已经记下了，稍后在这里回复您；着急的话请拨打物业服务电话。"
ROUTED_REPLY = "好的，接下来为您办理{name}的事。请问有什么可以帮您？"
QUEUED_REPLY = "收到，您前面的消息还在处理，这条已经记下了，稍后在这里一起回复您。"
NOT_URGENT_REPLY = (
    "好的，工单 {number} 已改为普通报修，值班人员也知道了。{promise}如果情况变得危险，请马上告诉我或拨打值班电话。"
)
# How long a message answered in the request (the web chat) waits for the owner's earlier one
# before it is written down and answered later instead: a stuck turn never piles up requests.
LOCK_WAIT = 20.0


def clean(text: str) -> str:
    """Tabs become spaces; control and invisible characters (NUL, zero-width, BOM, bidi
    overrides, binary junk) go; line breaks stay; the ends are trimmed."""
    return without_invisible(text.replace("\t", " ")).strip()


@dataclass(frozen=True)
class Accepted:
    """What ``Gateway.accept`` tells the channel at once.

    ``replies`` (in the owner's script) are the caller's to send when not None: the answer was
    ready in time, and nothing of it goes through the outbox. None: it will come through the
    outbox (or there is nothing to say). ``duplicate``: the message was already accepted (a
    platform's retry); nothing was done again, unless it was left unanswered past IN_FLIGHT_FOR:
    then it is answered now, through the outbox.
    """

    replies: list[str] | None
    duplicate: bool = False
    inbound_id: int | None = None


class _SenderBusy(Exception):
    """The owner's earlier message still holds their turn after the caller's wait."""


class _TakenOver(Exception):
    """The message was taken over (a client's retry, the backlog) or left to staff while this
    attempt waited for its turn: this attempt neither asks Rasa nor records anything."""


def _unanswered_retry(record: InboundRecorded) -> bool:
    """A client's retry of a message written down and still "received", with nothing said yet."""
    return record.duplicate and record.status == InboundStatus.RECEIVED.value and not record.replies


@dataclass
class _Waiting:
    """An accepted message waiting for its turn (under the sender's lock)."""

    text: str
    record: InboundRecorded
    answer: asyncio.Future  # the replies, if the caller is still there to send them
    fits: Callable[[list[str]], bool] | None = None  # whether the caller can send these replies
    abandoned: bool = False  # the caller's request was cancelled while it waited
    recorded_at: float = field(default_factory=time.monotonic)  # written down (the reply latency's start)


# How often a gateway that told a retry "kept" looks whether the message is still in flight (the
# store's clock decides; it is read again each time, so a corrected clock is followed).
FOLLOW_UP_STEP = 1.0


class Gateway:
    def __init__(
        self, backend: Backend, dialogue: RasaClient, *, lock_wait: float = LOCK_WAIT, metrics: Metrics | None = None
    ) -> None:
        self.backend = backend
        self.dialogue = dialogue
        self.lock_wait = lock_wait
        self.metrics = metrics or Metrics()  # /metrics on the loopback port shows the app's own
        self._locks: dict[str, list] = {}  # sender → [lock, users]; dropped when nobody waits
        self._accepted: dict[str, dict[int, _Waiting]] = {}  # sender → inbound id → its message
        self._workers: set[asyncio.Task] = set()

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, sender: str, wait: float | None = None):
        """One message per owner at a time: a page's retry waits for the first attempt's
        replies instead of racing it, and an owner's messages reach Rasa in order.
        _SenderBusy when the lock is not free within ``wait`` seconds (None: wait as long as it takes)."""
        entry = self._locks.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            try:
                await asyncio.wait_for(entry[0].acquire(), wait)
            except TimeoutError:
                raise _SenderBusy from None
            try:
                yield
            finally:
                entry[0].release()
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(sender, None)

    async def _record(self, inbound: Inbound, text: str, *, owners_words: bool = True) -> InboundRecorded:
        script = detect_script(text)
        record = await self.backend.bus.handle(
            commands.RecordInbound(
                inbound.sender,
                text,
                inbound.message_id,
                script.value if script else None,
                inbound.community,
                owners_words=owners_words,
            )
        )
        if not record.duplicate and owners_words:  # what the assistant reads, not markers or an agent's lines
            self.metrics.message_in(inbound.sender)
        return record

    async def handle(self, inbound: Inbound) -> list[str]:
        """Answer in the request: the replies, in the owner's script."""
        text = clean(inbound.text)
        if not text:
            return [EMPTY_REPLY]
        arrived = time.perf_counter()
        try:
            async with self._one_at_a_time(inbound.sender, self.lock_wait):
                self.metrics.took("lock", time.perf_counter() - arrived)
                with self.metrics.phase("record"):
                    record = await self._record(inbound, text)
                if record.duplicate:
                    return await self._retried(inbound.sender, text, record)
                recorded_at = time.monotonic()
                with self.metrics.phase("respond"):
                    replies, answered = await self._respond(inbound.sender, text, record)
                with self.metrics.phase("reply"):
                    rendered = await self._reply(record, replies, answered=answered)
                waited = time.monotonic() - recorded_at if answered else None  # else the backlog answers it later
                self.metrics.replied(inbound.sender, len(replies), waited)
                self.metrics.took("turn", time.perf_counter() - arrived)
                return rendered
        except _SenderBusy:  # the owner's earlier message is still being answered (Rasa is slow)
            accepted = await self.accept(inbound)  # written down now; answered in turn, through the outbox
            log.warning("message %s waited for the sender's earlier one; answering later", accepted.inbound_id)
            return [render(QUEUED_REPLY, detect_script(text))]
        except _TakenOver:  # a retry answers it in its own request (this one's client left), or staff do
            return []

    async def _retried(self, sender: str, text: str, record: InboundRecorded) -> list[str]:
        """A client's retry (the sender's lock is held): the replies recorded the first time.

        Still "received" with nothing said, the first attempt died or is still answering (here the
        retry waited for it on the lock, so it died; at another gateway it may be alive). While it
        is in flight the owner is told it is kept, and this gateway looks again once it no longer
        is (``_follow_up``); after that the retry takes it over and answers it now, the owner's
        older unanswered messages first. The retry carries the same words (the same message id).
        """
        if not _unanswered_retry(record):
            return [render(r, record.script) for r in record.replies]
        taken = None if record.in_flight else await self._claim(record)
        if taken is None:  # in flight, or another gateway took it over a moment ago
            self._follow_up(sender, text, record)
            with_staff = record.state == ConversationState.HANDED_OFF.value
            return [] if with_staff else [render(BUSY_REPLY, record.script)]
        log.warning("message %s was left unanswered; a retry takes it over", record.id)
        with self.metrics.phase("respond"):
            replies, answered = await self._respond(sender, text, taken, backlog=True)
        with self.metrics.phase("reply"):
            rendered = await self._reply(taken, replies, answered=answered)
        self.metrics.replied(sender, len(replies), self._waited(record) if answered else None)
        return rendered

    async def _claim(self, record: InboundRecorded, *, held: bool = False) -> InboundRecorded | None:
        """Take the message to answer it now (ClaimInbound); the record as taken, or None when
        it is not there to take. ``held``: this attempt holds it already and keeps it."""
        since = record.in_flight_since if held else None
        result = await self.backend.bus.handle(commands.ClaimInbound(record.id, held_since=since))
        if not result.claimed:
            return None
        return dataclasses.replace(record, in_flight_since=result.since, in_flight=True)

    def _follow_up(self, sender: str, text: str, record: InboundRecorded) -> None:
        """Once a message a retry was told is kept stops being in flight, take it over unless
        somebody did and answer it through the outbox: a first attempt killed mid-request is
        answered then, not after STALLED_AFTER, and an answer still on its way is left alone."""
        since = record.in_flight_since if record.in_flight else self.backend.clock()  # else: just taken
        self._spawn(self._take_over_after(sender, text, record, since))

    async def _take_over_after(self, sender: str, text: str, record: InboundRecorded, since: datetime) -> None:
        try:
            while model.still_in_flight(since, now := self.backend.clock()):
                left = (since + model.IN_FLIGHT_FOR - now).total_seconds()
                await asyncio.sleep(min(left, FOLLOW_UP_STEP))
            taken = await self._claim(record)
            if taken is not None:
                log.warning("message %s was left unanswered; taken over after a retry", record.id)
                self._answer_later(sender, text, taken)
        except Exception:  # the backlog answers it once it has stalled
            log.exception("could not take over message %s", record.id)

    def _answer_later(self, sender: str, text: str, record: InboundRecorded) -> None:
        """Answer a message taken over with no caller waiting, in the sender's turn: through the outbox."""
        answer = asyncio.get_running_loop().create_future()
        answer.cancel()  # nobody to hand it to
        waiting = _Waiting(text, record, answer, recorded_at=time.monotonic() - self._waited(record))
        self._accepted.setdefault(sender, {})[record.id] = waiting
        self._spawn(self._work(sender))

    def _waited(self, record: InboundRecorded) -> float:
        """Seconds since the message was received, by the store's clock (it may have come long ago)."""
        return (self.backend.clock() - (record.received_at or self.backend.clock())).total_seconds()

    def _spawn(self, work: Coroutine) -> None:
        """Run ``work`` in the background; ``settled`` and ``close`` wait for it."""
        task = asyncio.create_task(work)
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def accept(
        self, inbound: Inbound, *, answer_within: float = 0.0, fits: Callable[[list[str]], bool] | None = None
    ) -> Accepted:
        """Write the message down and answer it in the background; return within about
        ``answer_within`` seconds (or once it is written down, if that took longer).

        The answer is handed back if it is ready by then (and ``fits`` what the caller can send
        in its answer), else it goes through the outbox. A message already accepted (same
        ``message_id``) is not answered again: None, duplicate. Unless it is still unanswered past
        IN_FLIGHT_FOR (the gateway that had it was killed): then this one takes it over and
        answers it in the background, through the outbox.
        """
        deadline = asyncio.get_running_loop().time() + answer_within
        text = clean(inbound.text)
        if not text:
            return Accepted([EMPTY_REPLY])
        record = await self._record(inbound, text)  # outside the lock: the acknowledgement never waits
        if record.duplicate:
            if _unanswered_retry(record) and not record.in_flight and (taken := await self._claim(record)):
                log.warning("message %s was left unanswered; a retry takes it over", record.id)
                self._answer_later(inbound.sender, text, taken)
            return Accepted(None, duplicate=True, inbound_id=record.id)
        waiting = _Waiting(text, record, asyncio.get_running_loop().create_future(), fits)
        self._accepted.setdefault(inbound.sender, {})[record.id] = waiting
        self._spawn(self._work(inbound.sender))
        try:
            left = deadline - asyncio.get_running_loop().time()
            if left > 0:
                await asyncio.wait({waiting.answer}, timeout=left)
        except asyncio.CancelledError:  # the platform hung up and the server cancelled its request
            waiting.abandoned = True
            waiting.answer.cancel()
            raise
        # Decided here, with no await between the check and the cancel: the worker either
        # handed the answer over already, or finds the caller gone and pushes it.
        if waiting.answer.done() and not waiting.answer.cancelled():
            return Accepted(waiting.answer.result(), inbound_id=record.id)
        waiting.answer.cancel()
        return Accepted(None, inbound_id=record.id)

    async def note(self, inbound: Inbound, replies: tuple[str, ...] = (), *, push: bool = False) -> Accepted:
        """Write down something the assistant does not read (a follow, a voice it cannot hear, a
        picture, a call centre agent's words) with the fixed answer it gets, so staff see it in the
        message log; de-duplicated by ``message_id`` like any message. The replies are the caller's
        to send (None: a repeat), or go through the outbox (``push``: a channel with no answer of its own)."""
        text = clean(inbound.text)
        record = await self._record(inbound, text or "[空]", owners_words=False)
        if record.duplicate:
            return Accepted(None, duplicate=True, inbound_id=record.id)
        recorded_at = time.monotonic()
        result = await self.backend.bus.handle(commands.RecordReplies(record.id, replies, answered=True, push=push))
        if result.status == InboundStatus.FOR_STAFF.value:  # staff hold the conversation: no automatic word
            replies = ()
        self.metrics.replied(inbound.sender, len(replies), time.monotonic() - recorded_at)
        return Accepted([render(r, record.script) for r in replies], inbound_id=record.id)

    async def _work(self, sender: str) -> None:
        """Answer the sender's accepted messages, oldest first, under the sender's lock."""
        async with self._one_at_a_time(sender):
            queue = self._accepted.get(sender, {})
            while queue:
                waiting = queue.pop(min(queue))
                try:
                    await self._answer_accepted(sender, waiting)
                except Exception:  # kept as failed where possible; the backlog retries it
                    log.exception("could not answer accepted message %s", waiting.record.id)
                    waiting.answer.cancel()
            if not queue:
                self._accepted.pop(sender, None)

    async def _answer_accepted(self, sender: str, waiting: _Waiting) -> None:
        record = waiting.record
        try:
            # An earlier accepted message may have failed after this one was recorded: always
            # look for the sender's backlog first, so answers keep the owner's order.
            replies, answered = await self._respond(sender, waiting.text, record, backlog=True)
        except _TakenOver:  # another gateway answers it (a retry took it over), or staff do
            waiting.answer.cancel()
            return
        except Exception:
            await self.backend.bus.handle(commands.RecordReplies(record.id, (), answered=False))
            raise
        if replies and await views.late_answers_silenced(self.backend.new_uow(), sender):
            replies = ()  # staff took the conversation while the assistant was answering
        rendered = [render(r, record.script) for r in replies]
        claimed = not waiting.answer.done() and (waiting.fits is None or waiting.fits(rendered))
        if claimed:  # the caller is still there: it answers in its request
            waiting.answer.set_result(rendered)
        else:  # too late, or more than the caller can send: it answers at once, the outbox the rest
            waiting.answer.cancel()
        await self.backend.bus.handle(
            commands.RecordReplies(record.id, replies, answered=answered, push=answered and not claimed)
        )
        # Unanswered and no caller left: nothing went out, and the backlog answers it later.
        sent = len(replies) if claimed or answered else 0
        self.metrics.replied(sender, sent, time.monotonic() - waiting.recorded_at if answered else None)
        if claimed and waiting.abandoned and answered and replies:  # handed over, then the caller went away
            await self.backend.bus.handle(commands.RecordReplies(record.id, replies, answered=True, push=True))

    async def settled(self, timeout: float | None = None) -> None:
        """Wait until every accepted message has been answered (tests, and a clean stop)."""
        while self._workers:
            done, _ = await asyncio.wait(set(self._workers), timeout=timeout)
            if not done:
                return

    async def close(self, grace: float = 5.0) -> None:
        """Stop: give accepted messages ``grace`` seconds to be answered, then cancel the rest
        (they stay recorded; the backlog answers what was marked failed)."""
        if self._workers:
            _, pending = await asyncio.wait(set(self._workers), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _respond(
        self, sender: str, text: str, record: InboundRecorded, *, backlog: bool = False
    ) -> tuple[tuple[str, ...], bool]:
        """What to tell the owner about a recorded message (the sender's lock is held), and
        whether the message counts as answered (False: the dialogue engine was unreachable).
        The sender's unanswered older messages go first (``backlog``, or when the record says so)."""
        if record.status == InboundStatus.FOR_STAFF.value:  # written to staff: never the assistant's
            withdrawn = await self._not_urgent(sender, text, record)  # ... unless it takes a misread emergency back
            return ((withdrawn,) if withdrawn else ()), True
        if backlog and await self._staff_took(sender, record.id):  # queued, and staff took it meanwhile
            return (), True
        with_staff = record.state == ConversationState.HANDED_OFF.value
        if record.routed_to and record.names_only and not with_staff:  # "阳光小区": the answer to "which one?"
            return (ROUTED_REPLY.format(name=record.routed_to),), True
        if len(text) > MAX_TEXT and not with_staff:
            return (TOO_LONG_REPLY,), True
        if not with_staff and (rated := await self._rating(sender, text)):
            return (rated,), True
        try:
            if backlog or record.waiting:
                await self._answer_backlog_of(sender)  # older messages first
            await self._still_ours(record)
            replies = await self.dialogue.send(sender, as_plain_text(text[:MAX_TEXT]))
        except DialogueUnavailable as exc:
            log.warning("dialogue engine unavailable (%s); message %s kept for later", exc, record.id)
            return (() if with_staff else (BUSY_REPLY,)), False  # recorded, so a retry gets the same answer
        # staff are answering: the assistant never talks over them
        return (() if with_staff else tuple(replies)), True

    async def _still_ours(self, record: InboundRecorded) -> None:
        """Before Rasa hears a message that waited for its turn (the owner's older messages went
        first), so long that the answer might outlast its time in flight: take it again, so a
        retry cannot take it over while it is on its way. _TakenOver if one already has (or it
        is no longer "received": left to staff). On time, as nearly always, no statement."""
        since = record.in_flight_since
        if since is None or not model.outlasts_flight(since, self.backend.clock()):
            return
        if await self._claim(record, held=True) is None:
            log.warning("message %s was taken over while it waited for its turn", record.id)
            raise _TakenOver

    async def _reply(self, record: InboundRecorded, replies: tuple[str, ...], *, answered: bool = True) -> list[str]:
        """Record what the owner is told (a retried message gets the same), in the owner's script;
        nothing when staff took the conversation while the assistant was answering."""
        result = await self.backend.bus.handle(commands.RecordReplies(record.id, replies, answered=answered))
        if result.status == InboundStatus.FOR_STAFF.value:
            return []
        return [render(r, record.script) for r in replies]

    async def _staff_took(self, sender: str, inbound_id: int) -> bool:
        """Whether staff hold the conversation now; if so the message is left to them."""
        state, _ = await views.conversation_state(self.backend.new_uow(), sender)
        if state != ConversationState.HANDED_OFF.value:
            return False
        await self.backend.bus.handle(commands.LeaveToStaff(inbound_id))
        return True

    async def _not_urgent(self, sender: str, text: str, record: InboundRecorded) -> str | None:
        """ "不急" as the owner's word after an emergency nobody has taken up (a misread one):
        an ordinary repair again, and the assistant answers (WithdrawEmergency). None: the
        message is staff's, as everything written while they have the conversation."""
        if not says_not_urgent(text):
            return None
        try:
            result = await self.backend.bus.handle(commands.WithdrawEmergency(sender, record.id))
        except DomainError:  # claimed meanwhile, too late, or no emergency: a person decides
            return None
        except Exception:  # Rasa could not be resumed: nothing changed, staff still have it
            log.warning("could not take back message %s's emergency", record.id, exc_info=True)
            return None
        return NOT_URGENT_REPLY.format(number=result.number, promise=result.promise)

    async def _rating(self, sender: str, text: str) -> str | None:
        """回访: a score or verdict as the owner's first message after the rating question.

        The assistant's dialogue never sees these turns; with no ticket awaiting a rating
        the message goes to the assistant like any other.
        """
        score = parse_rating(text)
        if score is None:
            return None
        try:
            result = await self.backend.bus.handle(
                commands.RateTicket(sender, score, comment=text[:500], first_reply_only=True)
            )
        except DomainError:  # NotFound: no question pending; or the ticket closed meanwhile
            return None
        template = POOR_RATING_REPLY if score <= POOR_RATING else RATED_REPLY
        return template.format(number=result.number)

    async def _answer_backlog_of(self, sender: str) -> None:
        """Send a sender's messages Rasa missed, oldest first (the sender's lock is held).

        Raises DialogueUnavailable while Rasa is unreachable, so nothing newer goes first.
        """
        for message in await views.unanswered(self.backend.new_uow(), sender, now=self.backend.clock()):
            if await self._staff_took(message["sender"], message["id"]):  # staff answer it, not the retry loop
                continue
            stalled = message["status"] == InboundStatus.RECEIVED.value
            if stalled and not (await self.backend.bus.handle(commands.ClaimInbound(message["id"]))).claimed:
                continue  # a client's retry took it over a moment ago, here or at another gateway: it answers it
            try:
                replies = await self.dialogue.send(message["sender"], as_plain_text(message["text"][:MAX_TEXT]))
            except DialogueRejected:  # Rasa fails on this message only: count it, go on
                await self._failed(message, engine_reachable=True)
                continue
            except DialogueUnavailable:
                await self._failed(message, engine_reachable=False)
                raise
            state, _ = await views.conversation_state(self.backend.new_uow(), message["sender"])
            if state == ConversationState.HANDED_OFF.value:
                replies = []
            await self.backend.bus.handle(
                commands.RecordReplies(message["id"], tuple(replies), answered=True, push=True)
            )
            # written down before an outage (or by another gateway): its wait is read from the store's clock
            waited = (self.backend.clock() - message["received_at"]).total_seconds()
            self.metrics.replied(message["sender"], len(replies), waited)

    async def _failed(self, message: dict, *, engine_reachable: bool) -> None:
        await self.backend.bus.handle(commands.RecordReplies(message["id"], (), answered=False))
        waited = self.backend.clock() - message["received_at"]
        if model.gives_up_on(message["attempts"] + 1, waited, engine_reachable=engine_reachable):
            # nothing is dropped: a person sees the owner waiting
            log.error("message %s still unanswered; conversation handed to staff", message["id"])
            await self.backend.bus.handle(commands.HandOff(message["sender"], "assistant_unreachable"))

    async def answer_backlog(self) -> None:
        """Answer every sender's missed messages, each under that sender's lock."""
        waiting = await views.unanswered(self.backend.new_uow(), now=self.backend.clock())
        senders = dict.fromkeys(m["sender"] for m in waiting)
        for sender in senders:
            async with self._one_at_a_time(sender):
                await self._answer_backlog_of(sender)

    async def retry_forever(self, interval: float = 15.0) -> None:
        """Background task: keep trying the backlog while Rasa is back."""
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.dialogue.ready():
                    await self.answer_backlog()
            except DialogueUnavailable:
                continue
            except Exception:
                log.exception("backlog retry failed")
