"""Webhooks from the external property system: ``POST /api/external/{system}/webhook`` (public port).

Signed like our requests to them (adapters/external.py): ``X-Wuye-Timestamp`` (Unix seconds,
within 5 minutes of our clock) and ``X-Wuye-Signature`` = hex HMAC-SHA256(secret,
timestamp + "." + raw body). The signature is checked before the body is even parsed. Body::

    {"event_id": "evt-81", "ticket_id": "<their id>", "status": "dispatched",
     "assignee": "王师傅", "expected_at": "2026-11-21T15:00:00+08:00", "note": "…"}

``assignee`` is required with "dispatched"; ``expected_at`` and ``note`` are optional (the
note is shown to the owner). Status vocabulary: service_layer/external_sync.py. Answers:
200 {"applied": true, …} or {"duplicate": true} for an event id already applied; 400 bad
JSON or fields; 401 bad, missing or stale signature; 404 unknown system or ticket; 409 a
change our ticket life cycle refuses (the reason in "message"; nothing is changed), and the same
signed request sent again after a refusal (a replay; sign anew to redeliver). The 404
and 409 answers are the domain errors' own (entrypoints/errors.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from aiohttp import web

from backend_bridge.adapters.external import SIGNATURE_HEADER, TIMESTAMP_HEADER, HttpTicketSystem
from backend_bridge.domain import model
from backend_bridge.entrypoints.http import BadRequest, json_error, json_object, text_field, time_field
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer.external_sync import (
    DELIVERY_PREFIX,
    DISPATCHED,
    EXTERNAL_STATUSES,
    ApplyExternalUpdate,
)

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _event_id(body: dict) -> str:
    event_id = text_field(body, "event_id", max_len=64)
    if event_id.startswith(DELIVERY_PREFIX):
        raise BadRequest(f"'event_id' may not begin with {DELIVERY_PREFIX!r}")
    return event_id


def _command(system: str, body: dict) -> ApplyExternalUpdate:
    status = text_field(body, "status", max_len=32)
    if status not in EXTERNAL_STATUSES:
        raise BadRequest(f"'status' must be one of {sorted(EXTERNAL_STATUSES)}")
    return ApplyExternalUpdate(
        system=system,
        event_id=_event_id(body),
        external_id=text_field(body, "ticket_id", max_len=model.MAX_EXTERNAL_ID),
        status=status,
        assignee=text_field(body, "assignee", required=status == DISPATCHED, max_len=64),
        expected_at=time_field(body, "expected_at"),
        note=text_field(body, "note", required=False, max_len=500, free_text=True) or "",
    )


@routes.post("/api/external/{system}/webhook")
async def webhook(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    system = request.match_info["system"]
    external = backend.bus.deps.external
    if not isinstance(external, HttpTicketSystem) or system != external.name:
        raise model.NotFound("external system", system)
    raw = await request.read()
    if not external.webhook_ok(request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), raw):
        log.warning("%s webhook refused: bad, missing or stale signature", system)
        return json_error(401, "unauthorized", "a valid, current signature is required")
    # The signature names this request: kept, so the same request sent again is never applied.
    command = replace(_command(system, json_object(raw)), delivery=request.headers[SIGNATURE_HEADER].strip().lower())
    # a refusal (logged by the handler, with the event id) is a 409 from entrypoints/errors.py
    return web.json_response((await backend.bus.handle(command)).as_json())
