"""The staff console (public port): its pages and assets, signing in and out, invites, passwords.

The console is static files under the top-level ``console/`` folder; its scripts call the staff
API (``/api/*``) with the session cookie this module sets (staff_auth.caller reads it). Pages
other than the login and invite pages need a session (else 302 to the login page); assets hold
no data and are public. Only regular files inside ``console/`` are served: the path is resolved
and checked, so ``..``, encoded or not, and links out of the folder are refused.

Sign-in failures are throttled per username and per client address (a window of failures,
connectors/ratelimit.py, counted in Redis for every gateway where it is configured; given to the
app by connectors/app.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from aiohttp import web

from backend_bridge.domain import commands, model
from backend_bridge.domain.staff_sessions import MAX_PASSWORD
from backend_bridge.entrypoints.http import client_address, json_error, own_origin, read_json, text_field
from backend_bridge.entrypoints.keys import ADMIN_TOKEN, BACKEND, TRUSTED_PROXIES
from backend_bridge.entrypoints.staff_auth import (
    COOKIE,
    SESSION,
    actor,
    caller,
    csrf_refused,
    managed_colleague,
    staff_only,
)
from backend_bridge.service_layer import results
from backend_bridge.service_layer.auth import token_hash

routes = web.RouteTableDef()

PAGES = ("index.html",)  # besides these, any other top-level *.html needs a session too
PUBLIC_PAGES = {"login.html", "invite.html"}
ASSET_DIRS = ("js", "css", "vendor")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
BAD_CREDENTIALS = "用户名或密码错误"


class FailureWindow(Protocol):
    """So many failures per key in a window (connectors.ratelimit): asked before an attempt,
    charged only when it fails."""

    async def seconds_left(self, key: str) -> float: ...

    async def failed(self, key: str) -> None: ...


@dataclass
class LoginThrottle:
    """5 failures per username and 30 per client address in 15 minutes (by default)."""

    per_username: FailureWindow
    per_client: FailureWindow

    def keys(self, username: str | None, client: str | None) -> list[tuple[FailureWindow, str]]:
        found: list[tuple[FailureWindow, str]] = []
        if username:
            found.append((self.per_username, f"user:{username.casefold()}"))
        if client:
            found.append((self.per_client, f"client:{client}"))
        return found

    async def wait(self, username: str | None, client: str | None) -> float:
        return max([await window.seconds_left(key) for window, key in self.keys(username, client)], default=0.0)

    async def failed(self, username: str | None, client: str | None) -> None:
        for window, key in self.keys(username, client):
            await window.failed(key)


CONSOLE_DIR = web.AppKey("console_dir", Path)
SECURE_COOKIE = web.AppKey("console_secure_cookie", bool)
THROTTLE = web.AppKey("console_throttle", LoginThrottle)


def setup(
    app: web.Application, *, console_dir: Path, secure_cookie: bool, throttle: LoginThrottle, trusted: frozenset[str]
) -> None:
    """Serve the console from ``console_dir`` on ``app`` (the public app)."""
    app[CONSOLE_DIR] = console_dir
    app[SECURE_COOKIE] = secure_cookie
    app[THROTTLE] = throttle
    app[TRUSTED_PROXIES] = trusted
    app.on_response_prepare.append(_console_headers)
    app.add_routes(routes)


async def _console_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every console answer (pages, assets, its API, the live stream, errors) gets the CSP and
    friends; pages and API answers are never cached (they show one member's data)."""
    if not (request.path == "/console" or request.path.startswith("/console/")):
        return
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    asset = request.path.startswith(tuple(f"/console/{d}/" for d in ASSET_DIRS))
    response.headers["Cache-Control"] = "no-cache" if asset else "no-store"


# -- pages and assets ----------------------------------------------------------------------------


