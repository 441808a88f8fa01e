"""The fake WeCom behaves as the real one where the channel depends on it.

Protects the fake's own checks, so a channel test passing against it means something: a token
from gettoken only for the right corp and secret, refused once expired; the app's AgentId;
unknown members reported in ``invaliduser`` (81013 when none is known); a member's 31st message
in a minute answered "ok" and dropped; the robot's 21st refused with 45009, a wrong key 93000.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import aiohttp

from tests.fakes.wecom import FakeWeCom


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


async def _token(http: aiohttp.ClientSession, fake: FakeWeCom, secret: str | None = None) -> dict:
    params = {"corpid": fake.corpid, "corpsecret": secret or fake.secret}
    async with http.get(f"{fake.url}/cgi-bin/gettoken", params=params) as resp:
        return await resp.json()


async def _send(http, fake, token: str, touser: str, text: str = "你好", agentid: int | None = None) -> dict:
    body = {"touser": touser, "msgtype": "text", "agentid": agentid or fake.agent_id, "text": {"content": text}}
    async with http.post(f"{fake.url}/cgi-bin/message/send", params={"access_token": token}, data=_utf8(body)) as resp:
        return await resp.json()


def _utf8(body: dict) -> bytes:
    """As WeCom wants it: UTF-8 as it is (aiohttp's json= writes \\uXXXX, which WeCom refuses: 40033)."""
    return json.dumps(body, ensure_ascii=False).encode()


async def test_tokens_agentid_and_members_are_checked_as_wecom_does():
    clock = Clock()
    async with FakeWeCom(clock=clock) as fake, aiohttp.ClientSession() as http:
        assert (await _token(http, fake, secret="wrong"))["errcode"] == 40001
        token = (await _token(http, fake))["access_token"]
        assert (await _send(http, fake, token, "WangShiFu", agentid=1))["errcode"] == 40056
        answer = await _send(http, fake, token, "wangshifu|Nobody")
        assert answer["errcode"] == 0 and answer["invaliduser"] == "Nobody"
        assert (await _send(http, fake, token, "Nobody"))["errcode"] == 81013
        clock.now += timedelta(seconds=7201)
        assert (await _send(http, fake, token, "WangShiFu"))["errcode"] == 42001
        assert (await _send(http, fake, "", "WangShiFu"))["errcode"] == 41001
        assert fake.texts_to("WangShiFu") == ["你好"]


async def test_a_members_31st_message_in_a_minute_is_answered_ok_and_dropped():
    clock = Clock()
    async with FakeWeCom(clock=clock) as fake, aiohttp.ClientSession() as http:
        token = (await _token(http, fake))["access_token"]
        answers = [await _send(http, fake, token, "WangShiFu", f"第{i}条") for i in range(31)]
        assert {a["errcode"] for a in answers} == {0}
        assert len(fake.texts_to("WangShiFu")) == 30 and [d["content"] for d in fake.dropped] == ["第30条"]
        clock.now += timedelta(seconds=61)
        assert (await _send(http, fake, token, "WangShiFu"))["errcode"] == 0
        assert len(fake.texts_to("WangShiFu")) == 31


async def test_the_robot_takes_20_a_minute_then_45009_and_a_wrong_key_is_93000():
    clock = Clock()
    async with FakeWeCom(clock=clock, robot_keys=("k1",)) as fake, aiohttp.ClientSession() as http:
        url = f"{fake.url}/cgi-bin/webhook/send"
        body = {"msgtype": "text", "text": {"content": "急修"}}
        codes = []
        for _ in range(21):
            async with http.post(url, params={"key": "k1"}, data=_utf8(body)) as resp:
                codes.append((await resp.json())["errcode"])
        assert codes == [0] * 20 + [45009]
        async with http.post(url, params={"key": "k2"}, data=_utf8(body)) as resp:
            assert (await resp.json())["errcode"] == 93000
        clock.now += timedelta(seconds=61)
        async with http.post(url, params={"key": "k1"}, data=_utf8(body)) as resp:
            assert (await resp.json())["errcode"] == 0
        assert len(fake.group_texts("k1")) == 21
