"""The operator-edited community content (content/community.yml) and its hot reload.

Protects what owners are told (fee answers, published promises, emergency advice) and the
promise that an operator's broken edit is refused with a message naming the problem while
the assistant keeps answering from the last good version.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from pathlib import Path

import pytest
import yaml

from backend_bridge.adapters.content import (
    FEE_TOPICS,
    PROMISES,
    TIERS,
    ContentError,
    ContentStore,
    parse_content,
)
from backend_bridge.domain.model import ServiceLevel

SHIPPED = Path(__file__).resolve().parents[2] / "content" / "community.yml"
SHIPPED_DOC = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
LEVELS = [(kind, tier) for kind, tiers in TIERS.items() for tier in tiers]  # every published tier


@pytest.fixture
def doc() -> dict:
    """A fresh, editable copy of the shipped document."""
    return copy.deepcopy(SHIPPED_DOC)


# --- the shipped file ----------------------------------------------------------------------


async def test_the_shipped_file_parses():
    content = parse_content(SHIPPED_DOC)
    assert content.name == "示例花园小区"
    assert content.service_hotline == "0571-8888 6666"
    assert content.duty_hotline == "0571-8888 7777"
    assert "8:30-17:30" in content.office_hours
    assert set(content.fees) == set(FEE_TOPICS)
    assert content.service_levels == {
        "repair": {
            "emergency": ServiceLevel(15, 4),
            "urgent": ServiceLevel(30, 12),
            "normal": ServiceLevel(30, 24),
            "low": ServiceLevel(240, 72),
        },
        "complaint": {"urgent": ServiceLevel(60, 24), "normal": ServiceLevel(1440, 72), "low": ServiceLevel(1440, 168)},
    }
    assert (content.warn_before_minutes, content.follow_up_close_hours) == (30, 72)
    assert {"gas_leak", "fire", "lift_entrapment", "flooding", "default"} <= set(content.emergency_advice)


async def test_the_shipped_file_loads_through_the_store():
    content = ContentStore(SHIPPED).get()
    assert content == parse_content(SHIPPED_DOC)


# --- what owners are told --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "priority", "text"),
    [
        ("repair", "normal", "维修人员会在30分钟内联系您，24小时内处理好。"),
        ("repair", "urgent", "维修人员会在30分钟内联系您，12小时内处理好。"),
        ("repair", "low", "维修人员会在4小时内联系您，72小时内处理好。"),
        ("repair", "emergency", "值班人员会在15分钟内赶到现场。"),
        ("complaint", "normal", "我们会在24小时内回复您处理结果。"),  # 1440 minutes reads as 24小时
        ("complaint", "urgent", "我们会在1小时内回复您处理结果。"),
        ("complaint", "low", "我们会在24小时内回复您处理结果。"),
    ],
)
async def test_promise_words_the_shipped_service_levels(kind, priority, text):
    assert parse_content(SHIPPED_DOC).promise(kind, priority) == text


@pytest.mark.parametrize(("kind", "priority"), LEVELS)
async def test_level_gives_the_tier_of_the_kind(kind, priority):
    content = parse_content(SHIPPED_DOC)
    entry = SHIPPED_DOC["service_levels"][kind][priority]
    assert content.level(kind, priority) == ServiceLevel(entry["respond_minutes"], entry["resolve_hours"])


@pytest.mark.parametrize(
    ("respond_minutes", "resolve_hours", "text"),
    [
        (45, 48, "45分钟内联系您，48小时内"),
        (120, 2, "2小时内联系您，2小时内"),
        (90, 1, "90分钟内联系您，1小时内"),
        (2880, 168, "48小时内联系您，168小时内"),
    ],
)
async def test_promise_words_minutes_and_hours(doc, respond_minutes, resolve_hours, text):
    doc["service_levels"]["repair"]["normal"] = {"respond_minutes": respond_minutes, "resolve_hours": resolve_hours}
    assert text in parse_content(doc).promise("repair", "normal")


async def test_promise_accepts_numbers_written_as_strings(doc):
    doc["service_levels"]["repair"]["emergency"] = {"respond_minutes": "20", "resolve_hours": "6"}
    content = parse_content(doc)
    assert content.service_levels["repair"]["emergency"] == ServiceLevel(20, 6)
    assert content.promise("repair", "emergency") == "值班人员会在20分钟内赶到现场。"


@pytest.mark.parametrize("topic", FEE_TOPICS)
async def test_fee_answer_gives_the_text_of_each_topic(topic):
    content = parse_content(SHIPPED_DOC)
    assert content.fee_answer(topic) == SHIPPED_DOC["fees"][topic].strip()


@pytest.mark.parametrize("topic", ["parking", "", "OVERVIEW", "物业费"])
async def test_fee_answer_falls_back_to_the_overview_for_unknown_topics(topic):
    content = parse_content(SHIPPED_DOC)
    assert content.fee_answer(topic) == content.fees["overview"]
    assert "物业费按季度收取" in content.fee_answer(topic)


async def test_advice_gives_the_hazard_text():
    content = parse_content(SHIPPED_DOC)
    assert "关闭燃气总阀" in content.advice("gas_leak")
    assert "119" in content.advice("fire")


@pytest.mark.parametrize("hazard", ["earthquake", "", "GAS_LEAK"])
async def test_advice_falls_back_to_the_default(hazard):
    content = parse_content(SHIPPED_DOC)
    assert content.advice(hazard) == "请注意安全，先远离危险区域。"


async def test_texts_are_stripped(doc):
    doc["fees"]["invoice"] = "\n  开票请到服务中心。  \n"
    doc["promises"]["emergency"] = "  值班人员会在{respond}内到。 "
    doc["emergency_advice"]["fire"] = "  快跑  "
    content = parse_content(doc)
    assert content.fee_answer("invoice") == "开票请到服务中心。"
    assert content.promise("repair", "emergency") == "值班人员会在15分钟内到。"
    assert content.advice("fire") == "快跑"


# --- broken documents --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], ["community"], "community: x", 42])
async def test_a_document_that_is_not_a_mapping_is_refused(raw):
    with pytest.raises(ContentError, match="mapping"):
        parse_content(raw)


@pytest.mark.parametrize("name", ["community", "fees", "service_levels", "promises", "emergency_advice"])
async def test_a_missing_section_is_named(doc, name):
    del doc[name]
    with pytest.raises(ContentError, match=re.escape(f"section '{name}' is missing")):
        parse_content(doc)


@pytest.mark.parametrize("name", ["community", "fees", "service_levels", "promises", "emergency_advice"])
@pytest.mark.parametrize("value", [None, "text", ["a", "b"], 3])
async def test_a_section_that_is_not_a_mapping_is_named(doc, name, value):
    doc[name] = value
    with pytest.raises(ContentError, match=re.escape(f"section '{name}'")):
        parse_content(doc)


MISSING_KEYS = (
    [("community", k) for k in ("name", "service_hotline", "duty_hotline", "office_hours")]
    + [("fees", k) for k in FEE_TOPICS]
    + [("service_levels", k) for k in TIERS]
    + [("promises", k) for k in PROMISES]
    + [("emergency_advice", "default")]
)


@pytest.mark.parametrize(("section", "key"), MISSING_KEYS)
async def test_a_missing_key_is_named(doc, section, key):
    del doc[section][key]
    with pytest.raises(ContentError, match=re.escape(f"'{section}.{key}' is missing")):
        parse_content(doc)


@pytest.mark.parametrize("key", [f"fees.{k}" for k in FEE_TOPICS] + [f"promises.{k}" for k in PROMISES])
@pytest.mark.parametrize("value", ["", "   \n ", None, 123, ["文字"]])
async def test_an_empty_or_non_text_answer_is_named(doc, key, value):
    section, name = key.split(".")
    doc[section][name] = value
    with pytest.raises(ContentError, match=re.escape(f"'{key}' must be non-empty text")):
        parse_content(doc)


async def test_an_unknown_extra_fee_topic_must_still_be_text(doc):
    doc["fees"]["parking"] = ""
    with pytest.raises(ContentError, match=re.escape("'fees.parking' must be non-empty text")):
        parse_content(doc)


@pytest.mark.parametrize(("kind", "tier"), LEVELS)
@pytest.mark.parametrize("field", ["respond_minutes", "resolve_hours"])
@pytest.mark.parametrize("value", ["半小时", "30min", None, [30], {"minutes": 30}, "", float("nan")])
async def test_a_non_numeric_service_level_is_refused(doc, kind, tier, field, value):
    doc["service_levels"][kind][tier][field] = value
    with pytest.raises(ContentError, match="service_levels"):
        parse_content(doc)


@pytest.mark.parametrize(("kind", "tier"), LEVELS)
@pytest.mark.parametrize("field", ["respond_minutes", "resolve_hours"])
async def test_a_service_level_missing_a_field_is_refused(doc, kind, tier, field):
    del doc["service_levels"][kind][tier][field]
    with pytest.raises(ContentError, match=f"service_levels.*'{field}'"):
        parse_content(doc)


@pytest.mark.parametrize(("kind", "tier"), LEVELS)
async def test_a_missing_tier_is_refused_naming_it(doc, kind, tier):
    del doc["service_levels"][kind][tier]
    with pytest.raises(ContentError, match=f"service_levels.*'{tier}'"):
        parse_content(doc)


@pytest.mark.parametrize(("kind", "tier"), LEVELS)
@pytest.mark.parametrize("field", ["respond_minutes", "resolve_hours"])
@pytest.mark.parametrize("value", [0, -5])
async def test_a_service_level_that_is_not_positive_is_refused(doc, kind, tier, field, value):
    doc["service_levels"][kind][tier][field] = value
    with pytest.raises(ContentError, match=re.escape(f"service_levels.{kind}.{tier} must be positive")):
        parse_content(doc)


@pytest.mark.parametrize("value", [30, "30分钟", None, [30, 24]])
@pytest.mark.parametrize("where", ["kind", "tier"])
async def test_a_service_level_that_is_not_a_mapping_is_refused(doc, value, where):
    if where == "kind":
        doc["service_levels"]["repair"] = value
    else:
        doc["service_levels"]["repair"]["normal"] = value
    with pytest.raises(ContentError, match="service_levels"):
        parse_content(doc)


async def test_an_infinite_service_level_is_refused(doc):
    # YAML's `.inf` is a float; it must be refused like any other unusable number.
    doc["service_levels"]["repair"]["normal"]["respond_minutes"] = yaml.safe_load(".inf")
    with pytest.raises(ContentError, match="service_levels"):
        parse_content(doc)


# --- SLA timers ----------------------------------------------------------------------------------


async def test_sla_timers_default_when_the_section_is_left_out(doc):
    del doc["sla"]
    content = parse_content(doc)
    assert (content.warn_before_minutes, content.follow_up_close_hours) == (30, 72)


async def test_sla_timers_are_read_from_the_file(doc):
    doc["sla"] = {"warn_before_minutes": "10", "follow_up_close_hours": 48}
    content = parse_content(doc)
    assert (content.warn_before_minutes, content.follow_up_close_hours) == (10, 48)


@pytest.mark.parametrize(
    "sla",
    [
        {"warn_before_minutes": "半小时"},
        {"follow_up_close_hours": None},
        {"warn_before_minutes": -1},
        {"follow_up_close_hours": 0},
        "30",
        [30, 72],
    ],
)
async def test_unusable_sla_timers_are_refused(doc, sla):
    doc["sla"] = sla
    with pytest.raises(ContentError, match="sla"):
        parse_content(doc)


@pytest.mark.parametrize("key", ["name", "service_hotline", "duty_hotline", "office_hours"])
@pytest.mark.parametrize("value", [None, ""])
async def test_an_empty_community_detail_is_refused(doc, key, value):
    # Otherwise owners are told to call "None" (str(None)) or an empty hotline.
    doc["community"][key] = value
    with pytest.raises(ContentError, match=re.escape(f"community.{key}")):
        parse_content(doc)


@pytest.mark.parametrize(("hazard", "value"), [("default", ""), ("default", None), ("fire", None)])
async def test_empty_emergency_advice_is_refused(doc, hazard, value):
    # An empty default leaves the owner with no advice in an emergency; a null entry becomes "None".
    doc["emergency_advice"][hazard] = value
    with pytest.raises(ContentError, match=re.escape(f"emergency_advice.{hazard}")):
        parse_content(doc)


@pytest.mark.parametrize(
    "template", ["维修人员会在{respnd}内联系您。", "维修人员会在{0}内联系您。", "维修人员会在{respond内联系您。"]
)
async def test_a_promise_with_a_broken_placeholder_is_refused_when_loaded(doc, template):
    # Caught at load time, the last good version stays; caught at promise() time, the ticket
    # is already stored and the owner gets an error instead of a number.
    doc["promises"]["repair"] = template
    with pytest.raises(ContentError, match=re.escape("promises.repair")):
        parse_content(doc)


# --- hot reload -----------------------------------------------------------------------------------


def write_doc(path: Path, doc: dict | str, *, mtime: float) -> None:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


@pytest.fixture
def content_file(tmp_path, doc) -> Path:
    path = tmp_path / "community.yml"
    write_doc(path, doc, mtime=1_700_000_000)
    return path


async def test_the_store_reloads_when_the_file_changes(content_file, doc):
    store = ContentStore(content_file)
    assert store.get().name == "示例花园小区"
    doc["community"]["name"] = "新城小区"
    doc["service_levels"]["repair"]["normal"]["respond_minutes"] = 20
    write_doc(content_file, doc, mtime=1_700_000_100)
    content = store.get()
    assert content.name == "新城小区"
    assert content.promise("repair", "normal").startswith("维修人员会在20分钟内联系您")


async def test_the_store_keeps_the_same_content_while_the_file_is_unchanged(content_file):
    store = ContentStore(content_file)
    first = store.get()
    assert store.get() is first


@pytest.mark.parametrize(
    "broken",
    [
        "community: [unclosed\nfees: {",
        "community:\n  name: a\n\tbad_indent: b\n",
        "!!python/object/apply:os.system ['echo hacked']",
        "- just\n- a\n- list\n",
        "",
    ],
)
async def test_the_store_keeps_the_last_good_version_on_invalid_yaml(content_file, broken, caplog):
    store = ContentStore(content_file)
    good = store.get()
    write_doc(content_file, broken, mtime=1_700_000_100)
    with caplog.at_level(logging.ERROR, logger="backend_bridge.adapters.content"):
        assert store.get() is good
    assert any("rejected" in r.getMessage() for r in caplog.records)


async def test_the_store_keeps_the_last_good_version_on_invalid_content(content_file, doc, caplog):
    store = ContentStore(content_file)
    good = store.get()
    del doc["promises"]
    doc["community"]["name"] = "改坏了"
    write_doc(content_file, doc, mtime=1_700_000_100)
    with caplog.at_level(logging.ERROR, logger="backend_bridge.adapters.content"):
        content = store.get()
    assert content is good
    assert content.name == "示例花园小区"
    assert any("section 'promises' is missing" in r.getMessage() for r in caplog.records)


async def test_the_store_keeps_the_last_good_version_when_the_file_is_binary_junk(content_file):
    store = ContentStore(content_file)
    good = store.get()
    content_file.write_bytes(b"\xff\xfe\x00\x81community:\x9c\x00" * 20)
    os.utime(content_file, (1_700_000_100, 1_700_000_100))
    assert store.get() is good


async def test_the_store_picks_up_a_fix_after_a_broken_edit(content_file, doc):
    store = ContentStore(content_file)
    write_doc(content_file, "fees: [", mtime=1_700_000_100)
    assert store.get().name == "示例花园小区"
    doc["community"]["name"] = "修好了小区"
    write_doc(content_file, doc, mtime=1_700_000_200)
    assert store.get().name == "修好了小区"


async def test_the_store_keeps_the_last_good_version_when_the_file_disappears(content_file, doc, caplog):
    store = ContentStore(content_file)
    good = store.get()
    content_file.unlink()
    with caplog.at_level(logging.ERROR, logger="backend_bridge.adapters.content"):
        assert store.get() is good
        assert store.get() is good
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    doc["community"]["name"] = "回来了小区"
    write_doc(content_file, doc, mtime=1_700_000_300)
    assert store.get().name == "回来了小区"


async def test_the_store_refuses_to_start_on_invalid_content(tmp_path, doc):
    path = tmp_path / "community.yml"
    del doc["fees"]["invoice"]
    write_doc(path, doc, mtime=1_700_000_000)
    with pytest.raises(ContentError, match=re.escape("'fees.invoice' is missing")):
        ContentStore(path)


async def test_the_store_refuses_to_start_without_a_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ContentStore(tmp_path / "missing.yml")
