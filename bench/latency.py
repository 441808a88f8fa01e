"""Latency benchmark: one owner message in through POST /api/chat until its replies.

Starts the whole assistant as `make run` does (embedded SQLite, in-process Rasa stores)
on free ports, replays realistic conversations, and reports p50/p99 for one sender at a
time and for many concurrent senders, plus each process's resident memory.
Writes bench/results/latency.json; `make bench` turns it into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from ops.stack import ROOT, Stack

HERE = Path(__file__).parent
# Conversations as owners have them: multi-turn forms, one-shot questions, all four styles.
CONVERSATIONS = [
    ["你好", "3号楼2单元501 厨房水管漏水了", "是的", "查进度"],
    ["报修", "5栋1单元302", "马桶堵了", "对"],
    ["物业费怎么交", "能开发票吗", "谢谢"],
    ["我要投訴，樓上天天半夜裝修太吵了", "匿名", "確認"],
    ["喂 那个 我想问一下 那个无业费 滞纳金怎么算", "再见"],
    ["1", "2号楼1单元101", "客厅灯不亮", "是"],
    ["今天天气怎么样", "转人工"],
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def converse(http: aiohttp.ClientSession, url: str, turns: list[str], latencies: list[float]) -> None:
    sender = uuid.uuid4().hex
    for text in turns:
        started = time.perf_counter()
        async with http.post(f"{url}/api/chat", json={"sender": sender, "text": text}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{resp.status} for {text!r}")
        latencies.append((time.perf_counter() - started) * 1000)


async def run_load(url: str, conversations: int, concurrency: int) -> dict:
    latencies: list[float] = []
    queue = [CONVERSATIONS[i % len(CONVERSATIONS)] for i in range(conversations)]
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def one(turns: list[str]) -> None:
            async with limit:
                await converse(http, url, turns, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(one(turns) for turns in queue))
        elapsed = time.perf_counter() - started
    return {
        "concurrent_senders": concurrency,
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "messages_per_second": round(len(latencies) / elapsed, 1),
    }


def resident_mb(pid: int) -> float:
    """VmRSS of a process and its children (the Rasa CLI forks nothing, but be safe)."""
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--conversations", type=int, default=70, help="conversations per run")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latency.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as var:
        stack = Stack.isolated(Path(var), WUYE_DEMO_DATA=str(ROOT / "content" / "demo_community.yml"))
        started = time.perf_counter()
        stack.start_ready()
        try:
            startup = time.perf_counter() - started
            asyncio.run(run_load(stack.url, 7, 1))  # warm-up: first requests load lazy parts
            runs = [asyncio.run(run_load(stack.url, args.conversations, c)) for c in args.concurrency]
            memory = {name: resident_mb(proc.pid) for name, proc in stack.processes.items()}
        finally:
            stack.stop()
    report = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "startup_seconds": round(startup, 1),
        "runs": runs,
        "resident_memory_mb": memory,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
