"""WeCom (企业微信) for staff: their notices as app messages, urgent tickets in the duty group.

On once WUYE_WECOM_CORPID, WUYE_WECOM_APP_SECRET and WUYE_WECOM_AGENT_ID are set
(connectors/settings.py, WeComSettings). It delivers for "staff:<username>" (members with a WeCom
UserID; the others go to the log channel as before) and "duty:<community>" (the group robot of
WUYE_WECOM_ROBOT_KEY; the log without one). It serves no callback: WeCom only hears from us.
"""

from __future__ import annotations

import aiohttp

from connectors.settings import WeComSettings
from connectors.wecom.channel import WeComChannel


def create_channel(settings: WeComSettings | None, http: aiohttp.ClientSession | None) -> WeComChannel | None:
    """None (off) while the app's settings are empty, or without a client to call WeCom with."""
    if settings is None or not settings.on or http is None:
        return None
    return WeComChannel(settings, http)
