"""Every WUYE_* setting of the gateway process, read from the environment in one place.

Each channel that needs settings has its own section here (``WeChatSettings``); the channel's
package gets that section in ``create_channel(section, http)`` and reads nothing else. A
channel whose required settings are all empty is off; some set and others missing is a
mistake, and the process refuses to start naming what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from backend_bridge.domain.retention import RetentionPolicy

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ExternalSystem:
    """An external property system of record (HC小区, 明源, …): adapters/external.py."""

    name: str  # in the webhook URL, /api/external/<name>/webhook
    url: str
    api_key: str  # sent as our bearer token
    secret: str  # signs requests both ways

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ExternalSystem | None:
        """None unless WUYE_EXTERNAL_URL is set; then all four settings are required."""
        if not env.get("WUYE_EXTERNAL_URL"):
            return None
        keys = ("WUYE_EXTERNAL_NAME", "WUYE_EXTERNAL_URL", "WUYE_EXTERNAL_API_KEY", "WUYE_EXTERNAL_SECRET")
        missing = [k for k in keys if not env.get(k)]
        if missing:
            raise SystemExit(f"missing settings for the external system: {', '.join(missing)}")
        return cls(*(env[k] for k in keys))


DEFAULT_WECHAT_API = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class WeChatSettings:
    """The WeChat official account (公众号, connectors/wechat): on once its app id, secret and
    callback token are set. Without an AES key the account must be in plaintext mode."""

    appid: str = ""
    secret: str = ""
    token: str = ""  # the 令牌 the platform signs callbacks with
    aes_key: str = ""  # EncodingAESKey (43 characters): compatible and safe modes; empty: plaintext
    api_base: str = DEFAULT_WECHAT_API
    reply_budget: float = 4.0  # seconds to wait for the answer before acknowledging (WeChat gives 5)
    redis_url: str | None = None  # de-duplication and the shared access token; None: the database

    title = "WeChat official account (公众号)"
    REQUIRED = ("WUYE_WECHAT_APPID", "WUYE_WECHAT_SECRET", "WUYE_WECHAT_TOKEN")

    @property
    def on(self) -> bool:
        return bool(self.appid)

    @property
    def off_reason(self) -> str | None:
        """None when on; else what to set."""
        return None if self.on else f"set {', '.join(self.REQUIRED)} to turn it on"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> WeChatSettings:
        given = {k: env.get(k, "") for k in cls.REQUIRED}
        missing = [k for k, v in given.items() if not v]
        if missing and len(missing) < len(given):
            raise SystemExit(f"missing settings for the {cls.title}: {', '.join(missing)}")
        aes_key = env.get("WUYE_WECHAT_AES_KEY", "")
        if aes_key and len(aes_key) != 43:
            raise SystemExit("WUYE_WECHAT_AES_KEY must be the 43-character EncodingAESKey, or empty (plaintext mode)")
        budget = float(env.get("WUYE_WECHAT_REPLY_BUDGET", "4"))
        if not 0 <= budget < 5:
            raise SystemExit("WUYE_WECHAT_REPLY_BUDGET must be under 5 seconds: WeChat retries after 5")
        return cls(
            appid=given["WUYE_WECHAT_APPID"],
            secret=given["WUYE_WECHAT_SECRET"],
            token=given["WUYE_WECHAT_TOKEN"],
            aes_key=aes_key,
            api_base=(env.get("WUYE_WECHAT_API_BASE") or DEFAULT_WECHAT_API).rstrip("/"),
            reply_budget=budget,
            redis_url=env.get("WUYE_REDIS_URL") or None,
        )


DEFAULT_WECOM_API = "https://qyapi.weixin.qq.com"


@dataclass(frozen=True)
class WeComKfSettings:
    """微信客服 (connectors/wechat_kf), run through the company's WeCom (企业微信): on once the corp
    id, the 微信客服 secret, the callback token and the EncodingAESKey are set (WeCom always encrypts)."""

    corpid: str = ""
    secret: str = ""  # the 微信客服 application's Secret
    token: str = ""  # the callback Token
    aes_key: str = ""  # the callback EncodingAESKey (43 characters)
    api_base: str = DEFAULT_WECOM_API
    servicer: str = ""  # a WeCom servicer's userid for handed-off sessions; empty: our console answers

    title = "微信客服 (WeCom)"
    REQUIRED = ("WUYE_WECOM_CORPID", "WUYE_WECOM_KF_SECRET", "WUYE_WECOM_TOKEN", "WUYE_WECOM_AES_KEY")

    @property
    def on(self) -> bool:
        return bool(self.secret)

    @property
    def off_reason(self) -> str | None:
        return None if self.on else f"set {', '.join(self.REQUIRED)} to turn it on"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> WeComKfSettings:
        """The corp id alone does not ask for 微信客服: WeCom for staff (WeComSettings) shares it."""
        given = {k: env.get(k, "") for k in cls.REQUIRED}
        missing = [k for k, v in given.items() if not v]
        if missing and any(v for k, v in given.items() if k != "WUYE_WECOM_CORPID"):
            raise SystemExit(f"missing settings for {cls.title}: {', '.join(missing)}")
        aes_key = given["WUYE_WECOM_AES_KEY"]
        if aes_key and len(aes_key) != 43:
            raise SystemExit("WUYE_WECOM_AES_KEY must be the 43-character EncodingAESKey")
        if missing:
            return cls()
        return cls(
            corpid=given["WUYE_WECOM_CORPID"],
            secret=given["WUYE_WECOM_KF_SECRET"],
            token=given["WUYE_WECOM_TOKEN"],
            aes_key=aes_key,
            api_base=(env.get("WUYE_WECOM_API_BASE") or DEFAULT_WECOM_API).rstrip("/"),
            servicer=env.get("WUYE_WECOM_KF_SERVICER", ""),
        )


SMS_PROVIDERS = ("aliyun", "tencent")
DEFAULT_SMS_ENDPOINTS = {"aliyun": "https://dysmsapi.aliyuncs.com", "tencent": "https://sms.tencentcloudapi.com"}


def _path_token(env: dict[str, str], name: str) -> str:
    """A secret a platform's pushes carry in their URL path: the only proof they are for us."""
    token = env[name]
    if len(token) < 16 or not token.replace("-", "").replace("_", "").isalnum() or not token.isascii():
        raise SystemExit(f"{name} must be at least 16 letters, digits, '-' or '_' (it is in a URL)")
    return token


