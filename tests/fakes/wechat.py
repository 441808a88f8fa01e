"""A fake WeChat for tests: the 公众号 API and the 微信客服 (WeCom) API on one loopback HTTP server,
plus drivers that play WeChat calling our callbacks (tests/fakes/wechat_driver.py).

Why a real HTTP server and not a mocked client: the channel's HTTP code (timeouts, retries, token
refresh, JSON encoding) is exactly what breaks against the real platform, so it must run unchanged.
The fake checks what it receives as the platform does and answers with the platform's error codes;
tests can also make any path fail or slow down on demand. Nothing here ever reaches the Internet.

Paths (both bases are ``fake.url``; the two platforms' paths do not collide):
  公众号  POST /cgi-bin/stable_token, /cgi-bin/message/custom/send, /cgi-bin/message/template/send
  WeCom   GET  /cgi-bin/gettoken;  POST /cgi-bin/kf/sync_msg, /cgi-bin/kf/send_msg,
          /cgi-bin/kf/service_state/get, /cgi-bin/kf/service_state/trans, /cgi-bin/kf/send_msg_on_event
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from tests.fakes import wechat_kf, wechat_mp
from tests.fakes.wechat_common import ApiError, aware, errmsg
from tests.fakes.wechat_driver import Delivery, KfDriver, WeChatDriver, new_aes_key
from tests.fakes.wechat_tokens import TokenStore

__all__ = ["Delivery", "FakeWeChat", "KfDriver", "WeChatDriver", "new_aes_key"]

Handler = Callable[["FakeWeChat", dict[str, Any]], dict[str, Any]]
# path -> (side, HTTP method, needs an access_token, handler)
ROUTES: dict[str, tuple[str, str, bool, Handler]] = {
    "/cgi-bin/stable_token": ("mp", "POST", False, wechat_mp.stable_token),
    "/cgi-bin/message/custom/send": ("mp", "POST", True, wechat_mp.custom_send),
    "/cgi-bin/message/template/send": ("mp", "POST", True, wechat_mp.template_send),
    "/cgi-bin/gettoken": ("work", "GET", False, wechat_kf.gettoken),
    "/cgi-bin/kf/sync_msg": ("work", "POST", True, wechat_kf.sync_msg),
    "/cgi-bin/kf/send_msg": ("work", "POST", True, wechat_kf.send_msg),
    "/cgi-bin/kf/service_state/get": ("work", "POST", True, wechat_kf.state_get),
    "/cgi-bin/kf/service_state/trans": ("work", "POST", True, wechat_kf.state_trans),
    "/cgi-bin/kf/send_msg_on_event": ("work", "POST", True, wechat_kf.send_msg_on_event),
}
# WeCom refuses JSON with \uXXXX escapes (errcode 40033), what json.dumps writes for Chinese by default.
UNICODE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}")
# Why a token is refused, per side: 公众号 says 40001 for a token it does not (or no longer) know and
# 40014 for one that is not even shaped like a token; WeCom says 40014 for both.
TOKEN_ERRORS = {
    "mp": {"missing": 41001, "malformed": 40014, "unknown": 40001, "revoked": 40001, "expired": 42001},
    "work": {"missing": 41001, "malformed": 40014, "unknown": 40014, "revoked": 40014, "expired": 42001},
}


@dataclass
class Hold:
    """A call the fake keeps open before handling it (``FakeWeChat.hold_next``): ``arrived`` is set
    when it comes in; after ``release`` it is handled, unless the caller hung up meanwhile (a
    process killed mid-call): then it is ``abandoned``, never accepted, as a request the platform
    had not yet read to the end."""

    skip: int = 0  # calls to let through first
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    abandoned: bool = False


class FakeWeChat:
    """One aiohttp server on 127.0.0.1 playing both api.weixin.qq.com and qyapi.weixin.qq.com."""

    def __init__(
        self,
        *,
        appid: str = "wx-test-app",
        secret: str = "mp-secret",
        corpid: str = "ww-test-corp",
        kf_secret: str = "kf-secret",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.appid, self.secret, self.corpid, self.kf_secret = appid, secret, corpid, kf_secret
        self.clock = clock
        self.url = ""
        self.mp_tokens = TokenStore("MP", self.now, renew_before=timedelta(minutes=5))
        self.work_tokens = TokenStore("WW", self.now)
        self.token_requests = 0  # successful stable_token + gettoken answers
        self.forced_refreshes: dict[date, int] = {}
        self.sent: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.templates: set[str] = {"TPL_STATUS", "TPL_RESOLVED"}
        self.template_msgids = 1_000_000
        self.unsubscribed: set[str] = set()  # openids that unfollowed: no message reaches them
        self.mp_last_message: dict[str, datetime] = {}  # openid -> the owner's last message
        self.mp_replies: dict[str, int] = {}  # customer-service messages since that message
        self.kf = wechat_kf.KfState()
        self.service_state: dict[tuple[str, str], int] = {}
        self.sync_calls: list[dict[str, Any]] = []
        self._failures: dict[str, deque[tuple[int, int]]] = {}
        self._delays: dict[str, float] = {}
        self._holds: dict[str, deque[Hold]] = {}
        self.abandoned: list[dict[str, Any]] = []  # held calls whose caller hung up: never accepted
        # called with each entry of ``sent`` as it is taken, on the fake's loop (bench/owners.py
        # wakes the owner waiting for it instead of polling ``sent``)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWeChat:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def now(self) -> datetime:
        """The clock every window and expiry is measured with (tests may replace ``clock``)."""
        return aware(self.clock()) if self.clock is not None else datetime.now(timezone.utc)

    # -- what tests do -----------------------------------------------------------------------
    def user_wrote(self, openid: str, at: datetime | None = None) -> None:
        """The owner wrote to the 公众号: opens 48 h of customer-service messages, 5 of them."""
        self.mp_last_message[openid] = aware(at) if at is not None else self.now()
        self.mp_replies[openid] = 0

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (as after 7200 s); new ones are good."""
        self.mp_tokens.expire_all()
        self.work_tokens.expire_all()

    def fail_next(self, path: str, errcode: int, times: int = 1, *, http_status: int = 200) -> None:
        """The next ``times`` calls to ``path`` fail, before any check: with ``errcode`` in a 200
        answer, or (``http_status`` 500/503…) with that status and a non-JSON body."""
        self._failures.setdefault(path, deque()).extend([(errcode, http_status)] * times)

    def delay(self, path: str, seconds: float) -> None:
        """Every later call to ``path`` waits ``seconds`` before being handled (0 to stop)."""
        self._delays[path] = seconds

    def hold_next(self, path: str, *, skip: int = 0) -> Hold:
        """Keep the next call to ``path`` (after ``skip`` others) open until ``release`` is set."""
        hold = Hold(skip)
        self._holds.setdefault(path, deque()).append(hold)
        return hold

    async def _held(self, path: str, request: web.Request, raw: bytes) -> bool:
        """True when the call was held and its caller is gone by the time it is released."""
        holds = self._holds.get(path)
        if not holds:
            return False
        if holds[0].skip:
            holds[0].skip -= 1
            return False
        hold = holds.popleft()
        hold.arrived.set()
        await hold.release.wait()
        if request.transport is None or request.transport.is_closing():
            hold.abandoned = True
            self.abandoned.append({"path": path, "body": _json_or_text(raw)})
            return True
        return False

    def kf_customer_writes(
        self, open_kfid: str, external_userid: str, text: str, *, msgid: str | None = None, origin: int = 3
    ) -> str:
        """A text in the 微信客服 conversation (origin 3 customer, 5 servicer); returns the callback Token."""
        return wechat_kf.customer_writes(self, open_kfid, external_userid, text, msgid, origin)

    def kf_enter_session(self, open_kfid: str, external_userid: str, scene: str = "") -> str:
        """The customer opened the conversation (enter_session event); returns the callback Token."""
        return wechat_kf.enter_session(self, open_kfid, external_userid, scene)

    # -- used by the handlers ----------------------------------------------------------------
    def record_sent(self, api: str, touser: str, msgtype: str, content: str | None, **extra: Any) -> None:
        entry = {"api": api, "touser": touser, "msgtype": msgtype, "content": content, "template_id": None}
        entry |= {"data": None, "open_kfid": None, "url": None, "msgid": None, "at": self.now()}
        entry |= extra
        self.sent.append(entry)
        for listener in self.listeners:
            listener(entry)

    # -- the HTTP side -----------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls.append((request.method, path))
        raw = await request.read()
        if path == "/cgi-bin/kf/sync_msg":
            self.sync_calls.append(_json_or_text(raw))
        if await self._held(path, request, raw):
            return web.Response(status=499, text="the caller hung up")
        seconds = self._delays.get(path, 0)
        if seconds:
            await asyncio.sleep(seconds)
        planned = self._failures.get(path)
        if planned:
            errcode, status = planned.popleft()
            self.refused.append({"path": path, "errcode": errcode, "body": _json_or_text(raw), "http_status": status})
            if status != 200:
                return web.Response(status=status, text=f"<html><body>{status} injected failure</body></html>")
            return _error(ROUTES[path][0] if path in ROUTES else "mp", errcode)
        route = ROUTES.get(path)
        if route is None:
            return web.Response(status=404, text="404 Not Found")
        side, method, needs_token, handler = route
        if request.method != method:
            return web.Response(status=405, text="405 Method Not Allowed")
        try:
            body = self._parse(side, method, request, raw)
            if needs_token:
                tokens = self.mp_tokens if side == "mp" else self.work_tokens
                problem = tokens.check(request.query.get("access_token"))
                if problem != "ok":
                    raise ApiError(TOKEN_ERRORS[side][problem], problem)
            answer = handler(self, body)
        except ApiError as exc:
            self.refused.append({"path": path, "errcode": exc.errcode, "body": _json_or_text(raw), "http_status": 200})
            return _error(side, exc.errcode, exc.detail)
        return _json(answer)

    @staticmethod
    def _parse(side: str, method: str, request: web.Request, raw: bytes) -> dict[str, Any]:
        if method == "GET":
            return dict(request.query)
        if side == "work" and UNICODE_ESCAPE.search(raw):
            raise ApiError(40033)  # send UTF-8 as it is (json.dumps(..., ensure_ascii=False))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(47001, "body is not UTF-8 JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(47001, "body is not a JSON object")
        return body


def _error(side: str, errcode: int, detail: str = "") -> web.Response:
    return _json({"errcode": errcode, "errmsg": errmsg(errcode, side, detail)})


def _json(answer: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(answer, ensure_ascii=False), content_type="application/json")


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", "replace")
