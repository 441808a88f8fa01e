"""Hotline transcripts beside the SMS channel, in the real public app on 127.0.0.1: the SMS
fixtures (tests/sms/conftest.py: gateway, stand-in dialogue, fake SMS provider) with the phone
channel on, and a fake ASR provider (Aliyun or Tencent, per ``asr``) posting the calls."""

from __future__ import annotations

import pytest

from tests.fakes.asr import FakeAsr
from tests.sms.conftest import (  # noqa: F401 - fixtures used by the tests here
    content_dir,
    fake,
    http_session,
    sms,
    sms_backend,
    sms_settings,
)

PHONE_TOKEN = "phone-token-for-tests-0123"
CALLER = "13800000501"  # 张伟, on file for 3-2-501 in the demo community


@pytest.fixture
def provider() -> str:
    """The SMS provider the callers hear back through (tests/sms covers both)."""
    return "aliyun"


@pytest.fixture
def other_channels() -> dict:
    from connectors.settings import PhoneSettings

    return {"phone": PhoneSettings(PHONE_TOKEN, caller_channel=0)}


@pytest.fixture(params=["aliyun", "tencent"])
def asr(request) -> FakeAsr:
    return FakeAsr(request.param)


@pytest.fixture
def call(sms, asr):  # noqa: F811 - the imported fixture
    """``await call(lines, caller=…, token=…, **result_options)``: the fake ASR posts the call
    (lines: (0 caller / 1 agent, text)) to our callback; (status, answer)."""

    async def posting(lines, *, caller: str | None = CALLER, token: str = PHONE_TOKEN, query: str = "", **kw):
        body, content_type = asr.result(lines, **kw)
        url = str(sms.client.make_url(f"/phone/{asr.provider}/{token}"))
        url += f"?caller={caller}" if caller is not None else ""
        return await asr.post(url + query, body, content_type)

    return posting
