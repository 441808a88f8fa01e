"""Fault campaign: kill parts of the running assistant under load and count, from the owners' side,
what was lost or said twice (`make faults`; a short run is tests/e2e/test_faults.py).

The README promises that nothing an owner writes is lost and that every status change reaches the
owner once. This checks it the way an owner would notice: simulated owners chat through the web
chat API (numbered messages with their own message_id, a request that failed at the HTTP level
sent again with the same id, as the page does), a member of staff moves their tickets back and
forth (each move notifies the owner), and one fault per phase hits the stack: kill -9 of Rasa, the
action server, the gateway and the dispatcher (the supervisor of ops/stack.py restarts each), a
restart of the stack's own Redis (kill -9, then started again on its port and append-only file),
and PostgreSQL dropping every connection of the campaign's database (pg_terminate_backend).

Afterwards each owner message must have exactly one answer (in its HTTP answer, or later in the
owner's updates when the answer was "记下了，稍后回复"), and each status change exactly one update.
The store (inbound and notification statuses) explains a discrepancy. Writes bench/results/faults.json;
bench/report.py turns it into a section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import requests

from connectors.gateway import BUSY_REPLY, QUEUED_REPLY
from ops.stack import ROOT, Stack, free_port

HERE = Path(__file__).parent
POSTGRES_ADMIN = os.environ.get("WUYE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_TOKEN = "faults-admin-token"
LATER = {BUSY_REPLY, QUEUED_REPLY}  # "kept, answered later": the answer comes through the updates
FAULTS = ("rasa", "actions", "gateway", "dispatcher", "redis", "postgres")
# Questions with a one-turn answer: an owner's numbered messages never leave a form half-filled.
CHATTER = ("物业费怎么交", "停车怎么收费", "能开发票吗", "你好", "物业电话多少", "快递放哪里")


# ---------------------------------------------------------------- the services the campaign owns


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A database of the campaign's own (dropped afterwards): its connections are the ones dropped."""
    name = f"wuye_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_connections(database_url: str) -> int:
    """pg_terminate_backend for every session of the database: what a PostgreSQL restart or a
    failover does to the stack's pools. Returns how many were dropped."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


class RedisServer:
    """A redis-server of the campaign's own on a free port (never the shared one), with an
    append-only file so a restart keeps what it had, as a real deployment's would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed: the Redis fault needs a Redis of its own")
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        argv += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "yes"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket_to(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def socket_to(port: int):
    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
        yield conn


def start_stack(var_dir: Path, database_url: str, redis_url: str) -> Stack:
    """The stack as `make run` starts it, on PostgreSQL and Redis, on free ports. The web chat's
    per-client limit is raised: every simulated owner comes from 127.0.0.1."""
    stack = Stack.isolated(
        var_dir,
        WUYE_DEMO_DATA=str(ROOT / "content" / "demo_community.yml"),
        WUYE_ADMIN_TOKEN=ADMIN_TOKEN,
        WUYE_DATABASE_URL=database_url,
        WUYE_REDIS_URL=redis_url,
        WUYE_RETRY_INTERVAL="1",
        WUYE_CHAT_CLIENT_RATE="100000",
        WUYE_CHAT_SENDER_RATE="1000",
    )
    stack.start_ready()
    return stack


class Supervisor(threading.Thread):
    """What `make run`'s loop does: Stack.supervise every half second (restart with back-off)."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.stopping = threading.Event()
        self.said: list[str] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            for line in self.stack.supervise():
                self.said.append(line.splitlines()[0])
            time.sleep(0.5)


# ---------------------------------------------------------------- owners and staff


@dataclass
class Sent:
    """One owner message as the owner saw it."""

    message_id: str
    text: str
    phase: str
    attempts: int = 0  # HTTP requests it took (a retry has the same message_id)
    replies: list[str] | None = None  # the HTTP answer's replies; None: never got a 200
    later: bool = False  # the answer said it comes later
    sent_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class Change:
    """One status change by staff, and whether it happened (it must reach the owner once)."""

    phase: str
    number: str
    status: str
    note: str
    applied: bool


@dataclass
class Owner:
    user: str
    flat: str
    phase: str  # owners chat only in their own phase: one handed to staff by a fault stays out of the next
    sent: list[Sent] = field(default_factory=list)
    ticket: str | None = None
    ticket_status: str = ""

    @property
    def sender(self) -> str:
        return f"webchat:{self.user}"


class Load:
    """Owners chatting and staff moving tickets, until stopped; ``phase`` labels what is sent."""

    def __init__(self, stack: Stack, owners: list[Owner], pause: tuple[float, float] = (0.3, 0.8)) -> None:
        self.stack = stack
        self.owners = owners
        self.pause = pause
        self.phase = "setup"
        self.stopping = threading.Event()
        self.changes: list[Change] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._k = 0

    # -- owners

    def say(self, owner: Owner, session: requests.Session, text: str, *, give_up: float = 240.0) -> Sent:
        """Send like the page does: the same message_id again until an HTTP answer comes."""
        sent = Sent(f"{owner.user}-{len(owner.sent) + 1}", text, self.phase)
        owner.sent.append(sent)
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline:
            sent.attempts += 1
            try:
                resp = session.post(
                    f"{self.stack.url}/api/chat",
                    json={"sender": owner.user, "text": text, "message_id": sent.message_id},
                    timeout=60,
                )
            except requests.RequestException:
                time.sleep(0.5)
                continue
            if resp.status_code == 200:
                sent.replies = [r["text"] for r in resp.json()["replies"]]
                sent.later = not sent.replies or any(r in LATER for r in sent.replies)
                return sent
            time.sleep(float(resp.headers.get("Retry-After", "0.5")) if resp.status_code == 429 else 0.5)
        return sent

    def _chat(self, owner: Owner) -> None:
        session = requests.Session()
        n = 0
        while not self.stopping.is_set():
            if self.phase != owner.phase:
                time.sleep(0.2)
                continue
            n += 1
            self.say(owner, session, CHATTER[n % len(CHATTER)])
            time.sleep(random.uniform(*self.pause))

    # -- staff

    def staff(self, method: str, path: str, body: object = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.stack.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        )

    def _staff_retrying(self, method: str, path: str, body: object = None) -> requests.Response:
        while True:
            try:
                resp = self.staff(method, path, body)
            except requests.RequestException:
                time.sleep(0.5)
                continue
            if resp.status_code < 500:
                return resp
            time.sleep(0.5)

    def move(self, owner: Owner) -> None:
        """in_progress ↔ on_hold, with a note naming the change: its update says which one it is.
        A request that failed at the HTTP level is not repeated blindly: staff look at the ticket."""
        target = "on_hold" if owner.ticket_status == "in_progress" else "in_progress"
        with self._lock:
            self._k += 1
            note = f"[{self.phase}#{self._k}]"
        applied = False
        try:
            resp = self.staff("POST", f"/api/tickets/{owner.ticket}/status", {"status": target, "note": note})
            applied = resp.status_code == 200
            unsure = resp.status_code >= 500
        except requests.RequestException:
            unsure = True
        if unsure or not applied:
            ticket = self._staff_retrying("GET", f"/api/tickets/{owner.ticket}").json()
            applied = unsure and ticket["status"] == target
            owner.ticket_status = ticket["status"]
        else:
            owner.ticket_status = target
        self.changes.append(Change(self.phase, owner.ticket, target, note, applied))

    def _staff_work(self) -> None:
        while not self.stopping.is_set():
            for owner in self.owners:
                if owner.ticket and owner.phase == self.phase and not self.stopping.is_set():
                    self.move(owner)
            time.sleep(1.0)

    # -- setup and running

    def open_tickets(self) -> None:
        """Each owner reports a repair in the chat (staff open it for them if the chat did not),
        then staff dispatch it: the owner hears that, once."""
        resp = self._staff_retrying(
            "POST", "/api/staff", {"username": "faults_tech", "name": "测试师傅", "role": "technician"}
        )
        assert resp.status_code in (201, 409), resp.text
        session = requests.Session()
        for owner in self.owners:
            self.say(owner, session, f"{owner.flat} 厨房水管漏水了")
            done = self.say(owner, session, "是")
            number = next((w for r in done.replies or [] for w in _numbers(r)), None)
            if number is None:
                made = self._staff_retrying(
                    "POST",
                    "/api/tickets",
                    {"kind": "repair", "description": "厨房水管漏水", "contact": owner.sender},
                )
                assert made.status_code == 201, made.text
                number = made.json()["number"]
            owner.ticket = number
            resp = self._staff_retrying("POST", f"/api/tickets/{number}/assign", {"assignee": "faults_tech"})
            assert resp.status_code == 200, resp.text
            owner.ticket_status = "assigned"

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._chat, args=(o,), daemon=True) for o in self.owners]
        self._threads.append(threading.Thread(target=self._staff_work, daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=300)


def _numbers(text: str) -> list[str]:
    return re.findall(r"BX\d{6}", text)


# ---------------------------------------------------------------- faults


@dataclass
class Fault:
    name: str
    description: str
    inject: Callable[[], None]
    process: str | None = None  # the stack process it kills (recovered once running again)


def faults(stack: Stack, redis: RedisServer, database_url: str) -> dict[str, Fault]:
    def kill(name: str) -> Callable[[], None]:
        def inject() -> None:
            os.killpg(stack.processes[name].pid, signal.SIGKILL)  # the process and anything it forked

        return inject

    def restart_redis() -> None:
        redis.kill()
        time.sleep(2.0)
        redis.start()

    def drop_postgres() -> None:
        drop_connections(database_url)
        time.sleep(1.0)
        drop_connections(database_url)  # the pools' first reconnections too

    return {
        "rasa": Fault("rasa", "kill -9 Rasa (supervisor restarts it)", kill("rasa"), "rasa"),
        "actions": Fault("actions", "kill -9 the action server", kill("actions"), "actions"),
        "gateway": Fault("gateway", "kill -9 the gateway", kill("gateway"), "gateway"),
        "dispatcher": Fault("dispatcher", "kill -9 the dispatcher", kill("dispatcher"), "dispatcher"),
        "redis": Fault("redis", "kill -9 Redis, started again 2 s later", restart_redis),
        "postgres": Fault("postgres", "pg_terminate_backend ×2, 1 s apart", drop_postgres),
    }


def recovered_after(stack: Stack, fault: Fault, since: float, probe: Callable[[], bool], limit: float) -> float | None:
    """Seconds from the fault until the killed process runs again, /healthz says 200 and a new
    owner message is answered in its request; None if not within ``limit``."""
    deadline = since + limit
    while time.monotonic() < deadline:
        proc = stack.processes.get(fault.process) if fault.process else None
        restarted = fault.process is None or (proc is not None and proc.poll() is None and proc.pid != fault_pid(fault))
        if restarted:
            try:
                healthy = requests.get(f"{stack.url}/healthz", timeout=3).status_code == 200
            except requests.RequestException:
                healthy = False
            if healthy and probe():
                return round(time.monotonic() - since, 1)
        time.sleep(0.5)
    return None


_killed: dict[str, int] = {}


def fault_pid(fault: Fault) -> int | None:
    return _killed.get(fault.name)


# ---------------------------------------------------------------- counting


def store_rows(database_url: str) -> tuple[dict[str, dict], list[dict], set[str]]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        inbound = {
            row[0]: {"status": row[1], "replies": row[2], "attempts": row[3]}
            for row in conn.execute(
                "SELECT client_message_id, status, replies, attempts FROM inbound_messages "
                "WHERE client_message_id IS NOT NULL"
            )
        }
        notes = [
            {"recipient": r[0], "kind": r[1], "text": r[2], "status": r[3], "attempts": r[4]}
            for r in conn.execute("SELECT recipient, kind, text, status, attempts FROM notifications")
        ]
        handed = {r[0] for r in conn.execute("SELECT sender FROM conversations WHERE state = 'handed_off'")}
    return inbound, notes, handed


def settled(database_url: str) -> bool:
    """Nothing left to answer or deliver: no inbound received/failed, no notification pending."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        waiting = conn.execute(
            "SELECT count(*) FROM inbound_messages WHERE status IN ('received', 'failed')"
        ).fetchone()[0]
        pending = conn.execute("SELECT count(*) FROM notifications WHERE status = 'pending'").fetchone()[0]
    return waiting == 0 and pending == 0


