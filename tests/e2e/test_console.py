"""The staff console in a real browser (Debian's Chromium, headless) against the running stack.

One browser for the session, a fresh context (cookies, storage) per staff member per test; staff
accounts are made once per session through the staff API. Each context is guarded
(console_world.Guard): a console error, a page error or a request off 127.0.0.1 fails the test.
The owner's side is the web chat API (the e2e ``Owner`` helper), as an owner's browser would call it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import Owner
from tests.e2e.console_world import (
    PHONE,
    Account,
    Console,
    admin_get,
    admin_tickets,
    assign,
    in_thread,
    launch,
    make_account,
    new_console,
    numbers_in,
    open_ticket,
    painted_pixels,
)

TICKET = re.compile(r"^(BX|TS)\d{6}$")
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
async def browser():
    async with async_playwright() as playwright:
        running = await launch(playwright)
        yield running
        await running.close()


@dataclass(frozen=True)
class People:
    agent: Account  # 客服, company-wide: conversations, dispatch
    supervisor: Account  # 主管: the dashboard
    technician: Account  # 维修师傅 in 示例花园
    colleague: Account  # another 维修师傅 in 示例花园


@pytest.fixture(scope="session")
def people(stack) -> People:
    return People(
        agent=make_account(stack, "agent", "周客服"),
        supervisor=make_account(stack, "supervisor", "钱主管"),
        technician=make_account(stack, "technician", "吴师傅", ["shifan"]),
        colleague=make_account(stack, "technician", "郑师傅", ["shifan"]),
    )


@pytest.fixture
async def consoles(browser, stack):
    """``await consoles(account)``: a fresh guarded context, signed in (None: signed out). Every
    context's guard is checked after the test, so a stray error fails the test that caused it."""
    opened: list[Console] = []

    async def open_console(account: Account | None = None, viewport: dict | None = None) -> Console:
        console = await new_console(browser, stack, viewport)
        opened.append(console)
        if account is not None:
            await console.login_by_api(account)
        return console

    yield open_console
    for console in opened:
        await console.context.close()
    for console in opened:
        console.guard.check()


def row(console: Console, sender: str):
    return console.page.locator(console.testid("conv-row", sender=sender))


async def waiting_list(console: Console) -> None:
    await console.open()
    await console.nav("nav-conversations")
    await console.page.click(console.testid("tab-waiting"))


async def take_over(console: Console, owner: Owner) -> None:
    """The owner asks for a person; the agent finds them in 待人工, opens and claims the conversation."""
    assert "人工" in await in_thread(owner.said, "转人工")
    await waiting_list(console)
    await row(console, owner.sender).click()
    await console.page.click(console.testid("claim"))
    await expect(console.page.locator(console.testid("handback"))).to_be_visible()  # held by this agent now
    await expect(console.page.locator(console.testid("transcript"))).to_be_visible()


def message_log(stack, sender: str) -> list[dict]:
    status, log = admin_get(stack, f"/api/conversations/{sender}/messages")
    assert status == 200, log
    return log


# --- signing in -------------------------------------------------------------------------------


