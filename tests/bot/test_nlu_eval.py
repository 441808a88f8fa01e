"""The held-out evaluation's arithmetic (bench/nlu_eval.py), on cases made up here.

Protects: each batch gets the figures issue 15 asks for on its own (accuracy strict and lenient,
per kind of writing, emergency recall and precision with the wrongly raised counted, entity
recall and precision per type), and the Markdown shows them per batch.
"""

from __future__ import annotations

from bench.nlu_eval import Scored, _batch_tables, summary


def case(batch, kind, expected, predicted, gold=(), got=()):
    return Scored(batch, kind, expected, predicted, frozenset(gold), frozenset(got))


CASES = [
    case("a", "sms", "report_emergency", "report_emergency", {("room", "501")}, {("room", "501")}),
    case("a", "sms", "report_emergency", "report_repair", {("room", "502")}),  # lenient; room missed
    case("a", "asr", "report_repair", "report_emergency", got={("room", "601")}),  # raised wrongly
    case("a", "asr", "chase_ticket", "check_status"),  # lenient
    case("b", "wechat", "ask_fee", "ask_fee"),
    case("b", "wechat", "greet", "thank"),
]


def test_a_batch_has_its_own_style_emergency_and_entity_figures():
    a = summary([c for c in CASES if c.batch == "a"])
    assert a["n"] == 4 and a["accuracy"] == 0.25 and a["lenient_accuracy"] == 0.75
    assert a["kinds"]["sms"]["accuracy"] == 0.5 and a["kinds"]["asr"]["accuracy"] == 0.0
    assert a["emergency"] == {"n": 2, "recall": 0.5, "precision": 0.5, "false": 1}
    assert a["entities"]["room"] == {"expected": 2, "accuracy": 0.5, "precision": 0.5}


def test_a_batch_without_emergencies_says_so_instead_of_dividing_by_nothing():
    b = summary([c for c in CASES if c.batch == "b"])
    assert b["emergency"] == {"n": 0, "recall": None, "precision": None, "false": 0}
    assert b["accuracy"] == 0.5 and b["entities"] == {}


def test_the_table_has_a_row_per_batch_and_a_column_per_kind():
    batches = {name: summary([c for c in CASES if c.batch == name]) for name in ("a", "b")}
    lines = _batch_tables(batches)
    header = next(line for line in lines if line.startswith("| held-out batch"))
    row_a = next(line for line in lines if line.startswith("| a |"))
    assert header.count("|") == row_a.count("|")
    assert "| asr | sms | wechat |" in header
    assert "| 25.0% | 75.0% | 0.0% | 50.0% | – | 50.0% (2) | 50.0% | 1 |" in row_a
    assert any(line.startswith("| room | 50.0% / 50.0% (2) | – |") for line in lines)
