"""HTTP plumbing shared by every aiohttp entrypoint: JSON errors, bearer auth, body parsing.

Bad input gets a 4xx with a JSON body saying what was wrong, never a stack trace.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from backend_bridge.domain.model import MAX_CONVERSATION_ID

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bool_field(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false")
    return value


def json_error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers or None)


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (any case of the scheme), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; bytes, so any header text compares. An unset token never matches."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def unauthorized(realm: str) -> web.Response:
    return json_error(
        401, "unauthorized", "a valid bearer token is required", **{"WWW-Authenticate": f'Bearer realm="{realm}"'}
    )


def require_bearer(token_key: web.AppKey[str], realm: str) -> Callable[[Handler], Handler]:
    """Decorator: 401 with no data unless ``Authorization: Bearer <token>`` matches the app's token."""

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            token = bearer_token(request)
            if token is None or not token_matches(token, request.app[token_key]):
                return unauthorized(realm)
            return await handler(request)

        guarded.__name__ = handler.__name__
        return guarded

    return decorate


def client_address(request: web.Request, trusted_proxies: frozenset[str]) -> str | None:
    """The client's address for rate limits: the connection's, or the one a trusted proxy put
    last in X-Forwarded-For; None for a local client that came straight in (tests, tools on the
    host). One rule for the web chat's limits and the console's sign-in throttle."""
    remote = request.remote or ""
    if remote not in trusted_proxies:
        return remote
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    return forwarded[-1] if forwarded else None


def own_origin(request: web.Request, trusted_proxies: frozenset[str]) -> str:
    """``scheme://host`` as the browser sees this server: behind a trusted proxy that terminates
    TLS, the scheme it names in X-Forwarded-Proto (the Host header is passed through)."""
    scheme = request.scheme
    if (request.remote or "") in trusted_proxies:
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            scheme = forwarded
    return f"{scheme}://{request.host}".lower()


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; BadRequest for anything else (binary junk included)."""
    if request.content_length == 0:
        raise BadRequest("empty body; send a JSON object")
    return json_object(await request.read())


def json_object(raw: bytes) -> dict[str, Any]:
    """Bytes that must be a UTF-8 JSON object (a signed webhook reads its raw body first).

    Hostile JSON is a 400 like any other bad body: nesting deeper than the parser's
    recursion limit (``[[[[…``) and integers past Python's 4,300-digit conversion limit
    (a ValueError that is not a JSONDecodeError). Lone surrogates (``"\\ud800"``) parse;
    the field helpers below refuse or drop them, with NUL, in the fields a route reads.
    """
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8 JSON") from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        message = "the body is not valid UTF-8 JSON"
        if not isinstance(exc, json.JSONDecodeError):
            message = "the body holds a number too long to read"
        raise BadRequest(message) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


# A conversation id is "<channel>:<the channel's own user id>", at most MAX_CONVERSATION_ID long:
# the width of every column that stores one. The user id takes every channel's shape: the web
# chat's random id (webchat:3f2a…), a WeChat openid (wechat:oAbC-_12…), a 微信客服 external_userid
# (wechat_kf:wmXXXX…), a phone number (sms:+8613800000000).
_CONVERSATION_ID = re.compile(r"[a-z][a-z0-9_]{1,31}:[A-Za-z0-9_.:@+-]{1,158}")


def conversation_id(value: object) -> str:
    """The validated conversation id, or BadRequest (fullmatch: no trailing newline slips through)."""
    if not isinstance(value, str) or len(value) > MAX_CONVERSATION_ID or not _CONVERSATION_ID.fullmatch(value):
        raise BadRequest("'sender' must look like '<channel>:<id>' (letters, digits, . _ : @ + -)")
    return value


# PostgreSQL refuses NUL in text; a lone surrogate cannot be encoded as UTF-8 at all (store, log, answer).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def text_field(
    body: dict[str, Any], name: str, *, required: bool = True, max_len: int = 2000, free_text: bool = False
) -> str | None:
    """A string (or integer) field, never holding NUL or a lone surrogate.

    ``free_text`` (a description, a note, a message: words someone typed) has them dropped:
    an invisible character must not cost the owner their report. Anything else (ids, codes,
    names, statuses, times) is refused with a 400: dropping a character there would make a
    different id, which could match, or de-duplicate against, someone else's.
    """
    value = body.get(name)
    if isinstance(value, str) and _UNSTORABLE.search(value):
        if not free_text:
            raise BadRequest(f"'{name}' must not contain NUL characters or lone surrogates")
        value = _UNSTORABLE.sub("", value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadRequest(f"'{name}' must be a string")
    value = str(value)
    if len(value) > max_len:
        raise BadRequest(f"'{name}' is longer than {max_len} characters")
    return value


def time_field(body: dict[str, Any], name: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 time with a UTC offset (a naive time would be read in the server's zone)."""
    value = text_field(body, name, required=required, max_len=40)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{name}' must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"'{name}' needs a UTC offset")
    return parsed


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query parameter; BadRequest outside [low, high] or when not a number."""
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(f"'{name}' must be between {low} and {high}")
    return value


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn BadRequest, aiohttp's own HTTP errors (404, 405, 413) and anything unexpected
    into JSON answers; the unexpected is logged (masked) and never shown to the caller.

    The domain's refusals are answered by entrypoints/errors.py's middleware, installed inside
    this one; a KeyError or other LookupError from a bug is unexpected here, so a 500.
    """
    try:
        return await handler(request)
    except BadRequest as exc:
        return json_error(400, "bad_request", exc.message)
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "too_large", "the request body is too large")
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, "internal", "something went wrong on our side; please try again")