def updates(stack: Stack, owner: Owner) -> list[dict]:
    """Everything pushed to the owner, page by page (the API gives at most 100 at a time)."""
    found: list[dict] = []
    after = 0
    while True:
        resp = requests.get(f"{stack.url}/api/chat/{owner.user}/updates?after={after}", timeout=30)
        resp.raise_for_status()
        page = resp.json()
        if not page["updates"]:
            return found
        found += page["updates"]
        after = page["next_after"]


def tally(
    owners: list[Owner], changes: list[Change], got: dict[str, list[dict]], inbound: dict, handed: set[str]
) -> dict[str, dict]:
    """Per phase: messages answered once, lost, doubled; notifications delivered once, lost, doubled.

    A message answered in its request counts once; one told "later" needs its stored replies among
    the owner's late replies. Late replies left over that repeat an answer are doublings."""
    rows: dict[str, Counter] = {}
    findings: list[str] = []
    for owner in owners:
        late = Counter(u["text"] for u in got[owner.user] if u["kind"] == "late_reply")
        arrivals = [(u["text"], datetime.fromisoformat(u["created_at"])) for u in got[owner.user]]
        for sent in owner.sent:
            row = rows.setdefault(sent.phase, Counter())
            row["sent"] += 1
            stored = inbound.get(sent.message_id)
            if sent.replies is None:
                row["lost"] += 1
                findings.append(f"{sent.message_id}: no HTTP answer after {sent.attempts} attempts; store {stored}")
            elif not sent.later:
                row["once"] += 1
            elif stored and stored["status"] in ("for_staff", "answered") and owner.sender in handed:
                row["to_staff"] += 1  # handed to staff (before, or while, the assistant answered): a person answers
            elif stored and stored["status"] == "answered" and not stored["replies"]:
                row["silent"] += 1  # "answered" with nothing: the owner never hears back
                findings.append(f"{sent.message_id} ({sent.phase}): answered with nothing; store {stored}")
            elif stored and stored["status"] == "answered" and all(late[r] > 0 for r in stored["replies"]):
                late.subtract(stored["replies"])
                row["once"] += 1
                row["late"] += 1
                # the first copy of its answer pushed after it was sent: how long the owner waited
                waited = [(at - sent.sent_at).total_seconds() for t, at in arrivals if t == stored["replies"][0]]
                if waited := [w for w in waited if w >= -1]:
                    row["late_wait_max"] = max(row["late_wait_max"], round(min(waited), 1))
            else:
                row["lost"] += 1
                findings.append(f"{sent.message_id} ({sent.phase}): told 'later', no late answer; store {stored}")
        for sent in owner.sent:  # what is left over and repeats an answer: said twice
            answer = (inbound.get(sent.message_id) or {}).get("replies") or sent.replies or []
            if answer and late[answer[0]] > 0:
                late.subtract(answer)
                rows[sent.phase]["doubled"] += 1
                findings.append(f"{sent.message_id} ({sent.phase}): answered twice ({answer[0][:30]}…)")
        texts = [u["text"] for u in got[owner.user]]
        assigned = sum(1 for u in got[owner.user] if u["kind"] == "ticket_assigned")
        if owner.ticket:
            row = rows.setdefault("setup", Counter())
            row["expected"] += 1
            row["delivered"] += assigned == 1
            row["notes_lost"] += assigned == 0
            row["notes_doubled"] += max(0, assigned - 1)
        for change in (c for c in changes if c.number == owner.ticket):
            row = rows.setdefault(change.phase, Counter())
            seen = sum(change.note in t for t in texts)
            if change.applied:
                row["expected"] += 1
                row["delivered"] += seen == 1
                row["notes_lost"] += seen == 0
                row["notes_doubled"] += max(0, seen - 1)
                if seen != 1:
                    findings.append(f"{change.note} {change.number} → {change.status}: seen {seen} times")
            elif seen:
                row["notes_stray"] += seen
                findings.append(f"{change.note}: refused or unknown, yet seen {seen} times")
    result = {phase: dict(counts) for phase, counts in rows.items()}
    result["_findings"] = findings  # type: ignore[assignment]
    return result


