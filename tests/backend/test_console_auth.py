"""The staff console's sign-in, over real HTTP on 127.0.0.1 with a real SQLite store (and one run
of the sessions on PostgreSQL).

Protects: one answer for an unknown user and a wrong password; the cookie's flags; a change made
with the cookie refused without the session's CSRF token or from another origin (a bearer token
needs neither); sessions ending at once on logout, deactivation and a new password, and by
themselves when idle 12 hours or 7 days old; invites used once and expiring; sign-in failures
throttled with a 429; console pages only with a session (302 to the login page), its API a 401;
nothing outside console/ reachable, however the path is spelt; the built-in administrator
signing in with WUYE_ADMIN_TOKEN.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from yarl import URL

from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.staff_auth import COOKIE
from tests.conftest import ADMIN_TOKEN, CONTENT, RecordingDialogue, bearer

ADMIN = bearer(ADMIN_TOKEN)
PASSWORD = "correct-horse-battery"
README_MARK = "# "  # README.md starts with a heading; a page of ours never does


@pytest.fixture
def database_url(tmp_path):
    """SQLite only here (argon2 makes every sign-in cost); the PostgreSQL run is its own test below."""
    return f"sqlite:///{tmp_path / 'wuye.db'}"


@pytest.fixture
def console_dir(tmp_path):
    root = tmp_path / "console"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>工作台</title>", encoding="utf-8")
    (root / "login.html").write_text("<!doctype html><title>登录</title>", encoding="utf-8")
    (root / "invite.html").write_text("<!doctype html><title>设置密码</title>", encoding="utf-8")
    (root / "js" / "app.js").write_text("export const ok = true;\n", encoding="utf-8")
    (root / ".secret.html").write_text("hidden", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("# outside the console", encoding="utf-8")
    return root


async def _client(
    aiohttp_client, backend, console_dir, unused_tcp_port_factory, admin_token=ADMIN_TOKEN, redis=None, **console
):
    from connectors.app import public_app
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from connectors.settings import ConsoleSettings

    http = aiohttp.ClientSession()
    rasa = RasaClient(f"http://127.0.0.1:{unused_tcp_port_factory()}", "rasa-token", http, timeout=2)
    app = public_app(
        backend,
        Gateway(backend, rasa),
        admin_token=admin_token,
        rasa=rasa,
        http=http,
        actions_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
        console=ConsoleSettings(**console),
        console_dir=console_dir,
        redis=redis,
    )
    app.on_cleanup.append(lambda _app: http.close())
    return await aiohttp_client(app)


@pytest.fixture
async def client(aiohttp_client, backend, console_dir, unused_tcp_port_factory):
    return await _client(aiohttp_client, backend, console_dir, unused_tcp_port_factory)


def origin(client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def add_member(client, username: str, role: str = "agent", password: str | None = PASSWORD) -> None:
    resp = await client.post(
        "/api/staff", json={"username": username, "name": f"{username}名", "role": role}, headers=ADMIN
    )
    assert resp.status == 201, await resp.text()
    if password is not None:
        resp = await client.post(f"/api/staff/{username}/password", json={"password": password}, headers=ADMIN)
        assert resp.status == 204, await resp.text()


async def login(client, username: str, password: str = PASSWORD, **headers) -> tuple[str, str]:
    """Sign in; (cookie value, csrf). The client's own jar is emptied: each call names its cookie."""
    resp = await client.post("/console/login", json={"username": username, "password": password}, headers=headers)
    assert resp.status == 200, await resp.text()
    cookie = resp.cookies[COOKIE].value
    client.session.cookie_jar.clear()
    return cookie, (await resp.json())["csrf"]


def session(cookie: str, csrf: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"Cookie": f"{COOKIE}={cookie}", **extra}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


async def me(client, cookie: str) -> int:
    resp = await client.get("/console/api/me", headers=session(cookie))
    return resp.status


# -- signing in ---------------------------------------------------------------------------------


async def test_the_built_in_admin_signs_in_with_the_admin_token(client):
    resp = await client.post("/console/login", json={"username": "admin", "password": ADMIN_TOKEN})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["username"], body["role"]) == ("admin", "admin") and len(body["csrf"]) >= 32
    morsel = resp.cookies[COOKIE]
    assert len(morsel.value) >= 40
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/"
    assert not morsel["secure"]
    client.session.cookie_jar.clear()
    resp = await client.get("/console/api/me", headers=session(morsel.value))
    assert resp.status == 200
    mine = await resp.json()
    assert mine["csrf"] == body["csrf"] and "staff" in mine["permissions"] and mine["communities"] == []
    assert resp.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_the_cookie_is_secure_when_configured(aiohttp_client, backend, console_dir, unused_tcp_port_factory):
    client = await _client(aiohttp_client, backend, console_dir, unused_tcp_port_factory, secure_cookie=True)
    resp = await client.post("/console/login", json={"username": "admin", "password": ADMIN_TOKEN})
    assert resp.status == 200 and resp.cookies[COOKIE]["secure"]


