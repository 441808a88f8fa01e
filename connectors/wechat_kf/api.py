"""The 微信客服 API: the 公众号's client (connectors/wechat/api.py: one shared token, a refused
token replaced once, errcodes as WeChatError) with WeCom's ``gettoken`` for the token (WeComApi,
which WeCom for staff, connectors/wecom, uses too)."""

from __future__ import annotations

from typing import Any

import aiohttp

from backend_bridge.adapters.answers import UnusableAnswer, answer_detail, json_answer
from backend_bridge.service_layer.ports import DeliveryFailed
from connectors.wechat.api import TIMEOUT, WeChatApi
from connectors.wechat.tokens import Token

SEND_COUNT_LIMIT = 95001  # 5 messages since the customer's last one
SEND_TIME_LIMIT = 95002  # 48 hours since the customer's last message
STATE_FORBIDS = 95018  # the session is queued, with a servicer or ended: the API may not speak
SESSION_ENDED = 95013
ASSISTANT, QUEUE, HUMAN, ENDED = 1, 2, 3, 4  # service_state
EVENT_CODE_LIFE = 20  # seconds after its event a welcome_code / msg_code may be used (once)


# WeCom's "fetch a new token": 40014 invalid, 42001 expired, 41001 missing. (Its 40001 is a wrong
# secret, which a new token cannot cure; the 公众号's 40001 is a stale token.)
WECOM_TOKEN_REFUSED = frozenset({40014, 41001, 42001})


class WeComApi(WeChatApi):
    """Any WeCom app's API: ``appid``/``secret`` are the corp id and that app's secret (each
    secret has its own access token)."""

    token_refused = WECOM_TOKEN_REFUSED

    async def fetch_token(self, force: bool, now: float) -> Token:
        """WeCom's gettoken (it has no forced refresh: it hands out the current token until it expires)."""
        params = {"corpid": self.appid, "corpsecret": self.secret}
        try:
            async with self.http.get(f"{self.base}/cgi-bin/gettoken", params=params, timeout=TIMEOUT) as resp:
                if resp.status != 200:
                    raise DeliveryFailed(f"wecom gettoken answered HTTP {resp.status}: {await answer_detail(resp)}")
                answer = await json_answer(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"wecom gettoken unreachable: {type(exc).__name__}") from exc
        except UnusableAnswer as exc:
            raise DeliveryFailed(f"wecom gettoken answered {exc}") from exc
        token = answer.get("access_token") if isinstance(answer, dict) else None
        expires_in = answer.get("expires_in") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            code = answer.get("errcode") if isinstance(answer, dict) else None
            raise DeliveryFailed(f"wecom gettoken refused: errcode {code}", permanent=code in (40001, 40013))
        return Token(token, now + expires_in)


class KfApi(WeComApi):
    """``appid``/``secret`` are the corp id and the 微信客服 secret."""

    page_size = 1000  # sync_msg's maximum

    async def sync_msg(self, open_kfid: str, cursor: str, token: str) -> dict[str, Any]:
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": self.page_size}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        return await self.call("/cgi-bin/kf/sync_msg", body)

    async def send_text(self, open_kfid: str, user: str, text: str) -> None:  # type: ignore[override]
        body = {"touser": user, "open_kfid": open_kfid, "msgtype": "text", "text": {"content": text}}
        await self.call("/cgi-bin/kf/send_msg", body)

    async def send_on_event(self, code: str, text: str) -> None:
        """A text answering an event by its code (enter_session's welcome_code): within 20 s, once."""
        await self.call("/cgi-bin/kf/send_msg_on_event", {"code": code, "msgtype": "text", "text": {"content": text}})

    async def service_state(self, open_kfid: str, user: str) -> int:
        answer = await self.call("/cgi-bin/kf/service_state/get", {"open_kfid": open_kfid, "external_userid": user})
        state = answer.get("service_state")
        return state if isinstance(state, int) else -1

    async def transfer(self, open_kfid: str, user: str, state: int, servicer: str = "") -> None:
        body: dict[str, Any] = {"open_kfid": open_kfid, "external_userid": user, "service_state": state}
        if servicer:
            body["servicer_userid"] = servicer
        await self.call("/cgi-bin/kf/service_state/trans", body)
