"""微信客服 (WeChat customer service, run through WeCom): owners write from any WeChat, the
assistant answers there, and status updates reach them there (connectors/wechat_kf/channel.py).

On once WUYE_WECOM_CORPID, WUYE_WECOM_KF_SECRET, WUYE_WECOM_TOKEN and WUYE_WECOM_AES_KEY are set
(connectors/settings.py, WeComKfSettings); the callback URL is then https://<host>/wechat/kf.
"""

from __future__ import annotations

import aiohttp

from connectors.settings import WeComKfSettings
from connectors.wechat_kf.channel import KfChannel


def create_channel(settings: WeComKfSettings | None, http: aiohttp.ClientSession | None) -> KfChannel | None:
    """None (off) while the settings are empty, or without a client to call WeCom with."""
    if settings is None or not settings.on or http is None:
        return None
    return KfChannel(settings, http)
