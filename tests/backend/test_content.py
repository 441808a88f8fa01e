"""The operator-edited content (content/company.yml, content/communities/<code>.yml), its hot reload.

Protects what owners are told (fee answers, published promises, emergency advice), that each
community overrides the company's defaults key by key and inherits the rest, and the promise that
an operator's broken edit is refused with a message naming the problem while the assistant keeps
answering from the last good version of that file.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from pathlib import Path

import pytest
import yaml

from backend_bridge.adapters import content as content_module
from backend_bridge.adapters.content import (
    FEE_TOPICS,
    PROMISES,
    TIERS,
    CommunityContent,
    ContentError,
    ContentStore,
    deep_merge,
    parse_community,
    parse_content,
)
from backend_bridge.domain.communities import valid_code
from backend_bridge.domain.model import ServiceLevel

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
SHIPPED = CONTENT_DIR / "company.yml"
SHIPPED_DOC = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
LEVELS = [(kind, tier) for kind, tiers in TIERS.items() for tier in tiers]  # every published tier
LOGGER = "backend_bridge.adapters.content"


@pytest.fixture
def doc() -> dict:
    """A fresh, editable copy of the shipped company document."""
    return copy.deepcopy(SHIPPED_DOC)


# --- the shipped files ----------------------------------------------------------------------


async def test_the_shipped_company_file_parses():
    content = parse_content(SHIPPED_DOC)
    assert (content.code, content.name, content.address, content.aliases) == ("", "示例物业", "", ("示例物业",))
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


async def test_the_shipped_company_file_alone_loads_through_the_store():
    # Backwards compatible: a file, not a directory, is the company file and there are no communities.
    store = ContentStore(SHIPPED)
    assert store.get() == parse_content(SHIPPED_DOC)
    assert store.communities() == ()
    assert store.get("shifan") is store.company()


async def test_the_shipped_directory_serves_both_demo_communities():
    store = ContentStore(CONTENT_DIR)
    assert store.company() == parse_content(SHIPPED_DOC)
    assert store.get() is store.company()
    shifan, yangguang = store.communities()
    assert (shifan.code, shifan.name, shifan.aliases) == (
        "shifan",
        "示例花园小区",
        ("示例花园小区", "示例花园", "示例"),
    )
    assert (yangguang.code, yangguang.name, yangguang.aliases) == (
        "yangguang",
        "阳光小区",
        ("阳光小区", "阳光", "阳光苑"),
    )
    assert store.get("shifan") is shifan and store.get("yangguang") is yangguang
    # Today's community keeps its numbers, hours and texts.
    assert (shifan.service_hotline, shifan.duty_hotline) == ("0571-8888 6666", "0571-8888 7777")
    assert shifan.office_hours == "每天 8:30-17:30（物业服务中心，1号楼一楼）"
    assert "示例花园小区" in shifan.fee_answer("how_to_pay")
    assert "2.20元" in shifan.fee_answer("standard")
    assert shifan.address and yangguang.address and shifan.address != yangguang.address
    # The other one is visibly different ...
    assert (yangguang.service_hotline, yangguang.duty_hotline) == ("0571-8666 1111", "0571-8666 2222")
    assert {yangguang.service_hotline, yangguang.duty_hotline}.isdisjoint({shifan.service_hotline, shifan.duty_hotline})
    assert yangguang.office_hours != shifan.office_hours
    assert "1.80元" in yangguang.fee_answer("standard") and "阳光小区" in yangguang.fee_answer("how_to_pay")
    assert yangguang.promise("repair", "normal") == "维修人员会在20分钟内联系您，12小时内处理好。"
    assert shifan.promise("repair", "normal") == "维修人员会在30分钟内联系您，24小时内处理好。"
    # ... and inherits the rest from the company.
    company = store.company()
    for community in (shifan, yangguang):
        assert community.fee_answer("invoice") == company.fee_answer("invoice")
        assert community.emergency_advice == company.emergency_advice
        assert community.level("repair", "emergency") == company.level("repair", "emergency")
        assert community.service_levels["complaint"] == company.service_levels["complaint"]


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


async def test_another_fee_is_answered_only_where_the_content_covers_it(doc):
    doc["fees"]["items"] = {"parking": "临时停车每小时3元"}
    content = parse_content(doc)
    assert content.fee_answer("standard", "parking") == "临时停车每小时3元"
    assert content.fee_answer("how_to_pay", "parking") == "临时停车每小时3元"
    assert content.fee_answer("standard", "garbage") is None  # never the property fee's schedule
    assert content.fee_answer("standard", "property") == content.fees["standard"]
    assert content.fee_answer("invoice", "garbage") == content.fees["invoice"]  # invoices are one answer


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ({"swimming": "50元"}, "not a fee we know"),
        ({"property": "2元"}, "not a fee we know"),  # the property fee is the topics' own
        ({"parking": " "}, "non-empty text"),
        (["parking"], "must map fees"),
    ],
)
async def test_fee_items_that_cannot_be_served_are_refused_when_loaded(doc, items, error):
    doc["fees"]["items"] = items
    with pytest.raises(ContentError, match=error):
        parse_content(doc)


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


# --- identity: code, address, aliases -------------------------------------------------------------


async def test_aliases_start_with_the_name_and_drop_repeats(doc):
    doc["community"]["aliases"] = ["阳光", " 阳光苑 ", "阳光", "示例物业"]
    doc["community"]["address"] = "杭州市拱墅区阳光路1号"
    content = parse_content(doc, code="yangguang")
    assert content.aliases == ("示例物业", "阳光", "阳光苑")
    assert (content.code, content.address) == ("yangguang", "杭州市拱墅区阳光路1号")


async def test_aliases_include_the_name_even_when_built_by_hand():
    content = parse_content(SHIPPED_DOC)
    fields = {k: getattr(content, k) for k in content.__dataclass_fields__} | {"aliases": ("物业",)}
    assert CommunityContent(**fields).aliases == ("示例物业", "物业")


@pytest.mark.parametrize("aliases", ["阳光", ["阳光", ""], ["阳光", None], [["阳光"]], {"a": "阳光"}, 3])
async def test_aliases_that_are_not_a_list_of_texts_are_refused(doc, aliases):
    doc["community"]["aliases"] = aliases
    with pytest.raises(ContentError, match=re.escape("'community.aliases' must be a list")):
        parse_content(doc)


@pytest.mark.parametrize("address", ["", None, ["杭州"]])
async def test_an_empty_or_non_text_address_is_refused(doc, address):
    doc["community"]["address"] = address
    with pytest.raises(ContentError, match=re.escape("'community.address' must be non-empty text")):
        parse_content(doc)


@pytest.mark.parametrize("code", ["shifan", "yangguang", "a", "no-3_b", "0", "x" * 32])
async def test_community_codes_that_are_accepted(code):
    assert valid_code(code)


@pytest.mark.parametrize("code", ["", "Shifan", "阳光", "a b", "a.b", "x" * 33, "shifan\n", "ｓｈｉｆａｎ", "../x"])
async def test_community_codes_that_are_refused(code):
    assert not valid_code(code)


# --- company defaults, community overrides ---------------------------------------------------------


async def test_deep_merge_merges_mappings_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "l": [1, 2], "s": "x", "keep": {"k": 1}}
    override = {"a": {"c": {"e": 30}, "f": 4}, "l": [9], "s": "y", "keep": None, "new": 5}
    assert deep_merge(base, override) == {
        "a": {"b": 1, "c": {"d": 2, "e": 30}, "f": 4},
        "l": [9],
        "s": "y",
        "keep": {"k": 1},  # an empty section inherits
        "new": 5,
    }
    assert base == {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "l": [1, 2], "s": "x", "keep": {"k": 1}}  # untouched


def community_doc(name: str = "新城小区", **sections: dict) -> dict:
    return {"community": {"name": name}, **sections}


async def test_a_community_overrides_one_key_and_inherits_the_rest(doc):
    raw = community_doc(
        fees={"standard": "本小区物业费每月每平方米3.00元。"},
        service_levels={"repair": {"normal": {"respond_minutes": 10, "resolve_hours": 8}}},
    )
    company = parse_content(doc)
    content = parse_community(doc, raw, "xincheng")
    assert (content.code, content.name, content.aliases) == ("xincheng", "新城小区", ("新城小区",))
    assert content.fee_answer("standard") == "本小区物业费每月每平方米3.00元。"
    assert content.level("repair", "normal") == ServiceLevel(10, 8)
    for topic in set(FEE_TOPICS) - {"standard"}:
        assert content.fee_answer(topic) == company.fee_answer(topic)
    for kind, tier in set(LEVELS) - {("repair", "normal")}:
        assert content.level(kind, tier) == company.level(kind, tier)
    assert (content.service_hotline, content.duty_hotline, content.office_hours) == (
        company.service_hotline,
        company.duty_hotline,
        company.office_hours,
    )
    assert content.promises == company.promises and content.emergency_advice == company.emergency_advice
    assert (content.warn_before_minutes, content.follow_up_close_hours) == (30, 72)


async def test_a_community_overrides_one_field_of_a_tier(doc):
    raw = community_doc(service_levels={"repair": {"urgent": {"resolve_hours": 6}}}, sla={"warn_before_minutes": 10})
    content = parse_community(doc, raw, "xincheng")
    assert content.level("repair", "urgent") == ServiceLevel(30, 6)
    assert (content.warn_before_minutes, content.follow_up_close_hours) == (10, 72)


async def test_a_community_never_inherits_the_company_address_and_aliases(doc):
    doc["community"] |= {"address": "杭州市总部路1号", "aliases": ["示例公司"]}
    company = parse_content(doc)
    assert company.aliases == ("示例物业", "示例公司")
    content = parse_community(doc, community_doc(), "xincheng")
    assert (content.address, content.aliases) == ("", ("新城小区",))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "mapping"),
        (["community"], "mapping"),
        ({"fees": {"standard": "x"}}, "section 'community' is missing"),
        ({"community": "新城小区"}, "section 'community' is missing"),
        ({"community": {"address": "x路1号"}}, "'community.name' is missing"),  # never the company's name
        (community_doc(fees={"invoice": ""}), "'fees.invoice' must be non-empty text"),
        (community_doc(promises={"repair": "{respnd}"}), "promises.repair"),
        (community_doc(service_levels={"repair": {"low": {"respond_minutes": 0}}}), "must be positive"),
        (community_doc(service_levels={"repair": "快"}), "service_levels"),
        (community_doc(community={"name": "新城小区", "service_hotline": None}), "community.service_hotline"),
    ],
)
async def test_a_community_that_breaks_the_merged_document_is_refused(doc, raw, problem):
    with pytest.raises(ContentError, match=re.escape(problem)):
        parse_community(doc, raw, "xincheng")


# --- hot reload of the company file (alone, or in a content directory) ------------------------------


def write_doc(path: Path, doc: dict | str, *, mtime: float) -> None:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def open_store(path: Path) -> ContentStore:
    """A store that looks at its files on every call, as tests edit them between calls."""
    return ContentStore(path, check_every=0)


@pytest.fixture(params=["file", "directory"])
def layout(request, tmp_path, doc) -> tuple[Path, Path]:
    """(what the store is given, the company file): a lone file, or company.yml in a directory."""
    company = tmp_path / ("community.yml" if request.param == "file" else "company.yml")
    write_doc(company, doc, mtime=1_700_000_000)
    return (company if request.param == "file" else tmp_path), company


@pytest.fixture
def content_file(layout) -> Path:
    return layout[1]


@pytest.fixture
def store(layout) -> ContentStore:
    return open_store(layout[0])


async def test_the_store_reloads_when_the_file_changes(store, content_file, doc):
    assert store.get().name == "示例物业"
    doc["community"]["name"] = "新城物业"
    doc["service_levels"]["repair"]["normal"]["respond_minutes"] = 20
    write_doc(content_file, doc, mtime=1_700_000_100)
    content = store.get()
    assert content.name == "新城物业"
    assert content.promise("repair", "normal").startswith("维修人员会在20分钟内联系您")


async def test_the_store_reloads_an_edit_that_keeps_the_mtime_but_not_the_size(store, content_file, doc):
    doc["community"]["name"] = "新城物业有限公司"
    write_doc(content_file, doc, mtime=1_700_000_000)
    assert store.get().name == "新城物业有限公司"


async def test_the_store_keeps_the_same_content_while_the_file_is_unchanged(store):
    first = store.get()
    assert store.get() is first
    assert store.company() is first


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
async def test_the_store_keeps_the_last_good_version_on_invalid_yaml(store, content_file, broken, caplog):
    good = store.get()
    write_doc(content_file, broken, mtime=1_700_000_100)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert store.get() is good
    assert any("rejected" in r.getMessage() and str(content_file) in r.getMessage() for r in caplog.records)


async def test_the_store_keeps_the_last_good_version_on_invalid_content(store, content_file, doc, caplog):
    good = store.get()
    del doc["promises"]
    doc["community"]["name"] = "改坏了"
    write_doc(content_file, doc, mtime=1_700_000_100)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        content = store.get()
    assert content is good
    assert content.name == "示例物业"
    assert any("section 'promises' is missing" in r.getMessage() for r in caplog.records)


async def test_the_store_keeps_the_last_good_version_when_the_file_is_binary_junk(store, content_file):
    good = store.get()
    content_file.write_bytes(b"\xff\xfe\x00\x81community:\x9c\x00" * 20)
    os.utime(content_file, (1_700_000_100, 1_700_000_100))
    assert store.get() is good


async def test_the_store_picks_up_a_fix_after_a_broken_edit(store, content_file, doc):
    write_doc(content_file, "fees: [", mtime=1_700_000_100)
    assert store.get().name == "示例物业"
    doc["community"]["name"] = "修好了物业"
    write_doc(content_file, doc, mtime=1_700_000_200)
    assert store.get().name == "修好了物业"


async def test_the_store_keeps_the_last_good_version_when_the_file_disappears(store, content_file, doc, caplog):
    good = store.get()
    content_file.unlink()
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert store.get() is good
        assert store.get() is good
    assert [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()] == [
        f"content {content_file} is unreadable; keeping the last good version"
    ]  # once, not on every call
    doc["community"]["name"] = "回来了物业"
    write_doc(content_file, doc, mtime=1_700_000_300)
    assert store.get().name == "回来了物业"


async def test_the_store_refuses_to_start_on_invalid_content(layout, doc):
    given, company = layout
    del doc["fees"]["invoice"]
    write_doc(company, doc, mtime=1_700_000_000)
    with pytest.raises(ContentError, match=re.escape("'fees.invoice' is missing")):
        ContentStore(given)


@pytest.mark.parametrize("broken", ["fees: [", b"\xff\xfe\x00\x81"])
async def test_the_store_refuses_to_start_on_a_file_that_is_not_yaml(layout, broken):
    given, company = layout
    if isinstance(broken, bytes):
        company.write_bytes(broken)
    else:
        write_doc(company, broken, mtime=1_700_000_000)
    with pytest.raises(ContentError, match="not UTF-8 YAML"):
        ContentStore(given)


async def test_the_store_refuses_to_start_without_a_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ContentStore(tmp_path / "missing.yml")
    with pytest.raises(FileNotFoundError):
        ContentStore(tmp_path)  # a directory without company.yml


# --- communities: lookup and hot reload ---------------------------------------------------------------


T0 = 1_700_000_000


@pytest.fixture
def content_dir(tmp_path, doc) -> Path:
    """company.yml and two communities, a and b."""
    write_doc(tmp_path / "company.yml", doc, mtime=T0)
    write_doc(tmp_path / "communities" / "a.yml", community_doc("甲小区", fees={"standard": "甲标准"}), mtime=T0)
    write_doc(tmp_path / "communities" / "b.yml", community_doc("乙小区", fees={"standard": "乙标准"}), mtime=T0)
    return tmp_path


def codes(store: ContentStore) -> list[str]:
    return [c.code for c in store.communities()]


async def test_each_community_gets_its_own_content(content_dir):
    store = open_store(content_dir)
    assert codes(store) == ["a", "b"]
    assert (store.get("a").name, store.get("a").fee_answer("standard")) == ("甲小区", "甲标准")
    assert (store.get("b").name, store.get("b").fee_answer("standard")) == ("乙小区", "乙标准")
    assert store.get("a").fee_answer("invoice") == store.company().fee_answer("invoice")


async def test_communities_are_sorted_by_code(tmp_path, doc):
    write_doc(tmp_path / "company.yml", doc, mtime=T0)
    for code in ["zz", "a-1", "m_2", "0"]:
        write_doc(tmp_path / "communities" / f"{code}.yml", community_doc(code.upper()), mtime=T0)
    assert codes(open_store(tmp_path)) == ["0", "a-1", "m_2", "zz"]


@pytest.mark.parametrize("code", [None, ""])
async def test_no_code_gets_the_company_default(content_dir, code):
    store = open_store(content_dir)
    assert store.get(code) is store.company()
    assert store.company().name == "示例物业" and store.company().code == ""


async def test_an_unknown_code_gets_the_company_default_with_one_warning(content_dir, caplog):
    store = open_store(content_dir)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            assert store.get("nowhere") is store.company()
        assert store.get("A") is store.company()  # codes are lowercase: no guessing
    warnings = [r.getMessage() for r in caplog.records if "unknown community code" in r.getMessage()]
    assert len(warnings) == 2
    assert "'nowhere'" in warnings[0] and "'A'" in warnings[1]


async def test_unknown_codes_are_warned_about_in_bounded_memory(content_dir):
    store = open_store(content_dir)
    for i in range(content_module.MAX_WARNED_CODES + 50):
        assert store.get(f"x{i}") is store.company()
    assert len(store._warned_codes) == content_module.MAX_WARNED_CODES


@pytest.mark.parametrize(
    "name", ["Upper.yml", "a b.yml", f"{'x' * 33}.yml", "c.yaml", "阳光.yml", "notes.txt", "d.yml.bak", "e"]
)
async def test_a_badly_named_community_file_is_logged_once_and_ignored(content_dir, name, caplog):
    write_doc(content_dir / "communities" / name, community_doc("坏名字小区"), mtime=T0)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        store = open_store(content_dir)
        store.refresh()
        store.get("a")
    assert codes(store) == ["a", "b"]
    assert all(c.name != "坏名字小区" for c in store.communities())
    assert [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()] == [
        f"ignoring {content_dir / 'communities' / name}: a community file is named <code>.yml,"
        " the code being 1-32 of a-z, 0-9, '-', '_'"
    ]


async def test_hidden_files_are_ignored_silently_and_folders_are_not_communities(content_dir, caplog):
    write_doc(content_dir / "communities" / ".a.yml.swp", "junk", mtime=T0)  # an editor's swap file
    (content_dir / "communities" / "c.yml").mkdir()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        store = open_store(content_dir)
    assert codes(store) == ["a", "b"]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"ignoring {content_dir / 'communities' / 'c.yml'}"
    ]


async def test_a_broken_community_edit_keeps_its_last_good_version_while_others_reload(content_dir, caplog):
    store = open_store(content_dir)
    good_a = store.get("a")
    write_doc(content_dir / "communities" / "a.yml", "community: [unclosed", mtime=T0 + 100)
    write_doc(
        content_dir / "communities" / "b.yml", community_doc("乙小区", fees={"standard": "乙新标准"}), mtime=T0 + 100
    )
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert store.get("a") is good_a
    assert store.get("b").fee_answer("standard") == "乙新标准"
    assert codes(store) == ["a", "b"]
    [message] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "rejected" in message and str(content_dir / "communities" / "a.yml") in message
    # Fixed: the edit is served.
    write_doc(
        content_dir / "communities" / "a.yml", community_doc("甲小区", fees={"standard": "甲新标准"}), mtime=T0 + 200
    )
    assert store.get("a").fee_answer("standard") == "甲新标准"


@pytest.mark.parametrize(
    "broken",
    [
        community_doc("甲小区", promises={"repair": "会在{respnd}内联系您"}),
        {"community": {"address": "甲路1号"}},  # no name
        community_doc("甲小区", service_levels={"repair": {"normal": {"respond_minutes": "半小时"}}}),
        b"\xff\xfe\x00\x81community:\x9c",
    ],
)
async def test_any_invalid_community_edit_keeps_its_last_good_version(content_dir, broken):
    store = open_store(content_dir)
    good = store.get("a")
    path = content_dir / "communities" / "a.yml"
    if isinstance(broken, bytes):
        path.write_bytes(broken)
        os.utime(path, (T0 + 100, T0 + 100))
    else:
        write_doc(path, broken, mtime=T0 + 100)
    assert store.get("a") is good
    assert store.communities() == (good, store.get("b"))


async def test_a_new_community_file_is_picked_up_and_a_removed_one_dropped(content_dir):
    store = open_store(content_dir)
    assert store.get("c") is store.company()
    write_doc(content_dir / "communities" / "c.yml", community_doc("丙小区"), mtime=T0 + 100)
    assert store.get("c").name == "丙小区"
    assert codes(store) == ["a", "b", "c"]
    (content_dir / "communities" / "a.yml").unlink()
    assert codes(store) == ["b", "c"]
    assert store.get("a") is store.company()


async def test_a_community_is_served_again_after_its_file_returns(content_dir, caplog):
    store = open_store(content_dir)
    (content_dir / "communities" / "a.yml").unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert store.get("a") is store.company()
        write_doc(content_dir / "communities" / "a.yml", community_doc("甲小区回来了"), mtime=T0 + 100)
        assert store.get("a").name == "甲小区回来了"
        (content_dir / "communities" / "a.yml").unlink()
        assert store.get("a") is store.company()
    warnings = [r for r in caplog.records if "unknown community code 'a'" in r.getMessage()]
    assert len(warnings) == 2  # once per disappearance


async def test_a_removed_communities_folder_drops_them_all(content_dir):
    store = open_store(content_dir)
    for path in (content_dir / "communities").iterdir():
        path.unlink()
    (content_dir / "communities").rmdir()
    assert store.communities() == ()
    assert store.get("a") is store.company()


async def test_a_new_community_file_that_never_validated_is_absent(content_dir, caplog):
    store = open_store(content_dir)
    path = content_dir / "communities" / "c.yml"
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        write_doc(path, community_doc("丙小区", fees={"invoice": ""}), mtime=T0 + 100)
        assert store.get("c") is store.company()
        assert codes(store) == ["a", "b"]
    assert any(str(path) in r.getMessage() and "'fees.invoice'" in r.getMessage() for r in caplog.records)
    write_doc(path, community_doc("丙小区"), mtime=T0 + 200)
    assert store.get("c").name == "丙小区"


async def test_a_community_file_that_is_invalid_at_start_is_absent_but_the_store_starts(content_dir):
    write_doc(content_dir / "communities" / "c.yml", "community: [", mtime=T0)
    store = ContentStore(content_dir)
    assert codes(store) == ["a", "b"]
    assert store.get("c") is store.company()


async def test_a_company_edit_reaches_every_community_that_does_not_override_it(content_dir, doc):
    store = open_store(content_dir)
    doc["fees"]["invoice"] = "新的开票说明。"
    doc["fees"]["standard"] = "公司新标准"
    write_doc(content_dir / "company.yml", doc, mtime=T0 + 100)
    for code in ("a", "b"):
        assert store.get(code).fee_answer("invoice") == "新的开票说明。"
    assert store.get("a").fee_answer("standard") == "甲标准"  # its own stays
    assert store.company().fee_answer("standard") == "公司新标准"


async def test_a_broken_company_edit_keeps_the_last_good_company_and_communities(content_dir, doc, caplog):
    store = open_store(content_dir)
    company, a, b = store.company(), store.get("a"), store.get("b")
    write_doc(content_dir / "company.yml", "fees: [", mtime=T0 + 100)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert (store.company(), store.get("a"), store.get("b")) == (company, a, b)
        assert store.get("a") is a
    assert any(str(content_dir / "company.yml") in r.getMessage() for r in caplog.records)
    # A community edited meanwhile is merged over the last good company file.
    write_doc(
        content_dir / "communities" / "b.yml", community_doc("乙小区", fees={"late_fee": "乙滞纳金"}), mtime=T0 + 200
    )
    assert store.get("b").fee_answer("late_fee") == "乙滞纳金"
    assert store.get("b").fee_answer("invoice") == company.fee_answer("invoice")
    # The company file fixed: everyone inherits the fix.
    doc["fees"]["invoice"] = "修好后的开票说明。"
    write_doc(content_dir / "company.yml", doc, mtime=T0 + 300)
    assert [store.get(code).fee_answer("invoice") for code in ("", "a", "b")] == ["修好后的开票说明。"] * 3


async def test_the_files_are_looked_at_no_more_often_than_asked(content_dir, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(content_module.time, "monotonic", lambda: now[0])
    store = ContentStore(content_dir, check_every=0.5)
    write_doc(content_dir / "communities" / "a.yml", community_doc("甲小区改名"), mtime=T0 + 100)
    assert store.get("a").name == "甲小区"  # not looked at yet
    now[0] += 0.4
    assert store.get("a").name == "甲小区"
    now[0] += 0.2
    assert store.get("a").name == "甲小区改名"
    write_doc(content_dir / "communities" / "a.yml", community_doc("甲小区再改名"), mtime=T0 + 200)
    assert store.get("a").name == "甲小区改名"
    store.refresh()  # forced
    assert store.get("a").name == "甲小区再改名"