def _file(request: web.Request, relative: str) -> Path:
    """The regular file ``relative`` names inside the console folder, or a 404: resolved first,
    so no ``..`` (however encoded) nor a link leads out; hidden files are never served."""
    root = request.app[CONSOLE_DIR].resolve()
    parts = relative.split("/")
    if not relative or "\\" in relative or "\x00" in relative or any(p.startswith(".") or not p for p in parts):
        raise web.HTTPNotFound()
    try:
        path = (root / relative).resolve()
        found = path.is_relative_to(root) and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, …
        found = False
    if not found:
        raise web.HTTPNotFound()
    return path


async def _page(request: web.Request, name: str) -> web.StreamResponse:
    if name not in PUBLIC_PAGES and await _session_member(request) is None:
        raise web.HTTPFound("/console/login")
    return web.FileResponse(_file(request, name))


async def _session_member(request: web.Request) -> model.StaffMember | None:
    """The member signed in with the cookie (a page is a GET: no CSRF question arises)."""
    return await caller(request) if request.cookies.get(COOKIE) else None


@routes.get("/console")
async def console_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


@routes.get("/console/")
async def console_index(request: web.Request) -> web.StreamResponse:
    return await _page(request, "index.html")


@routes.get("/console/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, "login.html")


@routes.get("/console/invite")
async def invite_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, "invite.html")


@routes.get(r"/console/{path:(?!api/).+}")
async def console_file(request: web.Request) -> web.StreamResponse:
    """An asset (js/, css/, vendor/: public) or a top-level page (*.html: signed in only)."""
    relative = request.match_info["path"]
    if relative.split("/")[0] in ASSET_DIRS:
        return web.FileResponse(_file(request, relative))
    if "/" not in relative and relative.endswith(".html"):
        return await _page(request, relative)
    raise web.HTTPNotFound()


# -- signing in and out --------------------------------------------------------------------------


def _client(request: web.Request) -> str | None:
    return client_address(request, request.app.get(TRUSTED_PROXIES, frozenset()))


def _from_elsewhere(request: web.Request) -> bool:
    """A sign-in posted by another site's page (login CSRF): its Origin (or Referer) is not ours."""
    expected = own_origin(request, request.app.get(TRUSTED_PROXIES, frozenset()))
    origin = request.headers.get("Origin")
    if origin is None and (referer := request.headers.get("Referer")) is not None:
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin is not None and origin.lower() != expected


def _too_many(wait: float) -> web.Response:
    seconds = max(1, math.ceil(wait))
    message = f"尝试次数过多，请 {math.ceil(seconds / 60)} 分钟后再试"
    return json_error(429, "too_many_attempts", message, **{"Retry-After": str(seconds)})


def _signed_in(request: web.Request, started: results.SessionStarted) -> web.Response:
    response = web.json_response(
        {"username": started.username, "name": started.name, "role": started.role, "csrf": started.csrf}
    )
    response.set_cookie(
        COOKIE, started.token, path="/", httponly=True, samesite="Strict", secure=request.app[SECURE_COOKIE]
    )
    return response


@routes.post("/console/login")
async def log_in(request: web.Request) -> web.Response:
    """{username, password} → the member and the CSRF token, with the session cookie; the same
    401 for an unknown user and a wrong password; 429 once the failures pile up."""
    if _from_elsewhere(request):
        raise csrf_refused()
    body = await read_json(request)
    username = text_field(body, "username", max_len=64)
    password = body.get("password")
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
        password = ""  # still checked, and refused, like any wrong password
    throttle, client = request.app[THROTTLE], _client(request)
    wait = await throttle.wait(username, client)
    if wait > 0:
        return _too_many(wait)
    command = commands.LogIn(username, password, request.app[ADMIN_TOKEN], client)
    try:
        started = await request.app[BACKEND].bus.handle(command)
    except model.BadCredentials:
        await throttle.failed(username, client)
        return json_error(401, "bad_credentials", BAD_CREDENTIALS)
    return _signed_in(request, started)


@routes.post("/console/logout")
async def log_out(request: web.Request) -> web.Response:
    """204 and the cookie cleared; the session is revoked in the store (the cookie is worthless)."""
    cookie = request.cookies.get(COOKIE)
    member = await _session_member(request)  # a foreign page may not sign the member out (403 csrf)
    if member is not None and cookie:
        await request.app[BACKEND].bus.handle(commands.LogOut(token_hash(cookie), member.username))
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/", secure=request.app[SECURE_COOKIE], httponly=True, samesite="Strict")
    return response