@dataclass(frozen=True)
class SmsSettings:
    """SMS both ways (connectors/sms): owners' replies pushed by the provider, notifications sent
    with the operator's approved templates (content: sms_templates). WUYE_SMS_PROVIDER empty: the
    log provider (notifications to sms: recipients are written to the log, nothing is pushed in)."""

    provider: str = ""  # aliyun, tencent, or "" for the log provider
    endpoint: str = ""  # the provider's API as a URL (tests: the fake on 127.0.0.1)
    key_id: str = ""  # AccessKey ID / SecretId
    key_secret: str = ""  # AccessKey Secret / SecretKey
    app_id: str = ""  # Tencent's SmsSdkAppId
    sign_name: str = ""  # the approved 短信签名
    push_token: str = ""  # the secret path token of POST /sms/<provider>/<token>[/report]
    daily_cap: int = 10  # messages per number per (Shanghai) day; more wait for the next day
    region: str = "ap-guangzhou"  # Tencent's X-TC-Region (Aliyun's SMS API is central)

    title = "SMS"
    REQUIRED = ("WUYE_SMS_KEY_ID", "WUYE_SMS_KEY_SECRET", "WUYE_SMS_SIGN_NAME", "WUYE_SMS_PUSH_TOKEN")

    @property
    def on(self) -> bool:
        """The channel is always on: without a provider it delivers to the log."""
        return True

    @property
    def off_reason(self) -> str | None:
        return None

    @classmethod
    def from_env(cls, env: dict[str, str]) -> SmsSettings:
        provider = env.get("WUYE_SMS_PROVIDER", "").strip().lower()
        cap = env.get("WUYE_SMS_DAILY_CAP", "10")
        if not cap.isdigit() or int(cap) < 1:
            raise SystemExit("WUYE_SMS_DAILY_CAP must be a whole number of messages, at least 1")
        if not provider:
            return cls(daily_cap=int(cap))
        if provider not in SMS_PROVIDERS:
            raise SystemExit(f"WUYE_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, or empty (the log)")
        required = cls.REQUIRED + (("WUYE_SMS_APP_ID",) if provider == "tencent" else ())
        missing = [k for k in required if not env.get(k)]
        if missing:
            raise SystemExit(f"missing settings for SMS ({provider}): {', '.join(missing)}")
        token = _path_token(env, "WUYE_SMS_PUSH_TOKEN")
        endpoint = (env.get("WUYE_SMS_ENDPOINT") or DEFAULT_SMS_ENDPOINTS[provider]).rstrip("/")
        if not endpoint.startswith(("https://", "http://")):
            raise SystemExit("WUYE_SMS_ENDPOINT must be a URL (https://…)")
        return cls(
            provider=provider,
            endpoint=endpoint,
            key_id=env["WUYE_SMS_KEY_ID"],
            key_secret=env["WUYE_SMS_KEY_SECRET"],
            app_id=env.get("WUYE_SMS_APP_ID", ""),
            sign_name=env["WUYE_SMS_SIGN_NAME"],
            push_token=token,
            daily_cap=int(cap),
            region=env.get("WUYE_SMS_REGION") or "ap-guangzhou",
        )