async def test_a_member_signs_in_and_sees_their_permissions(client):
    await add_member(client, "wang", "technician")
    cookie, csrf = await login(client, "wang")
    resp = await client.get("/console/api/me", headers=session(cookie))
    body = await resp.json()
    assert (body["username"], body["name"], body["role"], body["csrf"]) == ("wang", "wang名", "technician", csrf)
    assert body["permissions"] == ["tickets.read", "tickets.work"]


async def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    await add_member(client, "wang")
    await add_member(client, "li", password=None)  # no password yet: refused the same way
    answers = []
    for username, password in (("wang", "wrong-password!"), ("nobody", PASSWORD), ("li", PASSWORD), ("admin", "x")):
        resp = await client.post("/console/login", json={"username": username, "password": password})
        answers.append((resp.status, await resp.json(), COOKIE in resp.cookies))
    expected = (401, {"error": "bad_credentials", "message": "用户名或密码错误"}, False)
    assert answers == [expected] * 4


async def test_a_login_posted_from_another_site_is_refused(client):
    await add_member(client, "wang")
    resp = await client.post(
        "/console/login", json={"username": "wang", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403 and (await resp.json())["error"] == "csrf"
    await login(client, "wang", Origin=origin(client))


# -- CSRF -------------------------------------------------------------------------------------------


async def test_changes_with_the_cookie_need_the_csrf_token_and_our_origin(client):
    cookie, csrf = await login(client, "admin", ADMIN_TOKEN)
    new = {"name": "新同事", "role": "agent"}
    cases = [
        session(cookie),
        session(cookie, "wrong-token"),
        session(cookie, csrf, Origin="https://evil.example"),
        session(cookie, csrf, Origin="null"),
        session(cookie, csrf, Referer="https://evil.example/console/"),
    ]
    for n, headers in enumerate(cases):
        resp = await client.post("/api/staff", json={**new, "username": f"x{n}"}, headers=headers)
        assert resp.status == 403, (headers, await resp.text())
        assert (await resp.json())["error"] == "csrf"
    resp = await client.post(
        "/api/staff", json={**new, "username": "ok1"}, headers=session(cookie, csrf, Origin=origin(client))
    )
    assert resp.status == 201, await resp.text()
    referer = f"{origin(client)}/console/"
    resp = await client.post(
        "/api/staff", json={**new, "username": "ok2"}, headers=session(cookie, csrf, Referer=referer)
    )
    assert resp.status == 201
    # reads need no token; a bearer token needs none either
    assert (await client.get("/api/staff", headers=session(cookie))).status == 200
    resp = await client.post("/api/staff", json={**new, "username": "ok3"}, headers=ADMIN)
    assert resp.status == 201
    # no session, no token: 401 as before
    assert (await client.get("/api/staff")).status == 401
    assert (await client.get("/api/staff", headers=session("not-a-session"))).status == 401


async def test_behind_a_trusted_proxy_the_forwarded_scheme_is_our_origin(client):
    cookie, csrf = await login(client, "admin", ADMIN_TOKEN)
    https_origin = origin(client).replace("http://", "https://")
    headers = session(cookie, csrf, Origin=https_origin, **{"X-Forwarded-Proto": "https"})
    resp = await client.post("/api/staff", json={"username": "p1", "name": "甲", "role": "agent"}, headers=headers)
    assert resp.status == 201, await resp.text()


# -- sessions end -----------------------------------------------------------------------------------


async def test_logout_revokes_the_session_and_clears_the_cookie(client):
    await add_member(client, "wang")
    cookie, csrf = await login(client, "wang")
    resp = await client.post("/console/logout", headers=session(cookie))
    assert resp.status == 403  # another site may not sign the member out
    resp = await client.post("/console/logout", headers=session(cookie, csrf))
    assert resp.status == 204
    assert resp.cookies[COOKIE].value == ""
    assert await me(client, cookie) == 401


async def test_deactivation_ends_the_members_sessions(client):
    await add_member(client, "wang")
    cookie, _ = await login(client, "wang")
    assert await me(client, cookie) == 200
    assert (await client.post("/api/staff/wang/deactivate", headers=ADMIN)).status == 200
    assert await me(client, cookie) == 401
    resp = await client.post("/console/login", json={"username": "wang", "password": PASSWORD})
    assert resp.status == 401


async def test_an_admin_setting_a_password_ends_the_members_sessions(client):
    await add_member(client, "wang")
    cookie, _ = await login(client, "wang")
    resp = await client.post("/api/staff/wang/password", json={"password": "short"}, headers=ADMIN)
    assert resp.status == 400 and (await resp.json())["error"] == "weak_password"
    assert await me(client, cookie) == 200
    resp = await client.post("/api/staff/wang/password", json={"password": "another-password-2"}, headers=ADMIN)
    assert resp.status == 204
    assert await me(client, cookie) == 401
    resp = await client.post("/console/login", json={"username": "wang", "password": PASSWORD})
    assert resp.status == 401
    await login(client, "wang", "another-password-2")


async def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(client):
    await add_member(client, "wang")
    here, csrf = await login(client, "wang")
    elsewhere, _ = await login(client, "wang")
    resp = await client.post(
        "/console/api/password",
        json={"old": "not-my-password", "new": "brand-new-password"},
        headers=session(here, csrf),
    )
    assert resp.status == 403 and (await resp.json())["error"] == "bad_credentials"
    resp = await client.post(
        "/console/api/password", json={"old": PASSWORD, "new": "brand-new-password"}, headers=session(here)
    )
    assert resp.status == 403 and (await resp.json())["error"] == "csrf"
    resp = await client.post(
        "/console/api/password", json={"old": PASSWORD, "new": "brand-new-password"}, headers=session(here, csrf)
    )
    assert resp.status == 204
    assert (await me(client, here), await me(client, elsewhere)) == (200, 401)
    await login(client, "wang", "brand-new-password")


async def test_sessions_end_after_12_idle_hours_and_after_7_days(client, clock):
    await add_member(client, "wang")
    idle, _ = await login(client, "wang")
    clock.advance(hours=11)
    assert await me(client, idle) == 200  # used: the idle timeout slides
    clock.advance(hours=11)
    assert await me(client, idle) == 200
    clock.advance(hours=12, minutes=1)
    assert await me(client, idle) == 401

    busy, _ = await login(client, "wang")
    for _ in range(16):  # used every 10 hours: never idle, yet over after 7 days
        clock.advance(hours=10)
        assert await me(client, busy) == 200
    clock.advance(hours=10)  # 170 hours
    assert await me(client, busy) == 401


# -- invites ----------------------------------------------------------------------------------------


async def test_an_invite_is_used_once_and_expires_after_72_hours(client, clock):
    await add_member(client, "wang", password=None)
    resp = await client.post("/api/staff/wang/invite", headers=ADMIN)
    assert resp.status == 200, await resp.text()
    issued = await resp.json()
    assert issued["link"].startswith("/console/invite#") and issued["expires_at"].startswith("2026-11-24")
    token = issued["link"].split("#", 1)[1]
    resp = await client.post("/console/invite", json={"token": token, "password": "short"})
    assert resp.status == 400 and (await resp.json())["error"] == "weak_password"
    resp = await client.post("/console/invite", json={"token": token, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["username"] == "wang" and resp.cookies[COOKIE].value
    client.session.cookie_jar.clear()
    resp = await client.post("/console/invite", json={"token": token, "password": "someone-elses-pw"})
    assert resp.status == 400 and (await resp.json())["error"] == "invite_invalid"
    await login(client, "wang")

    late = (await (await client.post("/api/staff/wang/invite", headers=ADMIN)).json())["link"].split("#", 1)[1]
    clock.advance(hours=72, seconds=1)
    resp = await client.post("/console/invite", json={"token": late, "password": "too-late-password"})
    assert resp.status == 400 and (await resp.json())["error"] == "invite_invalid"
    await login(client, "wang")  # the expired invite changed nothing


# -- throttling -------------------------------------------------------------------------------------


async def test_five_failures_for_a_username_throttle_it(client):
    await add_member(client, "wang")
    for _ in range(5):
        resp = await client.post("/console/login", json={"username": "wang", "password": "wrong-password!"})
        assert resp.status == 401
    resp = await client.post("/console/login", json={"username": "wang", "password": PASSWORD})
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 60
    assert (await resp.json())["error"] == "too_many_attempts"
    await add_member(client, "li")
    await login(client, "li")  # another username is not held up


async def test_thirty_failures_from_one_address_throttle_it(client):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}  # the test client is on loopback: a trusted proxy
    for n in range(30):
        resp = await client.post(
            "/console/login", json={"username": f"guess{n}", "password": "wrong-password!"}, headers=forwarded
        )
        assert resp.status == 401
    resp = await client.post("/console/login", json={"username": "admin", "password": ADMIN_TOKEN}, headers=forwarded)
    assert resp.status == 429 and "Retry-After" in resp.headers
    await login(client, "admin", ADMIN_TOKEN, **{"X-Forwarded-For": "203.0.113.10"})


async def test_failures_on_one_gateway_count_on_every_gateway_sharing_redis(
    aiohttp_client, backend, console_dir, unused_tcp_port_factory, redis_url
):
    """Two gateways behind one balancer, one Redis: a guesser alternating between them gets the
    5 tries of one, not 10; Redis holds no username."""
    import redis.asyncio as aioredis

    shared = aioredis.Redis.from_url(redis_url)

    async def forget() -> None:
        for key in await shared.keys("wuye:signin:*"):
            await shared.delete(key)

    try:
        await forget()
        one, two = [
            await _client(aiohttp_client, backend, console_dir, unused_tcp_port_factory, redis=shared) for _ in range(2)
        ]
        await add_member(one, "zhao")
        for n in range(5):
            resp = await (one, two)[n % 2].post(
                "/console/login", json={"username": "zhao", "password": "wrong-password!"}
            )
            assert resp.status == 401
        for gateway in (one, two):
            resp = await gateway.post("/console/login", json={"username": "zhao", "password": PASSWORD})
            assert resp.status == 429 and int(resp.headers["Retry-After"]) > 60
        keys = [key.decode() for key in await shared.keys("wuye:signin:*")]
        assert keys and not any("zhao" in key or "127.0.0.1" in key for key in keys)
    finally:
        await forget()
        await shared.aclose()


async def test_the_failure_window_without_redis_counts_in_the_process(unused_tcp_port):
    """Redis unreachable (nothing listens): the limit still holds, in this process."""
    import redis.asyncio as aioredis

    from connectors.ratelimit import SharedFailureWindow

    gone = aioredis.Redis(host="127.0.0.1", port=unused_tcp_port, socket_connect_timeout=0.5)
    window = SharedFailureWindow(gone, 3, 900)
    try:
        for _ in range(3):
            assert await window.seconds_left("user:zhao") == 0.0
            await window.failed("user:zhao")
        assert await window.seconds_left("user:zhao") > 60
        assert await window.seconds_left("user:qian") == 0.0
    finally:
        await gone.aclose()


# -- pages and files --------------------------------------------------------------------------------


async def test_console_pages_need_a_session_and_assets_do_not(client):
    for path in ("/console/", "/console/index.html"):
        resp = await client.get(path, allow_redirects=False)
        assert (resp.status, resp.headers.get("Location")) == (302, "/console/login"), path
    assert (await client.get("/console", allow_redirects=False)).headers["Location"] == "/console/"
    for path in ("/console/login", "/console/invite"):
        resp = await client.get(path)
        assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    resp = await client.get("/console/js/app.js")
    assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]
    resp = await client.get("/console/api/me")
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    cookie, _ = await login(client, "admin", ADMIN_TOKEN)
    resp = await client.get("/console/", headers=session(cookie))
    assert resp.status == 200 and "工作台" in await resp.text()


@pytest.mark.parametrize(
    "path",
    [
        "/console/../README.md",
        "/console/%2e%2e/README.md",
        "/console/%2E%2E/%2E%2E/README.md",
        "/console/js/..%2f..%2f..%2fREADME.md",
        "/console/js/%2e%2e/%2e%2e/outside.txt",
        "/console/js/..%5c..%5cREADME.md",
        "/console/..%2foutside.txt",
        "/console/.secret.html",
        "/console/js/%00app.js",
        "/console//etc/passwd",
        "/console/%2fetc%2fpasswd",
    ],
)
async def test_nothing_outside_the_console_folder_is_served(client, path):
    cookie, _ = await login(client, "admin", ADMIN_TOKEN)  # even signed in
    raw = URL(origin(client) + path, encoded=True)  # sent as written: no normalising on our side
    resp = await client.session.get(raw, headers=session(cookie), allow_redirects=False)
    text = await resp.text()
    assert resp.status in (400, 404), (path, resp.status)
    assert "outside" not in text and not text.startswith(README_MARK) and "root:" not in text


# -- the store --------------------------------------------------------------------------------------


def test_a_session_is_valid_until_idle_or_old_or_revoked():
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 11, 21, tzinfo=timezone.utc)
    s = model.StaffSession.start("h", "wang", "c", start)
    assert s.valid(start + timedelta(hours=11, minutes=59)) and not s.valid(start + model.IDLE_TIMEOUT)
    assert not s.touch(start + timedelta(seconds=30)) and s.touch(start + timedelta(hours=11))
    assert s.valid(start + timedelta(hours=22))
    assert not s.valid(start + model.ABSOLUTE_TIMEOUT)
    s.revoke(start + timedelta(hours=1))
    assert not s.valid(start + timedelta(hours=1))


async def test_sessions_on_postgresql(postgres_url, clock):
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.service_layer.ports import NullNotifier
    from backend_bridge.service_layer.staff_access import resume_session

    backend = await bootstrap(postgres_url, CONTENT, RecordingDialogue(), NullNotifier(), clock=clock)
    try:
        await backend.bus.handle(commands.AddStaff("pg_wang", "王", "agent", "admin"))
        await backend.bus.handle(commands.SetStaffPassword("pg_wang", PASSWORD, "admin"))
        invited = await backend.bus.handle(commands.InviteStaff("pg_wang", "admin"))
        first = await backend.bus.handle(commands.LogIn("pg_wang", PASSWORD))
        second = await backend.bus.handle(commands.LogIn("pg_wang", PASSWORD))
        member, found = await resume_session(backend.new_uow(), first.token, clock())
        assert (member.username, found.csrf) == ("pg_wang", first.csrf)
        await backend.bus.handle(commands.AcceptInvite(invited.token, "a-new-password-3"))
        assert await resume_session(backend.new_uow(), first.token, clock()) is None
        assert await resume_session(backend.new_uow(), second.token, clock()) is None
        with pytest.raises(model.InviteInvalid):
            await backend.bus.handle(commands.AcceptInvite(invited.token, "a-new-password-4"))
        third = await backend.bus.handle(commands.LogIn("pg_wang", "a-new-password-3"))
        await backend.bus.handle(commands.DeactivateStaff("pg_wang", "admin"))
        assert await resume_session(backend.new_uow(), third.token, clock()) is None
    finally:
        await backend.close()


def test_console_settings_from_the_environment():
    from connectors.settings import LOOPBACK, ConsoleSettings

    assert ConsoleSettings.from_env({}) == ConsoleSettings(False, 5, 30, LOOPBACK)
    env = {
        "WUYE_CONSOLE_SECURE_COOKIE": "1",
        "WUYE_CONSOLE_USER_FAILURES": "3",
        "WUYE_CONSOLE_CLIENT_FAILURES": "10",
        "WUYE_TRUSTED_PROXIES": "10.0.0.2, 10.0.0.3",
    }
    assert ConsoleSettings.from_env(env) == ConsoleSettings(True, 3, 10, frozenset({"10.0.0.2", "10.0.0.3"}))
    for bad in ({"WUYE_CONSOLE_SECURE_COOKIE": "yes please"}, {"WUYE_CONSOLE_USER_FAILURES": "0"}):
        with pytest.raises(SystemExit):
            ConsoleSettings.from_env(bad)


async def test_no_more_than_two_password_checks_run_at_once(monkeypatch):
    """Each argon2 check takes 64 MiB: a burst of sign-ins queues in a pool two threads wide."""
    import threading
    import time as _time

    from backend_bridge.service_layer import auth

    running, most, lock = 0, 0, threading.Lock()
    real = auth._verify

    def counted(stored: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            _time.sleep(0.05)  # long enough for the others to pile up, were they let through
            return real(stored, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(auth, "_verify", counted)
    stored = await auth.hash_password("correct horse")
    results = await asyncio.gather(*(auth.verify_password(stored, p) for p in ["correct horse", "wrong"] * 4))
    assert results == [True, False] * 4
    assert most == auth.HASHING_THREADS == 2


async def test_a_new_admin_token_ends_the_administrators_sessions(
    client, aiohttp_client, backend, console_dir, unused_tcp_port_factory
):
    """The administrator signs in with WUYE_ADMIN_TOKEN: a gateway started with a new token (the
    old one leaked) no longer honours sessions opened with the old one; one with the same does."""
    cookie, _ = await login(client, "admin", ADMIN_TOKEN)
    assert (await client.get("/console/api/me", headers=session(cookie))).status == 200
    same = await _client(aiohttp_client, backend, console_dir, unused_tcp_port_factory)
    assert (await same.get("/console/api/me", headers=session(cookie))).status == 200  # another gateway
    rotated = await _client(
        aiohttp_client, backend, console_dir, unused_tcp_port_factory, admin_token="a-brand-new-admin-token-0123"
    )
    assert (await rotated.get("/console/api/me", headers=session(cookie))).status == 401
    assert (await rotated.post("/console/login", json={"username": "admin", "password": ADMIN_TOKEN})).status == 401
