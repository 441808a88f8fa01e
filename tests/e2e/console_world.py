"""The staff console in a real browser: Debian's Chromium driven by Playwright's async API, against
the stack tests/e2e/conftest.py starts (as `make run` does).

Why the async API: the suite runs pytest-asyncio in auto mode with one session-wide loop, and
Playwright's sync API refuses to run inside a running loop. Blocking calls (the e2e ``Owner``
helper's urllib requests) go through ``asyncio.to_thread`` so the browser's events keep flowing.

Every page is guarded (``Guard``): a console error, an uncaught page error, or any request to a
host other than 127.0.0.1 (aborted by route interception) fails the test that caused it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Route, expect

from ops.stack import Stack
from tests.conftest import ADMIN_TOKEN, service_unavailable
from tests.e2e.conftest import http

# Debian's Chromium: Playwright cannot download its own browser here (BROWSER_NOTES in the brief).
CHROMIUM = Path(os.environ.get("WUYE_CHROMIUM", "/usr/bin/chromium"))
# Without the networking flags Chromium keeps trying to reach Google's services (refused here).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}  # the desk's screens
PHONE = {"width": 390, "height": 844}  # a technician's phone (the console's ≤ 420 px layout)
PASSWORD = "Wuye-console-2026!"  # at least 10 characters, as the console requires
LOOPBACK = "127.0.0.1"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def launch(playwright: Playwright) -> Browser:
    """Headless Chromium from /usr/bin: missing, the browser tests skip loudly, or fail when
    WUYE_REQUIRE_SERVICES=1 (CI installs it: .ci/run, `make browser`)."""
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable(
            f"Chromium ({CHROMIUM})", FileNotFoundError("apt-get install chromium fonts-noto-cjk, or make browser")
        )
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)


@dataclass
class Guard:
    """What a context's pages did wrong: console errors, page errors, requests off loopback."""

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    requests: int = 0  # requests seen on loopback, so a test can tell the guard was live

    async def attach(self, context: BrowserContext) -> None:
        await context.route("**/*", self._route)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def allow(self, pattern: str) -> None:
        """A console error this test expects (e.g. the browser's note of a 401 on a wrong password)."""
        self.allowed.append(re.compile(pattern))

    async def _route(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOOPBACK:
            self.problems.append(f"request off loopback: {route.request.method} {url}")
            await route.abort("blockedbyclient")
            return
        self.requests += 1
        await route.continue_()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(p.search(text) for p in self.allowed):
            return
        where = message.location.get("url", "") if message.location else ""
        self.problems.append(f"console error: {text} ({where})")

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    password: str = PASSWORD


def make_account(stack: Stack, role: str, name: str, communities: Iterable[str] = ()) -> Account:
    """A staff member made through the staff API with the admin token, with a first password set
    the way an administrator sets one (``POST /api/staff/{username}/password``)."""
    username = f"{role[:4]}-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "name": name, "role": role, "communities": list(communities)}
    status, answer = http("POST", f"{stack.url}/api/staff", body, headers=ADMIN)
    assert status == 201, answer
    status, answer = http("POST", f"{stack.url}/api/staff/{username}/password", {"password": PASSWORD}, headers=ADMIN)
    assert status == 204, answer
    return Account(username, name, role)


def admin_get(stack: Stack, path: str):
    return http("GET", stack.url + path, headers=ADMIN)


def admin_post(stack: Stack, path: str, body: object):
    return http("POST", stack.url + path, body, headers=ADMIN)


def admin_tickets(stack: Stack, query: str = "") -> tuple[list[dict], int]:
    """Every ticket ``GET /api/tickets?<query>`` lists, page by page as the administrator:
    (the tickets, X-Total-Count)."""
    found: list[dict] = []
    while True:
        page = f"{query}&" if query else ""
        request = urllib.request.Request(f"{stack.url}/api/tickets?{page}limit=200&offset={len(found)}", headers=ADMIN)
        with urllib.request.urlopen(request, timeout=30) as resp:
            batch, total = json.loads(resp.read()), int(resp.headers["X-Total-Count"])
        found += batch
        if not batch or len(found) >= total:
            return found, total


def open_ticket(stack: Stack, description: str, room: str = "501", community: str = "shifan") -> str:
    """A repair opened by the desk for an owner (the staff API; no chat turns needed)."""
    body = {
        "kind": "repair",
        "description": description,
        "building": "3",
        "unit": "2",
        "room": room,
        "community": community,
    }
    status, ticket = admin_post(stack, "/api/tickets", body)
    assert status == 201, ticket
    return ticket["id"]


def assign(stack: Stack, number: str, username: str) -> None:
    status, answer = admin_post(stack, f"/api/tickets/{number}/assign", {"assignee": username})
    assert status == 200, answer


@dataclass
class Console:
    """One staff member's browser context (fresh cookies) and its page, both guarded."""

    stack: Stack
    context: BrowserContext
    page: Page
    guard: Guard
    csrf: str | None = None

    @property
    def url(self) -> str:
        return self.stack.url

    async def login_by_api(self, account: Account) -> dict:
        """Sign in through ``POST /console/login`` in this context (its cookie jar gets the
        session), for tests about something other than the login form."""
        resp = await self.context.request.post(
            f"{self.url}/console/login", data={"username": account.username, "password": account.password}
        )
        assert resp.status == 200, await resp.text()
        me = await resp.json()
        self.csrf = me["csrf"]
        return me

    async def login_by_form(self, account: Account, password: str | None = None) -> None:
        page = self.page
        await page.goto(f"{self.url}/console/login")
        await page.fill("#username", account.username)
        await page.fill("#password", password if password is not None else account.password)
        await page.click("[data-testid=login-submit]")

    async def open(self, hash_route: str = "") -> None:
        """The console (``/console/``, optionally at a ``#/…`` route), signed in already."""
        await self.page.goto(f"{self.url}/console/{hash_route}")
        # the shell fills in who is signed in once /console/api/me has answered
        # (a locator, not wait_for_function: its polling evaluates a string, which the CSP forbids)
        await expect(self.page.locator(self.testid("me"))).not_to_have_text(re.compile(r"^\s*…?\s*$"))

    async def nav(self, name: str) -> None:
        """Click a menu entry (``nav-tickets``…); on a phone the menu opens behind ☰ first."""
        entry = self.page.locator(self.testid(name))
        toggle = self.page.locator("#menu-toggle")
        if not await entry.is_visible() and await toggle.is_visible():
            await toggle.click()
        await entry.click()

    async def find_ticket(self, number: str):
        """The pool, opened by its address, searched for one number (it may hold more tickets
        than one page): its row."""
        await self.open("#/tickets")
        await self.page.fill(self.testid("ticket-search"), number)
        found = self.page.locator(self.testid("ticket-row", ticket=number))
        await found.wait_for()
        return found

    async def choose_assignee(self, username: str) -> None:
        """The assignee picker: a list of colleagues for those who may read it, else a username box."""
        picker = self.page.locator(self.testid("assign-select"))
        if await picker.evaluate("el => el.tagName") == "SELECT":
            await picker.select_option(username)
        else:
            await picker.fill(username)

    def testid(self, name: str, **attrs: str) -> str:
        """CSS for ``[data-testid=name]`` with extra ``data-*`` attributes."""
        extra = "".join(f'[data-{k}="{v}"]' for k, v in attrs.items())
        return f'[data-testid="{name}"]{extra}'


async def new_console(browser: Browser, stack: Stack, viewport: dict | None = None) -> Console:
    context = await browser.new_context(
        viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True
    )
    context.set_default_timeout(10_000)
    guard = Guard()
    await guard.attach(context)
    page = await context.new_page()
    guard.watch(page)
    return Console(stack, context, page, guard)


async def painted_pixels(page: Page, selector: str) -> int:
    """How many pixels of the first canvas under ``selector`` are not transparent (0: blank)."""
    return await page.eval_on_selector(
        selector,
        """(el) => {
            const c = el.querySelector('canvas');
            if (!c || !c.width || !c.height) return 0;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n;
        }""",
    )


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))]


async def in_thread(func, *args):
    """A blocking helper (urllib) off the event loop, so Playwright's events keep arriving."""
    return await asyncio.to_thread(func, *args)
