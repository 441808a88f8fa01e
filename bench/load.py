"""Load benchmark: owners writing through the web chat API, against bare Rasa in the same run.

Starts the whole assistant on free ports (``Stack.isolated``) and a bare Rasa beside it
(bench/baseline.py: same model, same action server, same kind of tracker store), then plays the
same mixed traffic — small talk, fee questions answered by an action, whole repair conversations
that open tickets, complaints, status checks — through both:

- sequential: one sender, one message after the other (gateway p50 / bare p50);
- closed loop: N senders at once, each waiting for its reply (throughput, p50/p99, ratios);
- open loop: messages arriving as a Poisson process at set rates, latency counted from the
  planned arrival (so a slow server cannot slow the arrivals down and hide its tail); the highest
  rate whose p99 stays under a second;
- ``--soak SECONDS``: steady traffic, resident memory of every process before and after.

Also the per-turn time budget: the gateway's phase timings (``wuye_turn_phase_seconds`` on its
loopback /metrics) over the sequential run, and Rasa's NLU alone (``/model/parse`` on the bare
Rasa) against a whole turn through bare Rasa. Writes bench/results/load.json (``make load``);
bench/report.py renders it. Timings stay here, never in tests: tests/test_bench_load.py runs a
few seconds of it and checks only what it counts.

``--rasa-instances N``: N Rasa instances (each with its action server) behind the gateway, on
Redis (``--redis-url``); the baseline stays one bare Rasa.

``--channel wechat|sms``: the owners write through the 公众号 callback or the SMS provider's
upstream push instead of the web chat API, and read their answers where the fake platform
receives them (bench/owners.py); bare Rasa gets the same messages under the same conversation
ids (wechat:<openid>, sms:<mobile>). Sequential, closed and open loop only (the time budget, the
profile and the soak are the web chat's). Writes bench/results/load_<channel>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import DEVNULL

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.baseline import STORES, BareRasa
from bench.owners import CHANNELS, READING, STARTED, CallbackOwners, Send, outcome, paced
from ops.stack import ROOT, Stack

HERE = Path(__file__).parent
OUT = HERE / "results" / "load.json"  # the web chat's; another channel's is load_<channel>.json
P99_LIMIT_MS = 1000.0  # the open loop's "highest rate" is the highest whose p99 stays under this

# Mixed traffic, as owners write it (all four styles): each a whole conversation of one owner.
CONVERSATIONS: dict[str, list[list[str]]] = {
    "small_talk": [["你好", "今天天气怎么样", "谢谢", "再见"], ["在吗", "谢谢啦"]],
    "fee": [["物业费怎么交", "能开发票吗", "谢谢"], ["喂 那个 我想问一下 那个无业费 滞纳金怎么算", "再见"]],
    "repair": [
        ["你好", "3号楼2单元501 厨房水管漏水了", "是的"],
        ["报修", "5栋1单元302", "马桶堵了", "对"],
        ["1", "2号楼1单元101", "客厅灯不亮", "是"],
    ],
    "complaint": [["我要投訴，樓上天天半夜裝修太吵了", "匿名", "確認"]],
    "status": [["查进度"], ["我的报修到哪了", "好的"]],
}


def mixed() -> list[list[str]]:
    """Every conversation once, kinds interleaved (small talk, fee, repair, … then again)."""
    kinds = list(CONVERSATIONS.values())
    out = []
    for i in range(max(len(k) for k in kinds)):
        out += [k[i] for k in kinds if i < len(k)]
    return out


def turns(messages: int) -> list[str]:
    """The first ``messages`` turns of the mixed conversations played back to back."""
    return list(itertools.islice((t for c in itertools.cycle(mixed()) for t in c), messages))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Tally:
    """What one run saw: latencies of answered messages, and the rest counted by kind."""

    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    answered: int = 0  # 200 with at least one reply, none of them a "held" notice
    held: int = 0  # 200 with the gateway's busy/queued notice
    empty: int = 0  # 200 without a reply
    errors: int = 0  # another status, a timeout, a refused connection
    seconds: float = 0.0

    def count(self, outcome: str, started: float, answered_at: float | None = None) -> None:
        self.sent += 1
        if outcome == "answered":
            self.answered += 1
            self.latencies_ms.append(((answered_at or time.perf_counter()) - started) * 1000)
        else:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> dict:
        lat = self.latencies_ms
        out = {k: getattr(self, k) for k in ("sent", "answered", "held", "empty", "errors")}
        out["seconds"] = round(self.seconds, 1)
        out["answered_per_second"] = round(self.answered / self.seconds, 2) if self.seconds else 0.0
        if lat:
            out.update(
                p50_ms=round(statistics.median(lat), 1),
                p90_ms=round(percentile(lat, 90), 1),
                p99_ms=round(percentile(lat, 99), 1),
                max_ms=round(max(lat), 1),
            )
        return out


def new_id() -> str:
    return uuid.uuid4().hex


def gateway_target(url: str) -> Send:
    """POST /api/chat as the web page does; the outcome's kind."""

    async def send(http: aiohttp.ClientSession, sender: str, text: str) -> str:
        async with http.post(f"{url}/api/chat", json={"sender": sender, "text": text}) as resp:
            if resp.status != 200:
                await resp.read()
                return "errors"
            replies = [r.get("text") for r in (await resp.json()).get("replies", [])]
        return outcome(replies)

    return send


