"""Who can reach what: every staff route × every role and no token, and owners' reads of each other.

Protects: the staff routes are found by walking the public app's router (a route added later is
in the matrix without touching this file; an /api/ route that forgot its ``staff_only`` fails
here); without a token each is a 401, a role without the route's permission gets a 403, a role
with it is never refused (not 401, not 403 — the request itself may still be a 400 or 404).
Each role's calls go to things of their own (a ticket assigned to the technician, a colleague
whose token may be rotated), so no refusal comes from anything but the permission.

The matrix is written into SECURITY.md ("Who can reach what"); the test fails when the table
there is not what the code does. WUYE_WRITE_SECURITY=1 rewrites it.

Owners: with another owner's chat id, the web chat's updates and every read of the bot API
give nothing of the first owner's (their tickets, flat, phone, name, bills, mailbox).
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select

from backend_bridge.domain import commands, model
from backend_bridge.service_layer import views
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, ROOT, bearer, deliver

SECURITY = ROOT / "SECURITY.md"
START, END = "<!-- access-matrix:start -->", "<!-- access-matrix:end -->"
ROLES = [r.value for r in model.Role]
COLUMNS = ["no token", *ROLES]
# /api/ routes that are public by design (their own authentication, or none): see SECURITY.md
PUBLIC_API = {
    ("POST", "/api/chat"),
    ("GET", "/api/chat/{sender}/updates"),
    ("POST", "/api/external/{system}/webhook"),
}
_VARIABLE = re.compile(r"\{(\w+)(?::[^}]*)?\}")
# A body each route would accept from someone allowed to call it (a route not listed gets {}).
BODIES = {
    ("POST", "/api/tickets"): {"kind": "repair", "description": "代报修：楼道灯不亮", "building": "3"},
    ("POST", "/api/tickets/{number}/assign"): {"assignee": "{technician}"},
    ("POST", "/api/tickets/{number}/status"): {"status": "in_progress"},
    ("POST", "/api/tickets/{number}/comments"): {"note": "已联系业主"},
    ("POST", "/api/tickets/{number}/merge"): {"into": "{other_ticket}"},
    ("POST", "/api/conversations/{sender}/messages"): {"text": "您好，马上到"},
    ("POST", "/api/conversations/{sender}/notes"): {"text": "已回电"},
    ("POST", "/api/canned-replies"): {"title": "问候", "text": "您好"},
    ("POST", "/api/staff"): {"username": "{new_username}", "name": "新同事", "role": "agent"},
    ("PATCH", "/api/staff/{username}"): {"wecom_userid": "ZhangSan"},
    ("POST", "/api/staff/{username}/password"): {"password": "a-first-password"},
}


def staff_routes(app) -> list[tuple[str, str, str]]:
    """(method, path, permission) of every route guarded by ``staff_only``, from the router."""
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method == "HEAD" or path is None:
            continue
        permission = getattr(route.handler, "permission", None)
        if permission is not None:
            found.add((route.method, path, permission))
        elif path.startswith("/api/"):
            assert (route.method, path) in PUBLIC_API, f"{route.method} {path} is not guarded by staff_only"
    return sorted(found, key=lambda r: (r[1], r[0]))


def expected(permission: str, column: str) -> str:
    if column == "no token":
        return "401"
    return "✓" if model.Role(column) in model.PERMISSIONS[permission] else "403"


async def _member(client, username: str, role: str) -> dict[str, str]:
    resp = await client.post(
        "/api/staff", json={"username": username, "name": role, "role": role}, headers=bearer(ADMIN_TOKEN)
    )
    assert resp.status == 201, await resp.text()
    return bearer((await resp.json())["token"])


async def _targets(backend, client, tag: str, technician: str | None) -> dict[str, str]:
    """Things of this call's own to aim the route at: two tickets (the first assigned to
    ``technician``, the caller when a technician calls), a pass, a handed-off conversation, a
    dead notification, a colleague."""
    bus = backend.bus
    sender = f"webchat:owner-{tag}"
    await bus.handle(commands.BindSender(sender=sender, building="3", unit="2", room="501", phone="13800000501"))
    if technician is None:
        technician = f"tech_{tag}"
        await _member(client, technician, "technician")
    first = (await bus.handle(commands.OpenTicket(sender, "repair", "厨房漏水", "3", "2", "501"))).number
    other = (await bus.handle(commands.OpenTicket(sender, "repair", "门禁坏了", "3", "2", "501"))).number
    await bus.handle(commands.AssignTicket(first, technician, actor="admin"))
    start = backend.clock()
    code = (await bus.handle(commands.IssuePass(sender, "小王", start=start, end=None, time_kind="point"))).code
    await bus.handle(commands.HandOff(sender, "owner_asked"))
    async with backend.new_uow() as uow:
        newest = await uow.session.scalars(select(model.Notification).order_by(model.Notification.id.desc()))
        dead = newest.first()
        dead.status = model.NotificationStatus.DEAD
        await uow.commit()
        dead_id = dead.id
    colleague = f"colleague_{tag}"
    await _member(client, colleague, "agent")
    return {
        "number": first,
        "other_ticket": other,
        "code": code,
        "sender": sender,
        "id": str(dead_id),
        "username": colleague,
        "technician": technician,
        "new_username": f"new_{tag}",
    }


async def _call(client, method: str, path: str, permission: str, targets: dict[str, str], auth: dict):
    url = _VARIABLE.sub(lambda m: quote(targets[m[1]], safe=""), path)
    if permission == "imports":  # the file itself is the body; a dry run changes nothing
        data = "楼栋,单元,房号,姓名,手机\n3,2,501,张伟,13800000501\n".encode()
        return await client.post(url, params={"dry_run": "1"}, data=data, headers={**auth, "Content-Type": "text/csv"})
    body = {k: v.format(**targets) for k, v in BODIES.get((method, path), {}).items()}
    return await client.request(method, url, json=body, headers=auth)


async def test_every_staff_route_with_every_role_and_none(public_client, backend):
    routes = staff_routes(public_client.server.app)
    # the walk found them: every permission guards a route but "tickets.close", which the status
    # route checks itself for the moves a worker may not make (close, cancel, reopen)
    assert len(routes) >= 20 and {p for _, _, p in routes} == set(model.PERMISSIONS) - {"tickets.close"}
    observed: dict[tuple[str, str], dict[str, str]] = {(m, p): {} for m, p, _ in routes}
    calls = itertools.count()
    for column in COLUMNS:
        caller = f"{column.replace(' ', '_')}_caller"
        auth = {} if column == "no token" else await _member(public_client, caller, column)
        for method, path, permission in routes:
            assignee = caller if column == "technician" else None
            targets = await _targets(backend, public_client, f"c{next(calls)}", assignee)
            resp = await _call(public_client, method, path, permission, targets, auth)
            # a live stream (the console's events) never ends: its status and headers are the answer
            text = "" if resp.content_type == "text/event-stream" else await resp.text()
            resp.close()
            cell = str(resp.status) if resp.status in (401, 403) else "✓"
            assert cell == expected(permission, column), (column, method, path, resp.status, text)
            assert resp.status < 500, (column, method, path, text)
            observed[(method, path)][column] = cell
    table = matrix_table([(m, p, perm, observed[(m, p)]) for m, p, perm in routes])
    current = SECURITY.read_text(encoding="utf-8")
    written = _with_table(current, table)
    if os.environ.get("WUYE_WRITE_SECURITY") == "1":
        SECURITY.write_text(written, encoding="utf-8")
        current = written
    assert written == current, (
        "SECURITY.md's access matrix is not what the code does; rerun with WUYE_WRITE_SECURITY=1 "
        "and review the change:\n" + table
    )


def matrix_table(rows: list[tuple[str, str, str, dict[str, str]]]) -> str:
    lines = [
        "| route | permission | " + " | ".join(COLUMNS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    for method, path, permission, cells in rows:
        lines.append(f"| `{method} {path}` | {permission} | " + " | ".join(cells[c] for c in COLUMNS) + " |")
    return "\n".join(lines)


def _with_table(document: str, table: str) -> str:
    if START not in document or END not in document:
        raise AssertionError(f"SECURITY.md has no {START} … {END} section for the access matrix")
    head, rest = document.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


# Internal routes open to anything on loopback, and why: counters and histograms with no owner's
# data, in the form a Prometheus scraper reads without credentials (SECURITY.md, "What is logged").
OPEN_INTERNAL = {("GET", "/metrics")}


async def test_every_bot_api_route_needs_the_internal_token(internal_client):
    """The bot API trusts the sender id it is given, so nothing but the action server may call it."""
    routes = sorted(
        {
            (r.method, r.resource.get_info().get("path") or r.resource.get_info().get("formatter"))
            for r in internal_client.server.app.router.routes()
            if r.method != "HEAD"
        }
    )
    assert len(routes) >= 10
    for method, path in routes:
        if (method, path) in OPEN_INTERNAL:
            continue
        url = _VARIABLE.sub("x", path)
        for auth in ({}, bearer("not-the-token"), bearer(ADMIN_TOKEN)):
            resp = await internal_client.request(method, url, params={"sender": ZHANG}, json={}, headers=auth)
            assert resp.status == 401, (method, path, auth, await resp.text())


def test_the_matrix_says_what_the_permissions_say():
    """The table's expectation is PERMISSIONS itself: a technician never closes or imports."""
    assert expected("tickets.close", "technician") == "403"
    assert expected("imports", "admin") == "✓" and expected("imports", "supervisor") == "403"
    assert expected("tickets.read", "no token") == "401"


