"""Every WUYE_* setting of the gateway process, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

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
        return cls(
            host=env.get("WUYE_HOST", "127.0.0.1"),
            port=int(env.get("WUYE_PORT", "8080")),
            internal_port=int(env.get("WUYE_INTERNAL_PORT", "8081")),
            database_url=env.get("WUYE_DATABASE_URL") or f"sqlite:///{var_dir / 'wuye.db'}",
            admin_token=env.get("WUYE_ADMIN_TOKEN", ""),
            internal_token=env.get("WUYE_INTERNAL_TOKEN", ""),
            rasa_url=env.get("WUYE_RASA_URL", "http://127.0.0.1:5005"),
            rasa_token=env.get("WUYE_RASA_TOKEN", ""),
            actions_url=env.get("WUYE_ACTIONS_URL", "http://127.0.0.1:5055"),
            content_path=Path(env.get("WUYE_CONTENT", ROOT / "content")),
            demo_data=Path(demo) if demo else None,
            timezone=ZoneInfo(env.get("WUYE_TIMEZONE", "Asia/Shanghai")),
            var_dir=var_dir,
            retry_interval=float(env.get("WUYE_RETRY_INTERVAL", "15")),
            redis_url=env.get("WUYE_REDIS_URL") or None,
            external=ExternalSystem.from_env(env),
        )
