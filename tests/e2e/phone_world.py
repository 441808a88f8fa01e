"""Hotline calls and SMS on the shared channel stack (tests/e2e/conftest.py: ``wechat_world``):
the Aliyun SMS fake in a background thread, the phone channel's token, and content with the
operator's SMS templates. Calls are posted the way the ASR providers post them (tests/fakes/asr.py).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from tests.conftest import CONTENT
from tests.fakes.asr import FakeAsr
from tests.fakes.sms import FakeAliyunSms
from tests.fakes.wechat_thread import FakeThread
from tests.sms.conftest import templates_yaml

PHONE_TOKEN = "e2e-phone-callback-token"
SMS_TOKEN = "e2e-sms-push-token-0001"
# SMS per number a day, at the fake provider and in the channel: Aliyun's ceiling for notification
# SMS of one signature and template to one number, which an enterprise account sets in its console
# (its default of 10 a day is for verification codes). Answers go in pieces of 35 characters, so
# one repair told by SMS can take more than 10 (bench/NOTES.md); the tests of the cap itself are
# in tests/sms, with the default.
SMS_PER_DAY = 50


def sms_thread() -> FakeThread[FakeAliyunSms]:
    return FakeThread(
        lambda: FakeAliyunSms(per_day=SMS_PER_DAY),
        FakeAliyunSms.__aenter__,
        lambda f: f.__aexit__(None, None, None),
        "fake-sms",
    )


def sms_env(f: FakeAliyunSms, content_dir: Path) -> dict[str, str]:
    """SMS through the (running) fake Aliyun, the hotline's callbacks on, and content with SMS templates."""
    shutil.copytree(CONTENT, content_dir)
    with (content_dir / "company.yml").open("a", encoding="utf-8") as out:
        out.write(templates_yaml("aliyun"))
    return {
        "WUYE_CONTENT": str(content_dir),
        "WUYE_SMS_PROVIDER": "aliyun",
        "WUYE_SMS_ENDPOINT": f.url,
        "WUYE_SMS_KEY_ID": f.key_id,
        "WUYE_SMS_KEY_SECRET": f.key_secret,
        "WUYE_SMS_SIGN_NAME": f.sign_name,
        "WUYE_SMS_PUSH_TOKEN": SMS_TOKEN,
        "WUYE_PHONE_PUSH_TOKEN": PHONE_TOKEN,
        "WUYE_PHONE_CALLER_CHANNEL": "0",
        "WUYE_SMS_DAILY_CAP": str(SMS_PER_DAY),
    }


def post_call(stack_url: str, fake: FakeThread[Any], provider: str, caller: str, lines: list[tuple[int, str]]):
    """The ASR provider posts a recorded call (lines: (0 caller / 1 agent, text)); (status, answer)."""
    asr = FakeAsr(provider)
    body, content_type = asr.result(lines)
    url = f"{stack_url}/phone/{provider}/{PHONE_TOKEN}?caller={caller}"
    return fake.run(asr.post(url, body, content_type), timeout=120)


def sms_from(stack_url: str, fake: FakeThread[FakeAliyunSms], mobile: str, text: str):
    """The owner texts ``text``: Aliyun pushes it (SmsUp) to our endpoint; (status, answer)."""
    import json
    import urllib.request

    body = fake.call(lambda f: f.reply_push(mobile, text))
    request = urllib.request.Request(
        f"{stack_url}/sms/aliyun/{SMS_TOKEN}", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.status, json.loads(resp.read())


def notices(sent: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(template, text) of each notification in ``sent``: its template's variables joined by "|",
    the pieces of a long answer (one notification: the same OutId) run together."""
    found: list[tuple[str, str]] = []
    keys: list[str] = []
    for s in sent:
        text = "|".join(s["values"].values())
        if keys and keys[-1] == s["out_id"]:
            found[-1] = (found[-1][0], found[-1][1] + text)
        else:
            found.append((s["template"], text))
            keys.append(s["out_id"])
    return found


def sms_texts(fake: FakeThread[FakeAliyunSms], mobile: str) -> list[str]:
    """What reached ``mobile``, one text per notification."""
    return [text for _, text in fake.call(lambda f: notices(f.texts_to(mobile)))]


def wait_for_sms(fake: FakeThread[FakeAliyunSms], mobile: str, count: int, timeout: float = 30) -> list[str]:
    """The first ``count`` notifications that reached ``mobile``, whole: once the last one's pieces
    (sent back to back) stopped coming (AssertionError after ``timeout``)."""
    fake.wait_for(lambda f: len(notices(f.texts_to(mobile))) >= count, timeout, f"{count} SMS to the owner")
    seen, now = -1, fake.call(lambda f: len(f.texts_to(mobile)))
    while now != seen:
        time.sleep(0.3)
        seen, now = now, fake.call(lambda f: len(f.texts_to(mobile)))
    return sms_texts(fake, mobile)