# ---------------------------------------------------------------- the campaign


def run_campaign(
    owners: int, phase_seconds: float, chosen: list[str], drain: float, var_dir: Path, log: Callable[[str], None]
) -> dict:
    flats = [f"{b}号楼{u}单元{f}0{r}" for b in (1, 2, 3, 5) for u in (1, 2) for f in (1, 2, 3) for r in (1, 2)]
    with postgres_database() as database_url:
        redis = RedisServer(var_dir / "redis")
        redis.start()
        started = time.monotonic()
        stack = start_stack(var_dir / "stack", database_url, redis.url)
        startup = round(time.monotonic() - started, 1)
        log(f"stack ready in {startup} s at {stack.url}")
        supervisor = Supervisor(stack)
        supervisor.start()
        everyone = [
            Owner(uuid.uuid4().hex, flats[(i * owners + j) % len(flats)], name)
            for i, name in enumerate(chosen)
            for j in range(owners)
        ]
        probes = {name: Owner(uuid.uuid4().hex, flats[0], name) for name in chosen}
        load = Load(stack, everyone)
        try:
            load.open_tickets()
            load.start()
            by_fault = faults(stack, redis, database_url)
            phases = []
            probe_session = requests.Session()

            def probe() -> bool:
                sent = load.say(probes[load.phase], probe_session, "你好", give_up=5)
                return sent.replies is not None and not sent.later

            for name in chosen:
                fault = by_fault[name]
                load.phase = name
                time.sleep(phase_seconds / 3)
                if fault.process:
                    _killed[name] = stack.processes[fault.process].pid
                log(f"fault: {fault.description}")
                at = time.monotonic()
                fault.inject()
                recovery = recovered_after(stack, fault, at, probe, limit=240)
                log(f"  recovered after {recovery} s")
                rest = phase_seconds * 2 / 3 - (time.monotonic() - at)
                if rest > 0:
                    time.sleep(rest)
                phases.append({"fault": name, "description": fault.description, "recovery_seconds": recovery})
            load.phase = "after"
            load.stop()
            log(f"load stopped; waiting up to {drain:.0f} s for the backlog and the outbox")
            deadline = time.monotonic() + drain
            while time.monotonic() < deadline and not settled(database_url):
                time.sleep(1)
            time.sleep(3)  # a last late answer on its way to the mailbox
            inbound, notifications, handed = store_rows(database_url)
            got = {o.user: updates(stack, o) for o in [*everyone, *probes.values()]}
        finally:
            supervisor.stopping.set()
            load.stopping.set()
            stack.stop()
            redis.stop()
    counts = tally([*everyone, *probes.values()], load.changes, got, inbound, handed)
    findings = counts.pop("_findings")
    store = {
        "inbound": dict(Counter(r["status"] for r in inbound.values())),
        "notifications": dict(Counter(n["status"] for n in notifications)),
        "inbound_retried": sum(1 for r in inbound.values() if r["attempts"] > 1),
    }
    return {
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "owners": owners,
        "phase_seconds": phase_seconds,
        "startup_seconds": startup,
        "phases": [{**p, **counts.get(p["fault"], {})} for p in phases],
        "setup": counts.get("setup", {}),
        "after": counts.get("after", {}),
        "store": store,
        "supervisor": supervisor.said,
        "findings": findings,
        "changes": [asdict(c) for c in load.changes if not c.applied],
    }


