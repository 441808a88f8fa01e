"""Held-out NLU evaluation: intent accuracy and F1 per intent and per kind of writing,
entity accuracy per entity type, on bench/nlu_heldout*.yml (batches by authors who never
saw the training data, never used for training).

Usage: make bench-nlu  (or .venv-rasa/bin/python -m bench.nlu_eval --model models/current.tar.gz)
Writes bench/results/nlu_eval.json and prints the Markdown tables kept in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.parse import Parser
from bot.text.script import to_simplified

HERE = Path(__file__).parent
_REL = re.compile(r"^D\+(\d+) (\d{2}):(\d{2})$")
# Entity types of the NLU contract (fee_topic, hazard and number are internal helpers).
CONTRACT = {"building", "unit", "room", "phone", "plate", "person_name", "ticket_id", "visit_time"}


def expected_time(spec: str, now: datetime) -> str:
    m = _REL.match(spec)
    if not m:
        return spec
    day = now + timedelta(days=int(m.group(1)))
    return f"{day:%Y-%m-%d}T{m.group(2)}:{m.group(3)}"


def entity_key(entity: str, value: str, now: datetime) -> tuple[str, str]:
    if entity == "visit_time":
        if value.startswith("D+"):
            return entity, expected_time(value, now)
        return entity, value[:16]  # 2026-11-22T15:00 of an ISO value
    # The assistant keeps values in simplified characters (the normaliser reads 粵B12345 as
    # 粤B12345, 陳 as 陈); an author labelling in the script they wrote is not a reading error.
    return entity, to_simplified(value)


def f1_table(pairs: list[tuple[str, str]]) -> dict[str, dict]:
    labels = sorted({g for g, _ in pairs} | {p for _, p in pairs if p})
    table = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return table


# Read as right by the lenient count: the dialogue treats each pair alike (an emergency read as a
# repair still opens a ticket, a chase read as a status check still shows the ticket).
LENIENT = {("report_emergency", "report_repair"), ("chase_ticket", "check_status")}
EMERGENCY = "report_emergency"


@dataclass(frozen=True)
class Scored:
    """One case as the model read it: the labels and the reading, entity keys included."""

    batch: str
    kind: str
    expected: str
    predicted: str
    gold: frozenset[tuple[str, str]]
    got: frozenset[tuple[str, str]]


def summary(scored: list[Scored]) -> dict:
    """The figures kept for every batch and for all of them: accuracy (strict and lenient), per
    kind of writing, emergency recall and precision, entity recall and precision per type."""
    pairs = [(c.expected, c.predicted) for c in scored]
    kinds = {}
    for kind in sorted({c.kind for c in scored}):
        kind_pairs = [(c.expected, c.predicted) for c in scored if c.kind == kind]
        table = f1_table(kind_pairs)
        supported = [v["f1"] for v in table.values() if v["support"]]
        kinds[kind] = {
            "n": len(kind_pairs),
            "accuracy": sum(g == p for g, p in kind_pairs) / len(kind_pairs),
            "macro_f1": sum(supported) / max(1, len(supported)),
        }
    expected, found, predicted, correct = Counter(), Counter(), Counter(), Counter()
    for c in scored:
        for key in c.gold:
            expected[key[0]] += 1
            found[key[0]] += key in c.got
        for key in c.got:
            predicted[key[0]] += 1
            correct[key[0]] += key in c.gold
    emergencies = sum(g == EMERGENCY for g, _ in pairs)
    raised = sum(p == EMERGENCY for _, p in pairs)
    caught = sum(g == p == EMERGENCY for g, p in pairs)
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p in pairs) / len(pairs),
        "lenient_accuracy": sum(g == p or (g, p) in LENIENT for g, p in pairs) / len(pairs),
        "kinds": kinds,
        "emergency": {
            "n": emergencies,
            "recall": caught / emergencies if emergencies else None,
            "precision": caught / raised if raised else None,
            "false": raised - caught,
        },
        "entities": {
            name: {
                "expected": expected[name],
                "accuracy": found[name] / expected[name] if expected[name] else None,
                "precision": correct[name] / predicted[name] if predicted[name] else None,
            }
            for name in sorted(expected | predicted)
        },
    }


def evaluate(parser: Parser, cases: list[dict], tz: ZoneInfo) -> dict:
    now = datetime.now(tz)
    scored: list[Scored] = []
    errors = []
    started = time.perf_counter()
    for case in cases:
        result = parser.parse(case["text"])
        predicted = result["intent"] or "none"
        if predicted != case["intent"]:
            errors.append(
                {
                    "text": case["text"],
                    "expected": case["intent"],
                    "predicted": predicted,
                    "confidence": result["confidence"],
                }
            )
        labelled = case["scored_entities"]
        gold = frozenset(entity_key(e["entity"], str(e["value"]), now) for e in case.get("entities") or [])
        got = frozenset(
            entity_key(e["entity"], str(e["value"]), now) for e in result["entities"] if e["entity"] in labelled
        )
        scored.append(Scored(case["batch"], case["kind"], case["intent"], predicted, gold, got))
    elapsed = time.perf_counter() - started
    pairs = [(c.expected, c.predicted) for c in scored]
    whole = summary(scored)
    batches = {name: summary([c for c in scored if c.batch == name]) for name in dict.fromkeys(c.batch for c in scored)}
    return {
        "cases": len(cases),
        "intent_accuracy": whole["accuracy"],
        "lenient_accuracy": whole["lenient_accuracy"],
        "intents": f1_table(pairs),
        "kinds": whole["kinds"],
        "emergency": whole["emergency"],
        "batches": batches,
        "entities": whole["entities"],
        "confusions": Counter(f"{g} → {p}" for g, p in pairs if g != p).most_common(12),
        "errors": errors,
        "ms_per_message": elapsed / len(cases) * 1000,
    }


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _batch_tables(batches: dict) -> list[str]:
    """Every batch on its own: the style, emergency and entity figures issue 15 asks for."""
    kinds = sorted({k for b in batches.values() for k in b["kinds"]})
    entities = sorted({e for b in batches.values() for e in b["entities"]})
    lines = [
        "",
        "| held-out batch | n | accuracy | lenient¹ | "
        + " | ".join(kinds)
        + " | emergency recall | precision | false |",
        "| --- " * (6 + len(kinds)) + "| --- |",
    ]
    for name, b in batches.items():
        styles = " | ".join(_share(b["kinds"][k]["accuracy"]) if k in b["kinds"] else "–" for k in kinds)
        e = b["emergency"]
        lines.append(
            f"| {name} | {b['n']} | {b['accuracy']:.1%} | {b['lenient_accuracy']:.1%} | {styles} | "
            f"{_share(e['recall'])} ({e['n']}) | {_share(e['precision'])} | {e['false']} |"
        )
    lines += [
        "",
        "¹ an emergency read as a repair, or a chase read as a status check, counted as right.",
        "",
        "| entity: recall / precision | " + " | ".join(batches) + " |",
        "| --- " * (1 + len(batches)) + "|",
    ]
    for entity in entities:
        cells = []
        for b in batches.values():
            v = b["entities"].get(entity)
            cells.append("–" if v is None else f"{_share(v['accuracy'])} / {_share(v['precision'])} ({v['expected']})")
        lines.append(f"| {entity} | " + " | ".join(cells) + " |")
    return lines


def markdown(report: dict) -> str:
    emergency = report.get("emergency")
    lines = [
        f"Intent accuracy: **{report['intent_accuracy']:.1%}** on {report['cases']} held-out cases "
        f"({report['ms_per_message']:.1f} ms per message; {report.get('skipped_as_in_training', 0)} cases "
        "skipped because the same text is in the training data).",
        "",
        "| intent | precision | recall | F1 | n |",
        "| --- | --- | --- | --- | --- |",
    ]
    if emergency:
        lines[0] += (
            f" Emergencies: recall {_share(emergency['recall'])} of {emergency['n']}, precision "
            f"{_share(emergency['precision'])} ({emergency['false']} raised wrongly)."
        )
    for name, v in report["intents"].items():
        if v["support"]:
            lines.append(f"| {name} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |")
    batches = report.get("batches", {})
    if batches and "kinds" in next(iter(batches.values())):
        lines += _batch_tables(batches)
    elif len(batches) > 1:  # a report written before batches had their own figures
        lines += ["", "| held-out batch | accuracy | n |", "| --- | --- | --- |"]
        lines += [f"| {name} | {v['accuracy']:.1%} | {v['n']} |" for name, v in batches.items()]
    lines += ["", "| kind of writing | accuracy | macro F1 | n |", "| --- | --- | --- | --- |"]
    for name, v in report["kinds"].items():
        lines.append(f"| {name} | {v['accuracy']:.1%} | {v['macro_f1']:.2f} | {v['n']} |")
    lines += ["", "| entity | accuracy (recall) | precision | expected |", "| --- | --- | --- | --- |"]
    for name, v in report["entities"].items():
        lines.append(f"| {name} | {_share(v['accuracy'])} | {_share(v['precision'])} | {v['expected']} |")
    lines += ["", "Most frequent confusions: " + "; ".join(f"{k} ({n})" for k, n in report["confusions"])]
    return "\n".join(lines)


def training_texts(data_dir: Path) -> set[str]:
    texts = set()
    for path in data_dir.glob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            texts |= {
                line.strip()[2:].strip()
                for line in block.get("examples", "").splitlines()
                if line.strip().startswith("- ")
            }
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("models/current.tar.gz"))
    ap.add_argument("--cases", type=Path, nargs="+", default=sorted(HERE.glob("nlu_heldout*.yml")))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "nlu_eval.json")
    ap.add_argument("--timezone", default="Asia/Shanghai")
    ap.add_argument("--training-data", type=Path, default=HERE.parent / "data" / "nlu")
    args = ap.parse_args()
    all_cases = []
    for path in args.cases:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        # A batch whose author labelled only some entity types is scored on those alone.
        scored = set(doc.get("labelled_entities", CONTRACT))
        all_cases += [{**case, "batch": path.name, "scored_entities": scored} for case in doc["cases"]]
    # Held out means never trained on: short phrases both writers produced (再见, 是) are skipped.
    trained = training_texts(args.training_data)
    cases = [c for c in all_cases if c["text"].strip() not in trained]
    report = evaluate(Parser(args.model), cases, ZoneInfo(args.timezone))
    report["skipped_as_in_training"] = len(all_cases) - len(cases)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
