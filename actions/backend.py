"""The backend interface the actions call (backend_bridge's internal bot API over HTTP).

Actions stay thin: they read the conversation, call one of these methods, and
choose a reply. Everything that is stored or checked lives behind this client.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import aiohttp

from actions.metrics import ACTION_METRICS

log = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """The backend did not answer in time or failed; the action apologises and keeps the data."""


class BackendClient:
    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"})
        return self._session

    async def _call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any
    ) -> tuple[int, Any]:
        started, outcome = time.perf_counter(), "unavailable"
        try:
            async with self._http().request(method, self.base_url + path, timeout=self.timeout, **kwargs) as resp:
                body = await resp.json(content_type=None)
                if resp.status not in ok:
                    raise BackendUnavailable(f"{method} {path} answered {resp.status}")
                outcome = "ok" if resp.status < 300 else "refused"  # 403/404/409/422: an answer, not a failure
                return resp.status, body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise BackendUnavailable(f"{method} {path}: {exc or type(exc).__name__}") from exc
        finally:
            ACTION_METRICS.backend_called(method, path, outcome, time.perf_counter() - started)

    async def open_ticket(self, sender: str, kind: str, description: str, **location: Any) -> dict:
        payload = {"sender": sender, "kind": kind, "description": description, **location}
        return (await self._call("POST", "/bot/v1/tickets", json=payload))[1]

    async def report_emergency(self, sender: str, hazard: str, description: str, **location: Any) -> dict:
        payload = {"sender": sender, "hazard": hazard, "description": description, **location}
        return (await self._call("POST", "/bot/v1/emergencies", json=payload))[1]

    async def open_tickets(self, sender: str) -> list[dict]:
        return (await self._call("GET", "/bot/v1/tickets", params={"sender": sender}))[1]

    async def ticket(self, sender: str, number: str) -> dict | None:
        status, body = await self._call("GET", f"/bot/v1/tickets/{number}", params={"sender": sender}, ok=(200, 404))
        return body if status == 200 else None

    async def chase(self, sender: str, number: str) -> tuple[int, dict]:
        """催单: (200, {id, status, times, assigned}) or (404, not the sender's) or (409, not open)."""
        return await self._call("POST", f"/bot/v1/tickets/{number}/chase", json={"sender": sender}, ok=(200, 404, 409))

    async def withdraw(self, sender: str, number: str) -> tuple[int, dict]:
        """(200, {id, status}) or (404, not the sender's) or (409, not open or an emergency)."""
        return await self._call(
            "POST", f"/bot/v1/tickets/{number}/withdraw", json={"sender": sender}, ok=(200, 404, 409)
        )

    async def passes(self, sender: str) -> list[dict]:
        """The sender's passes that could still admit someone, soonest first."""
        return (await self._call("GET", "/bot/v1/passes", params={"sender": sender}))[1]

    async def revoke_pass(self, sender: str, code: str) -> tuple[int, dict]:
        """(200, revoked) or (404, not the sender's) or (409, used, expired or revoked already)."""
        return await self._call("POST", f"/bot/v1/passes/{code}/revoke", json={"sender": sender}, ok=(200, 404, 409))

    async def address_known(self, sender: str, building: str, unit: str, room: str) -> bool:
        params = {"sender": sender, "building": building, "unit": unit, "room": room}
        return (await self._call("GET", "/bot/v1/rooms", params=params))[1]["exists"]

    async def bind(self, sender: str, building: str, unit: str, room: str, phone: str) -> str:
        payload = {"sender": sender, "building": building, "unit": unit, "room": room, "phone": phone}
        return (await self._call("POST", "/bot/v1/bindings", json=payload))[1]["status"]

    async def binding(self, sender: str) -> dict | None:
        body = (await self._call("GET", "/bot/v1/bindings", params={"sender": sender}))[1]
        return body if body.get("bound") else None

    async def ledger(self, sender: str) -> dict | None:
        """The ledger; None when not bound; ``{"which_community": [names]}`` for a landlord with
        flats in several communities who has not said which one."""
        status, body = await self._call("GET", "/bot/v1/ledger", params={"sender": sender}, ok=(200, 403, 409))
        if status == 409:
            return {"which_community": body.get("choices", [])}
        return body if status == 200 else None

    async def fee_answer(self, sender: str, topic: str, item: str | None = None) -> str | None:
        """The sender's community's answer (the company's while the owner is not routed to one);
        None when the fee asked about (``item``, common/fees.py) is not one the content covers."""
        params = {"sender": sender} | ({"item": item} if item else {})
        return (await self._call("GET", f"/bot/v1/content/fees/{topic}", params=params))[1]["text"]

    async def community(self, sender: str) -> dict:
        return (await self._call("GET", "/bot/v1/content", params={"sender": sender}))[1]

    async def issue_pass(self, sender: str, **visit: Any) -> tuple[int, dict]:
        """(201, pass) or (403, not bound) or (409, which community) or (422, refused: past or too far)."""
        return await self._call("POST", "/bot/v1/passes", json={"sender": sender, **visit}, ok=(201, 403, 409, 422))

    async def hand_off(self, sender: str, reason: str) -> None:
        await self._call("POST", "/bot/v1/handoffs", json={"sender": sender, "reason": reason})


_client: BackendClient | None = None


def backend() -> BackendClient:
    """The process-wide client, configured by WUYE_BACKEND_URL and WUYE_INTERNAL_TOKEN."""
    global _client
    if _client is None:
        _client = BackendClient(
            os.environ.get("WUYE_BACKEND_URL", "http://127.0.0.1:8081"),
            os.environ.get("WUYE_INTERNAL_TOKEN", ""),
        )
    return _client
