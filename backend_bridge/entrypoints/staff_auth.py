"""Who is calling the staff API, and may they: bearer tokens (and the console's session cookie)
mapped to staff accounts and roles.

``WUYE_ADMIN_TOKEN`` is the built-in administrator (it creates the other accounts);
every other token belongs to one staff member and only its sha256 is stored. Rotating a
member's token or deactivating the member makes the old token unknown at once (the account is
read on every request). Unknown tokens get 401 and no data; a known member without the
permission gets 403. The console's browser calls the same routes with its session cookie
(service_layer/staff_access.py); a change made so must also prove it comes from the console
page (CSRF token and origin), because a browser sends cookies with any site's request.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web

from backend_bridge.domain import model
from backend_bridge.entrypoints.http import Handler, bearer_token, json_error, own_origin, token_matches, unauthorized
from backend_bridge.entrypoints.keys import ADMIN_TOKEN, BACKEND, TRUSTED_PROXIES
from backend_bridge.service_layer.auth import token_hash
from backend_bridge.service_layer.staff_access import built_in_admin, resume_session

STAFF = web.RequestKey("staff", model.StaffMember)  # the member making the call
SESSION = web.RequestKey("staff_session", model.StaffSession)  # set when the call came with the console cookie
COOKIE = "wuye_console"  # the console's session cookie: 32 random bytes, only their sha256 is stored
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_refused() -> web.HTTPForbidden:
    """403 {"error": "csrf"}: raised, so every route that asks ``caller`` refuses the same way."""
    body = json.dumps({"error": "csrf", "message": "missing or wrong X-CSRF-Token, or another site's request"})
    return web.HTTPForbidden(text=body, content_type="application/json")


def _same_site(request: web.Request, session: model.StaffSession) -> bool:
    """A change made with the cookie carries the session's CSRF token (which another site cannot
    read) and, when the browser names where the request comes from, comes from this origin."""
    given = request.headers.get("X-CSRF-Token", "")
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), session.csrf.encode()):
        return False
    expected = own_origin(request, request.app.get(TRUSTED_PROXIES, frozenset()))
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() == expected
    referer = request.headers.get("Referer")
    if referer is not None:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() == expected
    return True


async def caller(request: web.Request) -> model.StaffMember | None:
    """The member calling: a bearer token as always, else the console's session cookie (then a
    change needs the CSRF token and this origin, else 403 {"error": "csrf"} is raised). None: 401."""
    token = bearer_token(request)
    if token is not None:
        return await _token_caller(request, token)
    cookie = request.cookies.get(COOKIE)
    if not cookie or len(cookie) > 256:
        return None
    backend = request.app[BACKEND]
    found = await resume_session(backend.new_uow(), cookie, backend.clock(), request.app[ADMIN_TOKEN])
    if found is None:
        return None
    member, session = found
    if request.method not in SAFE_METHODS and not _same_site(request, session):
        raise csrf_refused()
    request[SESSION] = session
    return member


async def _token_caller(request: web.Request, token: str) -> model.StaffMember | None:
    if len(token) > 256:
        return None
    if token_matches(token, request.app[ADMIN_TOKEN]):
        return built_in_admin()
    async with request.app[BACKEND].new_uow() as uow:
        member = await uow.staff.by_token_hash(token_hash(token))
    return member if member is not None and member.active else None


def staff_only(permission: str) -> Callable[[Handler], Handler]:
    """Decorator: 401 without a valid token or session, 403 without ``permission``; sets request[STAFF]."""
    if permission not in model.PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            member = await caller(request)
            if member is None:
                return unauthorized("staff")
            if not member.may(permission):
                return json_error(403, "forbidden", f"the {member.role.value} role may not do this")
            request[STAFF] = member
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.permission = permission  # read by the access matrix (tests/backend/test_access_matrix.py)
        return guarded

    return decorate


def actor(request: web.Request) -> str:
    """How the caller appears in ticket histories: their username."""
    return request[STAFF].username


def scope(request: web.Request) -> list[str] | None:
    """The communities the caller sees (codes), None when company-wide: every staff view takes it."""
    member: model.StaffMember = request[STAFF]
    return None if member.company_wide else list(member.communities)


def community_param(request: web.Request) -> str | None:
    """``?community=<code>`` narrowed to the caller's scope: another community's code is a 404, as
    if it did not exist (a scoped member learns nothing about the company's other communities)."""
    code = request.query.get("community")
    if not code:
        return None
    if not model.valid_code(code) or not request[STAFF].sees(code):
        raise model.NotFound("community", code)
    return code


async def managed_colleague(request: web.Request) -> str:
    """The ``{username}`` of the path, a member the caller may manage: within the caller's
    communities (else 404, as for a member who does not exist)."""
    username = request.match_info["username"]
    async with request.app[BACKEND].new_uow() as uow:
        member = await uow.staff.by_username(username)
    if member is None or not request[STAFF].covers(member):
        raise model.NotFound("staff member", username)
    return username
