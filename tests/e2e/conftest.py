"""The whole assistant, started exactly as `make run` starts it, once per test session."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pytest

from ops.stack import Stack
from tests.conftest import ADMIN_TOKEN, DEMO


def start_stack(var_dir, **env_overrides: str) -> Stack:
    settings = {"WUYE_DEMO_DATA": str(DEMO), "WUYE_RETRY_INTERVAL": "1", "WUYE_ADMIN_TOKEN": ADMIN_TOKEN}
    # WUYE_TEST_RASA_SESSION_EVENTS=8 runs the dialogue tests with Rasa's sessions continued in a
    # new one after nearly every turn (bot/tracker_stores.py): answers must not change.
    if cap := os.environ.get("WUYE_TEST_RASA_SESSION_EVENTS"):
        settings["WUYE_RASA_SESSION_EVENTS"] = cap
    stack = Stack.isolated(var_dir, **(settings | env_overrides))
    stack.start_ready()
    return stack


@pytest.fixture(scope="session")
def wechat_world(tmp_path_factory):
    """A second stack, with the 公众号 and 微信客服 channels on against the fake WeChat, SMS against
    the fake Aliyun and the hotline's transcripts (one for every channel end-to-end test: see
    tests/e2e/wechat_world.py and tests/e2e/phone_world.py)."""
    from tests.e2e.phone_world import sms_env, sms_thread
    from tests.e2e.wechat_world import WeChatWorld, wechat_env
    from tests.fakes.wechat_thread import FakeWeChatThread

    with FakeWeChatThread() as fake, sms_thread() as sms:
        var_dir = tmp_path_factory.mktemp("wechat-stack")
        env = wechat_env(fake.fake) | sms_env(sms.fake, var_dir / "content")
        running = start_stack(var_dir, **env)
        try:
            yield WeChatWorld(running, fake, sms)
        finally:
            running.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Default embedded mode: SQLite file, Rasa's in-process tracker and lock stores."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


def http(method: str, url: str, body: object = None, headers: dict | None = None, raw: bytes | None = None):
    """(status, parsed JSON or text) for one real HTTP request."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")


@dataclass
class Owner:
    """One owner chatting through the web chat API."""

    stack: Stack
    user: str

    @property
    def sender(self) -> str:
        return f"webchat:{self.user}"

    def say(self, text: str, message_id: str | None = None) -> list[str]:
        body = {"sender": self.user, "text": text} | ({"message_id": message_id} if message_id else {})
        status, reply = http("POST", f"{self.stack.url}/api/chat", body)
        assert status == 200, reply
        return [r["text"] for r in reply["replies"]]

    def said(self, text: str) -> str:
        """All replies to ``text`` as one string, for substring checks."""
        return "\n".join(self.say(text))

    def updates(self, after: int = 0) -> list[str]:
        status, body = http("GET", f"{self.stack.url}/api/chat/{self.user}/updates?after={after}")
        assert status == 200, body
        return [u["text"] for u in body["updates"]]

    def wait_for_update(self, contains: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.updates():
                if contains in text:
                    return text
            time.sleep(0.5)
        raise AssertionError(f"no update containing {contains!r}; got {self.updates()}")


@pytest.fixture
def owner(stack) -> Owner:
    """A new owner (fresh web chat id) for each test."""
    return Owner(stack, uuid.uuid4().hex)


@pytest.fixture
def another_owner(stack) -> Owner:
    return Owner(stack, uuid.uuid4().hex)


class Staff:
    def __init__(self, stack: Stack) -> None:
        self.base = stack.url
        self.headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def get(self, path: str):
        return http("GET", self.base + path, headers=self.headers)

    def post(self, path: str, body: object):
        return http("POST", self.base + path, body, headers=self.headers)

    def ticket(self, number: str) -> dict:
        status, body = self.get(f"/api/tickets/{number}")
        assert status == 200, body
        return body

    def assign(self, number: str, username: str = "wang", name: str = "王师傅") -> None:
        """Dispatch to a technician (made on first use: the account lives as long as the stack)."""
        status, body = self.post("/api/staff", {"username": username, "name": name, "role": "technician"})
        assert status in (201, 409), body
        status, body = self.post(f"/api/tickets/{number}/assign", {"assignee": username})
        assert status == 200, body


@pytest.fixture
def staff(stack) -> Staff:
    return Staff(stack)
