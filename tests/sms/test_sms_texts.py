"""How SMS texts are shaped and the SMS settings read: unit level, no server.

Protects: billing counted as the providers bill (70 characters in one, 67 per part beyond);
unsubscribe words recognised however typed, and nothing else taken for one; template variables
filled from a notice's fields, never empty, never long, never failing on a field a notice lacks;
replies cut into short pieces without losing a character; settings refusing a half-configured
provider and reading every WUYE_SMS_* value.
"""

from __future__ import annotations

import pytest

from backend_bridge.adapters.content import MessageTemplate
from connectors.settings import DEFAULT_SMS_ENDPOINTS, Settings, SmsSettings
from connectors.sms import texts

TOKENS = {"WUYE_ADMIN_TOKEN": "a", "WUYE_INTERNAL_TOKEN": "b", "WUYE_RASA_TOKEN": "c"}
ALIYUN = {
    "WUYE_SMS_PROVIDER": "aliyun",
    "WUYE_SMS_KEY_ID": "LTAI-test",
    "WUYE_SMS_KEY_SECRET": "secret",
    "WUYE_SMS_SIGN_NAME": "阳光物业",
    "WUYE_SMS_PUSH_TOKEN": "a-long-push-token-123",
}


@pytest.mark.parametrize(("size", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_billed_parts(size, parts):
    assert texts.billed_parts("字" * size) == parts


@pytest.mark.parametrize("text", ["T", "td", " TD ", "Ｔ", "N", "r", "退订", " 退订\n"])
def test_unsubscribe_words(text):
    assert texts.is_unsubscribe(text)


@pytest.mark.parametrize("text", ["TT", "退订了吗", "不要退订", "1", "", "NR"])
def test_not_unsubscribe_words(text):
    assert not texts.is_unsubscribe(text)


def test_variables_fill_from_fields_in_order_short_and_never_empty_nor_failing():
    template = MessageTemplate(
        "SMS_1",
        {"number": "{number}", "when": "{expected_at:%H:%M}", "who": "{assignee}", "what": "{summary}", "t": "{at}"},
    )
    fields = {"number": "BX0001", "summary": "厨房水管漏水" * 10, "at": "2026-11-21T10:30:00+08:00"}
    filled = texts.variables(template, fields, "text")
    assert list(filled) == ["number", "when", "who", "what", "t"]
    assert filled["number"] == "BX0001" and filled["when"] == "-" and filled["who"] == "-"
    assert len(filled["what"]) == 35 and filled["what"].endswith("…")
    assert filled["t"] == "11-21 10:30"


@pytest.mark.parametrize("text", ["短", "楼道灯不亮，" * 20, "第一行\n第二行", "a" * 140])
def test_a_reply_is_cut_into_short_pieces_losing_nothing_up_to_four(text):
    pieces = texts.split_reply(text)
    assert all(0 < len(p) <= 35 for p in pieces) and len(pieces) <= 4
    if len(" ".join(text.split())) <= 140:
        assert "".join(pieces) == " ".join(text.split())
    else:
        assert pieces[-1].endswith("…")


def test_without_a_provider_sms_is_the_log_provider():
    section = Settings.from_env(TOKENS).channels["sms"]
    assert section == SmsSettings() and section.provider == ""


def test_every_sms_setting_is_read():
    env = TOKENS | ALIYUN | {"WUYE_SMS_ENDPOINT": "http://127.0.0.1:9/", "WUYE_SMS_DAILY_CAP": "5"}
    section = Settings.from_env(env).channels["sms"]
    assert section == SmsSettings(
        "aliyun", "http://127.0.0.1:9", "LTAI-test", "secret", "", "阳光物业", "a-long-push-token-123", 5
    )
    tencent = SmsSettings.from_env(ALIYUN | {"WUYE_SMS_PROVIDER": "tencent", "WUYE_SMS_APP_ID": "1400000001"})
    assert (tencent.endpoint, tencent.app_id) == (DEFAULT_SMS_ENDPOINTS["tencent"], "1400000001")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"WUYE_SMS_KEY_SECRET": ""}, "WUYE_SMS_KEY_SECRET"),
        ({"WUYE_SMS_PROVIDER": "tencent"}, "WUYE_SMS_APP_ID"),
        ({"WUYE_SMS_PROVIDER": "twilio"}, "aliyun, tencent"),
        ({"WUYE_SMS_PUSH_TOKEN": "short"}, "at least 16"),
        ({"WUYE_SMS_PUSH_TOKEN": "has/a/slash-0123456789"}, "at least 16"),
        ({"WUYE_SMS_ENDPOINT": "dysmsapi.aliyuncs.com"}, "URL"),
        ({"WUYE_SMS_DAILY_CAP": "0"}, "at least 1"),
    ],
)
def test_a_half_configured_provider_refuses_to_start_saying_why(change, complaint):
    with pytest.raises(SystemExit, match=complaint):
        SmsSettings.from_env(ALIYUN | change)
