"""微信客服 as a channel: ``GET/POST /wechat/kf`` and delivery with ``kf/send_msg``.

Inbound: WeCom's callback carries no message, only "something happened" (kf_msg_or_event) with a
short-lived Token and the account (OpenKfId). It is answered 200 at once; in the background one
reader per account (a database lease, across processes) pulls with ``kf/sync_msg`` from the
cursor kept in channel_state, page after page while has_more. Only the customer's messages
(origin 3) are read; each is recorded with its msgid as the message id, so the store's unique
(sender, message id) makes a message read twice (here or in another process) a duplicate that
is not answered again. The cursor is saved after the page's messages are recorded: a restart
reads the page again and the duplicates change nothing. An enter_session event with a scene
that is a community code routes the conversation there; the welcome menu is recorded and sent by
send_msg_on_event with the event's welcome_code (a customer new to the account, within 20 s,
once), else by send_msg (a customer who wrote within 48 hours).

Outbound (``delivery``): every answer and notification goes by ``kf/send_msg`` to the account
the customer last wrote to, each part marked sent once WeCom took it (connectors/wechat/parts.py:
a killed dispatcher's successor sends only the rest); WeCom allows 5 messages within 48 hours of
the customer's message and none while the session is queued or with a servicer. There are no
templates for 微信客服, so a refused message is dead-lettered with the reason for staff. The
notice that our conversation went to staff or back (kind conversation_state) moves WeCom's
service_state at once (``_follow_handoff`` says how, and why staff replies still reach the owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Deliver
from backend_bridge.service_layer.notices import CONVERSATION_STATE
from backend_bridge.service_layer.ports import DeliveryFailed
from bot.text.script import render
from connectors.callbacks import read_body
from connectors.channel import Inbound
from connectors.gateway import Gateway
from connectors.keys import GATEWAY
from connectors.settings import WeComKfSettings
from connectors.wechat import messages as say
from connectors.wechat.api import WeChatError
from connectors.wechat.callback import MAX_AGE, MAX_BODY, Refused, _same, _xml_fields
from connectors.wechat.callback import signature as sign
from connectors.wechat.parts import send_parts
from connectors.wechat.tokens import DatabaseTokens, SharedToken
from connectors.wechat_kf.api import (
    ASSISTANT,
    ENDED,
    EVENT_CODE_LIFE,
    HUMAN,
    QUEUE,
    SEND_COUNT_LIMIT,
    SEND_TIME_LIMIT,
    STATE_FORBIDS,
    KfApi,
)

log = logging.getLogger(__name__)

PATH = "/wechat/kf"
CUSTOMER = 3  # msg_list origin: the customer (4 system events, 5 a servicer)
READ_LEASE = timedelta(seconds=60)  # a reader that died holding an account is replaced after this
LEASE_WAIT = 10.0  # seconds a callback's reader waits for another one on the same account
MAX_PAGES = 50  # per callback; the next callback goes on from the saved cursor
REFUSALS = {
    SEND_TIME_LIMIT: "48 hours since the customer last wrote",
    SEND_COUNT_LIMIT: "5 messages since the customer last wrote",
    STATE_FORBIDS: "the session is with a WeCom servicer, queued or ended: answer the customer in WeCom",
}


def _cursor(open_kfid: str) -> str:
    return f"wechat_kf:cursor:{open_kfid}"


def _account_of(user: str) -> str:
    return f"wechat_kf:account:{user}"


def _handed(user: str) -> str:
    return f"wechat_kf:handed:{user}"


class KfChannel:
    name = "wechat_kf"
    follows_handoff = True  # WeCom keeps its own session state (service_state): see _follow_handoff

    def __init__(self, settings: WeComKfSettings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.http = http
        self.crypto = WeChatCrypto(settings.token, settings.aes_key, settings.corpid)
        self.api = KfApi(http, settings.api_base, settings.corpid, settings.secret)
        self._tasks: set[asyncio.Task] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.url_check), web.post(PATH, self.receive)]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def settled(self) -> None:
        """Wait for the readers started so far (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- inbound -----------------------------------------------------------------------------

    def _verify(self, query: dict[str, str], ciphertext: str, now: float) -> tuple[str, str, str]:
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        signature = query.get("msg_signature", "")
        if not timestamp.isdigit() or len(timestamp) > 12 or len(nonce) > 64 or not signature:
            raise Refused(403, "missing or malformed timestamp, nonce or msg_signature")
        if not ciphertext or len(ciphertext) > MAX_BODY:
            raise Refused(400, "nothing encrypted")
        if not _same(signature, sign(self.settings.token, timestamp, nonce, ciphertext)):
            raise Refused(403, "bad msg_signature")
        if abs(now - int(timestamp)) > MAX_AGE:
            raise Refused(403, "timestamp too old or in the future")
        return timestamp, nonce, signature

    async def url_check(self, request: web.Request) -> web.Response:
        """WeCom's GET when the callback URL is saved: answer the decrypted echostr if signed by us."""
        query = dict(request.query)
        try:
            echostr = query.get("echostr", "")
            timestamp, nonce, signature = self._verify(query, echostr, request.app[BACKEND].clock().timestamp())
            try:
                plain = self.crypto.check_signature(signature, timestamp, nonce, echostr)
            except Exception as exc:  # noqa: BLE001 - whatever wechatpy makes of bad ciphertext
                raise Refused(400, f"echostr does not decrypt ({type(exc).__name__})") from None
        except Refused as exc:
            log.warning("wechat_kf URL check refused: %s", exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        text = plain.decode("utf-8", "replace") if isinstance(plain, bytes) else str(plain)
        return web.Response(text=text)

    async def receive(self, request: web.Request) -> web.Response:
        backend: Backend = request.app[BACKEND]
        try:
            body = await read_body(request, MAX_BODY, "body over 64 KB")
            ciphertext = _xml_fields(body).get("Encrypt") or ""
            if not isinstance(ciphertext, str):
                raise Refused(400, "a malformed Encrypt")
            timestamp, nonce, signature = self._verify(dict(request.query), ciphertext, backend.clock().timestamp())
            try:
                plain = self.crypto.decrypt_message(body, signature, timestamp, nonce)
            except Exception as exc:  # noqa: BLE001 - whatever wechatpy makes of bad ciphertext
                raise Refused(400, f"the message does not decrypt ({type(exc).__name__})") from None
            fields = _xml_fields(plain)
            open_kfid, token = fields.get("OpenKfId"), fields.get("Token")
            if fields.get("Event") != "kf_msg_or_event" or not isinstance(open_kfid, str) or not open_kfid:
                raise Refused(400, "not a kf_msg_or_event with an OpenKfId")
            if len(open_kfid) > 64 or (token is not None and (not isinstance(token, str) or len(token) > 256)):
                raise Refused(400, "a malformed OpenKfId or Token")
        except Refused as exc:
            log.warning("wechat_kf callback refused (%d): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        task = asyncio.create_task(self.read(backend, request.app[GATEWAY], open_kfid, token or ""))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="success")

    async def read(self, backend: Backend, gateway: Gateway, open_kfid: str, token: str) -> None:
        """Pull everything new on the account, holding its lease; errors are logged, the cursor kept."""
        self._ensure_token(backend)
        lease, holder = f"wechat_kf-read:{open_kfid}", f"kf-{uuid.uuid4().hex[:12]}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEASE_WAIT
        while True:
            async with backend.new_uow() as uow:
                held = await uow.leases.take_lease(lease, holder, backend.clock(), READ_LEASE)
                await uow.commit()
            if held:
                break
            if loop.time() > deadline:
                log.warning("wechat_kf %s: another reader holds the account; its next callback reads on", open_kfid)
                return
            await asyncio.sleep(0.2)
        try:
            await self._pull(backend, gateway, open_kfid, token)
        except (WeChatError, DeliveryFailed) as exc:
            log.error("wechat_kf %s: sync_msg failed, the cursor is kept for the next callback: %s", open_kfid, exc)
        except Exception:
            log.exception("wechat_kf %s: reading messages failed; the cursor is kept", open_kfid)
        finally:
            async with backend.new_uow() as uow:
                await uow.leases.release_lease(lease, holder)
                await uow.commit()

    async def _pull(self, backend: Backend, gateway: Gateway, open_kfid: str, token: str) -> None:
        async with backend.new_uow() as uow:
            cursor = await uow.channel_state.get(_cursor(open_kfid), backend.clock()) or ""
        for _ in range(MAX_PAGES):
            answer = await self.api.sync_msg(open_kfid, cursor, token)
            for message in answer.get("msg_list") or []:
                if isinstance(message, dict):
                    await self._one(backend, gateway, open_kfid, message)
            next_cursor = answer.get("next_cursor")
            if isinstance(next_cursor, str) and next_cursor and next_cursor != cursor:
                cursor = next_cursor
                async with backend.new_uow() as uow:  # only now: the page's messages are recorded
                    await uow.channel_state.put(_cursor(open_kfid), cursor)
                    await uow.commit()
            if not answer.get("has_more"):
                return

    async def _one(self, backend: Backend, gateway: Gateway, open_kfid: str, message: dict[str, Any]) -> None:
        msgtype, origin = message.get("msgtype"), message.get("origin")
        if msgtype == "event":
            event = message.get("event") or {}
            if isinstance(event, dict) and event.get("event_type") == "enter_session":
                await self._entered(backend, gateway, open_kfid, event, message.get("send_time"))
            return
        user, msgid = message.get("external_userid"), message.get("msgid")
        if origin != CUSTOMER or not isinstance(user, str) or not user or len(user) > 64:
            return  # a servicer's or the system's message, or nothing we can answer
        msgid = str(msgid)[:64] if msgid else None
        await self._remember_account(backend, user, open_kfid)
        await self._follow_after_delivery(backend, open_kfid, user, 0)
        if msgtype == "text":
            text = str((message.get("text") or {}).get("content") or "")
            accepted = await gateway.accept(Inbound(self.name, user, text, msgid))
            if accepted.duplicate:
                log.info("wechat_kf message %s read again: answered already", msgid)
            await self._send_replies(open_kfid, user, accepted.replies)  # only an empty text's fixed answer
            return
        mark = say.OTHER_MARK.format(kind=str(msgtype or "unknown")[:16])
        noted = await gateway.note(Inbound(self.name, user, mark, msgid), (say.OTHER_RECEIVED,))
        await self._send_replies(open_kfid, user, noted.replies)

    async def _entered(
        self, backend: Backend, gateway: Gateway, open_kfid: str, event: dict[str, Any], sent_at: object
    ) -> None:
        """The customer opened the conversation: the welcome menu, recorded once (keyed by the
        welcome_code, or the scene). WeCom gives a welcome_code only to a customer who has not
        written nor been welcomed in 48 hours, i.e. one send_msg cannot reach yet: the welcome goes
        by send_msg_on_event with it, within 20 s of the event and once. Without a code (or too
        late) it goes by send_msg, which reaches a customer who wrote within 48 hours."""
        user = event.get("external_userid")
        if not isinstance(user, str) or not user or len(user) > 64:
            return
        scene = str(event.get("scene") or "")[:32]
        community = scene if model.valid_code(scene) else None
        await self._remember_account(backend, user, open_kfid)
        code = event.get("welcome_code")
        key = f"ev:{code or scene}"[:64]
        name = backend.content.get(community).name
        noted = await gateway.note(
            Inbound(self.name, user, f"[进入会话 {scene}]", key, community), (say.WELCOME.format(name=name),)
        )
        if not noted.replies:
            return  # read again: welcomed already
        age = backend.clock().timestamp() - sent_at if isinstance(sent_at, int) else 0.0
        if isinstance(code, str) and code and age <= EVENT_CODE_LIFE:
            first, *rest = say.split_text(say.joined(noted.replies))
            try:
                await self.api.send_on_event(code, first)
                await self._send_replies(open_kfid, user, rest)
                return
            except (WeChatError, DeliveryFailed) as exc:
                log.warning("wechat_kf welcome by welcome_code to %s refused: %s", say.mask(user), exc)
        elif code:
            log.warning("wechat_kf read %s's enter_session %.0f s late: its welcome_code expired", say.mask(user), age)
        await self._send_replies(open_kfid, user, noted.replies)

    async def _send_replies(self, open_kfid: str, user: str, replies: list[str] | None) -> None:
        for reply in replies or []:
            try:
                for part in say.split_text(reply):
                    await self.api.send_text(open_kfid, user, part)
            except (WeChatError, DeliveryFailed) as exc:
                log.warning("wechat_kf could not send the fixed answer to %s: %s", say.mask(user), exc)

    async def _remember_account(self, backend: Backend, user: str, open_kfid: str) -> None:
        async with backend.new_uow() as uow:
            if await uow.channel_state.get(_account_of(user), backend.clock()) != open_kfid:
                await uow.channel_state.put(_account_of(user), open_kfid)
                await uow.commit()

    # -- handoff ------------------------------------------------------------------------------

    async def _follow_handoff(self, backend: Backend, open_kfid: str, user: str, after: int = 0) -> None:
        """Bring WeCom's service_state in line with our conversation.

        The decision (README, 微信客服 "Handoff"): WeCom lets the API speak only while a session is
        new (0) or the assistant's (1). So without ``WUYE_WECOM_KF_SERVICER`` the session stays in
        state 1 while handed off: the assistant is silent (our conversation says so) and our own
        staff answer from the console through kf/send_msg, which reaches the customer. With a
        servicer configured, handing off gives the session to that servicer (3), who answers in
        WeCom (messages from our console are then refused, 95018, and dead-lettered saying so),
        and handing back ends the servicer's session (4), so the customer's next message opens a
        new one the assistant answers (WeCom never lets a session go back to the assistant).

        Handing off waits while the customer still has an answer coming (their message in flight,
        or notifications queued after ``after``): a move to 3 first would make WeCom refuse them.
        The delivery of the last of them moves it; the handoff notice moves it at once otherwise.
        """
        if not self.settings.servicer:
            return
        sender = f"{self.name}:{user}"
        state, _ = await views.conversation_state(backend.new_uow(), sender)
        handed = state == model.ConversationState.HANDED_OFF.value
        async with backend.new_uow() as uow:
            marked = await uow.channel_state.get(_handed(user), backend.clock()) is not None
        if handed == marked:
            return
        if handed and await views.still_to_tell(backend.new_uow(), sender, after):
            return
        try:
            current = await self.api.service_state(open_kfid, user)
            if handed and current in (0, ASSISTANT, QUEUE):
                await self.api.transfer(open_kfid, user, HUMAN, self.settings.servicer)
                log.info("wechat_kf %s handed to the WeCom servicer: service_state %d", say.mask(user), HUMAN)
            elif not handed and current == HUMAN:
                await self.api.transfer(open_kfid, user, ENDED)
                log.info("wechat_kf %s handed back: the servicer's session ended", say.mask(user))
        except (WeChatError, DeliveryFailed) as exc:
            log.warning("wechat_kf could not move %s's service_state: %s", say.mask(user), exc)
            raise
        async with backend.new_uow() as uow:
            if handed:
                await uow.channel_state.put(_handed(user), backend.clock().isoformat())
            else:
                await uow.channel_state.remove(_handed(user))
            await uow.commit()

    async def _follow_after_delivery(self, backend: Backend, open_kfid: str, user: str, after: int) -> None:
        """The message went out (or came in): a failure to move the session is logged, not raised;
        the next delivery or message tries again."""
        with contextlib.suppress(WeChatError, DeliveryFailed):
            await self._follow_handoff(backend, open_kfid, user, after)

    # -- outbound ----------------------------------------------------------------------------

    def _ensure_token(self, backend: Backend) -> None:
        if self.api.token is None:
            now = lambda: backend.clock().timestamp()  # noqa: E731
            store = DatabaseTokens(backend, self.settings.corpid)
            self.api.token = SharedToken(store, lambda force: self.api.fetch_token(force, now()), now)

    def delivery(self, backend: Backend) -> Deliver:
        self._ensure_token(backend)

        async def deliver(notification: model.Notification) -> str:
            user = notification.recipient.split(":", 1)[1]
            async with backend.new_uow() as uow:
                open_kfid = await uow.channel_state.get(_account_of(user), backend.clock())
            if not open_kfid:
                if notification.kind == CONVERSATION_STATE:
                    return "skipped:no-session"  # never wrote to us: no WeCom session to move
                raise DeliveryFailed("no 微信客服 account known for this customer", permanent=True)
            if notification.kind == CONVERSATION_STATE:  # handed to staff or back: move WeCom's session now
                try:
                    await self._follow_handoff(backend, open_kfid, user, notification.id or 0)
                except WeChatError as exc:
                    raise DeliveryFailed(f"wechat_kf service_state: {exc}") from exc
                return "service_state"
            _, script = await views.conversation_state(backend.new_uow(), notification.recipient)
            text = render(notification.text, script)
            try:
                parts = say.split_text(text)
                send = lambda part: self.api.send_text(open_kfid, user, part)  # noqa: E731
                await send_parts(backend, self.name, notification, parts, send)
            except WeChatError as exc:
                why = REFUSALS.get(exc.errcode)
                if why is not None:
                    raise DeliveryFailed(
                        f"wechat_kf send_msg refused ({why}, errcode {exc.errcode}); 微信客服 has no "
                        "templates: reach the owner another way",
                        permanent=True,
                    ) from exc
                raise DeliveryFailed(f"wechat_kf send_msg: {exc}") from exc
            await self._follow_after_delivery(backend, open_kfid, user, notification.id or 0)
            return "kf"

        return deliver
