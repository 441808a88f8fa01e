"""Bulk `make parse` throughput: Rasa's processor line by line against the batched graph
on one process and on ``--workers`` processes, same input, same run (issue 14).

No exported chat or hotline log is in the repository, so the input is built from the
held-out texts (bench/nlu_heldout*.yml, 1,021 messages) repeated to the issue's 1,904
lines, with every 40th line blank as exports have them. Throughput counts parsing only;
model loading is timed apart (for the workers: until every worker has its model).

Usage: make bench (or .venv-rasa/bin/python -m bench.parse --model models/current.tar.gz)
Writes bench/results/parse.json and prints the Markdown section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from datetime import datetime
from pathlib import Path

import yaml

HERE = Path(__file__).parent
LINES = 1904
DEFAULT_BATCH = 64  # bot/parse_cli.py's; not imported so that bench/report.py needs no Rasa


def build_input(lines: int = LINES) -> list[str]:
    texts = []
    for path in sorted(HERE.glob("nlu_heldout*.yml")):
        texts += [case["text"] for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]]
    out = []
    while len(out) < lines:
        out.append("" if len(out) % 40 == 39 else texts[len(out) % len(texts)])
    return out


def _timed(run) -> tuple[list[dict], float]:
    sink = io.StringIO()
    started = time.perf_counter()
    run(sink)
    elapsed = time.perf_counter() - started
    return [json.loads(line) for line in sink.getvalue().splitlines()], elapsed


def _differences(expected: list[dict], got: list[dict]) -> int:
    if len(expected) != len(got):
        return abs(len(expected) - len(got)) or 1
    return sum(
        a["text"] != b["text"]
        or a["intent"] != b["intent"]
        or a["entities"] != b["entities"]
        or abs(a["confidence"] - b["confidence"]) > 1e-3
        for a, b in zip(expected, got, strict=True)
    )


def run(model: Path, workers: int, batch: int) -> dict:
    from bot.parse import Parser  # noqa: PLC0415 - Rasa's environment only
    from bot.parse_cli import WorkerPool, classify  # noqa: PLC0415

    data = ("\n".join(build_input()) + "\n").encode()
    # The workers fork first: TensorFlow, once it has run here, does not survive a fork.
    started = time.perf_counter()
    with WorkerPool(Parser, model, workers) as pool:
        pool.wait_loaded()
        pool_load = time.perf_counter() - started
        started = time.perf_counter()
        parser = Parser(model)
        load_seconds = time.perf_counter() - started
        parser.parse("报修")  # the first prediction builds TensorFlow's graph: not part of the rate
        parser.parse_many(["报修", "物业费"])
        sequential, seq_s = _timed(lambda sink: classify(parser, io.BytesIO(data), sink, batch=1))
        batched, batch_s = _timed(lambda sink: classify(parser, io.BytesIO(data), sink, batch=batch))
        parallel, par_s = _timed(lambda sink: pool.classify(io.BytesIO(data), sink, batch))
    n = len(sequential)
    return {
        "measured_at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "lines": n,
        "workers": workers,
        "batch": batch,
        "load_seconds": round(load_seconds, 1),
        "workers_load_seconds": round(pool_load, 1),
        "sequential_per_second": round(n / seq_s),
        "batched_per_second": round(n / batch_s),
        "parallel_per_second": round(n / par_s),
        "batched_ratio": round(seq_s / batch_s, 2),
        "parallel_ratio": round(seq_s / par_s, 2),
        "batched_differences": _differences(sequential, batched),
        "parallel_differences": _differences(sequential, parallel),
    }


def markdown(report: dict) -> str:
    return "\n".join(
        [
            f"Measured {report['measured_at']} on {report['machine']}: {report['lines']} lines "
            f"(the held-out texts repeated, every 40th line blank), parse time only.",
            "",
            "| path | lines/s | × sequential | lines differing from sequential |",
            "| --- | --- | --- | --- |",
            f"| Rasa's processor, one line at a time (`--workers 1 --batch 1`) | "
            f"{report['sequential_per_second']} | 1.00 | – |",
            f"| batched graph, one process (`--workers 1 --batch {report['batch']}`) | "
            f"{report['batched_per_second']} | {report['batched_ratio']} | {report['batched_differences']} |",
            f"| batched graph, {report['workers']} processes (`--workers {report['workers']} "
            f"--batch {report['batch']}`, the default) | {report['parallel_per_second']} | "
            f"{report['parallel_ratio']} | {report['parallel_differences']} |",
            "",
            f"Model load: {report['load_seconds']} s in one process; {report['workers_load_seconds']} s until "
            f"all {report['workers']} workers had theirs (they load side by side).",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("models/current.tar.gz"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "parse.json")
    args = ap.parse_args()
    report = run(args.model, args.workers, args.batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
