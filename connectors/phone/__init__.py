"""Hotline calls (connectors/phone/channel.py): the call centre's recorded calls, transcribed by
Aliyun's or Tencent's ASR, are the caller's messages on phone:<mobile>; answers go by SMS.

On with WUYE_PHONE_PUSH_TOKEN (connectors/settings.py, PhoneSettings): the provider posts each
call's result to POST /phone/<aliyun|tencent>/<token>?caller=<mobile>. Notifications to phone:
recipients are the SMS channel's to deliver (it delivers for both).
"""

from __future__ import annotations

import aiohttp

from connectors.phone.channel import PhoneChannel
from connectors.settings import PhoneSettings


def create_channel(settings: PhoneSettings | None, http: aiohttp.ClientSession | None) -> PhoneChannel | None:
    """None while the push token is not set (or there is no settings section)."""
    if settings is None or not settings.on:
        return None
    return PhoneChannel(settings)