@routes.post("/console/invite")
async def accept_invite(request: web.Request) -> web.Response:
    """{token, password}: the invited member's first password; they are signed in."""
    if _from_elsewhere(request):
        raise csrf_refused()
    body = await read_json(request)
    token = text_field(body, "token", max_len=128)
    password = body.get("password")
    if not isinstance(password, str):
        raise model.WeakPassword(f"密码至少 {model.MIN_PASSWORD} 个字符")
    throttle, client = request.app[THROTTLE], _client(request)
    wait = await throttle.wait(None, client)
    if wait > 0:
        return _too_many(wait)
    try:
        started = await request.app[BACKEND].bus.handle(commands.AcceptInvite(token, password, client))
    except model.InviteInvalid:
        await throttle.failed(None, client)
        raise
    return _signed_in(request, started)


# -- the signed-in member ------------------------------------------------------------------------


async def _console_member(request: web.Request) -> model.StaffMember:
    """The member of the console session (or bearer token); 401 JSON without one."""
    member = await caller(request)
    if member is None:
        raise web.HTTPUnauthorized(
            text='{"error": "unauthorized", "message": "请先登录"}', content_type="application/json"
        )
    return member


@routes.get("/console/api/me")
async def me(request: web.Request) -> web.Response:
    """Who is signed in, what they may do (the page shows only that), and the CSRF token."""
    member = await _console_member(request)
    session = request.get(SESSION)
    return web.json_response(
        {
            "username": member.username,
            "name": member.name,
            "role": member.role.value,
            "communities": list(member.communities),
            "permissions": sorted(p for p in model.PERMISSIONS if member.may(p)),
            "csrf": session.csrf if session is not None else None,
        }
    )


@routes.post("/console/api/password")
async def change_password(request: web.Request) -> web.Response:
    """{old, new}: the member's own password; their other sessions end, this one stays."""
    member = await _console_member(request)
    body = await read_json(request)
    old, new = body.get("old"), body.get("new")
    if not isinstance(old, str) or not isinstance(new, str):
        raise model.WeakPassword(f"密码至少 {model.MIN_PASSWORD} 个字符")
    throttle, client = request.app[THROTTLE], _client(request)
    wait = await throttle.wait(member.username, client)
    if wait > 0:
        return _too_many(wait)
    cookie = request.cookies.get(COOKIE)
    command = commands.ChangeOwnPassword(
        member.username, old, new, token_hash(cookie) if cookie and request.get(SESSION) else ""
    )
    try:
        await request.app[BACKEND].bus.handle(command)
    except model.BadCredentials:
        await throttle.failed(member.username, client)
        return json_error(403, "bad_credentials", "原密码不正确")
    return web.Response(status=204)


# -- administrators: invites and first passwords (the staff API, perm "staff") -------------------


@routes.post("/api/staff/{username}/invite")
@staff_only("staff")
async def invite(request: web.Request) -> web.Response:
    """A one-time link for the member to choose a password (72 hours), shown this once."""
    command = commands.InviteStaff(await managed_colleague(request), actor(request))
    issued: results.InviteIssued = await request.app[BACKEND].bus.handle(command)
    return web.json_response({"link": f"/console/invite#{issued.token}", "expires_at": issued.expires_at.isoformat()})


@routes.post("/api/staff/{username}/password")
@staff_only("staff")
async def set_password(request: web.Request) -> web.Response:
    """{password}: an administrator sets the member's password; the member's sessions end."""
    username = await managed_colleague(request)
    body = await read_json(request)
    password = body.get("password")
    if not isinstance(password, str):
        raise model.WeakPassword(f"密码至少 {model.MIN_PASSWORD} 个字符")
    await request.app[BACKEND].bus.handle(commands.SetStaffPassword(username, password, actor(request)))
    return web.Response(status=204)
