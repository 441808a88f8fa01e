"""Start and stop the whole assistant: Rasa, the action server and the gateway.

``make run`` uses :func:`main`; the end-to-end tests start the same :class:`Stack`
on free ports, so what the tests exercise is exactly what operators run.

One of each by default. Scaled out (``rasa_instances``, ``actions_instances``,
``gateway_instances``; deploy/README.md): N Rasa instances, N action servers and N gateways
sharing one database and one Redis, dispatchers as today. Every gateway routes senders over every
Rasa instance (connectors/rasa.py); Rasa instance i calls action server i, action server i calls
gateway i's bot API — the layout deploy/compose.yml describes for containers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from connectors.settings import channel_sections, channels_line, retention_policy

ROOT = Path(__file__).resolve().parent.parent
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "models" / "current.tar.gz"
SECRET_NAMES = ("WUYE_ADMIN_TOKEN", "WUYE_INTERNAL_TOKEN", "WUYE_RASA_TOKEN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_secrets(var_dir: Path, env: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Tokens from the environment, else from var/secrets.env, else new ones (saved, mode 600).

    Returns the tokens and whether any was generated just now (first start).
    """
    path = var_dir / "secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key in SECRET_NAMES and value:
                stored[key] = value
    generated = False
    tokens = {}
    for name in SECRET_NAMES:
        tokens[name] = env.get(name) or stored.get(name) or ""
        if not tokens[name]:
            tokens[name] = secrets.token_hex(24)  # hex: never starts with "-" (argparse) nor needs quoting
            generated = True
    if generated:
        var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(path, "".join(f"{k}={v}\n" for k, v in tokens.items() if not env.get(k)))
    return tokens, generated


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from the first byte (never world-readable, then chmod'ed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


RASA_TRACKERS = "rasa_trackers.db"  # in var/: the embedded mode's Rasa conversations
REDIS_STORE = "bot.tracker_stores.SessionRedisTrackerStore"  # Rasa's, with bounded sessions
SQL_STORE = "bot.tracker_stores.SessionSQLTrackerStore"


def rasa_endpoints(
    actions_url: str,
    redis_url: str | None,
    database_url: str | None,
    var_dir: Path | None = None,
    tracker_days: int = 180,
    session_events: int | None = None,
) -> dict:
    """endpoints.yml for this run: Redis tracker and lock stores when Redis is configured (each
    conversation expiring ``tracker_days`` after its last turn), else a SQL tracker store on
    PostgreSQL, else one in a SQLite file in ``var_dir``. Never Rasa's in-memory store: a Rasa
    restart would forget every half-filled form, and memory would grow with every sender.

    The stores are bot/tracker_stores.py's: a conversation session never holds more than
    ``session_events`` events (their default when None), so a turn costs the same after months."""
    doc: dict = {"action_endpoint": {"url": f"{actions_url}/webhook"}}
    cap = {"max_session_events": session_events} if session_events else {}
    if redis_url:
        r = urlparse(redis_url)
        common = {
            "url": r.hostname or "127.0.0.1",
            "port": r.port or 6379,
            "db": int((r.path or "/0").lstrip("/") or 0),
            "key_prefix": "wuye",
            "use_ssl": r.scheme == "rediss",
        }
        if r.password:
            common["password"] = r.password
        doc["tracker_store"] = {"type": REDIS_STORE, **common, "record_exp": tracker_days * 24 * 3600, **cap}
        doc["lock_store"] = {"type": "redis", **common}
    elif database_url and database_url.startswith(("postgresql", "postgres:")):
        p = urlparse(database_url)
        doc["tracker_store"] = {
            "type": SQL_STORE,
            **cap,
            "dialect": "postgresql",
            "url": p.hostname or "127.0.0.1",
            "port": p.port or 5432,
            "db": (p.path or "/").lstrip("/"),
            "username": p.username or "postgres",
            "password": p.password or "",
        }
    elif var_dir is not None:
        doc["tracker_store"] = {"type": SQL_STORE, "dialect": "sqlite", "db": str(var_dir / RASA_TRACKERS), **cap}
    return doc


KINDS = ("rasa", "actions", "gateway")  # the services that scale out; one dispatcher is enough (it may be more)


def instance_name(kind: str, index: int) -> str:
    """The process name of a service's instance: "rasa" for the first (as with one of each), "rasa-2", …"""
    return kind if index == 0 else f"{kind}-{index + 1}"


RESTART_BACKOFF = (1, 2, 4, 8, 15, 30)  # seconds before restarting a process that died, in a row
STABLE_AFTER = 60.0  # a process up this long has recovered: its next death waits the first step again


@dataclass
class Stack:
    """The three processes, their ports and logs."""

    var_dir: Path = ROOT / "var"
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    port: int = 8080
    internal_port: int = 8081
    rasa_port: int = 5005
    actions_port: int = 5055
    model: Path = MODEL
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    first_start: bool = False
    restarts: dict[str, int] = field(default_factory=dict)  # in a row, for the back-off
    restart_at: dict[str, float] = field(default_factory=dict)  # a dead process's next start (monotonic)
    started_at: dict[str, float] = field(default_factory=dict)
    rasa_instances: int = 1
    actions_instances: int = 1
    gateway_instances: int = 1
    # ports of the second and later instances: "rasa", "actions", "gateway", "internal" → ports
    extra_ports: dict[str, list[int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ports(self, kind: str) -> list[int]:
        """Every instance's port of ``kind`` (rasa, actions, gateway, internal), the first one first.
        Ports not given are picked free now, once."""
        first = {"rasa": self.rasa_port, "actions": self.actions_port, "gateway": self.port}
        first["internal"] = self.internal_port
        count = {"rasa": self.rasa_instances, "actions": self.actions_instances}.get(kind, self.gateway_instances)
        extra = self.extra_ports.setdefault(kind, [])
        extra += [free_port() for _ in range(count - 1 - len(extra))]
        return [first[kind], *extra[: count - 1]]

    @property
    def urls(self) -> list[str]:
        """Every gateway's public address (owners and staff may use any of them)."""
        return [f"http://127.0.0.1:{port}" for port in self.ports("gateway")]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports("rasa")]

    def _environment(self, gateway: int = 0, actions: int = 0) -> dict[str, str]:
        """The environment of gateway ``gateway`` (and of the processes that talk to it: action
        server ``actions`` calls its bot API; the first gateway's is every other process's)."""
        env = dict(self.env)
        env.update(self.tokens)
        rasa = self.rasa_urls
        if len(rasa) > 1:
            env["WUYE_RASA_URLS"] = ",".join(rasa)
        internal = self.ports("internal")[gateway]
        env.update(
            WUYE_PORT=str(self.ports("gateway")[gateway]),
            WUYE_INTERNAL_PORT=str(internal),
            WUYE_RASA_URL=rasa[0],
            WUYE_ACTIONS_URL=f"http://127.0.0.1:{self.ports('actions')[actions]}",
            WUYE_BACKEND_URL=f"http://127.0.0.1:{internal}",
            WUYE_VAR_DIR=str(self.var_dir),
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            SANIC_HOST="127.0.0.1",  # the action server listens on loopback only
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log_dir = self.var_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.commands[name] = (argv, env)
        fd = os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # logs hold chat text
        log = os.fdopen(fd, "ab")
        # umask 077: what the processes create (the SQLite store, Rasa's files) only this user reads
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
        )
        log.close()  # the child holds its own copy
        self.started_at[name] = time.monotonic()

    def supervise(self, now: float | None = None) -> list[str]:
        """Restart each process that died, with back-off, and keep the others serving.

        One dead process must not take the service down: with Rasa gone the gateway still records
        every message and answers it when Rasa is back; /healthz says what is missing meanwhile.
        Returns what to tell the operator. A process up for STABLE_AFTER seconds starts its
        back-off again from the first step.
        """
        now = time.monotonic() if now is None else now
        said = []
        for name, proc in list(self.processes.items()):
            if proc.poll() is None:
                if now - self.started_at.get(name, now) >= STABLE_AFTER:
                    self.restarts.pop(name, None)
                continue
            if name not in self.restart_at:
                delay = RESTART_BACKOFF[min(self.restarts.get(name, 0), len(RESTART_BACKOFF) - 1)]
                self.restart_at[name] = now + delay
                said.append(
                    f"{name} stopped (exit code {proc.returncode}); restarting it in {delay} s:\n{self.log_tail(name)}"
                )
            elif now >= self.restart_at[name]:
                del self.restart_at[name]
                self.restarts[name] = self.restarts.get(name, 0) + 1
                self._spawn(name, *self.commands[name])
                self.started_at[name] = now
                said.append(f"{name} restarted (restart {self.restarts[name]} in a row)")
        return said

    def process_names(self) -> list[str]:
        """What :meth:`start` starts, by name: every instance of each scaled service, then the dispatcher."""
        counts = {"rasa": self.rasa_instances, "actions": self.actions_instances, "gateway": self.gateway_instances}
        return [instance_name(kind, n) for kind in ("actions", "rasa", "gateway") for n in range(counts[kind])] + [
            "dispatcher"
        ]

    def _check_layout(self) -> None:
        """Several Rasa instances share conversations only through Redis: its tracker store and its
        lock store, which keeps one turn of a conversation at a time across instances (Rasa's
        in-memory lock store would let two instances answer one owner at once after a fail-over)."""
        for kind in KINDS:
            if getattr(self, f"{kind}_instances") < 1:
                raise SystemExit(f"{kind}_instances must be 1 or more")
        if self.rasa_instances > 1 and not self.env.get("WUYE_REDIS_URL"):
            raise SystemExit("several Rasa instances need WUYE_REDIS_URL (shared trackers and Rasa's Redis lock store)")

    def start(self) -> None:
        self._check_layout()
        if not self.model.exists():
            raise SystemExit(f"no trained model at {self.model}; run `make train`")
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.var_dir.chmod(0o700)
        self.tokens, self.first_start = ensure_secrets(self.var_dir, self.env)
        env = self._environment()
        for n, port in enumerate(self.ports("actions")):
            actions_env = self._environment(gateway=n % self.gateway_instances, actions=n)
            self._spawn(
                instance_name("actions", n),
                self.actions_command(port),
                actions_env,
            )
        for n, port in enumerate(self.ports("rasa")):
            # Rasa instance n calls action server n: each Rasa has its own, as each pod would
            rasa_env = self._environment(actions=n % self.actions_instances)
            endpoints = self.var_dir / ("endpoints.yml" if n == 0 else f"endpoints-{n + 1}.yml")
            write_private(  # database and Redis passwords: private
                endpoints,
                yaml.safe_dump(
                    rasa_endpoints(
                        rasa_env["WUYE_ACTIONS_URL"],
                        env.get("WUYE_REDIS_URL"),
                        env.get("WUYE_DATABASE_URL"),
                        self.var_dir,
                        retention_policy(env).messages_days,
                        int(env.get("WUYE_RASA_SESSION_EVENTS") or 0) or None,
                    ),
                    sort_keys=False,
                ),
            )
            self._spawn(instance_name("rasa", n), self.rasa_command(endpoints, port), rasa_env)
        for n in range(self.gateway_instances):
            gateway_env = self._environment(gateway=n, actions=n % self.actions_instances)
            if n > 0:
                # the first gateway loads the demo data and has the schema migrated before the next
                # ones start: two loading the demo into an empty store at once would collide
                gateway_env.pop("WUYE_DEMO_DATA", None)
                self._wait_listening(self.ports("gateway")[0], "gateway")
            self._spawn(instance_name("gateway", n), self.gateway_command(), gateway_env)
        self._spawn("dispatcher", self.dispatcher_command(), env)

    # The commands, one place (deploy/compose.yml and deploy/k8s run the same: tests/test_deploy.py)
    @staticmethod
    def actions_command(port: int) -> list[str]:
        return [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]

    @staticmethod
    def gateway_command() -> list[str]:
        return [str(APP_PYTHON), "-m", "connectors"]

    @staticmethod
    def dispatcher_command() -> list[str]:
        return [str(APP_PYTHON), "-m", "connectors.dispatcher"]

    def _wait_listening(self, port: int, name: str, timeout: float = 120.0) -> None:
        """Until something accepts connections on ``port`` (the gateway listens once bootstrapped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.processes[name].returncode}:\n{self.log_tail(name)}")
            with socket.socket() as s:
                s.settimeout(1)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"{name} did not listen on {port}:\n{self.log_tail(name)}")

    def rasa_command(self, endpoints: Path, port: int | None = None) -> list[str]:
        # The API token reaches Rasa through its environment (ops/rasa_run.py), never its command
        # line, which `ps` shows every local user (and the token loads any model with PUT /model).
        return [
            str(RASA_PYTHON),
            "-m",
            "ops.rasa_run",
            "run",
            "--model",
            str(self.model),
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.rasa_port if port is None else port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ]

    def community_lines(self) -> list[str]:
        """The communities this store serves, each with the web chat link that routes owners to it."""
        request = urllib.request.Request(
            f"{self.url}/api/communities", headers={"Authorization": f"Bearer {self.tokens['WUYE_ADMIN_TOKEN']}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                found = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return [f"(could not list the communities: {exc})"]
        lines = [f"Communities ({len(found)}), each with its own web chat link:"]
        lines += [f"  {c['name']} ({c['code']}): {self.url}/?c={c['code']}" for c in found]
        return lines

    @classmethod
    def isolated(
        cls,
        var_dir: Path,
        *,
        rasa_instances: int = 1,
        actions_instances: int = 1,
        gateway_instances: int = 1,
        **settings: str,
    ) -> Stack:
        """A stack beside any other (tests, benchmarks): every port free, none of the caller's
        WUYE_* settings, only ``settings``; of each scaled service as many instances as asked. Not started."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
        env.update(settings)
        ports = {name: free_port() for name in ("port", "internal_port", "rasa_port", "actions_port")}
        return cls(
            var_dir=var_dir,
            env=env,
            rasa_instances=rasa_instances,
            actions_instances=actions_instances,
            gateway_instances=gateway_instances,
            **ports,
        )

    def start_ready(self) -> None:
        """Start every process and wait until the stack answers; stopped again if it never does."""
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Block until every gateway's /healthz answers 200 (each checks every Rasa instance) and
        every action server answers; raise with the logs' tails if a process dies."""
        deadline = time.monotonic() + timeout
        waiting = [f"{url}/healthz" for url in self.urls]
        waiting += [f"http://127.0.0.1:{port}/health" for port in self.ports("actions")[1:]]
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            waiting = [url for url in waiting if not _answers(url)]
            if not waiting:
                return
            time.sleep(1)
        raise TimeoutError(
            "the assistant did not become ready:\n" + "\n".join(self.log_tail(n) for n in self.processes)
        )

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.var_dir / "log" / f"{name}.log"
        if not path.exists():
            return f"[{name}: no log]"
        return f"--- {name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_process(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def restart(self, name: str) -> None:
        """Start a stopped process again with its original command (tests: Rasa going down)."""
        self.stop_process(name)
        argv, env = self.commands[name]
        self._spawn(name, argv, env)

    def stop(self) -> None:
        """Stop every process, the last started first (a dispatcher left behind would go on
        delivering and running the SLA jobs after Ctrl+C)."""
        for name in reversed(list(self.processes)):
            self.stop_process(name)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start the assistant (make run).")
    for kind in KINDS:
        parser.add_argument(f"--{kind}-instances", type=int, default=1, metavar="N", help=f"{kind} instances")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("WUYE_DEMO_DATA", str(ROOT / "content" / "demo_community.yml"))
    stack = Stack(
        env=env,
        port=int(env.get("WUYE_PORT", "8080")),
        rasa_instances=args.rasa_instances,
        actions_instances=args.actions_instances,
        gateway_instances=args.gateway_instances,
    )
    channels = channels_line(channel_sections(env))  # a half-configured channel stops us here, saying what is missing
    print("Starting the assistant (Rasa takes a minute to load its model)…", flush=True)
    stack.start()
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.wait_ready()
    except (RuntimeError, TimeoutError) as exc:
        stack.stop()
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    print(f"\n物业小助手 is ready. Open the web chat at {stack.url}/", flush=True)
    if len(stack.urls) > 1:
        print(f"Gateways: {', '.join(stack.urls)} (put a load balancer in front: deploy/README.md)", flush=True)
    print(f"Channels: web chat on; {channels}", flush=True)
    if stack.first_start and not os.environ.get("WUYE_ADMIN_TOKEN"):
        kept = stack.var_dir / "secrets.env"
        print(f"Staff API token (generated, kept in {kept}):\n  {stack.tokens['WUYE_ADMIN_TOKEN']}")
    for line in stack.community_lines():
        print(line)
    print(f"Staff console: {stack.url}/console/ (first start: sign in as admin, the password is WUYE_ADMIN_TOKEN)")
    print(f"Staff API: curl -H 'Authorization: Bearer $WUYE_ADMIN_TOKEN' {stack.url}/api/tickets")
    print(f"Logs: {stack.var_dir / 'log'}/  — press Ctrl+C to stop.", flush=True)
    while not stopping:
        for line in stack.supervise():
            print(line, file=sys.stderr, flush=True)
        time.sleep(1)
    stack.stop()


if __name__ == "__main__":
    main()