@dataclass(frozen=True)
class PhoneSettings:
    """Hotline call transcripts (connectors/phone): the ASR provider posts each recorded call's
    result to POST /phone/<aliyun|tencent>/<token>?caller=<mobile>. On once the token is set.
    The caller's track (Aliyun ChannelId) or speaker (Tencent SpeakerId) is the call centre's
    recording setup: 0 or 1. Owners hear back by SMS (the SMS channel)."""

    push_token: str = ""
    caller_channel: int = 0

    title = "phone transcripts"

    @property
    def on(self) -> bool:
        return bool(self.push_token)

    @property
    def off_reason(self) -> str | None:
        return None if self.on else "WUYE_PHONE_PUSH_TOKEN is not set"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PhoneSettings:
        channel = env.get("WUYE_PHONE_CALLER_CHANNEL") or "0"
        if channel not in ("0", "1"):
            raise SystemExit("WUYE_PHONE_CALLER_CHANNEL must be 0 or 1 (the caller's track or speaker id)")
        if not env.get("WUYE_PHONE_PUSH_TOKEN"):
            return cls(caller_channel=int(channel))
        return cls(_path_token(env, "WUYE_PHONE_PUSH_TOKEN"), int(channel))


LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class WebChatSettings:
    """Limits on the web chat, the one way in that anyone can use without an account.

    Per sender and per client address, messages a minute (0: no limit). A client's address is
    the connection's, or — when the connection comes from a trusted proxy (default: this
    machine, as with nginx in front) — the address the proxy put last in X-Forwarded-For. A
    local client without that header (a test, a script on the host) has no address limit.
    """

    sender_per_minute: int = 20
    client_per_minute: int = 120
    trusted_proxies: frozenset[str] = LOOPBACK

    title = "web chat"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> WebChatSettings:
        try:
            sender = int(env.get("WUYE_CHAT_SENDER_RATE") or cls.sender_per_minute)
            client = int(env.get("WUYE_CHAT_CLIENT_RATE") or cls.client_per_minute)
        except ValueError as exc:
            raise SystemExit("WUYE_CHAT_SENDER_RATE and WUYE_CHAT_CLIENT_RATE must be whole numbers") from exc
        if sender < 0 or client < 0:
            raise SystemExit("WUYE_CHAT_SENDER_RATE and WUYE_CHAT_CLIENT_RATE must be 0 (off) or more")
        return cls(sender, client, trusted_proxies(env))


def trusted_proxies(env: dict[str, str]) -> frozenset[str]:
    """WUYE_TRUSTED_PROXIES (comma-separated addresses); unset: this machine (nginx in front)."""
    proxies = env.get("WUYE_TRUSTED_PROXIES")
    return frozenset(p.strip() for p in proxies.split(",") if p.strip()) if proxies is not None else LOOPBACK


@dataclass(frozen=True)
class ConsoleSettings:
    """The staff console (backend_bridge/entrypoints/console_api.py).

    ``secure_cookie``: the session cookie is sent over HTTPS only (set it once TLS is in front).
    Sign-in failures allowed per username and per client address in 15 minutes before a 429.
    """

    secure_cookie: bool = False
    user_failures: int = 5
    client_failures: int = 30
    trusted_proxies: frozenset[str] = LOOPBACK

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ConsoleSettings:
        secure = env.get("WUYE_CONSOLE_SECURE_COOKIE", "0").strip().lower()
        if secure not in ("0", "1", "true", "false", ""):
            raise SystemExit("WUYE_CONSOLE_SECURE_COOKIE must be 1 (HTTPS only) or 0")
        try:
            user = int(env.get("WUYE_CONSOLE_USER_FAILURES") or cls.user_failures)
            client = int(env.get("WUYE_CONSOLE_CLIENT_FAILURES") or cls.client_failures)
        except ValueError as exc:
            raise SystemExit(
                "WUYE_CONSOLE_USER_FAILURES and WUYE_CONSOLE_CLIENT_FAILURES must be whole numbers"
            ) from exc
        if user < 1 or client < 1:
            raise SystemExit("WUYE_CONSOLE_USER_FAILURES and WUYE_CONSOLE_CLIENT_FAILURES must be 1 or more")
        return cls(secure in ("1", "true"), user, client, trusted_proxies(env))