async def test_login_with_the_right_password_and_not_with_a_wrong_one(consoles, people, stack):
    console = await consoles()
    console.guard.allow(r"status of 401")  # the browser notes the refused login (expected)
    page = console.page
    await page.goto(f"{stack.url}/console/")
    assert "/console/login" in page.url  # no session: the console sends you to the login page

    await console.login_by_form(people.agent, password="not-the-password-1")
    await expect(page.locator(console.testid("login-error"))).to_contain_text("用户名或密码错误")
    assert "/console/login" in page.url
    assert not [c for c in await console.context.cookies() if c["name"] == "wuye_console"]

    await console.login_by_form(people.agent)
    await expect(page.locator(console.testid("me"))).to_contain_text(people.agent.name)
    assert "/console/login" not in page.url
    (cookie,) = [c for c in await console.context.cookies() if c["name"] == "wuye_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"

    await page.click(console.testid("logout"))
    await page.wait_for_url(re.compile(r"/console/login"))
    await page.goto(f"{stack.url}/console/")
    assert "/console/login" in page.url  # the session was revoked, not just forgotten
    resp = await console.context.request.get(f"{stack.url}/console/api/me")
    assert resp.status == 401


async def test_changes_need_the_csrf_header_and_no_foreign_origin(consoles, people, stack):
    console = await consoles(people.agent)
    number = open_ticket(stack, "楼道灯不亮（CSRF 测试）")
    url = f"{stack.url}/api/tickets/{number}/comments"
    request = console.context.request  # the context's cookie jar: the session cookie goes along

    refused = [
        await request.post(url, data={"note": "没有令牌"}),
        await request.post(url, data={"note": "错的令牌"}, headers={"X-CSRF-Token": "x" * 43}),
        await request.post(
            url, data={"note": "外站来源"}, headers={"X-CSRF-Token": console.csrf, "Origin": "http://evil.example"}
        ),
        await request.post(
            url,
            data={"note": "外站引用"},
            headers={"X-CSRF-Token": console.csrf, "Referer": "http://evil.example/page"},
        ),
    ]
    for resp in refused:
        assert resp.status == 403, (resp.status, await resp.text())
        assert (await resp.json())["error"] == "csrf"
    accepted = await request.post(
        url, data={"note": "同源的备注"}, headers={"X-CSRF-Token": console.csrf, "Origin": stack.url}
    )
    assert accepted.status in (200, 201), await accepted.text()

    ticket = admin_get(stack, f"/api/tickets/{number}")[1]
    texts = " ".join(str(e) for e in ticket["history"])
    assert "同源的备注" in texts
    assert not any(t in texts for t in ("没有令牌", "错的令牌", "外站来源", "外站引用"))


# --- technicians ------------------------------------------------------------------------------


async def test_a_technician_cannot_see_or_open_another_technicians_ticket(consoles, people, stack):
    mine = open_ticket(stack, "卫生间灯不亮（吴师傅的）")
    theirs = open_ticket(stack, "阳台漏水（郑师傅的）", room="502")
    assign(stack, mine, people.technician.username)
    assign(stack, theirs, people.colleague.username)

    console = await consoles(people.technician, viewport=PHONE)
    console.guard.allow(r"status of 40[34]")  # the direct link below is refused, as it must be
    page = console.page
    await console.open()
    await console.nav("nav-mytickets")
    await expect(page.locator(console.testid("ticket-row", ticket=mine))).to_be_visible()
    assert await page.locator(console.testid("ticket-row", ticket=theirs)).count() == 0
    await expect(page.get_by_text("阳台漏水（郑师傅的）")).to_have_count(0)

    # The API behind it, with this session: not listed, not readable.
    listed = await console.context.request.get(f"{stack.url}/api/tickets?assignee={people.colleague.username}")
    assert listed.status == 200 and theirs not in [t["id"] for t in await listed.json()]
    direct = await console.context.request.get(f"{stack.url}/api/tickets/{theirs}")
    assert direct.status in (403, 404), await direct.text()

    # A direct link to it shows nothing of it.
    async with page.expect_response(lambda r: f"/api/tickets/{theirs}" in r.url) as answer:
        await page.goto(f"{stack.url}/console/#/tickets/{theirs}")
    assert (await answer.value).status in (403, 404)
    await expect(page.get_by_text("阳台漏水（郑师傅的）")).to_have_count(0)


async def test_a_dispatched_ticket_reaches_the_technicians_list(consoles, people, stack):
    number = open_ticket(stack, "厨房水槽堵了（派单测试）")
    desk = await consoles(people.agent)
    await (await desk.find_ticket(number)).click()
    await expect(desk.page.locator(desk.testid("ticket-detail"))).to_contain_text(number)
    await desk.choose_assignee(people.technician.username)
    await desk.page.click(desk.testid("assign-submit"))
    await expect(desk.page.locator(desk.testid("timeline"))).to_contain_text(people.technician.username)
    assert admin_get(stack, f"/api/tickets/{number}")[1]["assignee"] == people.technician.username

    phone = await consoles(people.technician, viewport=PHONE)
    await phone.open()
    await phone.nav("nav-mytickets")
    ticket_row = phone.page.locator(phone.testid("ticket-row", ticket=number))
    await expect(ticket_row).to_be_visible()
    await ticket_row.click()
    await phone.page.click(phone.testid("start"))
    for _ in range(50):
        if admin_get(stack, f"/api/tickets/{number}")[1]["status"] == "in_progress":
            break
        await asyncio.sleep(0.1)
    assert admin_get(stack, f"/api/tickets/{number}")[1]["status"] == "in_progress"


# --- conversations ----------------------------------------------------------------------------


async def test_an_owner_asking_for_a_person_appears_in_waiting_without_a_reload(consoles, people, owner):
    console = await consoles(people.agent)
    page = console.page
    await waiting_list(console)
    await page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    assert await row(console, owner.sender).count() == 0

    asked = time.monotonic()
    assert "人工" in await in_thread(owner.said, "转人工")
    await expect(row(console, owner.sender)).to_be_visible(timeout=5_000)
    seen = time.monotonic() - asked
    assert seen < 5, seen
    await expect(row(console, owner.sender).locator(".reason")).to_contain_text("业主要求人工")
    await expect(page.locator(console.testid("waiting-badge"))).to_have_text(re.compile(r"[1-9]\d*"))
    await expect(page).to_have_title(re.compile(r"^\(\d+\) 物业助手 · 工作台$"))
    assert await page.evaluate("window.__sameDocument") is True


async def test_a_staff_reply_reaches_the_owners_web_chat(consoles, people, owner):
    console = await consoles(people.agent)
    await take_over(console, owner)
    text = "您好，我是客服周静，马上为您安排"
    await console.page.fill(console.testid("reply-text"), text)
    await console.page.click(console.testid("reply-send"))
    transcript = console.page.locator(console.testid("transcript"))
    await expect(transcript.locator('[data-testid="msg"][data-direction="out"]').filter(has_text=text)).to_be_visible()
    assert text in await in_thread(owner.wait_for_update, "客服周静", 20)


async def test_owner_messages_while_handed_off_get_no_assistant_reply(consoles, people, owner, stack):
    console = await consoles(people.agent)
    await take_over(console, owner)
    pushed = await in_thread(owner.updates)  # whatever the takeover itself told the owner
    transcript = console.page.locator(console.testid("transcript"))
    replies = transcript.locator('[data-testid="msg"][data-direction="reply"]')
    answered = await replies.count()  # the assistant's answer to 转人工
    said = ["在吗", "我家厨房漏水了 3号楼2单元501", "怎么还没人回复"]
    for text in said:
        assert await in_thread(owner.say, text) == []
        # the open conversation shows each message as it comes
        await expect(
            transcript.locator('[data-testid="msg"][data-direction="in"]').filter(has_text=text)
        ).to_be_visible()
    await asyncio.sleep(1.5)  # anything the assistant sent late would be in the outbox by now
    assert await replies.count() == answered
    log = message_log(stack, owner.sender)
    for text in said:
        (entry,) = [e for e in log if e["direction"] == "in" and e["text"] == text]
        assert entry["replies"] == [], entry
    assert not [e for e in log if e["direction"] == "out" and e.get("kind") in ("late_reply", "reply")]
    assert await in_thread(owner.updates) == pushed  # nothing more pushed to the owner either


async def test_hand_back_then_one_owner_message_gets_exactly_one_answer(consoles, people, owner, stack):
    console = await consoles(people.agent)
    await take_over(console, owner)
    assert await in_thread(owner.say, "还有人吗") == []  # the backlog the assistant must not answer
    pushed = await in_thread(owner.updates)
    await console.page.click(console.testid("handback"))
    for _ in range(50):
        found = admin_get(stack, "/api/conversations?state=handed_off")[1]
        if owner.sender not in [c["sender"] for c in found]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("交还机器人 did not hand the conversation back")

    replies = await in_thread(owner.say, "你好")
    assert replies and "物业小助手" in "\n".join(replies)
    await asyncio.sleep(1.5)  # a second answer (to the backlog, or again) would have come by now
    log = message_log(stack, owner.sender)
    (backlog,) = [e for e in log if e["direction"] == "in" and e["text"] == "还有人吗"]
    (hello,) = [e for e in log if e["direction"] == "in" and e["text"] == "你好"]
    assert backlog["replies"] == [] and hello["replies"] == replies
    assert not [e for e in log if e["direction"] == "out" and e.get("kind") in ("late_reply", "reply")]
    assert await in_thread(owner.updates) == pushed


async def test_an_internal_note_never_reaches_the_owner(consoles, people, owner, stack):
    console = await consoles(people.agent)
    await take_over(console, owner)
    note = "内部备注：业主情绪激动，先别提欠费"
    await console.page.fill(console.testid("note-text"), note)
    await console.page.click(console.testid("note-add"))
    transcript = console.page.locator(console.testid("transcript"))
    await expect(transcript.locator('[data-testid="msg"][data-direction="note"]').filter(has_text=note)).to_be_visible()
    # A reply sent after the note: once the owner has it, the note would have arrived before it.
    reply = "稍等，师傅马上联系您"
    await console.page.fill(console.testid("reply-text"), reply)
    await console.page.click(console.testid("reply-send"))
    await in_thread(owner.wait_for_update, "师傅马上联系您", 20)
    assert not [u for u in await in_thread(owner.updates) if "内部备注" in u or "欠费" in u]
    log = message_log(stack, owner.sender)
    assert [e for e in log if e["direction"] == "note" and e["text"] == note]
    assert not [e for e in log if e["direction"] == "out" and note in e["text"]]


# --- the ticket pool --------------------------------------------------------------------------


async def test_on_hold_pauses_the_sla_countdown(consoles, people, stack):
    number = open_ticket(stack, "电梯按钮失灵（挂起测试）")
    assign(stack, number, people.technician.username)  # 挂起 is a move from 已派单 or 处理中
    first = admin_get(stack, f"/api/tickets?q={number}")[1]
    await asyncio.sleep(1.1)
    (running,) = [t for t in admin_get(stack, f"/api/tickets?q={number}")[1] if t["id"] == number]
    (before,) = [t for t in first if t["id"] == number]
    assert not running["sla"]["paused"] and running["sla"]["seconds_left"] < before["sla"]["seconds_left"]

    console = await consoles(people.agent)
    page = console.page
    sla = (await console.find_ticket(number)).locator(".sla")
    await expect(sla).not_to_have_class(re.compile(r"\bpaused\b"))
    await page.click(console.testid("ticket-row", ticket=number))
    await page.fill(console.testid("status-note"), "等业主下班回家")
    await page.click(console.testid("hold"))
    for _ in range(50):
        if admin_get(stack, f"/api/tickets/{number}")[1]["status"] == "on_hold":
            break
        await asyncio.sleep(0.1)
    await console.nav("nav-tickets")
    await expect(sla).to_have_class(re.compile(r"\bpaused\b"))
    await expect(sla).to_contain_text("已暂停")
    shown = await sla.inner_text()
    (held,) = [t for t in admin_get(stack, f"/api/tickets?q={number}")[1] if t["id"] == number]
    await asyncio.sleep(2.2)
    assert await sla.inner_text() == shown
    (later,) = [t for t in admin_get(stack, f"/api/tickets?q={number}")[1] if t["id"] == number]
    assert held["sla"]["paused"] and later["sla"]["seconds_left"] == held["sla"]["seconds_left"]


async def test_csv_export_round_trips(consoles, people, stack):
    tricky = '=HYPERLINK("http://evil.example") 厨房, "漏水"'
    number = open_ticket(stack, tricky)
    console = await consoles(people.supervisor)
    await console.open()  # lands on 会话; the menu is clicked while it may still be loading
    await console.nav("nav-tickets")  # (a screen left mid-load once threw into the next one)
    await expect(console.page.locator(console.testid("ticket-row")).first).to_be_visible()
    async with console.page.expect_download() as download_info:
        await console.page.click(console.testid("export-csv"))
    download = await download_info.value
    raw = (await download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # what Excel needs to read UTF-8 and rows
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header  # Chinese headings

    # The same filters through the JSON API, every page of it.
    exported = urlsplit(download.url)
    assert exported.path == "/api/tickets.csv", download.url
    listed, total = admin_tickets(stack, exported.query)
    assert len(body) == total == len(listed)
    numbers = [i for i, h in enumerate(header) if all(TICKET.match(r[i]) for r in body if len(r) > i)]
    assert numbers, header
    column = numbers[0]
    assert sorted(r[column] for r in body) == sorted(t["id"] for t in listed)
    (tricky_row,) = [r for r in body if r[column] == number]
    description = admin_get(stack, f"/api/tickets/{number}")[1]["description"]
    assert "'" + description in tricky_row  # neutralised for Excel, otherwise intact
    assert not [cell for r in body for cell in r if cell[:1] in ("=", "+", "@")]


# --- the dashboard ----------------------------------------------------------------------------

KPIS = {
    "tickets": lambda s: s["tickets"],
    "respond_rate": lambda s: s["sla"]["respond"]["rate"],
    "resolve_rate": lambda s: s["sla"]["resolve"]["rate"],
    "satisfaction_rate": lambda s: s["satisfaction"]["rate"],
    "backlog": lambda s: s["backlog"]["total"],
}
CHARTS = ("kind", "category", "building", "sla", "satisfaction", "backlog")


async def _tiles_match(console: Console, stack, stats_url: str) -> None:
    path = stats_url[len(stack.url) :]
    status, stats = admin_get(stack, path)
    assert status == 200, stats
    for key, value_of in KPIS.items():
        shown = await console.page.locator(console.testid("kpi", key=key)).inner_text()
        value, numbers = value_of(stats), numbers_in(shown)
        if value is None:
            assert numbers == [], (key, shown)  # nothing due yet: no made-up rate
        elif key.endswith("_rate"):
            assert len(numbers) == 1 and abs(numbers[0] - value * 100) <= 0.05 + 1e-9, (key, shown, value)
        else:
            assert numbers == [value], (key, shown, value)


async def test_dashboard_charts_render_and_tiles_match_the_stats_api(consoles, people, stack):
    for room in ("101", "202"):
        open_ticket(stack, f"{room} 门禁卡失灵（看板）", room=room)
    console = await consoles(people.supervisor)
    page = console.page
    async with page.expect_response(lambda r: re.search(r"/api/stats(\?|$)", r.url) is not None) as answer:
        await console.open("#/dashboard")
    first = await answer.value
    assert first.status == 200
    for chart in CHARTS:
        selector = console.testid("chart", chart=chart)
        await expect(page.locator(selector + " canvas")).to_have_count(1)
        for _ in range(50):
            if await painted_pixels(page, selector) > 200:
                break
            await asyncio.sleep(0.1)
        assert await painted_pixels(page, selector) > 200, f"chart {chart} is blank"
    await _tiles_match(console, stack, first.url)
    await expect(page.locator(console.testid("staff-table"))).to_be_visible()

    async with page.expect_response(lambda r: re.search(r"/api/stats(\?|$)", r.url) is not None) as answer:
        await page.click(console.testid("preset-90d"))
    ninety = await answer.value
    assert ninety.url != first.url
    await page.wait_for_timeout(300)  # the tiles are redrawn from that answer
    await _tiles_match(console, stack, ninety.url)


# --- the guard itself -------------------------------------------------------------------------


async def test_the_guard_stops_requests_off_loopback(consoles, stack):
    """The guard every test relies on: a page's request elsewhere is aborted and reported."""
    console = await consoles()
    await console.page.goto(f"{stack.url}/console/login")
    assert console.guard.requests >= 3  # the page, its script, its style: all seen on loopback
    assert console.guard.problems == []
    await console.page.goto("about:blank")
    blocked = await console.page.evaluate("fetch('http://192.0.2.1/x').then(() => 'sent', () => 'blocked')")
    assert blocked == "blocked"
    assert [p for p in console.guard.problems if "off loopback" in p and "192.0.2.1" in p]
    console.guard.problems.clear()  # seen; the teardown check is for the other tests
