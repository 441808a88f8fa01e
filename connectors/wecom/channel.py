"""Staff notices as WeCom app messages, urgent tickets to the duty group's robot.

The dispatcher hands this channel every "staff:<username>" and "duty:<community>" notification
(connectors/channel.py: it takes them over from the log channel). A member with a WeCom UserID
gets the text as an app message; one without (or deactivated), and the shared desk and
supervisor recipients, get the log line they got before. A duty notice goes to the group robot
(WUYE_WECOM_ROBOT_KEY), or to the log without one. Before each send a slot is reserved within
WeCom's limits (limits.py); with none free the notice waits (DeliveryDeferred), it is never dropped.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.service_layer.delivery import Deliver
from backend_bridge.service_layer.ports import DeliveryDeferred, DeliveryFailed
from connectors.log import LogChannel
from connectors.settings import WeComSettings
from connectors.wechat.api import WeChatError
from connectors.wechat.messages import mask
from connectors.wechat.tokens import DatabaseTokens, RedisTokens, SharedToken, TokenStore
from connectors.wecom.api import BAD_ROBOT_KEY, FREQ_LIMIT, AppApi, UserNotReachable
from connectors.wecom.limits import MEMBER_LIMITS, ROBOT_LIMITS, Windows

log = logging.getLogger(__name__)

FREQ_PAUSE = timedelta(seconds=60)  # WeCom said 45009: wait out its minute
# Errcodes retrying cannot cure: wrong secret, corp id or AgentId, the app has no right to send.
# Duty group posts that @all: a new emergency, and the alert that unverified emergencies are flooding in.
MENTION_ALL = frozenset({f"duty_{model.Priority.EMERGENCY.value}", "emergency_flood"})
NEVER_RETRY = frozenset({40001, 40013, 40056, 40057, 60011, 60020, 48002, 301002})


class WeComChannel:
    name = "wecom"
    also_for = ("staff", "duty")  # recipient channels it takes over from the log channel

    def __init__(self, settings: WeComSettings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.api = AppApi(http, settings.api_base, settings.corpid, settings.secret, settings.agent_id)
        self._redis: aioredis.Redis | None = None
        # The robot's window is named by a digest of its key: the key is a credential.
        self._robot = "robot:" + hashlib.sha256(settings.robot_key.encode()).hexdigest()[:16]

    def routes(self) -> list[web.RouteDef]:
        return []  # WeCom calls nothing here

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _token_store(self, backend: Backend) -> TokenStore:
        """The app's token, shared like the 公众号's; named by corp and AgentId, so it never mixes
        with 微信客服's (same corp, another secret, another token)."""
        scope = f"{self.settings.corpid}:{self.settings.agent_id}"
        if self.settings.redis_url:
            if self._redis is None:
                self._redis = aioredis.Redis.from_url(self.settings.redis_url)
            return RedisTokens(self._redis, scope, lambda: backend.clock().timestamp())
        return DatabaseTokens(backend, scope)

    def delivery(self, backend: Backend) -> Deliver:
        now = lambda: backend.clock().timestamp()  # noqa: E731
        self.api.token = SharedToken(self._token_store(backend), lambda force: self.api.fetch_token(force, now()), now)
        fallback = LogChannel().delivery(backend)
        windows = Windows(backend)

        async def deliver(notification: model.Notification) -> str | None:
            if notification.channel == "duty":
                if not self.settings.robot_key:
                    return await fallback(notification)
                return await self._to_robot(backend, windows, notification)
            userid = await self._userid(backend, notification.recipient.split(":", 1)[1])
            if userid is None:
                return await fallback(notification)
            return await self._to_member(backend, windows, notification, userid)

        return deliver

    @staticmethod
    async def _userid(backend: Backend, username: str) -> str | None:
        async with backend.new_uow() as uow:
            member = await uow.staff.by_username(username)
        return member.wecom_userid if member is not None and member.active else None

    async def _to_member(
        self, backend: Backend, windows: Windows, notification: model.Notification, userid: str
    ) -> str:
        later = await windows.reserve(f"member:{userid.casefold()}", MEMBER_LIMITS)
        if later is not None:
            raise DeliveryDeferred("wecom: 30 messages a minute (1000 an hour) to this member; waiting", later)
        try:
            await self.api.send_text(userid, notification.text)
        except UserNotReachable as exc:
            raise DeliveryFailed(
                f"{exc}: add the member to the app's visible range, or correct their wecom_userid", permanent=True
            ) from exc
        except WeChatError as exc:
            if exc.errcode == FREQ_LIMIT:
                raise DeliveryDeferred(f"wecom message/send: {exc}", backend.clock() + FREQ_PAUSE) from exc
            raise DeliveryFailed(f"wecom message/send: {exc}", permanent=exc.errcode in NEVER_RETRY) from exc
        log.info("wecom %s to member %s key=%s", notification.kind, mask(userid), notification.key)
        return "wecom"

    async def _to_robot(self, backend: Backend, windows: Windows, notification: model.Notification) -> str:
        later = await windows.reserve(self._robot, ROBOT_LIMITS)
        if later is not None:
            raise DeliveryDeferred("wecom group robot: 20 messages a minute; waiting", later)
        try:
            await self.api.robot_text(
                self.settings.robot_key, notification.text, mention_all=notification.kind in MENTION_ALL
            )
        except WeChatError as exc:
            if exc.errcode == FREQ_LIMIT:  # another sender shares the robot: wait out its minute
                raise DeliveryDeferred(f"wecom group robot: {exc}", backend.clock() + FREQ_PAUSE) from exc
            if exc.errcode == BAD_ROBOT_KEY:
                raise DeliveryFailed(f"wecom group robot: {exc}; check WUYE_WECOM_ROBOT_KEY", permanent=True) from exc
            raise DeliveryFailed(f"wecom group robot: {exc}") from exc
        return "wecom_robot"
