"""Cost that grows with the work: a turn after 10, 100 and 1,000 earlier turns of one
conversation, and the bot API / staff view reads with 0, 10k and 100k tickets and owners.

Turns: the whole stack (Redis tracker and lock stores, as production) through POST /api/chat,
and in the same run a bare Rasa (its REST channel, the same model and action server, Rasa's own
Redis tracker store) for the same messages. Each figure is the median of a window of turns
right after 10, 100 and 1,000 earlier ones, reported as a ratio to the window after 10.

Store sizes: the backend's reads (bootstrap's SQLite store, in process) timed and their SQL
statements counted with tickets, owners and bindings bulk-inserted to 0, 10k and 100k.

The bare Rasa starter is written here because bench/baseline.py (the load helper's) was not on
main yet; once it is, ``BareRasa`` should give way to it.
Writes bench/results/growth.json; `python -m bench.report` renders it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import aiohttp
import yaml

from bench.growth_store import measure_store
from ops.stack import RASA_PYTHON, ROOT, Stack, free_port

HERE = Path(__file__).parent
# One owner's everyday turns, round and round: greetings, fee questions the actions answer, a
# status check that reads the owner's tickets through the bot API, thanks.
CYCLE = ["你好", "物业费怎么交", "能开发票吗", "查进度", "谢谢"]
WINDOW = 10  # turns measured after each mark
MARKS = (10, 100, 1000)


class BareRasa:
    """Rasa alone on a free port: the stack's model, action server and Redis, Rasa's own
    RedisTrackerStore (its own key prefix), REST channel."""

    def __init__(self, stack: Stack, var: Path, redis_url: str) -> None:
        self.port = free_port()
        endpoints = yaml.safe_load((stack.var_dir / "endpoints.yml").read_text(encoding="utf-8"))
        store = dict(endpoints.get("tracker_store") or {})
        store.pop("max_session_events", None)
        store.update(type="redis", key_prefix="bare")
        endpoints["tracker_store"] = store
        if "lock_store" in endpoints:
            endpoints["lock_store"]["key_prefix"] = "bare"
        self.endpoints = var / "bare_endpoints.yml"
        self.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        self.model = stack.model
        self.proc: subprocess.Popen | None = None
        self.log = var / "bare_rasa.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> None:
        argv = [str(RASA_PYTHON), "-m", "rasa", "run", "--model", str(self.model), "--interface", "127.0.0.1"]
        argv += ["--port", str(self.port), "--endpoints", str(self.endpoints)]
        argv += ["--credentials", str(ROOT / "credentials.yml")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
        env["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bare Rasa exited: {self.log.read_text()[-2000:]}")
            if self._model_ready():
                return
            time.sleep(2)
        raise RuntimeError("bare Rasa never answered")

    def _model_ready(self) -> bool:
        body = json.dumps({"sender": "warmup", "message": "你好"}).encode()
        req = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def one_conversation(send, turns: int) -> list[float]:
    """Milliseconds of each of ``turns`` turns of one conversation."""
    took = []
    for n in range(turns):
        started = time.perf_counter()
        await send(CYCLE[n % len(CYCLE)])
        took.append((time.perf_counter() - started) * 1000)
    return took


def windows(took: list[float]) -> dict:
    """Median of the WINDOW turns after each mark, and its ratio to the first mark's."""
    medians = {m: statistics.median(took[m : m + WINDOW]) for m in MARKS if len(took) >= m + WINDOW}
    first = medians[MARKS[0]]
    return {str(m): {"median_ms": round(v, 1), "ratio_to_10": round(v / first, 2)} for m, v in medians.items()}


async def turns_through(url: str, path: str, field: str, turns: int) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def send(text: str) -> None:
            async with http.post(f"{url}{path}", json={"sender": sender, field: text}) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{resp.status} for {text!r}")

        return await one_conversation(send, turns)


