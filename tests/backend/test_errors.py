"""The domain's refusals as HTTP answers (entrypoints/errors.py), in the apps as they are built.

Protects: each domain error answers the status and JSON body callers already branch on
(NotFound 404, NotBound and Forbidden 403, PassRefused 422, import errors 400/422, any other DomainError,
ConcurrentChange included, 409 with the route's code, an unreachable assistant 503); and
Python's LookupError family is no domain signal any more: a KeyError from a bug is a logged
500 with nothing of it shown, never a 404 "no such ticket".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.errors import conflict_as
from backend_bridge.entrypoints.http import BadRequest
from backend_bridge.service_layer import handlers, imports
from backend_bridge.service_layer.messagebus import ConcurrentChange
from backend_bridge.service_layer.ports import DialogueRejected, DialogueUnavailable
from connectors.app import _application  # the one place the middlewares and their order are chosen
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, bearer

OWNER = "webchat:owner-errors-5b1e"
STRANGER = "webchat:stranger-errors-77ac"
INTERNAL = bearer(INTERNAL_TOKEN)
INTERNAL_SERVER_ERROR = {"error": "internal", "message": "something went wrong on our side; please try again"}
CONCURRENT = "the record was changed by someone else at the same moment; try again"


def raising(exc: Exception) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        raise exc

    return route


@pytest.fixture
async def client_for(aiohttp_client):
    """A client of an app built like the real ones, with one route raising ``exc``."""

    async def make(exc: Exception, *, code: str | None = None):
        route = raising(exc)
        app = _application()
        app.router.add_get("/boom", conflict_as(code)(route) if code else route)
        return await aiohttp_client(app)

    return make


def _rejected_rows(n: int) -> list[dict]:
    return [{"row": i + 2, "errors": ["手机号: is empty"]} for i in range(n)]


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (model.NotFound("ticket", "BX000042"), 404, {"error": "not_found", "message": "no such ticket"}),
        (
            model.NotFound("ticket for this sender", "BX000042"),
            404,
            {"error": "not_found", "message": "no such ticket for this sender"},
        ),
        (
            handlers.NotBound(OWNER),
            403,
            {"error": "not_bound", "message": "the sender is not bound to a flat"},
        ),
        (
            model.Forbidden("the technician role may not move a ticket to closed"),
            403,
            {"error": "forbidden", "message": "the technician role may not move a ticket to closed"},
        ),
        (model.PassRefused("past"), 422, {"error": "past", "message": "no pass for that time (past)"}),
        (model.PassRefused("too_far"), 422, {"error": "too_far", "message": "no pass for that time (too_far)"}),
        (
            imports.ImportFileError("bad_header", "columns are missing: 手机号", missing=["手机号"]),
            400,
            {"error": "bad_header", "message": "columns are missing: 手机号", "missing": ["手机号"]},
        ),
        (
            imports.ImportFileError("empty", "the file is empty"),
            400,
            {"error": "empty", "message": "the file is empty"},
        ),
        (model.DomainError("a comment needs text"), 409, {"error": "conflict", "message": "a comment needs text"}),
        (model.InvalidTransition("new → closed"), 409, {"error": "conflict", "message": "new → closed"}),
        (ConcurrentChange(CONCURRENT), 409, {"error": "conflict", "message": CONCURRENT}),
        (
            DialogueUnavailable("connection refused"),
            503,
            {"error": "dialogue_unavailable", "message": "the assistant is not reachable; try again shortly"},
        ),
        (
            DialogueRejected("rasa answered 500"),
            503,
            {"error": "dialogue_unavailable", "message": "the assistant is not reachable; try again shortly"},
        ),
        (BadRequest("'text' is required"), 400, {"error": "bad_request", "message": "'text' is required"}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None,
)
async def test_each_domain_error_answers_its_status_and_body(client_for, exc, status, body):
    resp = await (await client_for(exc)).get("/boom")

    assert resp.status == status
    assert await resp.json() == body


async def test_rejected_import_rows_answer_422_with_the_first_thousand_rows_and_the_count(client_for):
    exc = imports.RowsRejected(_rejected_rows(1500), accepted=3, dry_run=True)

    resp = await (await client_for(exc)).get("/boom")

    assert resp.status == 422
    body = await resp.json()
    assert body["rejected"] == _rejected_rows(1000)
    assert {k: v for k, v in body.items() if k != "rejected"} == {
        "error": "rejected_rows",
        "message": "1500 rows are wrong; nothing was imported. Fix them and upload again.",
        "rejected_count": 1500,
        "accepted": 3,
        "dry_run": True,
    }


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (model.DomainError("a cancelled ticket cannot be chased"), "a cancelled ticket cannot be chased"),
        (ConcurrentChange(CONCURRENT), CONCURRENT),
    ],
)
async def test_a_routes_conflict_code_names_its_409s(client_for, exc, message):
    resp = await (await client_for(exc, code="not_open")).get("/boom")

    assert resp.status == 409
    assert await resp.json() == {"error": "not_open", "message": message}


@pytest.mark.parametrize(
    ("exc", "status", "error"),
    [
        (model.NotFound("ticket"), 404, "not_found"),
        (handlers.NotBound(OWNER), 403, "not_bound"),
        (model.PassRefused("past"), 422, "past"),
    ],
)
async def test_a_routes_conflict_code_leaves_answers_of_their_own_alone(client_for, exc, status, error):
    resp = await (await client_for(exc, code="not_valid")).get("/boom")

    assert (resp.status, (await resp.json())["error"]) == (status, error)


@pytest.mark.parametrize(
    "exc",
    [KeyError("number"), LookupError("BX000042"), IndexError("list index out of range"), RuntimeError("bug")],
    ids=lambda exc: type(exc).__name__,
)
async def test_a_lookup_error_from_a_bug_is_a_logged_500_not_a_404(client_for, caplog, exc):
    with caplog.at_level(logging.ERROR):
        resp = await (await client_for(exc, code="not_open")).get("/boom")

    assert resp.status == 500
    assert await resp.json() == INTERNAL_SERVER_ERROR
    # the traceback is logged (another test's masking filter may have rendered it to text already)
    assert f"{type(exc).__name__}: " in caplog.text or any(r.exc_info and r.exc_info[1] is exc for r in caplog.records)


async def test_an_unknown_path_is_still_aiohttps_404_as_json(client_for):
    resp = await (await client_for(model.DomainError("unused"))).get("/nowhere")

    assert resp.status == 404
    assert await resp.json() == {"error": "not_found", "message": "Not Found"}


# -- the real routes -------------------------------------------------------------------------


async def _open_ticket(backend, sender: str = OWNER) -> str:
    result = await backend.bus.handle(
        commands.OpenTicket(sender=sender, kind="repair", description="厨房漏水", building="3", unit="2", room="501")
    )
    return result.number


async def test_a_key_error_inside_a_staff_command_is_a_500_not_no_such_ticket(
    public_client, backend, monkeypatch, caplog
):
    number = await _open_ticket(backend)

    async def buggy(cmd, uow, deps):
        return {}["number"]

    monkeypatch.setitem(backend.bus.command_handlers, commands.ChangeTicketStatus, buggy)
    with caplog.at_level(logging.ERROR):
        resp = await public_client.post(
            f"/api/tickets/{number}/status", json={"status": "cancelled"}, headers=bearer(ADMIN_TOKEN)
        )

    assert resp.status == 500
    assert await resp.json() == INTERNAL_SERVER_ERROR
    assert "KeyError" in caplog.text


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/api/tickets/BX999999/status", {"status": "cancelled"}, "no such ticket"),
        ("GET", "/api/tickets/BX999999", None, "no such ticket"),
        ("POST", "/api/passes/000000/use", None, "no such pass"),
        ("POST", "/api/passes/abc/use", None, "no such pass"),
        ("POST", "/api/conversations/webchat:nobody/handback", None, "no such conversation"),
        ("POST", "/api/conversations/webchat:nobody/messages", {"text": "在吗"}, "no such conversation"),
        ("GET", "/api/conversations/webchat:nobody/messages", None, "no such conversation"),
        ("POST", "/api/notifications/424242/retry", None, "no such notification"),
        ("POST", "/api/notifications/x1/retry", None, "no such notification"),
    ],
)
async def test_staff_routes_answer_404_with_the_thing_they_did_not_find(
    public_client, dialogue, method, path, body, message
):
    resp = await public_client.request(method, path, json=body, headers=bearer(ADMIN_TOKEN))

    assert resp.status == 404
    assert await resp.json() == {"error": "not_found", "message": message}


async def test_chasing_a_finished_ticket_is_409_not_open_and_another_senders_is_404(internal_client, backend):
    number = await _open_ticket(backend)
    await backend.bus.handle(commands.ChangeTicketStatus(number, "cancelled", actor="staff"))
    path = f"/bot/v1/tickets/{number}/chase"

    finished = await internal_client.post(path, json={"sender": OWNER}, headers=INTERNAL)
    not_theirs = await internal_client.post(path, json={"sender": STRANGER}, headers=INTERNAL)

    assert finished.status == 409
    assert await finished.json() == {"error": "not_open", "message": "a cancelled ticket cannot be chased"}
    assert not_theirs.status == 404
    assert await not_theirs.json() == {"error": "not_found", "message": "no such ticket for this sender"}


async def test_the_bot_routes_404_and_403_bodies(internal_client, backend):
    number = await _open_ticket(backend)

    ticket = await internal_client.get(f"/bot/v1/tickets/{number}", params={"sender": STRANGER}, headers=INTERNAL)
    ledger = await internal_client.get("/bot/v1/ledger", params={"sender": STRANGER}, headers=INTERNAL)

    assert (ticket.status, await ticket.json()) == (
        404,
        {"error": "not_found", "message": "no such ticket for this sender"},
    )
    assert (ledger.status, await ledger.json()) == (
        403,
        {"error": "not_bound", "message": "the sender is not bound to a flat"},
    )


async def test_a_refused_pass_use_is_409_not_valid(public_client, backend, clock):
    await backend.bus.handle(commands.BindSender(sender=OWNER, building="3", unit="2", room="501", phone="13800000501"))
    issued = await backend.bus.handle(
        commands.IssuePass(OWNER, "小李", start=clock(), end=None, time_kind="point", plate=None)
    )
    path = f"/api/passes/{issued.code}/use"

    first = await public_client.post(path, headers=bearer(ADMIN_TOKEN))
    again = await public_client.post(path, headers=bearer(ADMIN_TOKEN))

    assert first.status == 200
    assert again.status == 409
    assert await again.json() == {"error": "not_valid", "message": "the pass is used"}