def markdown(report: dict) -> str:
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}: per phase {report['owners']} new owners chatting "
        f"(0.3–0.8 s between messages) while staff move each one's ticket every second; one fault per "
        f"{report['phase_seconds']:.0f} s phase, a third of the way in. Stack on PostgreSQL and a Redis of the "
        'campaign\'s own. A message counts once if its HTTP answer answered it, or it was told "later" and '
        "its stored answer reached the owner's updates once; recovery is until the process runs again, "
        "/healthz says 200 and a new message is answered in its request.",
        "",
        "| fault | messages sent | answered once (of which later) | lost | answered with nothing | doubled | to staff "
        "| notifications expected | delivered once | lost | doubled | recovery s | longest wait for a late answer s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in [*report["phases"], {"description": "setup (no fault)", **report["setup"]}]:
        lines.append(
            f"| {p['description']} | {p.get('sent', 0)} | {p.get('once', 0)} ({p.get('late', 0)}) | "
            f"{p.get('lost', 0)} | {p.get('silent', 0)} | {p.get('doubled', 0)} | {p.get('to_staff', 0)} | "
            f"{p.get('expected', 0)} | "
            f"{p.get('delivered', 0)} | {p.get('notes_lost', 0)} | {p.get('notes_doubled', 0)} | "
            f"{p.get('recovery_seconds', '—')} | {p.get('late_wait_max', '—')} |"
        )
    store = report["store"]
    lines += [
        "",
        f"Store afterwards: inbound {store['inbound']}, {store['inbound_retried']} answered after more than "
        f"one attempt; notifications {store['notifications']}.",
    ]
    if report["findings"]:
        kinds = Counter(f.split(": ", 1)[1].split(";")[0] for f in report["findings"])
        lines += [
            "",
            "Discrepancies (bench/results/faults.json lists each): " + ", ".join(f"{n}× {k}" for k, n in kinds.items()),
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--owners", type=int, default=8)
    ap.add_argument("--phase-seconds", type=float, default=30.0)
    ap.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    ap.add_argument("--drain", type=float, default=200.0, help="seconds to wait for the backlog afterwards")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "faults.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as var:
        report = run_campaign(
            args.owners, args.phase_seconds, args.faults, args.drain, Path(var), lambda s: print(s, flush=True)
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(markdown(report))


if __name__ == "__main__":
    main()