def measure_turns(redis_url: str, turns: int) -> dict:
    with tempfile.TemporaryDirectory() as var:
        stack = Stack.isolated(
            Path(var),
            WUYE_REDIS_URL=redis_url,
            WUYE_CHAT_SENDER_RATE="0",
            WUYE_CHAT_CLIENT_RATE="0",
            WUYE_DEMO_DATA=str(ROOT / "content" / "demo_community.yml"),
        )
        stack.start_ready()
        bare = BareRasa(stack, Path(var), redis_url)
        try:
            bare.start()
            gateway = asyncio.run(turns_through(stack.url, "/api/chat", "text", turns))
            rasa = asyncio.run(turns_through(bare.url, "/webhooks/rest/webhook", "message", turns))
        finally:
            bare.stop()
            stack.stop()
    gw, br = windows(gateway), windows(rasa)
    return {
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "gateway": gw,
        "bare_rasa": br,
        "gateway_over_bare": {m: round(gw[m]["median_ms"] / br[m]["median_ms"], 2) for m in gw if m in br},
    }


def markdown(report: dict) -> str:
    """The RESULTS.md section: turn cost by earlier turns, read cost by store size, as ratios."""
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}; load average "
        f"{' '.join(report['loadavg_before'])} before, {' '.join(report.get('loadavg_after', ['?']))} after.",
    ]
    for turns in report.get("turn_runs") or ([report["turns"]] if report.get("turns") else []):
        lines += [
            "",
            f"One conversation, median of the {WINDOW} turns after N earlier ones (finished "
            f"{turns.get('measured_at', '?')}, load average {' '.join(turns.get('loadavg_after', ['?']))}); "
            "the stack with Redis stores (bot/tracker_stores.py) and, in the same run, bare Rasa "
            "(Rasa's RedisTrackerStore).",
            "",
            "| earlier turns | gateway ms | × turn 10 | bare Rasa ms | × turn 10 | gateway / bare |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for mark, gw in turns["gateway"].items():
            br = turns["bare_rasa"].get(mark, {})
            lines.append(
                f"| {mark} | {gw['median_ms']} | {gw['ratio_to_10']} | {br.get('median_ms', '–')} | "
                f"{br.get('ratio_to_10', '–')} | {turns['gateway_over_bare'].get(mark, '–')} |"
            )
    store = report.get("store")
    if store:
        sizes = list(store)
        lines += [
            "",
            "Reads with N tickets, owners and bindings in the store (SQLite, in process): best of 40 ms "
            "(× the empty store's best), median ms, SQL statements. The staff list's first page holds "
            "the demo's few tickets when empty and 50 from 10k on.",
            "",
            "| read | " + " | ".join(f"{s} rows" for s in sizes) + " |",
            "| --- | " + " | ".join("---" for _ in sizes) + " |",
        ]
        for name in store[sizes[0]]:
            cells = [
                f"{f['best_ms']} (×{f['ratio_to_empty']}), median {f['median_ms']}, {f['statements']} st."
                for f in (store[s][name] for s in sizes)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--redis", default=os.environ.get("WUYE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    ap.add_argument("--turns", type=int, default=MARKS[-1] + WINDOW)
    ap.add_argument("--sizes", type=int, nargs="*", default=[0, 10_000, 100_000])
    ap.add_argument("--skip-turns", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "growth.json")
    args = ap.parse_args()
    report: dict = json.loads(args.out.read_text()) if args.out.exists() else {}
    report.update(
        measured_at=time.strftime("%Y-%m-%d %H:%M"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        loadavg_before=Path("/proc/loadavg").read_text().split()[:3],
    )
    if not args.skip_turns:
        report["turns"] = measure_turns(args.redis, args.turns)
        report["turn_runs"] = [*report.get("turn_runs", [])[-2:], report["turns"]]  # the last three runs
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    if not args.sizes:
        return
    report["store"] = asyncio.run(measure_store(args.sizes))
    report["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
