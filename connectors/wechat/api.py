"""The 公众号 API over our own aiohttp client (wechatpy's client is synchronous, its URLs fixed).

Every call carries the shared access token (tokens.py); a token the platform refuses (40001,
40014, 42001) is replaced once and the call made again. The platform answers errors as HTTP 200
with an errcode, which is the only thing branched on (the errmsg carries a changing request id).
Answers are read capped (adapters/answers.py); a timeout, a 5xx or garbage is a failure worth
retrying later (DeliveryFailed), an errcode is a WeChatError the caller decides about.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from backend_bridge.adapters.answers import UnusableAnswer, answer_detail, json_answer
from backend_bridge.service_layer.ports import DeliveryFailed
from connectors.wechat.tokens import SharedToken, Token

log = logging.getLogger(__name__)

TOKEN_REFUSED = frozenset({40001, 40014, 42001})  # invalid, malformed, expired: fetch again, retry once
OUTSIDE_WINDOW = 45015  # more than 48 h since the owner's last message (or they unfollowed)
OVER_QUOTA = 45047  # 5 customer-service messages since the owner's last message
NOT_FOLLOWING = 43004
TIMEOUT = aiohttp.ClientTimeout(total=5)


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"wechat errcode {errcode}: {errmsg[:120]}")
        self.errcode = errcode


class WeChatApi:
    token_refused = TOKEN_REFUSED  # errcodes that mean "fetch a new token and call again, once"

    def __init__(
        self, http: aiohttp.ClientSession, base: str, appid: str, secret: str, token: SharedToken | None = None
    ) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.token = token  # set by the channel once it knows its store

    async def _post(self, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            async with self.http.post(
                f"{self.base}{path}",
                params=params,
                data=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=TIMEOUT,
            ) as resp:
                if resp.status != 200:
                    raise DeliveryFailed(f"wechat {path} answered HTTP {resp.status}: {await answer_detail(resp)}")
                answer = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"wechat {path} unreachable: {type(exc).__name__}") from exc
        except UnusableAnswer as exc:
            raise DeliveryFailed(f"wechat {path} answered {exc}") from exc
        if not isinstance(answer, dict):
            raise DeliveryFailed(f"wechat {path} answered something other than a JSON object")
        return answer

    async def fetch_token(self, force: bool, now: float) -> Token:
        """A token from stable_token (``force``: a new one even while the current one is good)."""
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force}
        answer = await self._post("/cgi-bin/stable_token", body)
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            code = answer.get("errcode")
            raise DeliveryFailed(f"stable_token refused: errcode {code}", permanent=code in (40013, 40125))
        return Token(token, now + expires_in)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; a refused token is replaced once. WeChatError on an errcode."""
        assert self.token is not None
        token = await self.token.get()
        answer = await self._post(path, body, {"access_token": token})
        if answer.get("errcode") in self.token_refused:
            log.info("wechat refused the access token (errcode %s); replacing it", answer.get("errcode"))
            token = await self.token.get(instead_of=token)
            answer = await self._post(path, body, {"access_token": token})
        code = answer.get("errcode", 0)
        if code != 0:
            raise WeChatError(code if isinstance(code, int) else -1, str(answer.get("errmsg", "")))
        return answer

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (within 48 h of the owner's last message, 5 per message)."""
        await self.call(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    async def send_template(self, openid: str, template_id: str, data: dict[str, str], url: str = "") -> None:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if url:
            body["url"] = url
        await self.call("/cgi-bin/message/template/send", body)