def bare_target(url: str, channel: str = "webchat") -> Send:
    """Rasa's own REST channel, the same message, from the same conversation id Rasa gets through
    the gateway ("<channel>:<id>"): the actions' bot API refuses an id without its channel, and a
    baseline whose tickets are refused does less work than the stack."""

    async def send(http: aiohttp.ClientSession, sender: str, text: str) -> str:
        payload = {"sender": f"{channel}:{sender}", "message": text}
        async with http.post(f"{url}/webhooks/rest/webhook", json=payload) as resp:
            if resp.status != 200:
                await resp.read()
                return "errors"
            body = await resp.json()
        return "answered" if any(isinstance(m, dict) and m.get("text") for m in body or []) else "empty"

    return send


async def _one(send: Send, http: aiohttp.ClientSession, sender: str, text: str, tally: Tally, started: float) -> None:
    answered_at = None  # a channel's owner reads on after the answer: its latency stops at the answer
    token = STARTED.set(started)
    try:
        result = await send(http, sender, text)
        kind, answered_at = result if isinstance(result, tuple) else (result, None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        kind = "errors"
    finally:
        STARTED.reset(token)
    tally.count(kind, started, answered_at)


def _session(limit: int = 0) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=60), connector=aiohttp.TCPConnector(limit=limit, force_close=False)
    )


async def sequential(
    send: Send, messages: int, *, texts: list[str] | None = None, new_sender: Callable[[], str] = new_id
) -> Tally:
    """One sender (one long conversation), ``messages`` turns of the mixed conversations back to back."""
    tally, sender = Tally(), new_sender()
    async with _session() as http:
        began = time.perf_counter()
        for text in (texts or turns(messages))[:messages]:
            await _one(send, http, sender, text, tally, time.perf_counter())
        tally.seconds = time.perf_counter() - began
    return tally


async def closed_loop(send: Send, senders: int, seconds: float, *, new_sender: Callable[[], str] = new_id) -> Tally:
    """``senders`` owners at once, each playing whole conversations and waiting for every reply."""
    tally = Tally()
    pool = itertools.cycle(mixed())
    async with _session() as http:
        began = time.perf_counter()
        stop_at = began + seconds

        async def owner() -> None:
            while time.perf_counter() < stop_at:
                sender = new_sender()
                for text in next(pool):
                    if time.perf_counter() >= stop_at:
                        return
                    await _one(send, http, sender, text, tally, time.perf_counter())

        await asyncio.gather(*(owner() for _ in range(senders)))
        tally.seconds = time.perf_counter() - began
    return tally


