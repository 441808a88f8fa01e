"""The domain's refusals as HTTP answers, decided here once for every route.

Routes hold only the success path: a handler or a route raises ``model.NotFound``,
``model.DomainError`` or one of its specific subclasses, and ``domain_errors`` turns it
into the status and JSON body callers (the chat actions, the staff console, the external
system) already rely on. The answer is found by walking the error's class hierarchy, so a
new subclass gets its nearest ancestor's answer until it is given one of its own.

| error                          | status | body ``error``                  |
|--------------------------------|--------|---------------------------------|
| ``model.NotFound``             | 404    | ``not_found``, "no such <what>" |
| ``handlers.NotBound``          | 403    | ``not_bound``                   |
| ``model.Forbidden``            | 403    | ``forbidden``, the reason       |
| ``model.PassRefused``          | 422    | its reason (past, too_far)      |
| ``model.WhichCommunity``       | 409    | ``which_community``, ``choices``|
| ``model.Claimed``              | 409    | ``claimed``, ``assignee``       |
| ``imports.ImportFileError``    | 400    | its code, missing columns       |
| ``imports.RowsRejected``       | 422    | ``rejected_rows``, the rows     |
| ``model.BadCredentials``       | 401    | ``bad_credentials`` (console)   |
| ``model.WeakPassword``         | 400    | ``weak_password``               |
| ``model.InviteInvalid``        | 400    | ``invite_invalid``              |
| ``model.DomainError`` (others, | 409    | ``conflict``, or the route's    |
| ``ConcurrentChange`` included) |        | ``conflict_as`` code            |
| ``ports.DialogueUnavailable``  | 503    | ``dialogue_unavailable``        |

Only these classes are answered here. Anything else, Python's ``LookupError`` family
included, is a bug and reaches ``http.errors_as_json``: logged, and a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from backend_bridge.domain import model
from backend_bridge.entrypoints.http import Handler, json_error
from backend_bridge.service_layer import handlers, imports
from backend_bridge.service_layer.ports import DialogueUnavailable

# Which ``error`` a route's plain DomainError answers with (409 either way); "conflict" unless set.
CONFLICT_CODE = web.RequestKey("conflict_code", str)
DEFAULT_CONFLICT_CODE = "conflict"
MAX_REPORTED = 1000  # rejected import rows listed in one answer; rejected_count says how many in all

Answer = Callable[[web.Request, Any], web.Response]


def conflict_as(code: str) -> Callable[[Handler], Handler]:
    """Decorator: this route's refusals (a DomainError without an answer of its own) say
    ``code`` instead of "conflict", for callers that already branch on it (the gate's
    "not_valid", the chat's "not_open")."""

    def decorate(handler: Handler) -> Handler:
        async def coded(request: web.Request) -> web.StreamResponse:
            request[CONFLICT_CODE] = code
            return await handler(request)

        coded.__name__ = handler.__name__
        return coded

    return decorate


def _not_found(request: web.Request, exc: model.NotFound) -> web.Response:
    return json_error(404, "not_found", str(exc))


def _not_bound(request: web.Request, exc: handlers.NotBound) -> web.Response:
    # a fixed message: the error carries the sender, which the answer does not repeat
    return json_error(403, "not_bound", "the sender is not bound to a flat")


def _forbidden(request: web.Request, exc: model.Forbidden) -> web.Response:
    return json_error(403, "forbidden", str(exc))


def _pass_refused(request: web.Request, exc: model.PassRefused) -> web.Response:
    return json_error(422, exc.reason, f"no pass for that time ({exc.reason})")


def _which_community(request: web.Request, exc: model.WhichCommunity) -> web.Response:
    # the names of the owner's own communities only: the assistant asks which one is meant
    return web.json_response({"error": "which_community", "message": str(exc), "choices": exc.names}, status=409)


def _claimed(request: web.Request, exc: model.Claimed) -> web.Response:
    # the colleague's username: the console shows who to talk to (a lead may force it)
    return web.json_response({"error": "claimed", "message": str(exc), "assignee": exc.assignee}, status=409)


def _unusable_file(request: web.Request, exc: imports.ImportFileError) -> web.Response:
    answer: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.missing:
        answer["missing"] = exc.missing
    return web.json_response(answer, status=400)


def _rows_rejected(request: web.Request, exc: imports.RowsRejected) -> web.Response:
    return web.json_response(
        {
            "error": "rejected_rows",
            "message": f"{len(exc.rejected)} rows are wrong; nothing was imported. Fix them and upload again.",
            "rejected": exc.rejected[:MAX_REPORTED],
            "rejected_count": len(exc.rejected),
            "accepted": exc.accepted,
            "dry_run": exc.dry_run,
        },
        status=422,
    )


def _bad_credentials(request: web.Request, exc: model.BadCredentials) -> web.Response:
    return json_error(401, "bad_credentials", str(exc))


def _weak_password(request: web.Request, exc: model.WeakPassword) -> web.Response:
    return json_error(400, "weak_password", str(exc))


def _invite_invalid(request: web.Request, exc: model.InviteInvalid) -> web.Response:
    return json_error(400, "invite_invalid", str(exc))


def _refused(request: web.Request, exc: model.DomainError) -> web.Response:
    return json_error(409, request.get(CONFLICT_CODE, DEFAULT_CONFLICT_CODE), str(exc))


def _dialogue_unavailable(request: web.Request, exc: DialogueUnavailable) -> web.Response:
    # hand_back resumes the engine before it commits, so nothing changed: the conversation stays with staff
    return json_error(503, "dialogue_unavailable", "the assistant is not reachable; try again shortly")


ANSWERS: dict[type[Exception], Answer] = {
    model.NotFound: _not_found,
    handlers.NotBound: _not_bound,
    model.Forbidden: _forbidden,
    model.PassRefused: _pass_refused,
    model.WhichCommunity: _which_community,
    model.Claimed: _claimed,
    imports.ImportFileError: _unusable_file,
    imports.RowsRejected: _rows_rejected,
    model.BadCredentials: _bad_credentials,
    model.WeakPassword: _weak_password,
    model.InviteInvalid: _invite_invalid,
    model.DomainError: _refused,
    DialogueUnavailable: _dialogue_unavailable,
}


def answer_for(request: web.Request, exc: Exception) -> web.Response | None:
    """The answer of the nearest class of ``exc`` in ANSWERS, or None when it has none."""
    for cls in type(exc).__mro__:
        if (answer := ANSWERS.get(cls)) is not None:
            return answer(request, exc)
    return None


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer the domain's refusals; install inside ``errors_as_json``, which answers the rest."""
    try:
        return await handler(request)
    except (model.DomainError, DialogueUnavailable) as exc:
        answer = answer_for(request, exc)
        if answer is None:  # pragma: no cover - DomainError and DialogueUnavailable are in ANSWERS
            raise
        return answer
