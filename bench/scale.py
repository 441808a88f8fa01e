"""One Rasa instance against two, on this machine: closed loop through the web chat API.

Two stacks run side by side, each on a PostgreSQL database of its own and the same Redis (Rasa's
tracker and lock stores there in both, so only the number of instances differs): "one" has one
Rasa and one action server, "two" has two of each behind the same single gateway
(deploy/README.md's layout). Rounds alternate between them (one, two, one, two …) at each
concurrency, so a machine busy with other work slows both alike; the figures that matter are the
ratios two/one of the same round. N concurrent senders each wait for the reply before sending
the next message (the mixed conversations of bench/load.py). On a 2-core machine a second Rasa
process competes for the same cores: the ratio says what a second instance buys here, not on a
second machine. Writes bench/results/scale.json; bench/report.py renders it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bench.faults import postgres_database
from bench.load import run_load
from ops.stack import ROOT, Stack

HERE = Path(__file__).parent


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def started(var_dir: Path, database_url: str, redis_url: str, instances: int) -> Stack:
    stack = Stack.isolated(
        var_dir,
        rasa_instances=instances,
        actions_instances=instances,
        WUYE_DEMO_DATA=str(ROOT / "content" / "demo_community.yml"),
        WUYE_DATABASE_URL=database_url,
        WUYE_REDIS_URL=redis_url,
    )
    stack.start()
    try:
        stack.wait_ready(timeout=900)
    except BaseException:
        stack.stop()
        raise
    return stack


def measure(stacks: dict[str, Stack], concurrency: list[int], conversations: int, rounds: int) -> list[dict]:
    runs = []
    for senders in concurrency:
        for round_ in range(rounds):
            for name, stack in stacks.items():
                before = load_average()
                result = asyncio.run(run_load(stack.url, conversations, senders))
                runs.append({"layout": name, "round": round_, **result, "load_average_before": before})
                print(json.dumps(runs[-1]), flush=True)
    return runs


def ratios(runs: list[dict]) -> list[dict]:
    """Per concurrency: the median over rounds of two/one for throughput, p50 and p99."""
    out = []
    for senders in sorted({r["concurrent_senders"] for r in runs}):
        pairs = {}
        for r in runs:
            if r["concurrent_senders"] == senders:
                pairs.setdefault(r["round"], {})[r["layout"]] = r
        rows = [p for p in pairs.values() if {"one", "two"} <= set(p)]

        def ratio(key: str, rows: list[dict] = rows) -> float:
            return round(statistics.median(p["two"][key] / p["one"][key] for p in rows), 2)

        out.append(
            {
                "concurrent_senders": senders,
                "rounds": len(rows),
                "throughput_two_over_one": ratio("messages_per_second"),
                "p50_two_over_one": ratio("p50_ms"),
                "p99_two_over_one": ratio("p99_ms"),
                "one_messages_per_second": statistics.median(p["one"]["messages_per_second"] for p in rows),
                "two_messages_per_second": statistics.median(p["two"]["messages_per_second"] for p in rows),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--conversations", type=int, default=56, help="conversations per run")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--redis", default=os.environ.get("WUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/12"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scale.json")
    args = ap.parse_args()
    load_start = load_average()
    with tempfile.TemporaryDirectory() as var, contextlib.ExitStack() as cleanup:
        stacks = {}
        for name, instances in (("one", 1), ("two", 2)):
            database = cleanup.enter_context(postgres_database())
            stacks[name] = started(Path(var) / name, database, args.redis, instances)
            cleanup.callback(stacks[name].stop)
        for stack in stacks.values():  # warm-up: each instance's first answers load lazy parts
            asyncio.run(run_load(stack.url, 14, 4))
        runs = measure(stacks, args.concurrency, args.conversations, args.rounds)
    report = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_start": load_start,
        "load_average_at_end": load_average(),
        "conversations_per_run": args.conversations,
        "ratios": ratios(runs),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report["ratios"], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
