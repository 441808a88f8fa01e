"""The running stack with both WeChat channels on, against the fake WeChat in a background thread.

One stack serves every WeChat end-to-end test (stacks cost ~20 s each with the real Rasa): the
公众号 account has an EncodingAESKey, and the callback reads a push in whichever mode it arrives
(plaintext pushes are still signed with the token; the query's ``encrypt_type`` says which), so
plaintext, compatible and safe mode all run against it. The owners here talk the way WeChat
does (tests/fakes/wechat_driver.py); their answers are read where WeChat would show them: the
passive reply in the callback's response, or the customer-service / kf messages the fake received.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from ops.stack import Stack
from tests.fakes.sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat, KfDriver, WeChatDriver, new_aes_key
from tests.fakes.wechat_thread import FakeThread, FakeWeChatThread

MP_TOKEN = "e2e-mp-callback-token"
MP_AES_KEY = new_aes_key()
KF_TOKEN = "e2e-kf-callback-token"
KF_AES_KEY = new_aes_key()
KFID = "wkE2Etest0001"


def wechat_env(f: FakeWeChat) -> dict[str, str]:
    """The settings an operator would set, with both API bases pointed at the fake (running: its
    ``url`` is known; in a thread here, on bench/load.py's own loop there)."""
    return {
        "WUYE_WECHAT_APPID": f.appid,
        "WUYE_WECHAT_SECRET": f.secret,
        "WUYE_WECHAT_TOKEN": MP_TOKEN,
        "WUYE_WECHAT_AES_KEY": MP_AES_KEY,
        "WUYE_WECHAT_API_BASE": f.url,
        "WUYE_WECOM_CORPID": f.corpid,
        "WUYE_WECOM_KF_SECRET": f.kf_secret,
        "WUYE_WECOM_TOKEN": KF_TOKEN,
        "WUYE_WECOM_AES_KEY": KF_AES_KEY,
        "WUYE_WECOM_API_BASE": f.url,
    }


@dataclass
class WeChatWorld:
    stack: Stack
    fake: FakeWeChatThread
    sms: FakeThread[FakeAliyunSms] | None = None  # the SMS fake (tests/e2e/phone_world.py)

    def owner(self, mode: str) -> WeChatOwner:
        appid = self.fake.fake.appid  # type: ignore[union-attr]
        url = f"{self.stack.url}/wechat/mp"
        driver = WeChatDriver(url, token=MP_TOKEN, appid=appid, aes_key=MP_AES_KEY, mode=mode, fake=self.fake.fake)
        return WeChatOwner(self, driver, "o" + secrets.token_hex(13))

    def kf_customer(self) -> KfCustomer:
        corpid = self.fake.fake.corpid  # type: ignore[union-attr]
        driver = KfDriver(f"{self.stack.url}/wechat/kf", token=KF_TOKEN, aes_key=KF_AES_KEY, corpid=corpid)
        return KfCustomer(self, driver, "wm" + secrets.token_hex(12))

    def sent_to(self, api: str, user: str) -> list[str]:
        return self.fake.call(lambda fake: sent_to(fake, api, user))


def sent_to(fake: FakeWeChat, api: str, user: str) -> list[str]:
    """What ``fake`` received for ``user`` through ``api`` (custom, template, kf), in order."""
    return [s["content"] for s in fake.sent if s["api"] == api and s["touser"] == user]


@dataclass
class WeChatOwner:
    """An owner writing to the 公众号 in one mode."""

    world: WeChatWorld
    driver: WeChatDriver
    openid: str
    passive: int = 0  # answers that came back in the callback's response
    custom: int = 0  # answers read from customer-service messages
    _seen: int = field(default=0, repr=False)

    @property
    def sender(self) -> str:
        return f"wechat:{self.openid}"

    def said(self, text: str, expect: str, timeout: float = 60) -> str:
        """Everything the owner saw after writing ``text``, once it contains ``expect``."""
        delivery = self.world.fake.run(self.driver.send_text(self.openid, text))
        assert (delivery.status, delivery.attempts) == (200, 1), delivery  # answered before WeChat's 5 s
        shown = [str(delivery.reply["Content"])] if delivery.reply else []
        self.passive += bool(shown)

        def arrived(fake: FakeWeChat) -> str | None:  # runs on the fake's loop
            later = sent_to(fake, "custom", self.openid)[self._seen :]
            joined = "\n".join(shown + later)
            return joined if expect in joined else None

        joined = self.world.fake.wait_for(arrived, timeout, f"{expect!r} for {self.openid}")
        fresh = len(self.world.sent_to("custom", self.openid)) - self._seen
        self.custom += fresh
        self._seen += fresh
        return joined


@dataclass
class KfCustomer:
    """A customer in 微信客服: each message is pulled by the stack with kf/sync_msg, answered by kf/send_msg."""

    world: WeChatWorld
    driver: KfDriver
    user: str
    _seen: int = field(default=0, repr=False)

    @property
    def sender(self) -> str:
        return f"wechat_kf:{self.user}"

    def said(self, text: str, expect: str, timeout: float = 60) -> str:
        token = self.world.fake.call(lambda f: f.kf_customer_writes(KFID, self.user, text))
        status, body = self.world.fake.run(self.driver.notify(KFID, token))
        assert (status, body) == (200, "success")

        def arrived(fake: FakeWeChat) -> str | None:  # runs on the fake's loop
            joined = "\n".join(sent_to(fake, "kf", self.user)[self._seen :])
            return joined if expect in joined else None

        joined = self.world.fake.wait_for(arrived, timeout, f"{expect!r} for {self.user}")
        self._seen = len(self.world.sent_to("kf", self.user))
        return joined
