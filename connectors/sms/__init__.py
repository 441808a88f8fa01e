"""SMS both ways (connectors/sms/channel.py): owners text the community's number, the assistant
answers by SMS, and status updates reach their phones as the operator's approved templates.

On with WUYE_SMS_PROVIDER (aliyun or tencent) and its settings (connectors/settings.py,
SmsSettings); the provider pushes owners' replies to POST /sms/<provider>/<token> and delivery
receipts to POST /sms/<provider>/<token>/report. Without a provider, notifications to sms:
recipients are written to the log (the log provider).
"""

from __future__ import annotations

import aiohttp

from connectors.settings import SmsSettings
from connectors.sms.channel import SmsChannel, create


def create_channel(settings: SmsSettings | None, http: aiohttp.ClientSession | None) -> SmsChannel | None:
    """None while there is no settings section (installed without settings)."""
    if settings is None:
        return None
    return create(settings, http)
