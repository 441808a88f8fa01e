"""Owners on the WeChat and SMS callbacks, for bench/load.py ``--channel wechat|sms``.

The web chat owner posts /api/chat and reads the answer in the response. These owners write the
way the platforms deliver what owners write, and read their answers where the platforms receive
them, through the fakes of tests/fakes (real HTTP servers on 127.0.0.1, run on bench/load.py's
own event loop, checking what the real platforms check):

- WeChat (公众号): the fake WeChat's driver posts the callback, signed, and encrypted in safe or
  compatible mode with the account's EncodingAESKey as tests/e2e/wechat_world.py configures it
  (``--wechat-mode``); it gives up after WeChat's 5 s and delivers again, 3 times at most. The
  answer is the passive reply in the callback's response when the gateway had it within its
  budget (WUYE_WECHAT_REPLY_BUDGET, 4 s), else the customer-service messages the dispatcher sends
  to the fake's /cgi-bin/message/custom/send (the fake holds the 48 h window and 5 messages per
  owner message; each message the driver posts opens it again).
- SMS (Aliyun): the fake provider's upstream push (SmsUp) posted to /sms/aliyun/<token>; the
  answer is the SendSms calls the dispatcher makes to the fake (the generic late_reply template,
  35 characters a message). Each owner writes from a number of their own, and the fake and the
  channel allow 50 messages per number a day — Aliyun's ceiling for notification SMS of one
  signature and template to one number, which an enterprise account sets in its console (the
  default of 10 is for verification codes); one repair by SMS can take more than 10 (bench/NOTES.md).

A message's latency runs from posting it to the first part of its answer at the platform (the
owner's phone lights up). The owner then reads until nothing more came for ``reading`` seconds
(all the answer's messages of one turn leave in one dispatcher drain, back to back) before writing
again, so each answer is matched to the message it answers; bare Rasa's owners pause as long after
each answer (``paced``), so closed-loop rates compare like with like. After the run
``reconcile`` reads every conversation's log from the staff API and checks it against what the
fake received: every message recorded once and answered, every answer delivered once, to its
owner, each turn's messages arriving before the owner wrote again.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.text.script import Script, render
from connectors.gateway import BUSY_REPLY, QUEUED_REPLY
from connectors.wechat.messages import split_text
from ops.stack import Stack
from tests.e2e.phone_world import SMS_PER_DAY, SMS_TOKEN, sms_env
from tests.e2e.wechat_world import MP_AES_KEY, MP_TOKEN, wechat_env
from tests.fakes.sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat, WeChatDriver
from tests.fakes.wechat_driver import MODES, InvalidReply

# What the gateway says when it could not answer now (Rasa busy or down; the owner's earlier
# message still in hand): counted as "held", not as an answer. Compared by their start: SMS
# carries an answer in pieces of 35 characters.
HELD = {render(text, script) for text in (BUSY_REPLY, QUEUED_REPLY) for script in (None, *Script)}
READING = 0.3  # seconds an owner reads after the last part of an answer before writing again
ANSWER_TIMEOUT = 60.0  # seconds an owner waits for the first part of an answer (then: "empty")

# Where the latency of the message being sent starts (bench/load.py sets it around each send: the
# open loop counts from the planned arrival); a turn takes it, to time its answer again after ``reconcile``.
STARTED: ContextVar[float] = ContextVar("started")
Send = Callable[[aiohttp.ClientSession, str, str], Awaitable["str | tuple[str, float]"]]


def outcome(replies: list[str]) -> str:
    """answered, held (the gateway's busy or queued notice) or empty."""
    replies = [r for r in replies if r]
    if not replies:
        return "empty"
    return "held" if any(r.startswith(h[:30]) for r in replies for h in HELD) else "answered"


def paced(send: Send, reading: float) -> Send:
    """``send``, then the owner reads for ``reading`` seconds; the latency stops at the answer."""

    async def read_after(http: aiohttp.ClientSession, sender: str, text: str) -> tuple[str, float]:
        result = await send(http, sender, text)
        answered_at = time.perf_counter()
        await asyncio.sleep(reading)
        return result if isinstance(result, tuple) else (result, answered_at)

    return read_after


@dataclass
class Part:
    """One message the platform took for an owner: when (perf_counter), its text, and what groups
    parts of one notification (SMS: the OutId, the notification's key; WeChat: none)."""

    at: float
    text: str
    group: str = ""


class Inbox:
    """What the fake platform took, by owner, as it arrives (fed by the fake's listener, on the same loop)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Part]] = defaultdict(list)
        self._wake: dict[str, asyncio.Event] = {}

    def take(self, user: str, text: str, group: str = "") -> None:
        self.parts[user].append(Part(time.perf_counter(), text, group))
        if (event := self._wake.get(user)) is not None:
            event.set()

    async def _news(self, user: str, seconds: float) -> bool:
        """Whether a part for ``user`` arrives within ``seconds``."""
        if seconds <= 0:
            return False
        event = self._wake.setdefault(user, asyncio.Event())
        event.clear()
        try:
            await asyncio.wait_for(event.wait(), seconds)
            return True
        except TimeoutError:
            return False
        finally:
            self._wake.pop(user, None)

    async def answer(self, user: str, seen: int, *, timeout: float, quiet: float) -> list[Part] | None:
        """The parts after the first ``seen``: once one came (None if none within ``timeout``), and
        then ``quiet`` seconds passed without another."""
        deadline = time.perf_counter() + timeout
        while len(self.parts[user]) <= seen:
            if not await self._news(user, deadline - time.perf_counter()):
                return None
        while await self._news(user, quiet):
            pass
        return self.parts[user][seen:]


@dataclass
class Turn:
    """One message an owner posted through the callback, as the owner saw it."""

    sent_at: float
    run: str = ""  # which part of the benchmark it belongs to (CallbackOwners.run)
    started: float = 0.0  # where its latency starts (the open loop's planned arrival: STARTED)
    outcome: str = "errors"
    passive: bool = False  # WeChat: answered in the callback's response
    answered_at: float | None = None  # the first part of the answer as the owner took it then
    exact_at: float | None = None  # the first part of its answer by the conversation's log (reconcile)


RECONCILED = (  # what ``reconcile`` counts (all present, zeros too)
    "owners",
    "messages_sent",
    "messages_recorded",
    "messages_answered",
    "answers_pushed",
    "answers_pushed_delivered",
    "pushed_answers_received",
    "platform_messages_received",
    "platform_messages_repeated",
    "platform_messages_to_strangers",
    "owners_not_matched",
    "turns_overlapped",
    "turns_misread",
)


@dataclass
class CallbackOwners:
    """What both channels' owners share: the fake on this loop, the inbox, the turns, the reconciliation."""

    reading: float = READING
    timeout: float = ANSWER_TIMEOUT
    inbox: Inbox = field(default_factory=Inbox)
    turns: dict[str, list[Turn]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter = field(default_factory=Counter)  # per run: how the answers came (take_counts)
    run: str = ""  # the label each turn gets (bench/load.py sets it before each run)
    name = ""

    own_fake: bool = True  # False: a fake someone else runs (a test's shared stack), on this loop

    async def __aenter__(self) -> CallbackOwners:
        if self.own_fake:
            await self._start()
        self.fake.listeners.append(self._took)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.fake.listeners.remove(self._took)
        if self.own_fake:
            await self._stop()

    @property
    def fake(self) -> Any:
        raise NotImplementedError

    async def _start(self) -> None:
        raise NotImplementedError

    async def _stop(self) -> None:
        raise NotImplementedError

    def _took(self, entry: dict[str, Any]) -> None:
        raise NotImplementedError

    def env(self, var_dir: Path) -> dict[str, str]:
        """The stack's settings for this channel, pointed at the fake."""
        raise NotImplementedError

    def new_sender(self) -> str:
        raise NotImplementedError

    def target(self, stack: Stack) -> Send:
        raise NotImplementedError

    def take_counts(self) -> dict[str, int]:
        """How the answers came since the last call (and the callbacks' retries), then start again."""
        counts, self.counts = dict(self.counts), Counter()
        return counts

    def _turn(self, user: str) -> Turn:
        now = time.perf_counter()
        turn = Turn(now, self.run, STARTED.get(now))
        self.turns[user].append(turn)
        return turn

    async def _wait_answer(self, user: str, seen: int, turn: Turn) -> tuple[str, float]:
        parts = await self.inbox.answer(user, seen, timeout=self.timeout, quiet=self.reading)
        if parts is None:
            turn.outcome = "empty"
            return "empty", time.perf_counter()
        self.counts["answered_later"] += 1
        self.counts["platform_messages"] += len(parts)
        turn.outcome, turn.answered_at = outcome(["".join(p.text for p in parts)]), parts[0].at
        return turn.outcome, parts[0].at

    def repeated(self, parts: list[Part], pushed: list[dict[str, Any]]) -> int:
        """Platform messages an owner got twice (one pushed answer sent again)."""
        raise NotImplementedError

    def groups(self, parts: list[Part]) -> int:
        """How many pushed answers ``parts`` are (SMS: distinct OutIds; WeChat: one message each)."""
        raise NotImplementedError

    async def reconcile(self, stack: Stack, http: aiohttp.ClientSession) -> dict[str, int]:
        """Every owner's conversation log (staff API) against what the owner sent and the fake took."""
        found: Counter = Counter(dict.fromkeys(RECONCILED, 0))
        headers = {"Authorization": f"Bearer {stack.tokens['WUYE_ADMIN_TOKEN']}"}
        strangers = [parts for user, parts in self.inbox.parts.items() if user not in self.turns]
        found["platform_messages_to_strangers"] = sum(len(parts) for parts in strangers)
        for user, turns in self.turns.items():
            url = f"{stack.url}/api/conversations/{self.name}:{user}/messages"
            async with http.get(url, headers=headers) as resp:
                log = await resp.json() if resp.status == 200 else []
            inbound = [e for e in log if e["direction"] == "in"]
            pushed = [e for e in log if e["direction"] == "out" and e["kind"] == "late_reply"]
            parts = self.inbox.parts.get(user, [])
            found["owners"] += 1
            found["messages_sent"] += len(turns)
            found["messages_recorded"] += len(inbound)
            found["messages_answered"] += sum(1 for e in inbound if e["status"] == "answered" and e["replies"])
            found["answers_pushed"] += len(pushed)
            found["answers_pushed_delivered"] += sum(1 for e in pushed if e["status"] == "delivered")
            found["platform_messages_received"] += len(parts)
            found["platform_messages_repeated"] += self.repeated(parts, pushed)
            found["pushed_answers_received"] += self.groups(parts)
            if len(inbound) != len(turns):
                found["owners_not_matched"] += 1
                continue
            found["turns_overlapped"] += self._attribute(turns, inbound, parts)
        found["turns_misread"] = sum(
            1 for ts in self.turns.values() for t in ts if t.exact_at is not None and t.exact_at != t.answered_at
        )
        return {key: found[key] for key in RECONCILED}

    def latencies_ms(self, run: str) -> list[float]:
        """Posting → the first part of the answer, by the log (after ``reconcile``), for ``run``'s answered turns."""
        turns = (t for ts in self.turns.values() for t in ts if t.run == run and t.outcome == "answered")
        return [(t.exact_at - t.started) * 1000 for t in turns if t.exact_at is not None]

    def _attribute(self, turns: list[Turn], inbound: list[dict], parts: list[Part]) -> int:
        """Match the parts to the turns by the log (each turn's pushed answers are its recorded
        replies, unless it was answered in the callback's response): each turn's ``exact_at``;
        returns how many turns' answers were still arriving when the owner wrote again (the owner
        then took a late part for the next answer: ``turns_misread``)."""
        overlapped, cursor = 0, 0
        for k, (turn, entry) in enumerate(zip(turns, inbound, strict=True)):
            answers = 0 if turn.passive else len(entry["replies"])
            mine: list[Part] = []
            while answers and cursor < len(parts):
                mine.append(parts[cursor])
                cursor += 1
                if self.groups(mine) > answers:  # the next answer's first part: put it back
                    mine.pop()
                    cursor -= 1
                    break
            if mine:
                turn.exact_at = mine[0].at
            if mine and k + 1 < len(turns) and mine[-1].at > turns[k + 1].sent_at:
                overlapped += 1
        return overlapped


class WeChatOwners(CallbackOwners):
    """Owners of the 公众号: the callback at /wechat/mp, answers passive or as customer-service messages."""

    name = "wechat"

    def __init__(self, mode: str = "safe", *, fake: FakeWeChat | None = None, **kw: Any) -> None:
        super().__init__(own_fake=fake is None, **kw)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self._fake = fake or FakeWeChat()

    @property
    def fake(self) -> FakeWeChat:
        return self._fake

    async def _start(self) -> None:
        await self._fake.start()

    async def _stop(self) -> None:
        await self._fake.close()

    def _took(self, entry: dict[str, Any]) -> None:
        if entry["api"] == "custom":
            self.inbox.take(entry["touser"], entry["content"] or "")

    def env(self, var_dir: Path) -> dict[str, str]:
        return wechat_env(self._fake)

    def new_sender(self) -> str:
        return "o" + uuid.uuid4().hex[:27]  # an openid: 28 characters

    def repeated(self, parts: list[Part], pushed: list[dict[str, Any]]) -> int:
        # no key on a customer-service message: more messages than the answers make is a repeat
        return max(0, len(parts) - sum(len(split_text(e["text"])) for e in pushed))

    def groups(self, parts: list[Part]) -> int:
        return len(parts)

    def target(self, stack: Stack) -> Send:
        driver = WeChatDriver(
            f"{stack.url}/wechat/mp",
            token=MP_TOKEN,
            appid=self._fake.appid,
            aes_key=MP_AES_KEY,
            mode=self.mode,
            fake=self._fake,
        )

        async def send(http: aiohttp.ClientSession, openid: str, text: str) -> tuple[str, float]:
            turn = self._turn(openid)
            seen = len(self.inbox.parts[openid])
            try:
                delivery = await driver.send_text(openid, text)
            except InvalidReply:  # an answer WeChat could not show: the owner sees an error
                return "errors", time.perf_counter()
            self.counts["callback_deliveries"] += delivery.attempts
            if delivery.status != 200:
                return "errors", time.perf_counter()
            if delivery.reply is not None:
                answered_at = time.perf_counter()
                turn.passive, turn.outcome = True, outcome([str(delivery.reply.get("Content") or "")])
                turn.answered_at = turn.exact_at = answered_at
                self.counts["answered_in_callback"] += 1
                await asyncio.sleep(self.reading)
                return turn.outcome, answered_at
            return await self._wait_answer(openid, seen, turn)

        return send


class SmsOwners(CallbackOwners):
    """Owners texting the company's number: Aliyun's upstream push, answers by SendSms."""

    name = "sms"

    def __init__(self, *, fake: FakeAliyunSms | None = None, **kw: Any) -> None:
        super().__init__(own_fake=fake is None, **kw)
        self._fake = fake or FakeAliyunSms(per_day=SMS_PER_DAY)
        # a number of their own for every owner; a random start, so a Redis tracker store kept
        # from an earlier run never continues an old conversation
        self._numbers = itertools.count(random.randrange(10**7, 9 * 10**7))

    @property
    def fake(self) -> FakeAliyunSms:
        return self._fake

    async def _start(self) -> None:
        await self._fake.__aenter__()

    async def _stop(self) -> None:
        await self._fake.__aexit__(None, None, None)

    def _took(self, entry: dict[str, Any]) -> None:
        self.inbox.take(entry["mobile"], "".join(entry["values"].values()), entry["out_id"])

    def env(self, var_dir: Path) -> dict[str, str]:
        return sms_env(self._fake, var_dir / "content")  # 50 SMS a number a day, as the fake allows

    def new_sender(self) -> str:
        return f"139{next(self._numbers):08d}"

    def repeated(self, parts: list[Part], pushed: list[dict[str, Any]]) -> int:
        # each piece of an answer carries the answer's key (OutId): the same piece twice is a repeat
        return len(parts) - len({(p.group, p.text) for p in parts})

    def groups(self, parts: list[Part]) -> int:
        return len({p.group for p in parts})

    def target(self, stack: Stack) -> Send:
        url = f"{stack.url}/sms/aliyun/{SMS_TOKEN}"

        async def send(http: aiohttp.ClientSession, mobile: str, text: str) -> tuple[str, float]:
            turn = self._turn(mobile)
            seen = len(self.inbox.parts[mobile])
            body = self._fake.reply_push(mobile, text)
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                answer = await resp.json(content_type=None) if resp.status == 200 else None
            if not isinstance(answer, dict) or answer.get("code") != 0:
                return "errors", time.perf_counter()
            return await self._wait_answer(mobile, seen, turn)

        return send


CHANNELS: dict[str, type[CallbackOwners]] = {"wechat": WeChatOwners, "sms": SmsOwners}
