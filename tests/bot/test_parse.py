"""`make parse`: the NLU contract, one JSON object per input line, whatever the input."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

from bot.parse_cli import classify, main
from tests.bot.conftest import MODEL, TZ


def run(parser, data: bytes) -> list[dict]:
    out = io.StringIO()
    classify(parser, io.BytesIO(data), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_contract_fields_and_normalised_entities(parser):
    [result] = run(parser, "三號樓二單元五零一 廚房漏水了 電話幺三八幺二三四五六七八\n".encode())
    assert set(result) == {"text", "intent", "confidence", "entities"}
    assert result["intent"] == "report_repair"
    assert 0 < result["confidence"] <= 1
    text = result["text"]
    found = {e["entity"]: e for e in result["entities"]}
    assert {k: found[k]["value"] for k in ("building", "unit", "room", "phone")} == {
        "building": "3",
        "unit": "2",
        "room": "501",
        "phone": "13812345678",
    }
    for e in result["entities"]:
        assert set(e) == {"entity", "value", "start", "end"}
    assert text[found["room"]["start"] : found["room"]["end"]] == "五零一"
    assert text[found["phone"]["start"] : found["phone"]["end"]] == "幺三八幺二三四五六七八"


def test_visit_time_resolved_against_now(parser):
    [result] = run(parser, "我朋友明天下午三点来 车牌京a88668\n".encode())
    found = {e["entity"]: e["value"] for e in result["entities"]}
    tomorrow = datetime.now(TZ) + timedelta(days=1)
    assert found["visit_time"] == f"{tomorrow:%Y-%m-%d}T15:00:00+08:00"
    assert found["plate"] == "京A88668"
    assert result["intent"] == "request_visitor_pass"


def test_every_line_gets_exactly_one_answer_whatever_it_holds(parser):
    lines = [b"", b"\xff\xfe\x00binary junk\x80", "😀😀😀".encode(), ("漏" * 10000).encode(), b"/restart", b"\r"]
    results = run(parser, b"\n".join(lines) + b"\n")
    assert len(results) == len(lines)
    assert results[0] == {"text": "", "intent": None, "confidence": 0.0, "entities": []}
    assert "\ufffd" in results[1]["text"]  # undecodable bytes are replaced, not fatal
    assert len(results[3]["text"]) == 10000
    assert results[4]["text"] == "/restart" and results[4]["intent"] != "restart"  # never Rasa's command syntax


def test_thousands_of_lines_stream_through(parser):
    batch = "\n".join(["报修", "物业费怎么交", "电梯困人了", "查进度"] * 250) + "\n"
    results = run(parser, batch.encode())
    assert len(results) == 1000
    assert [r["intent"] for r in results[:4]] == ["report_repair", "ask_fee", "report_emergency", "check_status"]


def test_the_command_line_entry_point(parser, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("人工\n".encode())))
    # One process: workers fork before any model exists, and this one has predicted already.
    assert main(["--model", str(MODEL), "--workers", "1"], load=lambda path: parser) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["intent"] == "request_human"


def test_a_missing_model_is_a_clear_error(capsys):
    assert main(["--model", "/nonexistent/model.tar.gz"]) == 2
    assert "make train" in capsys.readouterr().err


def test_stdout_carries_json_lines_only():
    """The real command, as `make parse` runs it (the one extra model load: logs once leaked into stdout)."""
    import subprocess
    import sys

    from tests.bot.conftest import ROOT

    lines = ["报修", "", "物业费怎么交"]
    done = subprocess.run(
        [sys.executable, "-m", "bot.parse_cli", "--model", str(MODEL)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in results] == lines
