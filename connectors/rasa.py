"""Client for the Rasa server: the REST channel for messages, the events API for handoff.

Several Rasa instances may stand behind one gateway (WUYE_RASA_URLS). Each sender is routed by
rendezvous hashing (highest random weight): every instance gets a weight from a hash of the
instance and the sender, and the sender goes to the heaviest. So a sender always reaches the same
instance (its tracker warm in that instance, its turns in order without contending for Rasa's
lock), senders spread evenly, and adding an instance moves only the senders it now wins (about
1/N of them), never reshuffles the rest. When the sender's instance cannot be reached, the next
heaviest takes the message: trackers live in the shared store (Redis or PostgreSQL) and Rasa's
Redis lock store orders turns across instances, so any instance can continue the conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Sequence
from urllib.parse import quote

import aiohttp
from prometheus_client import Counter

from backend_bridge.adapters.answers import UnusableAnswer, json_answer
from backend_bridge.service_layer.ports import DialogueRejected, DialogueUnavailable
from connectors.metrics import Metrics

log = logging.getLogger(__name__)
__all__ = ["DialogueRejected", "DialogueUnavailable", "RasaClient", "rendezvous"]

DOWN_FOR = 10.0  # seconds an instance that could not be reached goes to the back of every order
NOT_REACHED = frozenset({502, 503})  # a proxy in front saying the instance never got the message


def _weight(instance: str, sender: str) -> int:
    """A stable pseudo-random weight (the same in every process and run: not Python's hash())."""
    return int.from_bytes(hashlib.blake2b(f"{instance}\0{sender}".encode(), digest_size=8).digest(), "big")


def rendezvous(instances: Sequence[str], sender: str) -> list[str]:
    """The instances in the order ``sender`` tries them: its own first, then where it fails over."""
    return sorted(instances, key=lambda instance: _weight(instance, sender), reverse=True)


class _NotReached(Exception):
    """The instance is gone or did not get the message (connection refused or lost, 502/503)."""

    def __init__(self, failure: DialogueUnavailable) -> None:
        super().__init__(str(failure))
        self.failure = failure


_COUNTERS: weakref.WeakKeyDictionary[Metrics, Counter] = weakref.WeakKeyDictionary()


def _instance_counter(metrics: Metrics) -> Counter:
    """Messages per Rasa instance and outcome, on the gateway's own registry (one per Metrics)."""
    if metrics not in _COUNTERS:
        _COUNTERS[metrics] = Counter(
            "wuye_rasa_instance_messages",
            "Owner messages handed to each Rasa instance, by outcome (ok, not_reached, failed)",
            ["instance", "outcome"],
            registry=metrics.registry,
        )
    return _COUNTERS[metrics]


class RasaClient:
    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str,
        session: aiohttp.ClientSession,
        timeout: float = 20.0,
        *,
        metrics: Metrics | None = None,
        down_for: float = DOWN_FOR,
    ) -> None:
        """``base_url``: one Rasa server, or several (each sender sticks to one of them)."""
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.instances = tuple(dict.fromkeys(u.rstrip("/") for u in urls if u.strip()))
        if not self.instances:
            raise ValueError("at least one Rasa URL is needed")
        self.token = token
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.metrics = metrics or Metrics()
        self.down_for = down_for
        self._down_until: dict[str, float] = {}
        self._served = _instance_counter(self.metrics)

    @property
    def base_url(self) -> str:
        """The first instance (the only one when a single URL is configured)."""
        return self.instances[0]

    def route(self, sender: str) -> list[str]:
        """Where ``sender``'s messages go, in order: its instance first, then the fail-over order;
        instances that could not be reached lately go last (still tried: they may be back)."""
        now = time.monotonic()
        order = rendezvous(self.instances, sender)
        return sorted(order, key=lambda url: self._down_until.get(url, 0.0) > now)  # stable: keeps the order

    def _mark(self, url: str, reachable: bool) -> None:
        if reachable:
            self._down_until.pop(url, None)
        else:
            if url not in self._down_until:
                log.warning("Rasa instance %s unreachable; its senders fail over for %.0f s", url, self.down_for)
            self._down_until[url] = time.monotonic() + self.down_for

    async def _each(self, sender: str, call):
        """``call(url)`` on the sender's instance, then the next while the message did not reach one.
        A timeout or a bad answer is not retried elsewhere: that instance may have acted on it."""
        failure: DialogueUnavailable | None = None
        for url in self.route(sender):
            try:
                result = await call(url)
            except _NotReached as exc:
                self._mark(url, reachable=False)
                self._served.labels(url, "not_reached").inc()
                failure = exc.failure
                continue
            except DialogueRejected:
                self._served.labels(url, "failed").inc()
                raise
            except DialogueUnavailable:
                self._mark(url, reachable=False)  # timed out: the next senders try elsewhere first
                self._served.labels(url, "failed").inc()
                raise
            self._mark(url, reachable=True)
            self._served.labels(url, "ok").inc()
            return result
        assert failure is not None
        raise failure

    async def send(self, sender: str, text: str) -> list[str]:
        """Hand one owner message to Rasa; returns the text replies in order. Timed, by outcome:
        Rasa's share of an owner's wait (``wuye_rasa_seconds``)."""
        started, outcome = time.monotonic(), "error"
        try:
            replies = await self._each(sender, lambda url: self._send(url, sender, text))
            outcome = "ok"
            return replies
        except DialogueRejected:  # (a kind of DialogueUnavailable: first)
            outcome = "rejected"
            raise
        except DialogueUnavailable:
            outcome = "unavailable"
            raise
        finally:
            self.metrics.rasa_answered(outcome, time.monotonic() - started)

    @staticmethod
    def _unavailable(exc: BaseException) -> DialogueUnavailable | _NotReached:
        """Refused, reset or closed under us: the instance is gone (stopped, crashed, a pooled
        connection to a process that died), so another instance takes the message. Sending it again
        is what the gateway's retry loop would do later anyway; only a timeout is left to that loop,
        since a slow instance still holds the conversation's lock and may yet act on the message."""
        failure = DialogueUnavailable(str(exc) or type(exc).__name__)
        gone = isinstance(exc, aiohttp.ClientConnectionError) and not isinstance(exc, TimeoutError)
        return _NotReached(failure) if gone else failure

    async def _send(self, base_url: str, sender: str, text: str) -> list[str]:
        """An answer that is not a JSON list (too large, garbled) is Rasa failing on this message; so
        is an answer without a single text. Every turn of ours says something, so silence means an
        action failed (the action server away, its backend call refused) or the conversation is still
        paused in Rasa: recorded as "answered" it would never be tried again and the owner would never
        hear back (found by the fault campaign, bench/faults.py). As a failure it is kept, the owner is
        told it is kept, and the retry loop answers it later or hands it to staff."""
        url = f"{base_url}/webhooks/rest/webhook"
        payload = {"sender": sender, "message": text}
        try:
            async with self.session.post(url, json=payload, timeout=self.timeout) as resp:
                if resp.status in NOT_REACHED:
                    raise _NotReached(DialogueUnavailable(f"rasa answered {resp.status}"))
                if resp.status != 200:
                    raise DialogueRejected(f"rasa answered {resp.status}")
                body = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unavailable(exc) from exc
        except UnusableAnswer as exc:
            raise DialogueRejected(f"rasa answered {exc}") from exc
        if body is not None and not isinstance(body, list):
            raise DialogueRejected("rasa answered something other than a list of messages")
        replies = [t for item in body or [] if isinstance(item, dict) and isinstance(t := item.get("text"), str) and t]
        if not replies:
            raise DialogueRejected("rasa answered no message (an action failed?)")
        return replies

    async def _events(self, sender: str, events: list[dict]) -> None:
        """Events go where the sender's messages go (any instance would do: the tracker is shared)."""

        async def post(base_url: str) -> None:
            url = f"{base_url}/conversations/{quote(sender, safe='')}/tracker/events"
            try:
                async with self.session.post(
                    url, params={"token": self.token}, json=events, timeout=self.timeout
                ) as resp:
                    if resp.status in NOT_REACHED:
                        raise _NotReached(DialogueUnavailable(f"rasa events API answered {resp.status}"))
                    if resp.status != 200:
                        raise DialogueRejected(f"rasa events API answered {resp.status}")
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._unavailable(exc) from exc

        await self._each(sender, post)

    async def resume(self, sender: str) -> None:
        # A bare resume replays a message logged during the pause (RASA_NOTES.md);
        # appending action_listen makes Rasa wait for the owner's next message instead.
        await self._events(sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None:
        await self._events(sender, [{"event": "agent", "text": text, "data": {"actor": actor}}])

    async def ready(self) -> bool:
        """True once some instance is up with a model loaded (the gateway can answer owners)."""
        return any((await self.instances_ready()).values())

    async def instances_ready(self) -> dict[str, bool]:
        """Each instance: up with a model loaded? Asked together, each within 3 s."""
        answers = await asyncio.gather(*(self._instance_ready(url) for url in self.instances))
        for url, up in zip(self.instances, answers, strict=True):
            if up:
                self._mark(url, reachable=True)  # back: its senders return to it
        return dict(zip(self.instances, answers, strict=True))

    async def _instance_ready(self, base_url: str) -> bool:
        try:
            async with self.session.get(
                f"{base_url}/status", params={"token": self.token}, timeout=aiohttp.ClientTimeout(total=3)
            ) as resp:
                if resp.status != 200:
                    return False
                body = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError, UnusableAnswer):
            return False
        return isinstance(body, dict) and bool(body.get("model_id") or body.get("model_file"))
