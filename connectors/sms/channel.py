"""SMS as a channel: owners' replies pushed by the provider, notifications sent as templates.

Inbound (``POST /sms/<provider>/<token>``): the provider pushes owners' replies (上行短信) and
retries until answered in its shape. The token in the path is the only proof the push is the
provider's, so a wrong one is a 404 before the body is read. Each reply is written down under a
key that every repeat shares (Aliyun's sequence id; Tencent's mobile + time + text) and answered
through the outbox (Gateway.accept): SMS has no answer in the request. The mobile is the
conversation id (sms:<11 digits>; phone:<11 digits> within a day of a hotline call, whose
conversation the SMS answer continues), and a mobile on file binds the conversation to its flat.
Notifications to phone: recipients (hotline callers) go by SMS too.
Unsubscribe words are handled here, before the assistant sees them.

Outbound (``delivery``): mainland SMS may only carry approved templates. A notification goes as
its kind's template (content: sms_templates), else as the generic ``late_reply`` one with its text
cut into short variables. Per-number daily caps are counted before sending; over the cap the
notification waits for the next (Shanghai) day. After 退订 only service messages go: replies to
what the owner wrote, and their own tickets' updates. Receipts (``…/report``) confirm a
notification or put it back in the outbox with the provider's error.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import aiohttp
from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.http import token_matches
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer.delivery import Deliver, Sent
from backend_bridge.service_layer.ports import DeliveryDeferred, DeliveryFailed
from backend_bridge.service_layer.unit_of_work import UnitOfWork
from bot.text.pii import mask_pii
from common.phones import normalize_mobile
from connectors.callbacks import Refused, read_body
from connectors.channel import Inbound
from connectors.gateway import Gateway
from connectors.keys import GATEWAY
from connectors.phone.channel import continues_call
from connectors.settings import SmsSettings
from connectors.sms import pushes, texts
from connectors.sms.providers import Outgoing, Provider, ProviderError, provider_for

log = logging.getLogger(__name__)
notifications_log = logging.getLogger("wuye.notifications")

GENERIC = "late_reply"  # the sms_templates entry for anything without its own template
SENT_MARK_DAYS = 3
# Receipt errors that say the number itself cannot receive: retrying cannot help.
RECEIPT_PERMANENT = frozenset(
    {"MOBILE_NOT_ON_SERVICE", "MOBILE_NUMBER_ILLEGAL", "MOBILE_IN_BLACK", "MOBILE_ACCOUNT_ABNORMAL"}
)


def _opted_out(mobile: str) -> str:
    return f"sms:optout:{mobile}"


def _service(notification: model.Notification) -> bool:
    """What an owner who unsubscribed still gets: answers to what they wrote, their tickets' updates."""
    if notification.kind == "late_reply":
        return True
    return notification.kind.startswith("ticket_") and notification.ticket_id is not None