@dataclass(frozen=True)
class WeComSettings:
    """WeCom (企业微信) for staff (connectors/wecom): on once the corp id, the self-built app's
    secret and its AgentId are set. Staff with a WeCom UserID then get their notices as app
    messages; with a group robot key, new urgent and emergency tickets go to the duty group too.
    The corp id is the one 微信客服 uses (WUYE_WECOM_CORPID): one company, one corp."""

    corpid: str = ""
    secret: str = ""  # the self-built app's Secret (not the 微信客服 one: each secret has its own token)
    agent_id: int = 0  # the app's AgentId
    robot_key: str = ""  # the duty group's robot webhook key; empty: duty alerts go to the log
    api_base: str = DEFAULT_WECOM_API
    redis_url: str | None = None  # the shared access token; None: the database

    title = "WeCom for staff (企业微信)"
    REQUIRED = ("WUYE_WECOM_CORPID", "WUYE_WECOM_APP_SECRET", "WUYE_WECOM_AGENT_ID")

    @property
    def on(self) -> bool:
        return bool(self.secret)

    @property
    def off_reason(self) -> str | None:
        return None if self.on else f"set {', '.join(self.REQUIRED)} to turn it on"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> WeComSettings:
        """Off while the app's secret, AgentId and robot key are empty (the corp id alone may be
        微信客服's); any of them set makes all three app settings required."""
        own = ("WUYE_WECOM_APP_SECRET", "WUYE_WECOM_AGENT_ID", "WUYE_WECOM_ROBOT_KEY")
        if not any(env.get(k) for k in own):
            return cls()
        missing = [k for k in cls.REQUIRED if not env.get(k)]
        if missing:
            raise SystemExit(f"missing settings for {cls.title}: {', '.join(missing)}")
        agent_id = env["WUYE_WECOM_AGENT_ID"]
        if not agent_id.isdigit():
            raise SystemExit("WUYE_WECOM_AGENT_ID must be the app's AgentId, a number (e.g. 1000002)")
        return cls(
            corpid=env["WUYE_WECOM_CORPID"],
            secret=env["WUYE_WECOM_APP_SECRET"],
            agent_id=int(agent_id),
            robot_key=env.get("WUYE_WECOM_ROBOT_KEY", ""),
            api_base=(env.get("WUYE_WECOM_API_BASE") or DEFAULT_WECOM_API).rstrip("/"),
            redis_url=env.get("WUYE_REDIS_URL") or None,
        )


# Channel package name (connectors/<name>/) → how its section is read. Channels not named here
# (webchat, log) need no settings and get None.
CHANNEL_SECTIONS = {
    "webchat": WebChatSettings.from_env,
    "wechat": WeChatSettings.from_env,
    "wechat_kf": WeComKfSettings.from_env,
    "sms": SmsSettings.from_env,
    "phone": PhoneSettings.from_env,
    "wecom": WeComSettings.from_env,
}


def channel_sections(env: dict[str, str]) -> dict[str, object]:
    return {name: read(env) for name, read in CHANNEL_SECTIONS.items()}


