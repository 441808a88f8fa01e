"""Client for the Rasa server: the REST channel for messages, the events API for handoff."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import aiohttp

from backend_bridge.adapters.answers import UnusableAnswer, json_answer
from backend_bridge.service_layer.ports import DialogueRejected, DialogueUnavailable
from connectors.metrics import Metrics

log = logging.getLogger(__name__)
__all__ = ["DialogueRejected", "DialogueUnavailable", "RasaClient"]


class RasaClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        session: aiohttp.ClientSession,
        timeout: float = 20.0,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.metrics = metrics or Metrics()

    async def send(self, sender: str, text: str) -> list[str]:
        """Hand one owner message to Rasa; returns the text replies in order. Timed, by outcome:
        Rasa's share of an owner's wait (``wuye_rasa_seconds``)."""
        started, outcome = time.monotonic(), "error"
        try:
            replies = await self._send(sender, text)
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

    async def _send(self, sender: str, text: str) -> list[str]:
        """An answer that is not a JSON list (too large, garbled) is Rasa failing on this message; so
        is an answer without a single text. Every turn of ours says something, so silence means an
        action failed (the action server away, its backend call refused) or the conversation is still
        paused in Rasa: recorded as "answered" it would never be tried again and the owner would never
        hear back (found by the fault campaign, bench/faults.py). As a failure it is kept, the owner is
        told it is kept, and the retry loop answers it later or hands it to staff."""
        url = f"{self.base_url}/webhooks/rest/webhook"
        payload = {"sender": sender, "message": text}
        try:
            async with self.session.post(url, json=payload, timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise DialogueRejected(f"rasa answered {resp.status}")
                body = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DialogueUnavailable(str(exc) or type(exc).__name__) from exc
        except UnusableAnswer as exc:
            raise DialogueRejected(f"rasa answered {exc}") from exc
        if body is not None and not isinstance(body, list):
            raise DialogueRejected("rasa answered something other than a list of messages")
        replies = [t for item in body or [] if isinstance(item, dict) and isinstance(t := item.get("text"), str) and t]
        if not replies:
            raise DialogueRejected("rasa answered no message (an action failed?)")
        return replies

    async def _events(self, sender: str, events: list[dict]) -> None:
        url = f"{self.base_url}/conversations/{quote(sender, safe='')}/tracker/events"
        try:
            async with self.session.post(url, params={"token": self.token}, json=events, timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise DialogueRejected(f"rasa events API answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DialogueUnavailable(str(exc) or type(exc).__name__) from exc

    async def resume(self, sender: str) -> None:
        # A bare resume replays a message logged during the pause (RASA_NOTES.md);
        # appending action_listen makes Rasa wait for the owner's next message instead.
        await self._events(sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None:
        await self._events(sender, [{"event": "agent", "text": text, "data": {"actor": actor}}])

    async def ready(self) -> bool:
        """True once the server is up with a model loaded."""
        try:
            async with self.session.get(
                f"{self.base_url}/status", params={"token": self.token}, timeout=aiohttp.ClientTimeout(total=3)
            ) as resp:
                if resp.status != 200:
                    return False
                body = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError, UnusableAnswer):
            return False
        return isinstance(body, dict) and bool(body.get("model_id") or body.get("model_file"))
