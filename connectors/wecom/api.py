"""The two WeCom calls staff notices need, over the shared WeCom client (connectors/wechat_kf/api.py:
``gettoken``, one shared token, a refused one replaced once, errcodes as WeChatError).

- ``message/send`` (app message, with the access token and the app's AgentId). WeCom answers 0
  even when it does not deliver: a UserID outside the app's visible range comes back in
  ``invaliduser``, and past 30 messages a minute to one member the excess is dropped without a
  word, which is why the channel keeps that limit itself (limits.py).
- ``webhook/send?key=`` (the group robot; no token: the key is the credential). 20 messages a
  minute per robot, 45009 past that.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from connectors.wechat.api import WeChatError
from connectors.wechat_kf.api import WeComApi

MAX_TEXT_BYTES = 2048  # both the app's and the robot's text limit (UTF-8 bytes)
FREQ_LIMIT = 45009  # "api freq out of limit": the robot's 20 a minute (and WeCom's API limits)
BAD_ROBOT_KEY = 93000  # the webhook key is wrong or the robot was removed
ALL_USERS_INVALID = 81013  # none of touser/toparty/totag is valid


def clip(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes on a character boundary (WeCom refuses longer ones)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


class UserNotReachable(Exception):
    """WeCom took the message but not for this member (not in the app's visible range, left)."""


class AppApi(WeComApi):
    """``appid``/``secret``: the corp id and the self-built app's secret; ``agent_id`` its AgentId."""

    def __init__(self, http: aiohttp.ClientSession, base: str, corpid: str, secret: str, agent_id: int) -> None:
        super().__init__(http, base, corpid, secret)
        self.agent_id = agent_id

    async def send_text(self, userid: str, text: str) -> str:  # type: ignore[override]
        """An app text message to one member; its msgid. UserNotReachable when WeCom says the
        member cannot get it (``invaliduser`` or 81013)."""
        body = {"touser": userid, "msgtype": "text", "agentid": self.agent_id, "text": {"content": clip(text)}}
        try:
            answer = await self.call("/cgi-bin/message/send", body)
        except WeChatError as exc:
            if exc.errcode == ALL_USERS_INVALID:
                raise UserNotReachable(str(exc)) from exc
            raise
        if answer.get("invaliduser"):
            raise UserNotReachable("wecom message/send: the UserID is not in the app's visible range")
        return str(answer.get("msgid", ""))

    async def robot_text(self, key: str, text: str, mention_all: bool = False) -> None:
        """A text to the group robot ``key``; WeChatError on an errcode (45009: too many)."""
        message: dict[str, Any] = {"content": clip(text)}
        if mention_all:
            message["mentioned_list"] = ["@all"]
        # no token: the key in the URL is the credential, so the shared client's plain POST serves
        answer = await self._post("/cgi-bin/webhook/send", {"msgtype": "text", "text": message}, params={"key": key})
        code = answer.get("errcode", -1)
        if code != 0:
            raise WeChatError(code if isinstance(code, int) else -1, str(answer.get("errmsg", "")))
