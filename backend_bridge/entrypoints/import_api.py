"""Staff API for imports (admin only): the community roster and the fee ledger.

``POST /api/imports/roster`` and ``POST /api/imports/ledger`` take the CSV or .xlsx export
itself as the request body (not a form), ``?community=<code>`` for the community the file is
of (may be left out when the caller, or the company, has only one), ``?dry_run=1`` to check a
file and see what it would change without writing anything, and for the roster ``?replace=1``
when the file is the community's whole roster (owners not in it are removed). Answers:

- 200 ``{"imported": {...counts...}, "dry_run": bool}`` when every row is valid;
- 422 ``{"error": "rejected_rows", "rejected": [{"row", "errors"}], "accepted": n}`` and nothing
  written when any row is bad (rows numbered as the operator sees them in the file);
- 400 for a file that cannot be read or lacks required columns (named in the answer);
- 413 for a body over ``MAX_UPLOAD``.

The 422 and 400 answers are the import errors' own (entrypoints/errors.py), like every domain refusal.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from backend_bridge.entrypoints.http import BadRequest, json_error
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.entrypoints.staff_auth import STAFF, actor, community_param, staff_only
from backend_bridge.service_layer import imports

routes = web.RouteTableDef()

# The public app refuses bodies over 64 KB (chat messages); a ledger export is bigger, so
# these routes read the body themselves, up to this limit.
MAX_UPLOAD = 5 * 1024 * 1024
COMMANDS = {"roster": imports.ImportRoster, "ledger": imports.ImportLedger}


class _TooLarge(Exception):
    pass


@routes.post("/api/imports/roster")
@staff_only("imports")
async def import_roster(request: web.Request) -> web.Response:
    return await _import(request, "roster")


@routes.post("/api/imports/ledger")
@staff_only("imports")
async def import_ledger(request: web.Request) -> web.Response:
    return await _import(request, "ledger")


async def _import(request: web.Request, kind: str) -> web.Response:
    dry_run = _dry_run(request)
    replace = _flag(request, "replace")
    if replace and kind != "roster":
        raise BadRequest("'replace' is for the roster")
    community = community_param(request)
    if community is None and len(request[STAFF].communities) == 1:
        community = request[STAFF].communities[0]
    if community is None and not request[STAFF].company_wide:
        raise BadRequest("'community' is required: you work in several communities")
    if request.content_type.startswith("multipart/"):
        raise BadRequest("send the file itself as the request body, not a multipart form")
    try:
        body = await _read_body(request)
    except _TooLarge:
        return json_error(413, "too_large", f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB; split it")
    # Parsing a few MB of spreadsheet takes a while: keep the event loop (and the chat) responsive.
    upload = await asyncio.to_thread(imports.read_upload, body, kind, request.content_type)
    options = {"replace": replace} if kind == "roster" else {}
    command = COMMANDS[kind](
        rows=upload.rows,
        actor=actor(request),
        dry_run=dry_run,
        columns=upload.columns,
        community=community,
        **options,
    )
    return web.json_response((await request.app[BACKEND].bus.handle(command)).as_json())


def _dry_run(request: web.Request) -> bool:
    return _flag(request, "dry_run")


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise BadRequest(f"'{name}' must be 1 or 0")


async def _read_body(request: web.Request) -> bytes:
    """The body, refused as soon as it passes MAX_UPLOAD (announced or not) rather than held in memory."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
