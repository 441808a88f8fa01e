"""WeCom for staff: its settings section, its place among the channels, and staff accounts'
WeCom UserIDs through the staff API.

Protects: the channel off with its settings empty (and with only the corp id 微信客服 shares),
refusing to start half-configured naming what is missing; staff and duty notices delivered by
the wecom channel while it is on and by the log while it is off, whichever order the channels
come in; a UserID accepted when added or changed, cleared with null, listed, refused when
malformed or already another account's (WeCom ignores case).
"""

from __future__ import annotations

import aiohttp
import pytest

from connectors.channel import close_channels, deliveries, installed_channels
from connectors.settings import DEFAULT_WECOM_API, Settings, WeComKfSettings, WeComSettings, channel_sections
from tests.conftest import ADMIN_TOKEN, bearer

TOKENS = {"WUYE_ADMIN_TOKEN": "a", "WUYE_INTERNAL_TOKEN": "b", "WUYE_RASA_TOKEN": "c"}
WECOM = {"WUYE_WECOM_CORPID": "ww123", "WUYE_WECOM_APP_SECRET": "app-s3cret", "WUYE_WECOM_AGENT_ID": "1000002"}
AUTH = bearer(ADMIN_TOKEN)


def test_off_when_empty_and_with_only_the_corp_id_that_wechat_kf_shares():
    sections = channel_sections({})
    assert sections["wecom"].on is False and "WUYE_WECOM_APP_SECRET" in sections["wecom"].off_reason
    corp_only = channel_sections({"WUYE_WECOM_CORPID": "ww123"})
    assert corp_only["wecom"].on is False and corp_only["wechat_kf"].on is False


def test_half_configured_it_refuses_to_start_naming_what_is_missing():
    with pytest.raises(SystemExit, match="WUYE_WECOM_CORPID, WUYE_WECOM_AGENT_ID"):
        Settings.from_env({**TOKENS, "WUYE_WECOM_APP_SECRET": "s"})
    with pytest.raises(SystemExit, match="WUYE_WECOM_CORPID, WUYE_WECOM_APP_SECRET, WUYE_WECOM_AGENT_ID"):
        Settings.from_env({**TOKENS, "WUYE_WECOM_ROBOT_KEY": "k"})
    with pytest.raises(SystemExit, match="AgentId"):
        WeComSettings.from_env({**WECOM, "WUYE_WECOM_AGENT_ID": "agent-1"})


def test_the_section_is_read_with_the_other_settings_and_wechat_kf_stays_off(tmp_path):
    env = {
        **TOKENS,
        **WECOM,
        "WUYE_VAR_DIR": str(tmp_path),
        "WUYE_WECOM_ROBOT_KEY": "robot-key",
        "WUYE_WECOM_API_BASE": "http://127.0.0.1:9/",
    }
    settings = Settings.from_env(env, dispatcher=True)
    assert settings.channels["wecom"] == WeComSettings(
        "ww123", "app-s3cret", 1000002, "robot-key", "http://127.0.0.1:9"
    )
    assert settings.channels["wechat_kf"] == WeComKfSettings()  # the shared corp id does not ask for 微信客服
    assert WeComSettings.from_env(WECOM).api_base == DEFAULT_WECOM_API
    assert WeComSettings.from_env(WECOM).robot_key == ""  # the duty group is optional


async def test_while_on_it_delivers_for_staff_and_duty_in_any_order_and_the_log_while_off(backend):
    section = WeComSettings.from_env(WECOM)
    async with aiohttp.ClientSession() as http:
        on = installed_channels({"wecom": section}, http)
        wecom = next(c for c in on if c.name == "wecom")
        log = next(c for c in on if c.name == "log")
        assert wecom.routes() == []
        for order in ([log, wecom], [wecom, log]):
            found = deliveries(backend, order)
            assert found["staff"] is found["duty"] is found["wecom"]
            assert found["log"] is not found["staff"]
        off = installed_channels({}, http)
        assert "wecom" not in {c.name for c in off}
        found = deliveries(backend, off)
        assert found["staff"] is found["duty"] is found["log"]
        await close_channels(on)


async def test_a_wecom_userid_is_set_when_added_changed_cleared_and_listed(public_client, backend):
    body = {"username": "wang", "name": "王师傅", "role": "technician", "wecom_userid": "WangShiFu"}
    resp = await public_client.post("/api/staff", json=body, headers=AUTH)
    assert resp.status == 201 and (await resp.json())["wecom_userid"] == "WangShiFu"
    resp = await public_client.patch("/api/staff/wang", json={"wecom_userid": "wang.shifu@corp"}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["wecom_userid"] == "wang.shifu@corp"
    listed = await (await public_client.get("/api/staff", headers=AUTH)).json()
    assert [(m["username"], m["wecom_userid"]) for m in listed] == [("wang", "wang.shifu@corp")]
    resp = await public_client.patch("/api/staff/wang", json={"wecom_userid": None}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["wecom_userid"] is None
    async with backend.new_uow() as uow:
        assert (await uow.staff.by_username("wang")).wecom_userid is None
    body = {"username": "li", "name": "李", "role": "agent"}
    assert (await (await public_client.post("/api/staff", json=body, headers=AUTH)).json())["wecom_userid"] is None


async def test_a_malformed_or_taken_wecom_userid_is_refused_and_nothing_changes(public_client, backend):
    body = {"username": "wang", "name": "王师傅", "role": "technician", "wecom_userid": "WangShiFu"}
    assert (await public_client.post("/api/staff", json=body, headers=AUTH)).status == 201
    for bad in ("王师傅", "-dash-first", "x" * 65, "a b", 12345, ["WangShiFu"]):
        resp = await public_client.patch("/api/staff/wang", json={"wecom_userid": bad}, headers=AUTH)
        assert resp.status == 400, (bad, await resp.text())
    for bad_body in ({}, {"name": "改名"}, {"wecom_userid": "Wang2", "role": "admin"}):
        resp = await public_client.patch("/api/staff/wang", json=bad_body, headers=AUTH)
        assert resp.status == 400
    taken = {"username": "li", "name": "李", "role": "agent", "wecom_userid": "wangshifu"}  # same member, any case
    resp = await public_client.post("/api/staff", json=taken, headers=AUTH)
    assert resp.status == 409 and "another staff account" in (await resp.json())["message"]
    assert (
        await public_client.post("/api/staff", json={**taken, "wecom_userid": "LiZhuGuan"}, headers=AUTH)
    ).status == 201
    resp = await public_client.patch("/api/staff/li", json={"wecom_userid": "WANGSHIFU"}, headers=AUTH)
    assert resp.status == 409
    assert (await public_client.patch("/api/staff/nobody", json={"wecom_userid": "X1"}, headers=AUTH)).status == 404
    async with backend.new_uow() as uow:
        assert {m.username: m.wecom_userid for m in await uow.staff.all()} == {"wang": "WangShiFu", "li": "LiZhuGuan"}