def channels_line(sections: dict[str, object]) -> str:
    """One line on the channels that need settings: which are on, which are off and why."""
    parts = []
    for name, section in sections.items():
        reason = getattr(section, "off_reason", None)
        title = getattr(section, "title", name)
        parts.append(f"{title} is off ({reason})" if reason else f"{title} is on")
    return "; ".join(parts)


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    internal_port: int
    database_url: str
    admin_token: str
    internal_token: str
    rasa_url: str
    rasa_token: str
    actions_url: str
    content_path: Path
    demo_data: Path | None
    timezone: ZoneInfo
    var_dir: Path
    retry_interval: float  # seconds between attempts to answer messages Rasa missed
    redis_url: str | None  # notifications wake dispatchers through a Redis stream; None: they poll
    external: ExternalSystem | None = None  # WUYE_EXTERNAL_*: tickets are also kept there
    channels: dict[str, object] = field(default_factory=dict)  # channel name → its settings section
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)  # WUYE_RETAIN_*_DAYS
    console: ConsoleSettings = field(default_factory=ConsoleSettings)  # WUYE_CONSOLE_*
    rasa_urls: tuple[str, ...] = ()  # WUYE_RASA_URLS: several Rasa instances; empty: rasa_url alone
    # the bot API and /metrics: loopback, unless a container layout must let Prometheus in (and a
    # network policy then keeps everyone else out: deploy/README.md)
    internal_host: str = "127.0.0.1"

    @property
    def rasa_instances(self) -> tuple[str, ...]:
        """Every Rasa instance the gateway routes senders over (connectors/rasa.py)."""
        return self.rasa_urls or (self.rasa_url,)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, dispatcher: bool = False) -> Settings:
        """The settings; the dispatcher process needs no tokens (it serves no HTTP)."""
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("WUYE_VAR_DIR", ROOT / "var"))
        required = () if dispatcher else ("WUYE_ADMIN_TOKEN", "WUYE_INTERNAL_TOKEN", "WUYE_RASA_TOKEN")
        missing = [k for k in required if not env.get(k)]
        if missing:
            raise SystemExit(f"missing settings: {', '.join(missing)} (`make run` generates them in var/secrets.env)")
        demo = env.get("WUYE_DEMO_DATA", "")
        rasa = read_rasa_urls(env)
        return cls(
            host=env.get("WUYE_HOST", "127.0.0.1"),
            port=int(env.get("WUYE_PORT", "8080")),
            internal_port=int(env.get("WUYE_INTERNAL_PORT", "8081")),
            database_url=env.get("WUYE_DATABASE_URL") or f"sqlite:///{var_dir / 'wuye.db'}",
            admin_token=env.get("WUYE_ADMIN_TOKEN", ""),
            internal_token=env.get("WUYE_INTERNAL_TOKEN", ""),
            rasa_url=rasa[0],
            rasa_urls=rasa,
            internal_host=env.get("WUYE_INTERNAL_HOST") or "127.0.0.1",
            rasa_token=env.get("WUYE_RASA_TOKEN", ""),
            actions_url=env.get("WUYE_ACTIONS_URL", "http://127.0.0.1:5055"),
            content_path=Path(env.get("WUYE_CONTENT", ROOT / "content")),
            demo_data=Path(demo) if demo else None,
            timezone=ZoneInfo(env.get("WUYE_TIMEZONE", "Asia/Shanghai")),
            var_dir=var_dir,
            retry_interval=float(env.get("WUYE_RETRY_INTERVAL", "15")),
            redis_url=env.get("WUYE_REDIS_URL") or None,
            external=ExternalSystem.from_env(env),
            channels=channel_sections(env),
            retention=retention_policy(env),
            console=ConsoleSettings.from_env(env),
        )


def read_rasa_urls(env: dict[str, str]) -> tuple[str, ...]:
    """WUYE_RASA_URLS (comma-separated) when set, else WUYE_RASA_URL, else Rasa's usual port here."""
    given = env.get("WUYE_RASA_URLS", "")
    urls = tuple(dict.fromkeys(u.strip().rstrip("/") for u in given.split(",") if u.strip()))
    urls = urls or ((env.get("WUYE_RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),)
    wrong = [u for u in urls if not u.startswith(("http://", "https://"))]
    if wrong:
        raise SystemExit(f"WUYE_RASA_URLS / WUYE_RASA_URL must be http(s) URLs: {', '.join(wrong)}")
    return urls


RETENTION_SETTINGS = {
    "WUYE_RETAIN_MESSAGES_DAYS": "messages_days",
    "WUYE_RETAIN_NOTIFICATIONS_DAYS": "notifications_days",
    "WUYE_RETAIN_ATTEMPTS_DAYS": "attempts_days",
    "WUYE_RETAIN_WEBHOOK_DAYS": "webhook_days",
}


def retention_policy(env: dict[str, str]) -> RetentionPolicy:
    """How long personal data is kept (domain/retention.py); unset: the policy's defaults."""
    given = {name: env[key] for key, name in RETENTION_SETTINGS.items() if env.get(key)}
    try:
        return RetentionPolicy(**{name: int(value) for name, value in given.items()})
    except ValueError as exc:
        keys = ", ".join(RETENTION_SETTINGS)
        raise SystemExit(f"retention settings ({keys}) must be whole numbers of days, at least 1: {exc}") from exc
