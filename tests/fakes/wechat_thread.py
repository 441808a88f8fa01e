"""The fake WeChat for tests that are not async themselves: the end-to-end tests, whose stack runs
in other processes and whose test code is plain blocking Python.

The fake (and the drivers that play WeChat) run on their own event loop in a daemon thread; the
test hands them coroutines and functions through :meth:`FakeWeChatThread.call` and
:meth:`FakeWeChatThread.run`, so the fake's state is only ever touched from its own loop's thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from tests.fakes.wechat import FakeWeChat

T = TypeVar("T")
F = TypeVar("F")


class FakeThread(Generic[F]):
    """Any fake platform on its own loop in a daemon thread: ``make`` builds it (on that loop),
    ``start`` and ``stop`` open and close its server there."""

    def __init__(
        self,
        make: Callable[[], F],
        start: Callable[[F], Coroutine[Any, Any, Any]],
        stop: Callable[[F], Coroutine[Any, Any, Any]],
        name: str = "fake",
    ) -> None:
        self._make, self._start, self._stop = make, start, stop
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self.fake: F | None = None

    def __enter__(self):
        self._thread.start()
        self.fake = self._make()
        self.run(self._start(self.fake))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fake is not None:
            self.run(self._stop(self.fake))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url(self) -> str:
        return self.fake.url  # type: ignore[union-attr]

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coroutine`` on the fake's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call(self, function: Callable[[F], T]) -> T:
        """``function(fake)`` on the fake's loop (reads and changes of its state, race-free); never
        from the loop itself (it would wait for itself)."""

        async def on_loop() -> T:
            assert self.fake is not None
            return function(self.fake)

        return self.run(on_loop())

    def wait_for(self, predicate: Callable[[F], T], timeout: float = 30, what: str = "") -> T:
        """Poll ``predicate(fake)`` until it is truthy; AssertionError after ``timeout``. The predicate
        runs on the fake's loop, so it must read ``fake`` itself, never call back into this object."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.call(predicate)
            if found:
                return found
            if time.monotonic() > deadline:
                sent = self.call(lambda fake: fake.sent[-10:])  # type: ignore[attr-defined]
                raise AssertionError(f"the fake never saw {what or predicate}; last sent: {sent}")
            time.sleep(0.1)


class FakeWeChatThread(FakeThread[FakeWeChat]):
    """``with FakeWeChatThread() as fake:`` — ``fake.url`` is the base both APIs are called at."""

    def __init__(self, **fake_options: Any) -> None:
        super().__init__(lambda: FakeWeChat(**fake_options), FakeWeChat.start, FakeWeChat.close, "fake-wechat")
