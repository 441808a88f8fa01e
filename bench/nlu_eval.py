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
from collections import Counter, defaultdict
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


def evaluate(parser: Parser, cases: list[dict], tz: ZoneInfo) -> dict:
    now = datetime.now(tz)
    pairs, by_kind, by_batch = [], defaultdict(list), defaultdict(list)
    ent_expected, ent_found, ent_predicted, ent_correct = Counter(), Counter(), Counter(), Counter()
    errors = []
    started = time.perf_counter()
    for case in cases:
        result = parser.parse(case["text"])
        predicted = result["intent"] or "none"
        pairs.append((case["intent"], predicted))
        by_kind[case["kind"]].append((case["intent"], predicted))
        by_batch[case["batch"]].append(predicted == case["intent"])
        if predicted != case["intent"]:
            errors.append(
                {
                    "text": case["text"],
                    "expected": case["intent"],
                    "predicted": predicted,
                    "confidence": result["confidence"],
                }
            )
        scored = case["scored_entities"]
        gold = {entity_key(e["entity"], str(e["value"]), now) for e in case.get("entities") or []}
        got = {entity_key(e["entity"], str(e["value"]), now) for e in result["entities"] if e["entity"] in scored}
        for key in gold:
            ent_expected[key[0]] += 1
            ent_found[key[0]] += key in got
        for key in got:
            ent_predicted[key[0]] += 1
            ent_correct[key[0]] += key in gold
    elapsed = time.perf_counter() - started
    intent_table = f1_table(pairs)
    kinds = {}
    for kind, kind_pairs in sorted(by_kind.items()):
        table = f1_table(kind_pairs)
        kinds[kind] = {
            "n": len(kind_pairs),
            "accuracy": sum(g == p for g, p in kind_pairs) / len(kind_pairs),
            "macro_f1": sum(v["f1"] for k, v in table.items() if v["support"])
            / max(1, sum(1 for v in table.values() if v["support"])),
        }
    entities = {
        name: {
            "expected": ent_expected[name],
            "accuracy": ent_found[name] / ent_expected[name] if ent_expected[name] else None,
            "precision": ent_correct[name] / ent_predicted[name] if ent_predicted[name] else None,
        }
        for name in sorted(ent_expected | ent_predicted)
    }
    return {
        "cases": len(cases),
        "intent_accuracy": sum(g == p for g, p in pairs) / len(pairs),
        "intents": intent_table,
        "kinds": kinds,
        "batches": {name: {"n": len(hits), "accuracy": sum(hits) / len(hits)} for name, hits in by_batch.items()},
        "entities": entities,
        "confusions": Counter(f"{g} → {p}" for g, p in pairs if g != p).most_common(12),
        "errors": errors,
        "ms_per_message": elapsed / len(cases) * 1000,
    }


def markdown(report: dict) -> str:
    lines = [
        f"Intent accuracy: **{report['intent_accuracy']:.1%}** on {report['cases']} held-out cases "
        f"({report['ms_per_message']:.1f} ms per message; {report.get('skipped_as_in_training', 0)} cases "
        "skipped because the same text is in the training data).",
        "",
        "| intent | precision | recall | F1 | n |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, v in report["intents"].items():
        if v["support"]:
            lines.append(f"| {name} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |")
    batches = report.get("batches", {})
    if len(batches) > 1:
        lines += ["", "| held-out batch | accuracy | n |", "| --- | --- | --- |"]
        lines += [f"| {name} | {v['accuracy']:.1%} | {v['n']} |" for name, v in batches.items()]
    lines += ["", "| kind of writing | accuracy | macro F1 | n |", "| --- | --- | --- | --- |"]
    for name, v in report["kinds"].items():
        lines.append(f"| {name} | {v['accuracy']:.1%} | {v['macro_f1']:.2f} | {v['n']} |")
    lines += ["", "| entity | accuracy (recall) | precision | expected |", "| --- | --- | --- | --- |"]
    for name, v in report["entities"].items():
        acc = "–" if v["accuracy"] is None else f"{v['accuracy']:.1%}"
        prec = "–" if v["precision"] is None else f"{v['precision']:.1%}"
        lines.append(f"| {name} | {acc} | {prec} | {v['expected']} |")
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
