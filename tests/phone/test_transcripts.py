"""Reading the ASR providers' call results (connectors/phone/transcripts.py) and the phone settings.

Protects: the caller's track chosen by the setting, sentences put in speaking order whatever
order they arrive in, a side's consecutive sentences joined into one turn, a silent recording
being a call with nothing said, failures kept as failures, and every malformed shape refused."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from connectors.phone import transcripts
from connectors.settings import PhoneSettings
from tests.fakes.asr import FakeAsr

MOBILE = "13800000501"


def aliyun(sentences, status=21050000) -> bytes:
    return json.dumps({"TaskId": "t-1", "StatusCode": status, "Result": {"Sentences": sentences}}).encode()


def test_the_caller_is_the_track_the_setting_names_and_sentences_go_in_speaking_order():
    body = aliyun(
        [
            {"ChannelId": 0, "BeginTime": 9000, "Text": "三栋二单元五零一"},
            {"ChannelId": 1, "BeginTime": 0, "Text": "物业您好"},
            {"ChannelId": 0, "BeginTime": 3000, "Text": "我家水管漏了"},
            {"ChannelId": 0, "BeginTime": 6000, "Text": "  "},
            {"ChannelId": 1, "BeginTime": 7000, "Text": "您家地址"},
        ]
    )
    call = transcripts.parse("aliyun", body, MOBILE, caller_channel=0)
    assert [(t.caller, t.text) for t in call.turns] == [
        (False, "物业您好"),
        (True, "我家水管漏了"),
        (False, "您家地址"),
        (True, "三栋二单元五零一"),
    ]
    flipped = transcripts.parse("aliyun", body, MOBILE, caller_channel=1)
    assert [t.text for t in flipped.caller_turns] == ["物业您好", "您家地址"]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_both_shapes_give_the_same_call(provider):
    lines = [(1, "物业您好"), (0, "电梯坏了"), (0, "困了人"), (1, "马上派人")]
    body, _ = FakeAsr(provider).result(lines, task_id="4000048858")
    call = transcripts.parse(provider, body, MOBILE, caller_channel=0)
    assert call.task_id == "4000048858" and call.recognised
    assert [t.text for t in call.caller_turns] == ["电梯坏了，困了人"]


def test_a_silent_recording_is_a_call_with_nothing_said_and_a_failure_is_kept():
    assert transcripts.parse("aliyun", aliyun([], status=21050003), MOBILE, 0).turns == ()
    failed = transcripts.parse("aliyun", aliyun([], status=41050002), MOBILE, 0)
    assert not failed.recognised and failed.failure.startswith("41050002")
    body, _ = FakeAsr("tencent").result([], status=10007)
    assert transcripts.parse("tencent", body, MOBILE, 0).failure.startswith("10007")


@pytest.mark.parametrize(
    ("provider", "body", "status"),
    [
        ("aliyun", b"[1, 2]", 400),
        ("aliyun", b'{"StatusCode": 21050000, "Result": {"Sentences": []}}', 400),  # no task id
        ("aliyun", json.dumps({"TaskId": "a b", "StatusCode": 21050000}).encode(), 400),
        ("aliyun", json.dumps({"TaskId": "t", "StatusCode": 21050000, "Result": []}).encode(), 400),
        ("aliyun", aliyun([{"ChannelId": 0, "BeginTime": 0, "Text": 5}]), 400),
        ("aliyun", aliyun([{"ChannelId": "x", "BeginTime": 0, "Text": "a"}]), 400),
        ("aliyun", aliyun([{"ChannelId": 0, "BeginTime": 0, "Text": "长" * 1001}]), 400),
        ("aliyun", aliyun([{"ChannelId": 0, "BeginTime": 0, "Text": "a"}] * 2001), 400),
        ("aliyun", b"{" * (513 * 1024), 413),
        ("tencent", urlencode({"code": 0, "requestId": "1", "resultDetail": ""}).encode(), 400),
        ("tencent", urlencode({"code": 0, "requestId": "1", "resultDetail": "not json"}).encode(), 400),
        ("tencent", urlencode({"code": "zero", "requestId": "1"}).encode(), 400),
        ("tencent", b"\xff\xfe", 400),
        ("tencent", b"", 400),
        ("baidu", b"{}", 404),
    ],
)
def test_malformed_results_are_refused(provider, body, status):
    with pytest.raises(transcripts.Refused) as refused:
        transcripts.parse(provider, body, MOBILE, 0)
    assert refused.value.status == status


@pytest.mark.parametrize("value", ["+86 138-0000-0501", "008613800000501", "13800000501"])
def test_the_caller_from_the_callback_url_is_normalised(value):
    assert transcripts.caller_mobile(value) == MOBILE


@pytest.mark.parametrize("value", [None, "", "010-12345678", "138000005011", "13800000501,13900000502"])
def test_a_callback_url_without_one_mainland_mobile_is_refused(value):
    with pytest.raises(transcripts.Refused):
        transcripts.caller_mobile(value)


def test_phone_settings():
    assert not PhoneSettings.from_env({}).on
    on = PhoneSettings.from_env({"WUYE_PHONE_PUSH_TOKEN": "a" * 16, "WUYE_PHONE_CALLER_CHANNEL": "1"})
    assert on.on and on.caller_channel == 1
    with pytest.raises(SystemExit):
        PhoneSettings.from_env({"WUYE_PHONE_PUSH_TOKEN": "short"})
    with pytest.raises(SystemExit):
        PhoneSettings.from_env({"WUYE_PHONE_PUSH_TOKEN": "a" * 16, "WUYE_PHONE_CALLER_CHANNEL": "2"})