class SmsChannel:
    name = "sms"
    also_for = ("phone",)  # hotline callers hear back by SMS, on their own number (connectors/phone)

    def __init__(self, settings: SmsSettings, provider: Provider | None) -> None:
        self.settings = settings
        self.provider = provider

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()

    def routes(self) -> list[web.RouteDef]:
        if self.provider is None:  # the log provider: nobody pushes to us
            return []
        return [
            web.post("/sms/{provider}/{token}", self.receive),
            web.post("/sms/{provider}/{token}/report", self.report),
        ]

    # -- inbound -----------------------------------------------------------------------------

    def _ours(self, request: web.Request) -> bool:
        same = token_matches(request.match_info["token"], self.settings.push_token)
        return same and request.match_info["provider"] == self.settings.provider

    async def _body(self, request: web.Request) -> bytes:
        return await read_body(request, pushes.MAX_BODY, "body over 64 KB")

    async def receive(self, request: web.Request) -> web.Response:
        if not self._ours(request):
            return web.Response(status=404, text="404 Not Found")
        try:
            replies = pushes.replies(self.settings.provider, await self._body(request))
        except Refused as exc:
            log.warning("sms push refused (%d): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        backend, gateway = request.app[BACKEND], request.app[GATEWAY]
        for reply in replies:
            await self._take(backend, gateway, reply)
        return web.json_response(pushes.ANSWERS[self.settings.provider])

    async def _take(self, backend: Backend, gateway: Gateway, reply: pushes.Reply) -> None:
        # The answer to the SMS a hotline call ended with belongs to the call's conversation.
        channel = "phone" if await continues_call(backend, reply.mobile) else self.name
        inbound = Inbound(channel, reply.mobile, reply.text, reply.key)
        await backend.bus.handle(commands.BindByPhone(inbound.sender, reply.mobile))
        if texts.is_unsubscribe(reply.text):
            noted = await gateway.note(inbound)
            if noted.duplicate or noted.inbound_id is None:
                return
            if await self._opt_out(backend, reply.mobile):  # confirmed once
                confirm = commands.RecordReplies(noted.inbound_id, (texts.OPTED_OUT,), answered=True, push=True)
                await backend.bus.handle(confirm)
            log.info("sms owner %s unsubscribed", mask_pii(reply.mobile))
            return
        accepted = await gateway.accept(inbound)  # answered through the outbox
        if accepted.duplicate:
            log.info("sms repeated push from %s: answered already", mask_pii(reply.mobile))

    async def _opt_out(self, backend: Backend, mobile: str) -> bool:
        """Record the opt-out; True the first time."""
        async with backend.new_uow() as uow:
            if await uow.channel_state.get(_opted_out(mobile), backend.clock()) is not None:
                return False
            await uow.channel_state.put(_opted_out(mobile), backend.clock().isoformat())
            await uow.commit()
            return True

    async def report(self, request: web.Request) -> web.Response:
        if not self._ours(request):
            return web.Response(status=404, text="404 Not Found")
        try:
            receipts = pushes.receipts(self.settings.provider, await self._body(request))
        except Refused as exc:
            log.warning("sms receipt refused (%d): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        backend: Backend = request.app[BACKEND]
        for receipt in receipts:
            code = (receipt.error or "").split(":", 1)[0]
            recorded = await backend.bus.handle(
                commands.RecordDeliveryReceipt(
                    self.name,
                    receipt.message_id,
                    receipt.delivered,
                    receipt.error,
                    permanent=code in RECEIPT_PERMANENT,
                    parts=receipt.parts,
                )
            )
            if recorded.status is None:
                log.info("sms receipt for an unknown message %s", receipt.message_id[:64])
        return web.json_response(pushes.ANSWERS[self.settings.provider])

    # -- outbound ----------------------------------------------------------------------------

    def delivery(self, backend: Backend) -> Deliver:
        async def deliver(notification: model.Notification) -> str | Sent:
            mobile = normalize_mobile(notification.recipient.split(":", 1)[1])
            if mobile is None:
                raise DeliveryFailed("not a mainland mobile number", permanent=True)
            if self.provider is None:
                masked, kind = mask_pii(mobile), notification.kind
                notifications_log.info("to sms:%s [%s] key=%s: %s", masked, kind, notification.key, notification.text)
                return "log"
            if not _service(notification):
                async with backend.new_uow() as uow:
                    if await uow.channel_state.get(_opted_out(mobile), backend.clock()) is not None:
                        return "skipped:optout"
            return await self._send(backend, notification, mobile)

        return deliver

    def _messages(self, backend: Backend, notification: model.Notification, mobile: str) -> tuple[str, list[Outgoing]]:
        templates = backend.content.get().sms_templates
        # the assistant's answers are the generic template's own kind: cut into pieces, never truncated
        own = templates.get(notification.kind) if notification.kind != GENERIC else None
        if own is not None:
            values = texts.variables(own, notification.fields, notification.text)
            return "template", [Outgoing(mobile, own.template_id, values, notification.key)]
        generic = templates.get(GENERIC)
        if generic is None:
            raise DeliveryFailed(
                f"content has no sms_templates entry for '{notification.kind}' nor a generic '{GENERIC}'",
                permanent=True,
            )
        fields = notification.fields
        return "reply", [
            Outgoing(mobile, generic.template_id, texts.variables(generic, fields, piece), notification.key)
            for piece in texts.split_reply(notification.text)
        ]

    async def _send(self, backend: Backend, notification: model.Notification, mobile: str) -> Sent:
        """Each message once (a retry after a failure part-way sends only the rest), within the cap.

        One read and one commit per piece: whether it went already and today's count are read
        together, and the piece's mark is written with the count it adds, so a mark never
        exists without its count (nor the count without its mark)."""
        assert self.provider is not None
        via, messages = self._messages(backend, notification, mobile)
        taken_id, parts = None, 0
        for i, message in enumerate(messages):
            mark = f"sms:sent:{notification.key}:{notification.provider_message_id or ''}:{i}"
            async with backend.new_uow() as uow:
                done = await uow.channel_state.get(mark, backend.clock())
                count = None if done is not None else await self._sent_today(backend, uow, mobile)
            if done is not None:
                taken_id, billed = done.split(" ", 1)
                parts += int(billed)
                continue
            if count is not None and count >= self.settings.daily_cap:
                until = self._tomorrow(backend)
                cap = self.settings.daily_cap
                raise DeliveryDeferred(f"{cap} SMS to this number today; waits until {until}", until)
            try:
                taken = await self.provider.send(message)
            except ProviderError as exc:
                if exc.code in self.provider.limit_codes:
                    await self._count(backend, mobile, cap_reached=True)
                    raise DeliveryDeferred(f"{self.provider.name} {exc}", self._tomorrow(backend)) from exc
                permanent = exc.code in self.provider.permanent_codes
                raise DeliveryFailed(f"{self.provider.name} {exc}", permanent=permanent) from exc
            sign = f"【{self.settings.sign_name}】"
            billed = taken.parts or texts.billed_parts(sign + "".join(message.variables.values()))
            taken_id, parts = taken.message_id, parts + billed
            await self._count(backend, mobile, sent=(mark, f"{taken.message_id} {billed}"))
        return Sent(via, taken_id, parts)

    def _tomorrow(self, backend: Backend) -> datetime:
        """The next midnight where the providers count their days (the backend's time zone)."""
        local = backend.clock().astimezone(backend.timezone)
        return datetime.combine(local.date() + timedelta(days=1), time(0, 0), backend.timezone)

    def _count_key(self, backend: Backend, mobile: str) -> str:
        return f"sms:count:{mobile}:{backend.clock().astimezone(backend.timezone).date().isoformat()}"

    async def _sent_today(self, backend: Backend, uow: UnitOfWork, mobile: str) -> int:
        """How many SMS went to ``mobile`` today (read inside the caller's transaction)."""
        return int(await uow.channel_state.get(self._count_key(backend, mobile), backend.clock()) or 0)

    async def _count(
        self, backend: Backend, mobile: str, *, cap_reached: bool = False, sent: tuple[str, str] | None = None
    ) -> None:
        """One more sent today, with the piece's mark (``sent``: the mark and what it keeps), in one
        commit; or, when the provider says the number's limit is reached, the cap."""
        key = self._count_key(backend, mobile)
        async with backend.new_uow() as uow:
            count = self.settings.daily_cap if cap_reached else await self._sent_today(backend, uow, mobile) + 1
            await uow.channel_state.put(key, str(count), self._tomorrow(backend) + timedelta(days=1))
            if sent is not None:
                mark, kept = sent
                await uow.channel_state.put(mark, kept, backend.clock() + timedelta(days=SENT_MARK_DAYS))
            await uow.commit()


def create(settings: SmsSettings, http: aiohttp.ClientSession | None) -> SmsChannel:
    return SmsChannel(settings, provider_for(settings))
