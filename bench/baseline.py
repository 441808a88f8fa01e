"""A bare Rasa beside the stack: the baseline every load and growth benchmark divides by.

``rasa run --enable-api`` with Rasa's own REST channel, the stack's model, the stack's action
server, and by default the same kind of tracker and lock store as the stack (Redis, PostgreSQL
or a SQLite file; ``store="memory"`` for Rasa's in-memory one). What the gateway adds on top —
recording, per-sender lock, replies, its own HTTP hop — is then the difference between the two.

The process is started through the stack's own command (``Stack.rasa_command``, ops/rasa_run.py),
so the API token travels in the environment, never the command line. Its conversations live apart
from the stack's: their own SQLite file, or their own key prefix in Redis. A PostgreSQL tracker
store shares the stack's table (senders never collide: the gateway's carry a channel prefix).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import yaml

from connectors.settings import retention_policy
from ops.stack import Stack, free_port, rasa_endpoints, write_private

STORES = ("same", "memory")
BARE_KEY_PREFIX = "bare"  # Redis keys of the baseline's conversations, apart from the stack's "wuye"


class BareRasa:
    """One Rasa process, its port and its token; ``start_ready`` then ``stop``."""

    def __init__(self, stack: Stack, var_dir: Path, *, store: str = "same") -> None:
        if store not in STORES:
            raise ValueError(f"store must be one of {STORES}")
        self.store = store
        self.var_dir = var_dir
        # A Stack of our own only to reuse its spawning, logging and stopping; it runs just "rasa".
        env = dict(stack.env)
        self._runner = Stack(
            var_dir=var_dir,
            env=env,
            port=stack.port,
            internal_port=stack.internal_port,
            rasa_port=free_port(),
            actions_port=stack.actions_port,  # the stack's action server: same actions, same backend
            model=stack.model,
        )
        self._runner.tokens = {"WUYE_RASA_TOKEN": secrets.token_hex(24)}
        self._actions_url = f"http://127.0.0.1:{stack.actions_port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._runner.rasa_port}"

    @property
    def token(self) -> str:
        return self._runner.tokens["WUYE_RASA_TOKEN"]

    @property
    def process(self):
        return self._runner.processes.get("rasa")

    def endpoints(self) -> dict:
        """endpoints.yml: the stack's action server; the stack's store kind, or none (in memory)."""
        env = self._runner.env
        if self.store == "memory":
            return {"action_endpoint": {"url": f"{self._actions_url}/webhook"}}
        doc = rasa_endpoints(  # as Stack.start writes the stack's
            self._actions_url,
            env.get("WUYE_REDIS_URL"),
            env.get("WUYE_DATABASE_URL"),
            self.var_dir,
            retention_policy(env).messages_days,
            int(env.get("WUYE_RASA_SESSION_EVENTS") or 0) or None,
        )
        for key in ("tracker_store", "lock_store"):
            if "key_prefix" in doc.get(key, {}):  # Redis: the baseline's keys apart from the stack's
                doc[key]["key_prefix"] = BARE_KEY_PREFIX
        return doc

    def start(self) -> None:
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.var_dir / "endpoints.yml"  # may hold a database or Redis password
        write_private(path, yaml.safe_dump(self.endpoints(), sort_keys=False))
        self._runner._spawn("rasa", self._runner.rasa_command(path), self._runner._environment())

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Until /status names a loaded model; raises with the log's tail if Rasa exits."""
        deadline = time.monotonic() + timeout
        request = f"{self.url}/status?token={self.token}"  # Rasa's token auth reads the query only
        while time.monotonic() < deadline:
            proc = self.process
            if proc is None or proc.poll() is not None:
                raise RuntimeError(f"bare rasa exited:\n{self._runner.log_tail('rasa')}")
            try:
                with urllib.request.urlopen(request, timeout=3) as resp:
                    body = json.loads(resp.read())
                    if body.get("model_file") or body.get("model_id"):
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(1)
        raise TimeoutError(f"bare rasa did not become ready:\n{self._runner.log_tail('rasa')}")

    def start_ready(self) -> None:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._runner.stop()

    def log_tail(self, lines: int = 30) -> str:
        return self._runner.log_tail("rasa", lines)


@contextlib.contextmanager
def bare_rasa(stack: Stack, var_dir: Path, *, store: str = "same") -> Iterator[BareRasa]:
    """A ready bare Rasa beside a started ``stack``, stopped on leaving."""
    bare = BareRasa(stack, var_dir, store=store)
    bare.start_ready()
    try:
        yield bare
    finally:
        bare.stop()
