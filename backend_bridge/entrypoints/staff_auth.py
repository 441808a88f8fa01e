"""Who is calling the staff API, and may they: bearer tokens mapped to staff accounts and roles.

``WUYE_ADMIN_TOKEN`` is the built-in administrator (it creates the other accounts);
every other token belongs to one staff member and only its sha256 is stored. Rotating a
member's token or deactivating the member makes the old token unknown at once (the account is
read on every request). Unknown tokens get 401 and no data; a known member without the
permission gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from aiohttp import web

from backend_bridge.domain import model
from backend_bridge.entrypoints.http import Handler, bearer_token, json_error, token_matches, unauthorized
from backend_bridge.entrypoints.keys import ADMIN_TOKEN, BACKEND
from backend_bridge.service_layer.auth import token_hash

STAFF = web.RequestKey("staff", model.StaffMember)  # the member making the call


async def caller(request: web.Request) -> model.StaffMember | None:
    token = bearer_token(request)
    if token is None or len(token) > 256:
        return None
    if token_matches(token, request.app[ADMIN_TOKEN]):
        return model.StaffMember(
            model.BUILT_IN_ADMIN, "管理员", model.Role.ADMIN, "", datetime(2000, 1, 1, tzinfo=timezone.utc)
        )
    async with request.app[BACKEND].new_uow() as uow:
        member = await uow.staff.by_token_hash(token_hash(token))
    return member if member is not None and member.active else None


def staff_only(permission: str) -> Callable[[Handler], Handler]:
    """Decorator: 401 without a valid token, 403 without ``permission``; sets request[STAFF]."""
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