# -- owners' reads with another owner's id ------------------------------------------------------

ZHANG = "webchat:a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6"
STRANGER_USER = "f0E9d8C7b6A5f4E3d2C1b0A9f8E7d6C5"
STRANGER = f"webchat:{STRANGER_USER}"
# Bot API writes that name one owner's ticket or pass: another owner's id must change nothing.
NAMES_ONE = {"/bot/v1/tickets/{number}/chase", "/bot/v1/tickets/{number}/withdraw", "/bot/v1/passes/{code}/revoke"}


async def test_another_owners_id_reads_nothing_of_the_first_owners(public_client, internal_client, backend):
    bus = backend.bus
    await bus.handle(commands.BindSender(sender=ZHANG, building="3", unit="2", room="501", phone="13800000501"))
    number = (await bus.handle(commands.OpenTicket(ZHANG, "repair", "卫生间漏水很急", "3", "2", "501"))).number
    resp = await public_client.post(
        "/api/staff", json={"username": "shifu_li", "name": "李师傅", "role": "technician"}, headers=bearer(ADMIN_TOKEN)
    )
    assert resp.status == 201
    await bus.handle(commands.AssignTicket(number, "shifu_li", actor="admin"))
    start = backend.clock() + timedelta(hours=2)
    code = (await bus.handle(commands.IssuePass(ZHANG, "小王", start=start, end=None, time_kind="point"))).code
    await deliver(backend)  # the owner's mailbox now holds the ticket's updates
    markers = [number, "13800000501", "张伟", "卫生间漏水很急"]

    own = await public_client.get(f"/api/chat/{ZHANG.split(':', 1)[1]}/updates")
    assert own.status == 200 and (await own.json())["updates"], "the control: the owner sees their updates"
    other = await public_client.get(f"/api/chat/{STRANGER_USER}/updates")
    assert other.status == 200 and (await other.json())["updates"] == []

    bot = bearer(INTERNAL_TOKEN)
    reads = []
    for route in internal_client.server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method in ("GET", "POST") and path:
            reads.append((route.method, path))
    assert ("GET", "/bot/v1/tickets/{number}") in reads and ("GET", "/bot/v1/ledger") in reads
    for method, path in sorted(set(reads)):
        if method == "POST" and path not in NAMES_ONE:
            continue  # the other POSTs write for the caller's own id; these name a ticket or a pass
        url = path.replace("{number}", number).replace("{topic}", "property").replace("{code}", code)
        params = {"sender": STRANGER, "building": "3", "unit": "2", "room": "501"}
        if method == "GET":
            resp = await internal_client.get(url, params=params, headers=bot)
        else:
            resp = await internal_client.post(url, json={"sender": STRANGER}, headers=bot)
        text = await resp.text()
        assert resp.status < 500, (path, text)
        leaked = [m for m in markers if m in text]
        assert not leaked, (method, path, leaked, text)
    # the control: the owner's own id reads them, and nothing the stranger named was withdrawn or revoked
    resp = await internal_client.get(f"/bot/v1/tickets/{number}", params={"sender": ZHANG}, headers=bot)
    assert resp.status == 200 and number in await resp.text()
    assert (await resp.json())["status"] != "cancelled"
    assert (await views.check_pass(backend.new_uow(), code, start))["valid"] is True


def test_security_md_has_the_section():
    assert START in Path(SECURITY).read_text(encoding="utf-8")
