"""A fake WeCom (企业微信) for staff notices: app messages and the group robot, on 127.0.0.1.

What it checks, as WeCom does: ``gettoken`` with the corp id (40013) and the app's secret (40001),
tokens of 7200 s (41001 missing, 40014 unknown, 42001 expired); ``message/send`` with the app's
AgentId (40056), a text of at most 2048 bytes (44004, 45002), UTF-8 JSON without \\uXXXX escapes
(40033), members that exist (unknown ones come back in ``invaliduser``; all unknown is 81013);
``webhook/send`` with a robot key that exists (93000).

And the limits, the way they bite: an app may send one member 30 messages a minute (1000 an
hour); WeCom answers the excess with errcode 0 and drops it, so the fake records it in
``dropped`` and never in ``sent``, and only a test looking there notices. A robot takes 20 a
minute and answers 45009 past that. Windows slide on the fake's clock (shared with the backend's).
Tests may make any path fail (``fail_next``), slow down (``delay``), or expire every token.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from tests.fakes.wechat_common import ApiError, aware, errmsg, text_content
from tests.fakes.wechat_tokens import TokenStore

MEMBER_PER_MINUTE, MEMBER_PER_HOUR, ROBOT_PER_MINUTE = 30, 1000, 20
MAX_TEXT_BYTES = 2048
UNICODE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}")
TOKEN_ERRORS = {"missing": 41001, "malformed": 40014, "unknown": 40014, "revoked": 40014, "expired": 42001}


class FakeWeCom:
    def __init__(
        self,
        *,
        corpid: str = "ww-test-corp",
        secret: str = "app-secret",
        agent_id: int = 1000002,
        members: tuple[str, ...] = ("WangShiFu", "LiZhuGuan"),
        robot_keys: tuple[str, ...] = ("robot-key-duty",),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.corpid, self.secret, self.agent_id = corpid, secret, agent_id
        self.members = {m.casefold(): m for m in members}  # WeCom compares UserIDs ignoring case
        self.robot_keys = set(robot_keys)
        self.clock = clock
        self.url = ""
        self.tokens = TokenStore("WA", self.now)
        self.token_requests = 0
        self.sent: list[dict[str, Any]] = []  # what reached a member or a group
        self.dropped: list[dict[str, Any]] = []  # answered "ok" and thrown away (over a member's limit)
        self.refused: list[dict[str, Any]] = []  # answered with an errcode
        self.calls: list[tuple[str, str]] = []
        self._member_sends: dict[str, list[datetime]] = {}
        self._robot_sends: dict[str, list[datetime]] = {}
        self._failures: dict[str, deque[tuple[int, int]]] = {}
        self._delays: dict[str, float] = {}
        self._msgid = 0
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> FakeWeCom:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def now(self) -> datetime:
        return aware(self.clock()) if self.clock is not None else datetime.now(timezone.utc)

    # -- what tests do -----------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (as after 7200 s)."""
        self.tokens.expire_all()

    def fail_next(self, path: str, errcode: int, times: int = 1, *, http_status: int = 200) -> None:
        """The next ``times`` calls to ``path`` fail before any check: ``errcode`` in a 200, or
        (``http_status`` 500, 502…) that status with an HTML body."""
        self._failures.setdefault(path, deque()).extend([(errcode, http_status)] * times)

    def delay(self, path: str, seconds: float) -> None:
        self._delays[path] = seconds

    def texts_to(self, userid: str) -> list[str]:
        return [s["content"] for s in self.sent if s["api"] == "app" and s["touser"] == userid]

    def group_texts(self, key: str | None = None) -> list[str]:
        return [s["content"] for s in self.sent if s["api"] == "robot" and key in (None, s["key"])]

    # -- the endpoints -----------------------------------------------------------------------
    def _gettoken(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("corpid") != self.corpid:
            raise ApiError(40013)
        if query.get("corpsecret") != self.secret:
            raise ApiError(40001)
        token = self.tokens.current()
        self.token_requests += 1
        return {
            "errcode": 0,
            "errmsg": "ok",
            "access_token": token.value,
            "expires_in": self.tokens.seconds_left(token),
        }

    def _message_send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id and str(body.get("agentid")) != str(self.agent_id):
            raise ApiError(40056)
        if body.get("msgtype") != "text":
            raise ApiError(40008)
        content = text_content(body, MAX_TEXT_BYTES)
        wanted = [u for u in str(body.get("touser") or "").split("|") if u]
        known = [self.members[u.casefold()] for u in wanted if u.casefold() in self.members]
        invalid = [u for u in wanted if u.casefold() not in self.members]
        if not known:
            raise ApiError(81013)
        self._msgid += 1
        msgid = f"msg{self._msgid:08d}"
        now = self.now()
        for userid in known:
            entry = {"api": "app", "touser": userid, "content": content, "at": now, "msgid": msgid}
            sends = [t for t in self._member_sends.get(userid, []) if t > now - timedelta(hours=1)]
            in_minute = sum(t > now - timedelta(minutes=1) for t in sends)
            if in_minute >= MEMBER_PER_MINUTE or len(sends) >= MEMBER_PER_HOUR:
                self.dropped.append(entry)  # the real WeCom says nothing
            else:
                sends.append(now)
                self.sent.append(entry)
            self._member_sends[userid] = sends
        answer = {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if invalid:
            answer["invaliduser"] = "|".join(invalid)
        return answer

    def _webhook_send(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        if key not in self.robot_keys:
            raise ApiError(93000)
        if body.get("msgtype") != "text":
            raise ApiError(40008)
        content = text_content(body, MAX_TEXT_BYTES)
        now = self.now()
        sends = [t for t in self._robot_sends.get(key, []) if t > now - timedelta(minutes=1)]
        if len(sends) >= ROBOT_PER_MINUTE:
            raise ApiError(45009)
        sends.append(now)
        self._robot_sends[key] = sends
        mentioned = body["text"].get("mentioned_list") or []
        self.sent.append({"api": "robot", "key": key, "content": content, "at": now, "mentioned": mentioned})
        return {"errcode": 0, "errmsg": "ok"}

    # -- HTTP --------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls.append((request.method, path))
        raw = await request.read()
        if self._delays.get(path):
            await asyncio.sleep(self._delays[path])
        planned = self._failures.get(path)
        if planned:
            errcode, status = planned.popleft()
            self.refused.append({"path": path, "errcode": errcode, "http_status": status})
            if status != 200:
                return web.Response(status=status, text=f"<html><body>{status} injected failure</body></html>")
            return _error(errcode)
        routes = {
            "/cgi-bin/gettoken": "GET",
            "/cgi-bin/message/send": "POST",
            "/cgi-bin/webhook/send": "POST",
        }
        if path not in routes:
            return web.Response(status=404, text="404 Not Found")
        if request.method != routes[path]:
            return web.Response(status=405, text="405 Method Not Allowed")
        try:
            if path == "/cgi-bin/gettoken":
                return _json(self._gettoken(dict(request.query)))
            body = _parse(raw)
            if path == "/cgi-bin/webhook/send":
                return _json(self._webhook_send(request.query.get("key", ""), body))
            problem = self.tokens.check(request.query.get("access_token"))
            if problem != "ok":
                raise ApiError(TOKEN_ERRORS[problem], problem)
            return _json(self._message_send(body))
        except ApiError as exc:
            self.refused.append({"path": path, "errcode": exc.errcode, "http_status": 200})
            return _error(exc.errcode, exc.detail)


def _parse(raw: bytes) -> dict[str, Any]:
    if UNICODE_ESCAPE.search(raw):
        raise ApiError(40033)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(47001, "body is not UTF-8 JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(47001, "body is not a JSON object")
    return body


def _error(errcode: int, detail: str = "") -> web.Response:
    return _json({"errcode": errcode, "errmsg": errmsg(errcode, "work", detail)})


def _json(answer: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(answer, ensure_ascii=False), content_type="application/json")
