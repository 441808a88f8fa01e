"""The HTTP adapter to an external property system (HC小区, 明源, …) that keeps the company's tickets.

Contract, both ways, signed the same way with a shared secret:

- ``X-Wuye-Timestamp``: Unix seconds; the receiver refuses anything more than 5 minutes off
  its own clock, so a captured request cannot be replayed later.
- ``X-Wuye-Signature``: hex HMAC-SHA256(secret, timestamp + "." + raw body). The raw bytes
  are signed, not a re-serialisation, so both ends agree whatever their JSON libraries do.

We → them: ``POST {base_url}/tickets`` with ``Authorization: Bearer <api_key>`` and
``Idempotency-Key: <our ticket number>`` (a retry after a timeout, when we cannot know whether
the first attempt arrived, returns the first ticket instead of creating a second). Body::

    {"number": "BX000123", "kind": "repair", "category": "plumbing", "priority": "normal",
     "hazard": null, "anonymous": false, "description": "...", "created_at": "2026-11-21T02:30:00+00:00",
     "location": {"building": "3", "unit": "2", "room": "501", "public_area": null}}

Never the owner's chat id or phone: the company reaches owners through us. Answer 200/201
``{"id": "<their ticket id>"}``.

We → them, when the owner withdraws a ticket they have: ``POST {base_url}/tickets/{their id}/cancel``
(the id URL-quoted), signed and keyed the same way with ``Idempotency-Key: cancel:<our number>``.
Body::

    {"number": "BX000123", "reason": "业主撤销"}

The reason is one of our fixed words, never the owner's own text or identity. Answer 200, 201,
202 or 204, the body ignored; cancelling a ticket that is already cancelled there is a success
(the same key, or their own cancel, got there first). Until they answer so, the cancellation
stays owed here and SyncTickets sends it again with the same key.

Both calls: 401/403/404/409/422 (and any other 4xx but 408 and 429) are permanent, logged as
errors and tried again only on the next sweep; 408, 429, 5xx, timeouts and unreadable answers
are transient. Their webhooks back to us: entrypoints/external_api.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

import aiohttp

from backend_bridge.adapters.answers import UnusableAnswer, answer_detail, json_answer
from backend_bridge.domain import model
from backend_bridge.service_layer.ports import DeliveryFailed, utc_now

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Wuye-Timestamp"
SIGNATURE_HEADER = "X-Wuye-Signature"
MAX_CLOCK_SKEW = 300  # seconds either way
TICKET_FIELDS = (
    "number",
    "kind",
    "category",
    "priority",
    "hazard",
    "anonymous",
    "description",
    "created_at",
    "location",
)
LOCATION_FIELDS = ("building", "unit", "room", "public_area")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # in URLs, the external_events table and actors ("external:<name>")
_RETRYABLE_4XX = frozenset({408, 429})
MAX_REASON = 64  # characters: a word for their technicians, not a letter


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature of one request or webhook."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime) -> bool:
    """Whether a request was signed with ``secret`` within MAX_CLOCK_SKEW of ``now``."""
    if not timestamp or not signature or not secret:
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(int(timestamp) - now.timestamp()) > MAX_CLOCK_SKEW:
        return False
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(signature.strip().lower().encode("utf-8", "replace"), expected)


class HttpTicketSystem:
    """TicketSystem over HTTP: creates our tickets there and verifies the webhooks it sends back."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        secret: str,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"an external system's name is lower-case letters, digits, - and _: {name!r}")
        if not api_key or not secret:
            raise ValueError("an external system needs an API key and a webhook secret")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secret = secret
        self._session = session
        # Short: the ticket is safe in our store whatever happens, and SyncTickets retries later.
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 2.0))
        self._clock = clock

    def __repr__(self) -> str:  # never the key or the secret, in logs or tracebacks
        return f"HttpTicketSystem({self.name!r}, {self.base_url!r})"

    def webhook_ok(self, timestamp: str | None, signature: str | None, body: bytes) -> bool:
        """A webhook really came from this system, recently."""
        return signature_ok(self._secret, timestamp, signature, body, self._clock())

    @staticmethod
    def _body(ticket: dict) -> bytes:
        """Only the listed fields leave the building, whatever the caller put in ``ticket``."""
        payload = {key: ticket.get(key) for key in TICKET_FIELDS}
        payload["location"] = {key: (ticket.get("location") or {}).get(key) for key in LOCATION_FIELDS}
        if not payload["number"]:
            raise ValueError("a ticket to create needs our number")
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    async def _post(self, path: str, body: bytes, idempotency_key: str, *, answer: bool) -> object:
        """One signed POST to ``path``; its JSON answer when ``answer``, else None.

        Raises DeliveryFailed: ``permanent`` for a 4xx that retrying cannot cure, transient for
        408, 429, 5xx, a system that cannot be reached or answers too late, and an unusable answer.
        """
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        ok = (200, 201) if answer else (200, 201, 202, 204)
        try:
            async with self._session.post(
                f"{self.base_url}{path}", data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as resp:
                if resp.status not in ok:
                    detail = await answer_detail(resp)
                    permanent = 400 <= resp.status < 500 and resp.status not in _RETRYABLE_4XX
                    raise DeliveryFailed(f"{self.name} answered {resp.status}: {detail}", permanent=permanent)
                return await json_answer(resp) if answer else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"{self.name} unreachable: {type(exc).__name__} {exc}") from exc
        except UnusableAnswer as exc:  # retried later, like a system that is down
            raise DeliveryFailed(f"{self.name} answered with {exc}") from exc

    async def create_ticket(self, ticket: dict) -> str:
        body = self._body(ticket)
        answer = await self._post("/tickets", body, ticket["number"], answer=True)
        external_id = answer.get("id") if isinstance(answer, dict) else None
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not 0 < len(external_id.strip()) <= model.MAX_EXTERNAL_ID:
            raise DeliveryFailed(f"{self.name} answered without a usable ticket id")
        return external_id.strip()

    async def cancel_ticket(self, external_id: str, number: str, reason: str) -> None:
        """Tell them the owner withdrew ticket ``external_id`` (our ``number``); DeliveryFailed if not heard.

        Their answer's body is not read: the status says it all.
        """
        if not external_id or not number:
            raise ValueError("a ticket to cancel needs their id and our number")
        body = json.dumps({"number": number, "reason": reason[:MAX_REASON]}, ensure_ascii=False, separators=(",", ":"))
        await self._post(
            f"/tickets/{quote(external_id, safe='')}/cancel", body.encode(), f"cancel:{number}", answer=False
        )
