"""The gateway core: every owner message, from any channel, goes through ``Gateway.handle``.

Order of work, so nothing is lost: clean the text, write it down (with its script
and the client's message id), then ask Rasa. A retried client message gets the
replies recorded the first time. When Rasa is down the owner is told politely,
and the message is answered later through the outbox. While staff have the
conversation the assistant stays silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import commands
from backend_bridge.domain.model import MAX_ANSWER_ATTEMPTS, POOR_RATING, ConversationState, DomainError
from backend_bridge.service_layer import views
from backend_bridge.service_layer.results import InboundRecorded
from bot.text.normalize import without_invisible
from bot.text.rasa_input import as_plain_text
from bot.text.rating import parse_rating
from bot.text.script import detect_script, render
from connectors.channel import Inbound
from connectors.rasa import DialogueRejected, DialogueUnavailable, RasaClient

log = logging.getLogger(__name__)

MAX_TEXT = 2000
EMPTY_REPLY = "您好，请问有什么可以帮您？可以直接说要办的事，比如“报修”“查物业费”。"
TOO_LONG_REPLY = "您的消息比较长，我已经完整记下来了。请用一两句话告诉我要办什么事，比如“投诉楼上噪音”，我来帮您登记。"
RATED_REPLY = "感谢您的评价！工单 {number} 已办结。还有什么需要，随时找我。"
POOR_RATING_REPLY = "很抱歉没让您满意。工单 {number} 已重新打开，主管会跟进，尽快重新安排处理。"
BUSY_REPLY = "抱歉，系统有点忙。您的消息已经记下了，稍后在这里回复您；着急的话请拨打物业服务电话。"
ROUTED_REPLY = "好的，接下来为您办理{name}的事。请问有什么可以帮您？"


def clean(text: str) -> str:
    """Tabs become spaces; control and invisible characters (NUL, zero-width, BOM, bidi
    overrides, binary junk) go; line breaks stay; the ends are trimmed."""
    return without_invisible(text.replace("\t", " ")).strip()


class Gateway:
    def __init__(self, backend: Backend, dialogue: RasaClient) -> None:
        self.backend = backend
        self.dialogue = dialogue
        self._locks: dict[str, list] = {}  # sender → [lock, users]; dropped when nobody waits

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, sender: str):
        """One message per owner at a time: a page's retry waits for the first attempt's
        replies instead of racing it, and an owner's messages reach Rasa in order."""
        entry = self._locks.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(sender, None)

    async def handle(self, inbound: Inbound) -> list[str]:
        text = clean(inbound.text)
        if not text:
            return [EMPTY_REPLY]
        script = detect_script(text)
        async with self._one_at_a_time(inbound.sender):
            record = await self.backend.bus.handle(
                commands.RecordInbound(
                    inbound.sender, text, inbound.message_id, script.value if script else None, inbound.community
                )
            )
            if record.duplicate:
                return [render(r, record.script) for r in record.replies]
            with_staff = record.state == ConversationState.HANDED_OFF.value
            if record.routed_to and record.names_only and not with_staff:  # "阳光小区": the answer to "which one?"
                return await self._reply(record, (ROUTED_REPLY.format(name=record.routed_to),))
            if len(text) > MAX_TEXT and not with_staff:
                return await self._reply(record, (TOO_LONG_REPLY,))
            if not with_staff and (rated := await self._rating(inbound.sender, text)):
                return await self._reply(record, (rated,))
            try:
                if record.waiting:
                    await self._answer_backlog_of(inbound.sender)  # older messages first
                replies = await self.dialogue.send(inbound.sender, as_plain_text(text[:MAX_TEXT]))
            except DialogueUnavailable as exc:
                log.warning("dialogue engine unavailable (%s); message %s kept for later", exc, record.id)
                told = () if with_staff else (BUSY_REPLY,)  # recorded, so a retry gets the same answer
                return await self._reply(record, told, answered=False)
            # staff are answering: the assistant never talks over them
            return await self._reply(record, () if with_staff else tuple(replies))

    async def _reply(self, record: InboundRecorded, replies: tuple[str, ...], *, answered: bool = True) -> list[str]:
        """Record what the owner is told (a retried message gets the same), in the owner's script."""
        await self.backend.bus.handle(commands.RecordReplies(record.id, replies, answered=answered))
        return [render(r, record.script) for r in replies]

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
            try:
                replies = await self.dialogue.send(message["sender"], as_plain_text(message["text"][:MAX_TEXT]))
            except DialogueRejected:  # Rasa fails on this message only: count it, go on
                await self._failed(message)
                continue
            except DialogueUnavailable:
                await self._failed(message)
                raise
            state, _ = await views.conversation_state(self.backend.new_uow(), message["sender"])
            if state == ConversationState.HANDED_OFF.value:
                replies = []
            await self.backend.bus.handle(
                commands.RecordReplies(message["id"], tuple(replies), answered=True, push=True)
            )

    async def _failed(self, message: dict) -> None:
        await self.backend.bus.handle(commands.RecordReplies(message["id"], (), answered=False))
        if message["attempts"] + 1 >= MAX_ANSWER_ATTEMPTS:  # nothing is dropped: a person sees the owner waiting
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
