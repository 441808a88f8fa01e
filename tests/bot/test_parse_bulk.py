"""Bulk `make parse` (--batch, --workers) answers exactly as Rasa's processor does line by line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bench.parse import build_input
from bot.parse_cli import classify
from tests.bot.conftest import MODEL, ROOT

# The awkward lines an exported log holds, between ordinary messages.
ODD = [
    "",
    "   ",
    "漏" * 10000,
    "三號樓二單元五零一 廚房漏水了 電話幺三八幺二三四五六七八 " * 60,
    "😀😀😀",
    "电梯困人了🆘🆘 5栋 快来人",
    "三號樓電梯壞了，麻煩派人來修",
    "唔該幫我查下報修進度",
    "/restart",
    '/inform{"room": "101"}',
    "1",
    "\t报修\t",
    "我朋友明天下午三点来 车牌京a88668",
]


def mixed_lines() -> list[str]:
    """A few hundred held-out messages with the odd lines spread through them."""
    lines = build_input(300)
    for i, odd in enumerate(ODD):
        lines.insert(i * 23, odd)
    return lines


def as_bytes(lines: list[str]) -> bytes:
    return b"\n".join(line.encode() for line in lines) + b"\n\xff\xfe junk \x80\r\n"


def comparable(result: dict) -> dict:
    """The contract, with a relative visit_time cut to its day: "in an hour" moves with the clock."""
    entities = [{**e, "value": e["value"][:10]} if e["entity"] == "visit_time" else e for e in result["entities"]]
    return {**result, "entities": entities, "confidence": None}


def assert_same(expected: list[dict], got: list[dict]) -> None:
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert comparable(have) == comparable(want)
        assert have["confidence"] == pytest.approx(want["confidence"], abs=1e-3)


def run(parser, data: bytes, batch: int) -> list[dict]:
    out = io.StringIO()
    classify(parser, io.BytesIO(data), out, batch=batch)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture(scope="module")
def data() -> bytes:
    return as_bytes(mixed_lines())


@pytest.fixture(scope="module")
def sequential(parser, data) -> list[dict]:
    """Rasa's processor, one line at a time: the reference."""
    return run(parser, data, batch=1)


def test_the_reference_covers_the_odd_lines(sequential):
    texts = [r["text"] for r in sequential]
    assert len(texts) == 300 + len(ODD) + 1
    assert "漏" * 10000 in texts and "😀😀😀" in texts
    assert any(r["intent"] for r in sequential) and any(r["entities"] for r in sequential)


@pytest.mark.parametrize("batch", [2, 7, 128, 1000])
def test_batched_graph_equals_line_by_line(parser, data, sequential, batch):
    assert_same(sequential, run(parser, data, batch=batch))


def test_workers_keep_order_and_answers(data, sequential):
    """The real command with two worker processes, each loading the model itself."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.parse_cli", "--model", str(MODEL), "--workers", "2", "--batch", "16"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    assert_same(sequential, [json.loads(line) for line in done.stdout.decode().splitlines()])


def test_workers_refuse_a_process_where_tensorflow_ran(parser):
    """Forking after a prediction would hang the workers; the pool says so instead."""
    from bot.parse_cli import WorkerPool

    with pytest.raises(RuntimeError, match="--workers 1"):
        WorkerPool(lambda path: parser, MODEL, 2)