async def run_load(url: str, conversations: int, concurrency: int) -> dict:
    """``conversations`` whole conversations through the web chat API, ``concurrency`` owners at
    once (bench/scale.py's rounds): latencies of the answered messages and their rate."""
    tally, limit, send = Tally(), asyncio.Semaphore(concurrency), gateway_target(url)
    async with _session() as http:

        async def owner(turns: list[str]) -> None:
            async with limit:
                sender = uuid.uuid4().hex
                for text in turns:
                    await _one(send, http, sender, text, tally, time.perf_counter())

        began = time.perf_counter()
        await asyncio.gather(*(owner(t) for t in itertools.islice(itertools.cycle(mixed()), conversations)))
        tally.seconds = time.perf_counter() - began
    summary = tally.summary()
    return {
        "concurrent_senders": concurrency,
        "messages": tally.answered,
        "not_answered": tally.sent - tally.answered,
        **{k: summary.get(k) for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
        "messages_per_second": summary["answered_per_second"],
    }


async def open_loop(
    send: Send, rate: float, seconds: float, *, seed: int = 14, new_sender: Callable[[], str] = new_id
) -> Tally:
    """Messages arrive as a Poisson process at ``rate`` per second for ``seconds``.

    Each arrival is the next turn of an owner whose previous message is answered (or a new
    owner's first), so no owner writes before their answer; the latency runs from the planned
    arrival, not from when the client got round to sending."""
    rng = random.Random(seed)
    tally = Tally()
    pool = itertools.cycle(mixed())
    idle: list[tuple[str, list[str]]] = []  # owners whose last message is answered: (sender, turns left)
    tasks: set[asyncio.Task] = set()
    async with _session() as http:
        began = time.perf_counter()
        planned = began

        async def turn(sender: str, turns: list[str], at: float) -> None:
            await _one(send, http, sender, turns[0], tally, at)
            if len(turns) > 1:
                idle.append((sender, turns[1:]))

        while True:
            planned += rng.expovariate(rate)
            if planned - began >= seconds:
                break
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            sender, turns = idle.pop(0) if idle else (new_sender(), list(next(pool)))
            task = asyncio.create_task(turn(sender, turns, planned))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        tally.seconds = time.perf_counter() - began
    return tally


# -- the time budget ----------------------------------------------------------------------------


def phase_totals(metrics_text: str) -> dict[str, tuple[float, float]]:
    """``wuye_turn_phase_seconds`` and ``wuye_rasa_seconds{outcome=ok}`` from a /metrics page:
    phase → (sum of seconds, count)."""
    out: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name not in ("wuye_turn_phase_seconds", "wuye_rasa_seconds"):
            continue
        for sample in family.samples:
            if family.name == "wuye_rasa_seconds":
                if sample.labels.get("outcome") != "ok":
                    continue
                phase = "rasa_call"
            else:
                phase = sample.labels["phase"]
            entry = out.setdefault(phase, [0.0, 0.0])
            if sample.name.endswith("_sum"):
                entry[0] += sample.value
            elif sample.name.endswith("_count"):
                entry[1] += sample.value
    return {k: (v[0], v[1]) for k, v in out.items()}


async def scrape(http: aiohttp.ClientSession, stack: Stack) -> dict[str, tuple[float, float]]:
    async with http.get(f"http://127.0.0.1:{stack.internal_port}/metrics") as resp:
        return phase_totals(await resp.text())


def phase_means(before: dict, after: dict) -> dict[str, float]:
    """Mean milliseconds per phase between two scrapes."""
    means = {}
    for phase, (total, count) in after.items():
        t0, c0 = before.get(phase, (0.0, 0.0))
        if count > c0:
            means[phase] = round((total - t0) / (count - c0) * 1000, 1)
    return means


def action_totals(metrics_text: str) -> dict[str, tuple[float, float]]:
    """The action server's /metrics: every custom action call ("action_call") and every bot API
    call the actions made ("bot_api_call"), each as (sum of seconds, count)."""
    names = {"wuye_action_seconds": "action_call", "wuye_backend_call_seconds": "bot_api_call"}
    out: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name not in names:
            continue
        entry = out.setdefault(names[family.name], [0.0, 0.0])
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                entry[0] += sample.value
            elif sample.name.endswith("_count"):
                entry[1] += sample.value
    return {k: (v[0], v[1]) for k, v in out.items()}


async def scrape_actions(http: aiohttp.ClientSession, stack: Stack) -> dict[str, tuple[float, float]]:
    """Empty when the action server has no /metrics."""
    try:
        async with http.get(f"http://127.0.0.1:{stack.actions_port}/metrics") as resp:
            return action_totals(await resp.text()) if resp.status == 200 else {}
    except aiohttp.ClientError:
        return {}


def per_turn(before: dict, after: dict, messages: int) -> dict[str, dict[str, float]]:
    """Calls and milliseconds per message between two scrapes of the action server."""
    out = {}
    for name, (total, count) in after.items():
        t0, c0 = before.get(name, (0.0, 0.0))
        out[name] = {"calls": round((count - c0) / messages, 2), "ms": round((total - t0) * 1000 / messages, 1)}
    return out


async def budget(stack: Stack, bare: BareRasa, messages: int) -> dict:
    """Where one turn's time goes: the gateway's phases over a sequential run, and bare Rasa's
    NLU alone (/model/parse) against its whole turn for the same texts."""
    texts = turns(messages)
    async with _session() as http:
        before, cpu_before = await scrape(http, stack), cpu(stack, bare)
        actions_before = await scrape_actions(http, stack)
        through_gateway = await sequential(gateway_target(stack.url), messages, texts=texts)
        after, cpu_gateway = await scrape(http, stack), cpu(stack, bare)
        actions_gateway = await scrape_actions(http, stack)
        parse_ms = []
        for text in texts:
            started = time.perf_counter()
            async with http.post(f"{bare.url}/model/parse", params={"token": bare.token}, json={"text": text}) as r:
                await r.read()
            parse_ms.append((time.perf_counter() - started) * 1000)
    cpu_parsed = cpu(stack, bare)
    through_bare = await sequential(bare_target(bare.url), messages, texts=texts)
    cpu_bare = cpu(stack, bare)
    async with _session() as http:
        actions_bare = await scrape_actions(http, stack)
    return {
        "actions_per_message_through_gateway": per_turn(actions_before, actions_gateway, messages),
        "actions_per_message_through_bare": per_turn(actions_gateway, actions_bare, messages),
        "cpu_ms_per_message_through_gateway": cpu_per_message(cpu_before, cpu_gateway, messages),
        "cpu_ms_per_message_through_bare": cpu_per_message(cpu_parsed, cpu_bare, messages),
        "messages": messages,
        "gateway_turn_p50_ms": through_gateway.summary().get("p50_ms"),
        "gateway_turn_mean_ms": round(statistics.mean(through_gateway.latencies_ms), 1),
        "gateway_phases_mean_ms": phase_means(before, after),
        "bare_turn_mean_ms": round(statistics.mean(through_bare.latencies_ms), 1),
        "bare_turn_p50_ms": through_bare.summary().get("p50_ms"),
        "bare_parse_mean_ms": round(statistics.mean(parse_ms), 1),
        "bare_parse_p50_ms": round(statistics.median(parse_ms), 1),
    }


# -- where the CPU goes: a sampling profile (py-spy) -------------------------------------------

# What a sampled stack is spent on, the first pattern found in it deciding (ordered: the more
# specific first). Rasa's share and the gateway's (which also serves the bot API the actions call).
CATEGORIES = {
    "rasa": [
        ("action result validated (jsonschema)", ("_validate_action_result",)),
        ("tracker store", ("tracker_store",)),
        ("lock store", ("lock_store",)),
        ("action server round trip (tracker serialised, HTTP)", ("core/actions/action.py",)),
        ("policies (TED, rules, memoization)", ("core/policies/", "policy_ensemble")),
        ("NLU pipeline", ("rasa/nlu/", "bot/nlu/", "bot/text/", "parse_message")),
        ("HTTP server (Sanic) and channel", ("sanic", "core/channels")),
        ("graph and processor around them", ("rasa/engine/", "core/processor.py")),
    ],
    "gateway": [
        ("SQLite driver thread (statements, commits, fsync)", ("_connection_worker_thread",)),
        ("bot API handlers (the actions' calls; bare Rasa's too)", ("backend_bridge/entrypoints",)),
        ("SQLAlchemy in the event loop (ORM, statements)", ("sqlalchemy", "asyncpg")),
        ("metrics", ("prometheus_client",)),
        ("gateway and channels (ours)", ("connectors/", "backend_bridge/")),
        ("HTTP (aiohttp) and JSON", ("aiohttp", "json")),
    ],
}


def py_spy() -> str | None:
    """py-spy (requirements/bench.txt, installed by `make load`): on PATH or in the app environment."""
    local = ROOT / ".venv" / "bin" / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def _idle_leaves() -> tuple[str, ...]:
    """Frames where a thread only waits although py-spy samples it as running: aiosqlite's worker
    thread blocked on its queue (``tx.get()``), one per pooled connection. Found by reading the
    installed aiosqlite's source, so its line number follows the version."""
    try:
        import aiosqlite.core  # noqa: PLC0415 - only to read its source

        lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    except (ImportError, AttributeError, OSError):
        return ()
    return tuple(
        f"_connection_worker_thread (aiosqlite/core.py:{first + i})"
        for i, line in enumerate(lines)
        if "tx.get(" in line
    )


def categorise(raw: str, categories: list[tuple[str, tuple[str, ...]]]) -> dict[str, float]:
    """Share (%) of the on-CPU samples of py-spy's raw (collapsed) output in each category."""
    counts: dict[str, int] = {}
    idle = _idle_leaves()
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit() or stack.endswith(idle or ("\0",)):
            continue
        name = next((label for label, needles in categories if any(x in stack for x in needles)), "other")
        counts[name] = counts.get(name, 0) + int(n)
    total = sum(counts.values()) or 1
    return {k: round(v * 100 / total, 1) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


async def profile(stack: Stack, bare: BareRasa, seconds: float, senders: int, out_dir: Path) -> dict:
    """Closed loop through the gateway for ``seconds`` while py-spy samples the gateway and Rasa:
    where their CPU goes, by category, and each process's CPU per message."""
    tool = py_spy()
    if tool is None:
        return {"skipped": "py-spy not installed (pip install -r requirements/bench.txt)"}
    out_dir.mkdir(parents=True, exist_ok=True)
    recorders = {}
    for name in ("gateway", "rasa"):
        path = out_dir / f"{name}.txt"
        argv = [tool, "record", "--pid", str(stack.processes[name].pid), "--duration", str(int(seconds))]
        argv += ["--rate", "100", "--format", "raw", "--nonblocking", "--output", str(path)]
        recorders[name] = (await asyncio.create_subprocess_exec(*argv, stdout=DEVNULL, stderr=DEVNULL), path)
    cpu_before = cpu(stack, bare)
    tally = await closed_loop(gateway_target(stack.url), senders, seconds)
    cpu_after = cpu(stack, bare)
    result: dict = {"senders": senders, "seconds": seconds, "answered": tally.answered}
    result["cpu_ms_per_message"] = cpu_per_message(cpu_before, cpu_after, max(tally.answered, 1))
    for name, (proc, path) in recorders.items():
        await proc.wait()
        if path.exists():
            result[f"{name}_samples_percent"] = categorise(path.read_text(), CATEGORIES[name])
    return result


# -- memory -------------------------------------------------------------------------------------


def resident_mb(pid: int) -> float:
    """VmRSS of a process and its children."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes(stack: Stack, bare: BareRasa) -> dict[str, int]:
    found = {name: proc.pid for name, proc in stack.processes.items()}
    if bare.process is not None:
        found["bare_rasa"] = bare.process.pid
    return found


def cpu(stack: Stack, bare: BareRasa) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in processes(stack, bare).items()}


def cpu_per_message(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """CPU milliseconds each process spent per message between two readings (the ones that moved)."""
    spent = {name: (after[name] - before.get(name, 0.0)) * 1000 / messages for name in after}
    return {name: round(ms, 1) for name, ms in spent.items() if ms > 0}


def memory(stack: Stack, bare: BareRasa) -> dict[str, float]:
    found = {name: resident_mb(proc.pid) for name, proc in stack.processes.items()}
    if bare.process is not None:
        found["bare_rasa"] = resident_mb(bare.process.pid)
    return found


# -- the run ------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def side_by_side(gateway: Tally, bare: Tally) -> dict:
    g, b = gateway.summary(), bare.summary()
    return {
        "gateway": g,
        "bare": b,
        "p50_ratio": ratio(g.get("p50_ms"), b.get("p50_ms")),
        "p99_ratio": ratio(g.get("p99_ms"), b.get("p99_ms")),
        "throughput_ratio": ratio(g["answered_per_second"], b["answered_per_second"]),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def measure(stack: Stack, bare: BareRasa, args: argparse.Namespace, owners: CallbackOwners | None = None) -> dict:
    """Every mode through the gateway (the web chat API, or ``owners``' callback) and bare Rasa."""
    if owners is None:
        gw, br, new = gateway_target(stack.url), bare_target(bare.url), new_id
    else:  # bare Rasa's owners read as long after each answer as the channel's do
        gw, br, new = owners.target(stack), paced(bare_target(bare.url, owners.name), owners.reading), owners.new_sender
    report: dict = {"load_average_before": load_average()}
    done: list[tuple[dict, str, Tally, Tally]] = []  # (report entry, label, through the gateway, bare)

    async def both(label: str, play: Callable[[Send], Awaitable[Tally]], entry: dict) -> dict:
        """``play`` through the gateway, then through bare Rasa; the CPU each process spent per
        message on the gateway's side and, with a channel, how its answers came."""
        if owners is not None:
            owners.run = label
        before = cpu(stack, bare)
        g = await play(gw)
        entry["cpu_ms_per_message_gateway_side"] = cpu_per_message(before, cpu(stack, bare), max(g.sent, 1))
        b = await play(br)
        if owners is not None:
            entry["callbacks"] = owners.take_counts()
        done.append((entry, label, g, b))
        return entry

    # warm-up: every conversation once through both (lazy imports, first-time caches)
    for send in (gw, br):
        await closed_loop(send, 2, args.warmup, new_sender=new)
    if owners is not None:
        owners.take_counts()
    if args.sequential:
        report["sequential"] = await both(
            "sequential", lambda send: sequential(send, args.sequential, new_sender=new), {}
        )
    report["closed_loop"] = [
        await both(f"closed:{n}", lambda send, n=n: closed_loop(send, n, args.seconds, new_sender=new), {"senders": n})
        for n in args.senders
    ]
    report["open_loop"] = [
        await both(f"open:{r}", lambda send, r=r: open_loop(send, r, args.seconds, new_sender=new), {"rate": r})
        for r in args.rates
    ]
    if owners is not None:
        async with _session() as http:
            report["reconciled"] = await owners.reconcile(stack, http)
    for entry, label, g, b in done:
        if owners is not None:  # each answer timed to its first message as the conversation's log matches them
            entry["gateway_as_the_owner_took_it"] = g.summary()
            g.latencies_ms = owners.latencies_ms(label)
        entry.update(side_by_side(g, b))
    for name in ("gateway", "bare"):
        under = [r["rate"] for r in report["open_loop"] if r[name].get("p99_ms", 1e9) < P99_LIMIT_MS]
        report[f"open_loop_highest_rate_p99_under_1s_{name}"] = max(under) if under else None
    if args.budget:
        report["budget"] = await budget(stack, bare, args.budget)
    if args.profile:
        report["profile"] = await profile(stack, bare, args.profile, 10, args.out.parent / "profiles")
    if args.soak:
        report["soak"] = await soak(stack, bare, args.soak, args.soak_rate)
    report["memory_mb"] = memory(stack, bare)
    report["load_average_after"] = load_average()
    return report


SOAK_SAMPLES = 10  # resident memory read this many times during a soak, evenly


async def soak(stack: Stack, bare: BareRasa, seconds: float, rate: float) -> dict:
    """Steady mixed traffic through both for ``seconds``; every process's resident memory before,
    after, and at even steps in between: two readings cannot tell a warm-up from a leak, a curve
    that flattens can."""
    before = memory(stack, bare)
    samples: list[dict] = []
    started = time.monotonic()

    async def sample() -> None:
        for _ in range(SOAK_SAMPLES):
            await asyncio.sleep(seconds / SOAK_SAMPLES)
            samples.append({"at_s": round(time.monotonic() - started), **memory(stack, bare)})

    sampler = asyncio.create_task(sample())
    g, b = await asyncio.gather(
        open_loop(gateway_target(stack.url), rate, seconds, seed=1),
        open_loop(bare_target(bare.url), rate, seconds, seed=2),
    )
    sampler.cancel()
    after = memory(stack, bare)
    return {
        "samples_mb": samples,
        "seconds": seconds,
        "rate_each": rate,
        "gateway": g.summary(),
        "bare": b.summary(),
        "memory_before_mb": before,
        "memory_after_mb": after,
        "growth_mb": {k: round(after[k] - before[k], 1) for k in before if k in after},
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequential", type=int, default=60, help="messages of the sequential run (0: none)")
    ap.add_argument("--senders", type=int, nargs="*", default=[1, 10, 50], help="closed-loop concurrency levels")
    ap.add_argument("--rates", type=float, nargs="*", default=[5, 10, 15, 20], help="open-loop messages/s")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each closed- and open-loop run")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds of warm-up through each")
    ap.add_argument("--budget", type=int, help="messages of the time-budget run (0: none; default 40, web chat only)")
    ap.add_argument(
        "--profile", type=float, help="seconds of py-spy sampling under load (0: none; default 20, web chat only)"
    )
    ap.add_argument("--soak", type=float, default=0.0, help="seconds of steady traffic with memory before/after")
    ap.add_argument("--soak-rate", type=float, default=4.0, help="messages/s through each during the soak")
    ap.add_argument("--store", choices=STORES, default="same", help="bare Rasa's tracker/lock store")
    ap.add_argument("--rasa-instances", type=int, default=1, help="Rasa instances behind the gateway")
    ap.add_argument("--redis-url", help="run the stack (and bare Rasa) on this Redis: Redis tracker/lock stores")
    ap.add_argument("--database-url", help="the stack's database (default: SQLite in a temporary directory)")
    ap.add_argument(
        "--channel", choices=["webchat", *CHANNELS], default="webchat", help="where the owners write (bench/owners.py)"
    )
    ap.add_argument("--wechat-mode", choices=["plain", "compat", "safe"], default="safe", help="the 公众号 push's mode")
    ap.add_argument(
        "--reading", type=float, default=READING, help="seconds a channel's owner reads after an answer (both sides)"
    )
    ap.add_argument("--out", type=Path, help="default bench/results/load.json, load_<channel>.json for another")
    args = ap.parse_args(argv)
    web = args.channel == "webchat"
    if not web and (args.budget or args.profile or args.soak):
        ap.error("--budget, --profile and --soak measure the web chat only")
    args.budget = (40 if web else 0) if args.budget is None else args.budget
    args.profile = (20.0 if web else 0.0) if args.profile is None else args.profile
    args.out = args.out or (OUT if web else OUT.with_name(f"load_{args.channel}.json"))
    return args


def channel_owners(args: argparse.Namespace) -> CallbackOwners | None:
    if args.channel == "webchat":
        return None
    if args.channel == "wechat":
        return CHANNELS["wechat"](args.wechat_mode, reading=args.reading)
    return CHANNELS[args.channel](reading=args.reading)


def stack_settings(args: argparse.Namespace) -> dict[str, str]:
    settings = {
        "WUYE_DEMO_DATA": str(ROOT / "content" / "demo_community.yml"),
        # one client plays every owner: the per-client limit (120/min) would measure itself
        "WUYE_CHAT_CLIENT_RATE": "0",
        "WUYE_CHAT_SENDER_RATE": "0",
    }
    if args.redis_url:
        settings["WUYE_REDIS_URL"] = args.redis_url
    if args.database_url:
        settings["WUYE_DATABASE_URL"] = args.database_url
    return settings


def run(args: argparse.Namespace) -> dict:
    if args.rasa_instances > 1 and not args.redis_url:
        raise SystemExit("--rasa-instances above 1 needs --redis-url (Rasa's shared tracker and lock stores)")
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> dict:
    """The stack and bare Rasa start and stop in threads: a channel's fake platform serves on this
    loop all the while (the stack's dispatcher may still be talking to it as it stops)."""
    owners = channel_owners(args)
    async with contextlib.AsyncExitStack() as fakes:
        if owners is not None:
            await fakes.enter_async_context(owners)
        with tempfile.TemporaryDirectory() as var:
            settings = stack_settings(args) | (owners.env(Path(var)) if owners is not None else {})
            instances = args.rasa_instances  # each Rasa with its action server, as bench/scale.py and deploy/ run them
            stack = Stack.isolated(
                Path(var) / "stack", rasa_instances=instances, actions_instances=instances, **settings
            )
            started = time.perf_counter()
            await asyncio.to_thread(stack.start_ready)
            try:
                startup = time.perf_counter() - started
                bare = BareRasa(stack, Path(var) / "bare", store=args.store)
                await asyncio.to_thread(bare.start_ready)
                try:
                    report = await measure(stack, bare, args, owners)
                finally:
                    await asyncio.to_thread(bare.stop)
            finally:
                await asyncio.to_thread(stack.stop)
    report.update(
        measured_at=time.strftime("%Y-%m-%d %H:%M"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        startup_seconds=round(startup, 1),
        rasa_instances=args.rasa_instances,
        bare_store=args.store,
        stores="Redis" if args.redis_url else ("PostgreSQL" if args.database_url else "SQLite (embedded)"),
        channel=args.channel,
    )
    if owners is not None:
        report.update(reading_s=args.reading, wechat_mode=args.wechat_mode if args.channel == "wechat" else None)
    return report


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()


# -- bench/RESULTS.md ---------------------------------------------------------------------------


def _ms(side: dict, key: str) -> str:
    return str(side.get(key, "–"))


def _bad(side: dict) -> str:
    """Messages not answered, by kind (nothing when every message was)."""
    parts = [f"{side[k]} {k}" for k in ("held", "empty", "errors") if side.get(k)]
    return ", ".join(parts) or "0"


def markdown(report: dict) -> str:
    """The load section of bench/RESULTS.md (and the soak's, from its own file)."""
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}; stores: {report['stores']}, bare Rasa's "
        f"tracker store: {report['bare_store']}; Rasa instances behind the gateway: {report['rasa_instances']}. "
        f"Load average (1, 5, 15 min) before {report['load_average_before']}, after "
        f"{report['load_average_after']} (the machine is shared). Ratios are gateway / bare Rasa, same run, "
        "same messages (bench/load.py's mixed traffic).",
        "",
    ]
    if report.get("channel", "webchat") != "webchat":
        lines += [*channel_intro(report), ""]
    if seq := report.get("sequential"):
        g, b = seq["gateway"], seq["bare"]
        way = CHANNEL_LABELS[report.get("channel", "webchat")]
        lines += [
            "| sequential, one sender | messages | p50 ms | p90 ms | p99 ms | not answered |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| gateway ({way}) | {g['sent']} | {_ms(g, 'p50_ms')} | {_ms(g, 'p90_ms')} | "
            f"{_ms(g, 'p99_ms')} | {_bad(g)} |",
            f"| bare Rasa (REST) | {b['sent']} | {_ms(b, 'p50_ms')} | {_ms(b, 'p90_ms')} | "
            f"{_ms(b, 'p99_ms')} | {_bad(b)} |",
            f"| **ratio** | | **{seq['p50_ratio']}** | | {seq['p99_ratio']} | |",
            "",
        ]
    if report.get("closed_loop"):
        lines += [
            "| closed loop, senders | answered/s gateway | bare | ratio | p50 ms gateway | bare | p99 ms gateway "
            "| bare | p99 ratio | not answered gateway / bare |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for run in report["closed_loop"]:
            g, b = run["gateway"], run["bare"]
            lines.append(
                f"| {run['senders']} | {g['answered_per_second']} | {b['answered_per_second']} | "
                f"{run['throughput_ratio']} | {_ms(g, 'p50_ms')} | {_ms(b, 'p50_ms')} | {_ms(g, 'p99_ms')} | "
                f"{_ms(b, 'p99_ms')} | {run['p99_ratio']} | {_bad(g)} / {_bad(b)} |"
            )
        lines.append("")
    if report.get("open_loop"):
        lines += [
            "| open loop, msg/s (Poisson) | gateway p50 / p99 / max ms | bare p50 / p99 / max ms | p99 ratio "
            "| not answered gateway / bare |",
            "| --- | --- | --- | --- | --- |",
        ]
        for run in report["open_loop"]:
            g, b = run["gateway"], run["bare"]
            lines.append(
                f"| {run['rate']:g} | {_ms(g, 'p50_ms')} / {_ms(g, 'p99_ms')} / {_ms(g, 'max_ms')} | "
                f"{_ms(b, 'p50_ms')} / {_ms(b, 'p99_ms')} / {_ms(b, 'max_ms')} | {run['p99_ratio']} | "
                f"{_bad(g)} / {_bad(b)} |"
            )
        lines += [
            "",
            f"Highest rate tried whose p99 stays under 1 s: gateway "
            f"{report.get('open_loop_highest_rate_p99_under_1s_gateway') or 'none'}, bare Rasa "
            f"{report.get('open_loop_highest_rate_p99_under_1s_bare') or 'none'} messages/s.",
            "",
        ]
    if budget := report.get("budget"):
        phases = budget["gateway_phases_mean_ms"]
        lines += [
            f"Time budget of one turn ({budget['messages']} messages one after the other, mean ms): through the "
            f"gateway {budget['gateway_turn_mean_ms']} (client's view), through bare Rasa "
            f"{budget['bare_turn_mean_ms']}, of which Rasa's NLU alone (/model/parse) {budget['bare_parse_mean_ms']}.",
            "",
            "| gateway phase | mean ms |",
            "| --- | --- |",
        ]
        lines += [f"| {name} | {ms} |" for name, ms in phases.items()]
        lines += [
            "",
            "| CPU ms per message, by process | through the gateway | through bare Rasa |",
            "| --- | --- | --- |",
        ]
        through_gw, through_bare = (
            budget["cpu_ms_per_message_through_gateway"],
            budget["cpu_ms_per_message_through_bare"],
        )
        for name in dict.fromkeys([*through_gw, *through_bare]):
            lines.append(f"| {name} | {through_gw.get(name, 0)} | {through_bare.get(name, 0)} |")
        lines.append("")
        for key, label in (("through_gateway", "through the gateway"), ("through_bare", "through bare Rasa")):
            calls = budget.get(f"actions_per_message_{key}") or {}
            if calls:
                said = "; ".join(f"{name}: {c['calls']} calls, {c['ms']} ms" for name, c in calls.items())
                lines += [f"Action server per message {label} (its own /metrics): {said}.", ""]
    if (prof := report.get("profile")) and "skipped" not in prof:
        lines += [
            f"Sampling profile (py-spy, 100 Hz, on-CPU stacks) during {prof['seconds']:g} s of {prof['senders']} "
            f"senders through the gateway ({prof['answered']} answered); CPU ms per message: "
            + ", ".join(f"{k} {v}" for k, v in prof["cpu_ms_per_message"].items())
            + ".",
            "",
        ]
        for name in ("rasa", "gateway"):
            shares = prof.get(f"{name}_samples_percent", {})
            lines += [f"| {name}: samples in | % |", "| --- | --- |"]
            lines += [f"| {k} | {v} |" for k, v in shares.items()]
            lines.append("")
    if soak := report.get("soak"):
        lines += [
            f"Soak: {soak['seconds']:g} s of mixed traffic at {soak['rate_each']:g} messages/s through each "
            f"(gateway {soak['gateway']['answered']} answered, {_bad(soak['gateway'])} not; bare "
            f"{soak['bare']['answered']} answered, {_bad(soak['bare'])} not).",
            "",
            "| process | resident MB before | after | growth |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {name} | {mb} | {soak['memory_after_mb'].get(name)} | {soak['growth_mb'].get(name)} |"
            for name, mb in soak["memory_before_mb"].items()
        ]
        lines.append("")
        if samples := soak.get("samples_mb"):
            names = list(soak["memory_before_mb"])
            lines += [
                "Resident MB during the soak (a warm-up flattens; a leak keeps climbing):",
                "",
                "| s | " + " | ".join(names) + " |",
                "| --- | " + " | ".join("---" for _ in names) + " |",
            ]
            lines += ["| " + " | ".join(str(x.get(k, "")) for k in ("at_s", *names)) + " |" for x in samples]
            lines.append("")
    if report.get("channel", "webchat") != "webchat":
        lines += [*channel_outro(report), ""]
    memory = ", ".join(f"{name} {mb} MB" for name, mb in report["memory_mb"].items())
    lines.append(f"Resident memory at the end: {memory}.")
    return "\n".join(lines)


CHANNEL_LABELS = {"webchat": "web chat API", "wechat": "公众号 callback", "sms": "SMS push"}
CHANNEL_PATHS = {
    "wechat": "the 公众号 callback (/wechat/mp, {mode} mode: signed{encrypted}, as the fake WeChat's driver posts "
    "it), the answer read as the passive reply in the callback's response or, when it was not ready within the "
    "gateway's 4 s budget, as the customer-service messages the dispatcher sent to the fake WeChat",
    "sms": "the SMS provider's upstream push (the fake Aliyun's SmsUp, to /sms/aliyun/<token>), the answer read as "
    "the SendSms calls the dispatcher made to the fake provider (late_reply template, 35 characters a message; "
    "a number of its own for every owner, 50 a number a day)",
}


def channel_intro(report: dict) -> list[str]:
    """What "gateway" means in a channel's tables."""
    mode = report.get("wechat_mode") or ""
    path = CHANNEL_PATHS[report["channel"]].format(mode=mode, encrypted=" and encrypted" if mode != "plain" else "")
    return [
        f"Through {path}. Latency: from posting the owner's message to the first part of the answer at the fake "
        f"platform. Each owner (on both sides) reads {report['reading_s']:g} s after an answer before writing again, "
        "so closed-loop rates compare like with like and include that pause; bare Rasa gets the same messages "
        "under the same conversation ids."
    ]


def channel_outro(report: dict) -> list[str]:
    """How the answers came, run by run, and the reconciliation with the conversations' logs."""
    runs = [("sequential", report["sequential"])] if report.get("sequential") else []
    runs += [(f"closed loop, {r['senders']} senders", r) for r in report.get("closed_loop", [])]
    runs += [(f"open loop, {r['rate']:g} msg/s", r) for r in report.get("open_loop", [])]
    lines = [
        "| run | answered in the callback | answered later (pushed) | platform messages | callback deliveries |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, run in runs:
        c = run.get("callbacks", {})
        lines.append(
            f"| {label} | {c.get('answered_in_callback', 0)} | {c.get('answered_later', 0)} | "
            f"{c.get('platform_messages', 0)} | {c.get('callback_deliveries', '–')} |"
        )
    names = ["gateway", "dispatcher", "rasa", "actions"]
    lines += [
        "",
        "| CPU ms per message through the callback | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for label, run in runs:
        spent = run.get("cpu_ms_per_message_gateway_side", {})
        lines.append(f"| {label} | " + " | ".join(str(spent.get(name, 0)) for name in names) + " |")
    if checked := report.get("reconciled"):
        said = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in checked.items())
        lines += [
            "",
            f"Reconciled with every conversation's log (staff API) after the run: {said}. The latencies above "
            "run to each answer's first message as the log matches messages to answers (turns misread: those "
            "where the owner, reading, took a late part of one answer for the next).",
        ]
    return lines
