"""Style variants of training sentences (bench/styles.py, not used for training: bench/NOTES.md)."""

import re

import pytest
import yaml

from bench.styles import (
    ROOT,
    STYLE_INTENTS,
    STYLES,
    asr_form,
    call_form,
    generate,
    markup_text,
    normal_key,
    pick_style,
    read_examples,
    render,
    sms_form,
    spoken_number,
    style_variant,
)
from bot.text.normalize import normalize

SENTENCES = [
    "@物业小助手 我家卫生间马桶堵了，冲不下去😭",
    "你好，物业吗？我想问下物业费怎么交呢",
    "师傅3天了还没来啊？？",
    "明天下午2点我朋友来 帮登记一下访客",
    "麻烦加急处理一下我的工单 家里老人等着用热水",
    "楼道里好大的煤气味，快来人！",
]
ANNOTATED = [
    "[3](building)号楼[2](unit)单元[501](room)厨房水管漏水了，麻烦派人来修一下吧",
    '我朋友[王伟]{"entity": "person_name"}明天下午2点来，车牌[京A88668](plate)',
    "催一下[BX000123](ticket_id:BX000123)，都等了5天了啊",
]
_MARKUP = re.compile(r"\[[^\[\]]+\](?:\([^()]+\)|\{[^{}]+\})")


@pytest.mark.parametrize("sentence", SENTENCES + ANNOTATED)
@pytest.mark.parametrize("style", STYLES)
def test_variants_are_deterministic(sentence, style):
    assert style_variant(sentence, style, 7) == style_variant(sentence, style, 7)
    assert pick_style(sentence, 7) == pick_style(sentence, 7)


@pytest.mark.parametrize("sentence", ANNOTATED)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("seed", range(6))
def test_entity_annotations_survive_verbatim_and_in_order(sentence, style, seed):
    variant = style_variant(sentence, style, seed)
    assert variant is not None
    assert _MARKUP.findall(variant) == _MARKUP.findall(sentence)


@pytest.mark.parametrize("seed", range(10))
def test_asr_form_has_no_punctuation_or_emoji_and_keeps_what_the_normaliser_would_undo(seed):
    variant = asr_form(SENTENCES[0], seed)
    assert variant and not re.search(r"[，。！？,.!?😭@]", variant)
    # Every variant must differ from its original in what the model sees, or it teaches nothing.
    assert normal_key(variant) != normal_key(SENTENCES[0]) or " " not in variant


def test_asr_form_says_counts_in_words_but_leaves_addresses_to_the_normaliser():
    variant = asr_form("师傅3天了还没来 3号楼2单元501", 0)
    assert "三天" in variant and "3号楼2单元501" in variant
    assert [spoken_number(n) for n in (0, 2, 10, 15, 20, 99)] == ["零", "二", "十", "十五", "二十", "九十九"]


def test_asr_filler_is_one_the_normaliser_keeps():
    kept = 0
    for seed in range(40):
        variant = asr_form("我家卫生间马桶堵了，冲不下去", seed)
        kept += len(normal_key(variant)) > len(normal_key("我家卫生间马桶堵了冲不下去"))
    assert kept >= 20  # seven in ten get a filler, and the normaliser does not drop it


def test_sms_form_is_terse_and_may_sign_off():
    variants = {sms_form("你好，物业吗？我想问下物业费怎么交呢", seed) for seed in range(30)}
    assert all(not v.startswith("你好") and "呢" not in v and "？" not in v for v in variants)
    assert any(re.search(r"(先生|女士|阿姨|业主)", v) for v in variants)
    assert sms_form("我家水管漏了 麻烦来修一下吧", 0, sign_off=False) == "水管漏了 来修一下"


def test_call_form_puts_a_neutral_preamble_before_the_request():
    variant = call_form("水管漏了", 3)
    assert variant.endswith("水管漏了") and len(variant) > len("水管漏了")


def test_no_form_touches_a_sentence_it_cannot_change():
    assert sms_form("BX000123", 0) is None  # a bare code: no SMS form of it


def test_generate_keeps_labels_adds_no_duplicates_and_only_style_intents():
    examples = {
        "report_repair": ["我家水管漏了，麻烦来修一下吧", "水管漏了", "马桶堵了 冲不下去"],
        "affirm": ["是的", "好的呀"],
        "ask_fee": ["物业费怎么交呢？", "物业费怎么交"],
    }
    out = generate(examples, seed=1, fraction=1.0, key=normal_key)
    assert set(out) == {"report_repair", "ask_fee"} <= STYLE_INTENTS
    originals = {normal_key(line) for lines in examples.values() for line in lines}
    produced = [normal_key(markup_text(text)) for kept in out.values() for _style, text in kept]
    assert len(produced) == len(set(produced)) and not set(produced) & originals
    # Deterministic, and one example's variant does not depend on the others.
    assert generate(examples, seed=1, fraction=1.0, key=normal_key) == out
    alone = generate({"report_repair": examples["report_repair"][:1]}, seed=1, fraction=1.0, key=normal_key)
    assert alone["report_repair"] == [v for v in out["report_repair"] if "修" in v[1]][:1]


def test_generated_file_from_the_training_data():
    """The real generation: every variant keeps its intent and is new to the model."""
    examples = read_examples(ROOT / "data" / "nlu")
    variants = generate(examples, seed=20261201, fraction=0.5, key=normal_key)
    total = sum(len(kept) for kept in variants.values())
    originals = sum(len(examples[intent]) for intent in variants)
    assert 0.2 * originals < total < 0.5 * originals  # about one in three: training time stays close
    seen = {normal_key(markup_text(line)): intent for intent, lines in examples.items() for line in lines}
    for kept in variants.values():
        for _style, text in kept:
            assert normal_key(markup_text(text)) not in seen
    text = render(variants, 20261201, 0.5)
    assert text.startswith("# GENERATED") and text == render(variants, 20261201, 0.5)
    doc = yaml.safe_load(text)
    assert {block["intent"] for block in doc["nlu"]} <= STYLE_INTENTS


def test_what_the_normaliser_undoes_is_not_a_style_here():
    """Traditional script, Cantonese words, fillers it drops: the normal form is unchanged."""
    assert normalize("樓道裡好大的煤氣味").text == normalize("楼道里好大的煤气味").text
    assert normalize("嗯 那个 水喉爆咗").text == normalize("水管爆了").text
    assert normalize("三号楼二单元五零一").text == normalize("3号楼2单元501").text
