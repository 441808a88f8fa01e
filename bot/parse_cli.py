"""`make parse`: one owner message per stdin line in, one JSON object per stdout line out.

Built for bulk classification of exported chat and hotline logs: the model loads
once per process, every input line yields exactly one output line (blank, binary or huge lines
included), in input order, and output is flushed as it goes so a pipe sees progress.

Lines go through the graph ``--batch`` at a time (bot/parse_batch.py) on ``--workers``
processes, each with the model loaded (``WorkerPool`` says why not shared).
``--batch 1 --workers 1`` is the original path, Rasa's processor one line at a time,
kept for comparison (bench/parse.py, tests/bot/test_parse_bulk.py).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from bot.parse import Parser, preload_rasa, tensorflow_started

DEFAULT_BATCH = 64

# Each worker process's own parser (WorkerPool explains why not the parent's).
_PARSER: Parser | None = None


def read_lines(source: BinaryIO) -> Iterator[str]:
    """The input lines as text, one per line, whatever bytes they hold."""
    # Undecodable bytes become U+FFFD instead of aborting the whole batch.
    lines = io.TextIOWrapper(source, encoding="utf-8", errors="replace", newline="\n")
    for line in lines:
        yield line.rstrip("\r\n").replace("\x00", "")


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(lines)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _load_worker(load: Callable[[Path], Parser], model: Path, loaded: Any) -> None:
    global _PARSER
    _PARSER = load(model)
    loaded.put(os.getpid())


def _parse_chunk(chunk: list[str]) -> list[dict]:
    assert _PARSER is not None, "worker without a model"
    return _PARSER.parse_many(chunk)


def _results(parser: Parser, lines: Iterable[str], batch: int) -> Iterator[list[dict]]:
    """Parsed chunks in input order, in this process."""
    if batch <= 1:
        for line in lines:
            yield [parser.parse(line)]
        return
    for chunk in _chunks(lines, batch):
        yield parser.parse_many(chunk)


def _write(chunks: Iterable[list[dict]], out: TextIO) -> int:
    count = flushed = 0
    for chunk in chunks:
        for result in chunk:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        count += len(chunk)
        if count - flushed >= 50:
            out.flush()
            flushed = count
    out.flush()
    return count


def classify(parser: Parser, source: BinaryIO, out: TextIO, batch: int = 1) -> int:
    """Write one JSON line per input line, in input order; returns the number of lines.

    ``batch`` 1 is Rasa's processor line by line; more runs that many lines per graph run.
    """
    return _write(_results(parser, read_lines(source), batch), out)


class WorkerPool:
    """``workers`` processes, each with its own model, parsing chunks of lines in input order.

    The workers are forked before any model exists: TensorFlow's thread pools do not
    survive a fork (a child forked after the first prediction hangs in its first
    TensorFlow call), so each child loads the model itself, side by side, while the
    imports done here are shared.
    """

    def __init__(self, load: Callable[[Path], Parser], model: Path, workers: int) -> None:
        if tensorflow_started():
            raise RuntimeError("TensorFlow has run in this process: forked workers would hang; use --workers 1")
        preload_rasa()
        context = multiprocessing.get_context("fork")
        self._loaded = context.SimpleQueue()
        self._workers = workers
        self._pool = context.Pool(workers, _load_worker, (load, model, self._loaded))

    def wait_loaded(self) -> None:
        """Block until every worker has its model (for timing the load apart from parsing)."""
        for _ in range(self._workers):
            self._loaded.get()

    def classify(self, source: BinaryIO, out: TextIO, batch: int) -> int:
        """Like ``classify``; ``batch`` lines are one task for one worker."""
        return _write(self._pool.imap(_parse_chunk, _chunks(read_lines(source), max(batch, 1))), out)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()
        self._pool.join()


def main(argv: list[str] | None = None, load: Callable[[Path], Parser] = Parser) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("models/current.tar.gz"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: cores)")
    ap.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="lines per graph run; 1 = one at a time")
    args = ap.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    if args.workers > 1:
        with WorkerPool(load, args.model, args.workers) as pool:
            pool.classify(sys.stdin.buffer, sys.stdout, args.batch)
    else:
        classify(load(args.model), sys.stdin.buffer, sys.stdout, batch=args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
