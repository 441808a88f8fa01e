"""The WeChat official account (公众号) as a channel: ``GET/POST /wechat/mp`` and delivery.

Inbound: WeChat calls the account's server URL with every owner message and event, waits 5 s,
and delivers the same message again (3 times in all) when no answer came. So the message is
written down first, keyed by its MsgId (an event by its CreateTime, the sender being part of
the key): the store's unique (sender, message id) makes every later delivery, in this process
or another, a duplicate that changes nothing and is answered "success". The assistant's answer
goes back in the response (a passive reply) when it is ready within WUYE_WECHAT_REPLY_BUDGET
seconds and fits one message; otherwise "success" at once, and the answer follows through the
outbox as a customer-service message (Gateway.accept).

Outbound (``delivery``, run by the dispatchers): customer-service messages while WeChat allows
them (48 h after the owner's last message, 5 per message), cut to 2048 bytes, each part marked
sent once WeChat took it (connectors/wechat/parts.py: a killed dispatcher's successor sends only
the rest; WeChat has no idempotency key, so a kill after WeChat accepted a part and before its
mark was committed sends that one part again: at least once, never lost); outside that
(45015/45047) a template message when the operator mapped one for the notification's kind
(content: wechat_templates), else the notification is dead-lettered for staff. Each delivery
records its path: custom, template, or skipped:unsubscribed for an owner who unfollowed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Deliver
from backend_bridge.service_layer.ports import DeliveryFailed
from bot.text.script import render
from connectors.callbacks import read_body
from connectors.channel import Inbound
from connectors.gateway import Accepted, Gateway
from connectors.keys import GATEWAY
from connectors.settings import WeChatSettings
from connectors.wechat import messages as say
from connectors.wechat.api import NOT_FOLLOWING, OUTSIDE_WINDOW, OVER_QUOTA, WeChatApi, WeChatError
from connectors.wechat.callback import MAX_BODY, Push, Refused, passive_reply, read_push, verify
from connectors.wechat.parts import send_parts
from connectors.wechat.tokens import DatabaseTokens, RedisTokens, SharedToken

log = logging.getLogger(__name__)

PATH = "/wechat/mp"
NEVER_RETRY = frozenset({40003, 40037, 47001, 40008, 44004, 45002})  # a bad openid, template, body: staff must look


def _unsubscribed(openid: str) -> str:
    return f"wechat:unsubscribed:{openid}"


class WeChatChannel:
    name = "wechat"

    def __init__(self, settings: WeChatSettings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.http = http
        self.crypto = WeChatCrypto(settings.token, settings.aes_key, settings.appid) if settings.aes_key else None
        self.api = WeChatApi(http, settings.api_base, settings.appid, settings.secret)
        self._redis: aioredis.Redis | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.url_check), web.post(PATH, self.receive)]

    # -- inbound -----------------------------------------------------------------------------

    async def url_check(self, request: web.Request) -> web.Response:
        """The GET WeChat sends when the server URL is saved: echo ``echostr`` if signed by us."""
        try:
            verify(self.settings.token, dict(request.query), request.app[BACKEND].clock().timestamp())
        except Refused as exc:
            log.warning("wechat URL check refused: %s", exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        echostr = request.query.get("echostr", "")
        if not echostr.isascii() or not echostr.isalnum() or len(echostr) > 128:
            return web.Response(status=400, text="bad echostr")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        backend: Backend = request.app[BACKEND]
        try:
            body = await read_body(request, MAX_BODY, "body over 64 KB")
            now = backend.clock().timestamp()
            push = read_push(body, dict(request.query), token=self.settings.token, crypto=self.crypto, now=now)
        except Refused as exc:
            log.warning("wechat callback refused (%d): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        budget = max(0.0, self.settings.reply_budget - (time.monotonic() - started))
        replies = await self._answer(push, request.app[GATEWAY], backend, budget)
        if not replies:
            return web.Response(text="success")
        xml = passive_reply(push, say.joined(replies), self.crypto, int(backend.clock().timestamp()))
        return web.Response(text=xml, content_type="application/xml")

    async def _answer(self, push: Push, gateway: Gateway, backend: Backend, budget: float) -> list[str] | None:
        """What to answer in the response; None or [] for "success". Read through wechatpy's message."""
        message, openid = push.message, push.openid
        msg_id = push.fields.get("MsgId") or None

        def inbound(text: str, community: str | None = None, key: str | None = None) -> Inbound:
            return Inbound(self.name, openid, text, key or msg_id, community)

        if message.type == "text":
            return await self._converse(gateway, inbound(message.content or ""), budget)
        if message.type == "voice":
            heard = (message.recognition or "").strip()
            if heard:
                return await self._converse(gateway, inbound(heard), budget)
            return (await gateway.note(inbound(say.VOICE_MARK), (say.VOICE_UNHEARD,))).replies
        if message.type == "image":
            mark = say.IMAGE_MARK.format(url=message.image or "")
            return (await gateway.note(inbound(mark), (say.IMAGE_RECEIVED,))).replies
        if message.type == "location":
            lat, lng = message.location
            mark = say.LOCATION_MARK.format(label=message.label or "", lat=lat or "", lng=lng or "")
            return (await gateway.note(inbound(mark), (say.LOCATION_RECEIVED,))).replies
        if message.type == "event":
            return await self._event(push, gateway, backend, inbound, budget)
        if (push.fields.get("MsgType") or "").lower() == "event":  # an event wechatpy does not know: nothing to do
            return None
        kind = (push.fields.get("MsgType") or "unknown").lower()[:16]  # video, link, file…: staff can look
        return (await gateway.note(inbound(say.OTHER_MARK.format(kind=kind)), (say.OTHER_RECEIVED,))).replies

    async def _converse(self, gateway: Gateway, inbound: Inbound, budget: float) -> list[str] | None:
        accepted: Accepted = await gateway.accept(inbound, answer_within=budget, fits=say.fits)
        if accepted.duplicate:
            log.info("wechat repeated message %s from %s: answered already", inbound.message_id, say.mask(inbound.user))
        return accepted.replies

    async def _event(
        self, push: Push, gateway: Gateway, backend: Backend, inbound: Callable[..., Inbound], budget: float
    ) -> list[str] | None:
        """wechatpy names a follow through a QR code subscribe_scan, its scene without "qrscene_"."""
        message = push.message
        event = message.event
        key = f"ev:{push.fields.get('CreateTime') or ''}:{event}"[:64]  # events: sender + CreateTime
        if event in ("subscribe", "subscribe_scan", "scan"):
            scene = str(getattr(message, "scene_id", "") or "")
            community = scene if model.valid_code(scene) else None  # a community's own QR code
            if event != "scan":
                await self._set_unsubscribed(backend, push.openid, False)
            name = backend.content.get(community).name
            text = say.WELCOME_BACK if event == "scan" else say.WELCOME
            mark = f"[扫码 {scene[:32]}]" if event == "scan" else say.SUBSCRIBED_MARK
            return (await gateway.note(inbound(mark, community, key), (text.format(name=name),))).replies
        if event == "unsubscribe":
            await self._set_unsubscribed(backend, push.openid, True)
            await gateway.note(inbound(say.UNSUBSCRIBED_MARK, None, key))
            log.info("wechat owner %s unfollowed; nothing more is pushed to them", say.mask(push.openid))
            return None
        if event == "click" and message.key in ("0", "1", "2", "3", "4", "5"):  # a menu button with a menu digit
            return await self._converse(gateway, inbound(message.key, None, key), budget)
        return None  # menu links, location reports, template receipts: nothing to do

    async def _set_unsubscribed(self, backend: Backend, openid: str, unsubscribed: bool) -> None:
        async with backend.new_uow() as uow:
            if unsubscribed:
                await uow.channel_state.put(_unsubscribed(openid), backend.clock().isoformat())
            else:
                await uow.channel_state.remove(_unsubscribed(openid))
            await uow.commit()

    # -- outbound ----------------------------------------------------------------------------

    def _token_store(self, backend: Backend):
        if self.settings.redis_url:
            if self._redis is None:
                self._redis = aioredis.Redis.from_url(self.settings.redis_url)
            return RedisTokens(self._redis, self.settings.appid, lambda: backend.clock().timestamp())
        return DatabaseTokens(backend, self.settings.appid)

    def delivery(self, backend: Backend) -> Deliver:
        now = lambda: backend.clock().timestamp()  # noqa: E731
        self.api.token = SharedToken(self._token_store(backend), lambda force: self.api.fetch_token(force, now()), now)

        async def deliver(notification: model.Notification) -> str:
            openid = notification.recipient.split(":", 1)[1]
            async with backend.new_uow() as uow:
                if await uow.channel_state.get(_unsubscribed(openid), backend.clock()) is not None:
                    return "skipped:unsubscribed"
            _, script = await views.conversation_state(backend.new_uow(), notification.recipient)
            text = render(notification.text, script)
            try:
                await self._custom(backend, notification, openid, text)
                return "custom"
            except WeChatError as exc:
                if exc.errcode == NOT_FOLLOWING:
                    await self._set_unsubscribed(backend, openid, True)
                    return "skipped:unsubscribed"
                if exc.errcode not in (OUTSIDE_WINDOW, OVER_QUOTA):
                    raise DeliveryFailed(str(exc), permanent=exc.errcode in NEVER_RETRY) from exc
                refused = exc.errcode
            return await self._template(backend, notification, openid, text, refused)

        return deliver

    async def _custom(self, backend: Backend, notification: model.Notification, openid: str, text: str) -> None:
        """Customer-service messages, one per 2048 bytes; each part is marked once WeChat took it,
        so a retry (after a failure part-way, or a killed dispatcher) sends only the rest."""
        parts = say.split_text(text)
        await send_parts(backend, self.name, notification, parts, lambda part: self.api.send_text(openid, part))

    async def _template(
        self, backend: Backend, notification: model.Notification, openid: str, text: str, refused: int
    ) -> str:
        why = "48 hours since the owner wrote" if refused == OUTSIDE_WINDOW else "5 messages since the owner wrote"
        template = backend.content.get().wechat_templates.get(notification.kind)
        if template is None:
            raise DeliveryFailed(
                f"wechat refused a customer-service message ({why}, errcode {refused}) and content has no "
                f"wechat_templates entry for '{notification.kind}'",
                permanent=True,
            )
        data = say.template_data(template, notification.fields, text)
        try:
            await self.api.send_template(openid, template.template_id, data, template.url)
        except WeChatError as exc:
            if exc.errcode == NOT_FOLLOWING:
                await self._set_unsubscribed(backend, openid, True)
                return "skipped:unsubscribed"
            raise DeliveryFailed(f"template message: {exc}", permanent=exc.errcode in NEVER_RETRY) from exc
        log.info("wechat %s to %s went as a template message (%s)", notification.kind, say.mask(openid), why)
        return "template"
