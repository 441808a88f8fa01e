"""The WeChat official account (公众号): owners write to the community's account, the assistant
answers there, and status updates reach them there (connectors/wechat/channel.py).

On once WUYE_WECHAT_APPID, WUYE_WECHAT_SECRET and WUYE_WECHAT_TOKEN are set (connectors/settings.py,
WeChatSettings); the account's server URL is then https://<host>/wechat/mp.
"""

from __future__ import annotations

import aiohttp

from connectors.settings import WeChatSettings
from connectors.wechat.channel import WeChatChannel


def create_channel(settings: WeChatSettings | None, http: aiohttp.ClientSession | None) -> WeChatChannel | None:
    """None (off) while the account's settings are empty, or without a client to call WeChat with."""
    if settings is None or not settings.on or http is None:
        return None
    return WeChatChannel(settings, http)
