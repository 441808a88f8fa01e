"""A change to a text rule retrains the model (bot/components/base.py).

Protects: Rasa caches graph nodes by config and inputs, not code; every component's fingerprint
carries a hash of bot/ and common/, so editing one rule (one byte) changes it, and each of our
components, the tokenizer included, reports it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.components.base import rules_fingerprint, sources_fingerprint
from bot.components.entity_extractor import PropertyEntityExtractor
from bot.components.intent_override import IntentOverride
from bot.components.normalizer import ChineseNormalizer
from bot.components.tokenizer import SpacelessJiebaTokenizer

ROOT = Path(__file__).resolve().parents[2]


def test_one_changed_rule_changes_the_fingerprint(tmp_path):
    for name in ("bot", "common"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    folders = [tmp_path / "bot", tmp_path / "common"]
    before = sources_fingerprint(tmp_path, folders)
    assert before == rules_fingerprint()  # the same files, wherever they lie
    rule = tmp_path / "bot" / "text" / "cantonese.py"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# one more word\n", encoding="utf-8")
    assert sources_fingerprint(tmp_path, folders) != before


def test_every_component_carries_it():
    for component in (ChineseNormalizer, PropertyEntityExtractor, IntentOverride):
        assert component.fingerprint_addon({}) == rules_fingerprint()
    assert rules_fingerprint() in SpacelessJiebaTokenizer.fingerprint_addon({"dictionary_path": None})
