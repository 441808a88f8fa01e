"""The Rasa graph components, one by one, on Rasa Message objects."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.entity_extractor import PropertyEntityExtractor
from bot.components.intent_override import IntentOverride
from bot.components.keys import TEXT_MAP
from bot.components.normalizer import ChineseNormalizer
from bot.components.original_text import OriginalTextRestorer
from bot.components.tokenizer import SpacelessJiebaTokenizer


def create(cls, config=None):
    return cls.create({**cls.get_default_config(), **(config or {})}, None, None, None)


def test_normalizer_rewrites_text_and_keeps_the_map():
    message = Message(data={TEXT: "三號樓二單元五零一 漏水"})
    create(ChineseNormalizer).process([message])
    assert message.get(TEXT) == "3号楼2单元501 漏水"
    assert message.get(TEXT_MAP).original == "三號樓二單元五零一 漏水"


def test_normalizer_moves_training_annotations_onto_the_normalised_text():
    example = Message(data={TEXT: "嗯 那个 我朋友張偉明天来", INTENT: "request_visitor_pass"})
    example.set(ENTITIES, [{"entity": "person_name", "value": "張偉", "start": 8, "end": 10}])
    data = create(ChineseNormalizer).process_training_data(TrainingData([example]))
    [moved] = data.training_examples[0].get(ENTITIES)
    text = data.training_examples[0].get(TEXT)
    assert text[moved["start"] : moved["end"]] == "张伟"


def test_tokenizer_drops_whitespace_tokens():
    message = Message(data={TEXT: "我家 wifi 坏了"})
    tokenizer = create(SpacelessJiebaTokenizer, {"dictionary_path": "data/jieba"})
    tokenizer.process([message])
    tokens = [t.text for t in message.get(TOKENS_NAMES[TEXT])]
    assert " " not in tokens and "wifi" in tokens


def test_tokenizer_reduces_what_owners_name_to_what_it_is():
    message = Message(data={TEXT: "3号楼2单元501物业费 电话13812345678 车牌京A88668 等了3天"})
    create(SpacelessJiebaTokenizer, {"dictionary_path": "data/jieba"}).process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["address", "物业费", "电话", "phone", "车牌", "plate", "等", "了", "0", "天"]
    spans = [message.get(TEXT)[t.start : t.end] for t in tokens]
    assert spans[:6] == ["3号楼2单元501", "物业费", "电话", "13812345678", "车牌", "京A88668"]


def test_extractor_adds_named_entities_with_its_name():
    message = Message(data={TEXT: "3号楼2单元501 明天下午三点"})
    create(PropertyEntityExtractor).process([message])
    found = {e["entity"]: e for e in message.get(ENTITIES)}
    assert found["room"]["value"] == "501"
    assert found["room"]["extractor"] == "PropertyEntityExtractor"
    assert found["visit_time"]["additional_info"]["kind"] == "point"


def _classified(text: str, intent: str, confidence: float, entities: list[dict]) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    message.set(ENTITIES, entities)
    return message


def test_override_makes_hazards_emergencies_even_when_the_model_is_unsure():
    message = _classified("怕漏电", "nlu_fallback", 0.45, [{"entity": "hazard", "value": "life_threat"}])
    create(IntentOverride).process([message])
    assert message.get(INTENT) == {"name": "report_emergency", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "report_emergency"


def test_override_leaves_a_declining_owner_alone():
    message = _classified("不用了 没有煤气味了", "deny", 0.9, [{"entity": "hazard", "value": "gas_leak"}])
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == "deny"


@pytest.mark.parametrize(
    ("text", "model_says", "intent"),
    [
        ("暖气管爆了 满屋热水", "check_status", "report_emergency"),  # the model is wrong: safety wins
        ("上次着火那单怎么样了", "check_status", "check_status"),
        ("BX000123 漏气那个修好没", "check_status", "check_status"),
    ],
)
def test_a_hazard_stays_a_status_question_only_when_it_asks_about_a_ticket(text, model_says, intent):
    message = _classified(text, model_says, 0.95, [{"entity": "hazard", "value": "flooding"}])
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == intent


def test_an_unsure_emergency_without_a_hazard_word_takes_the_next_guess():
    message = _classified("喂喂喂有人吗", "report_emergency", 0.7, [])
    message.set(
        INTENT_RANKING_KEY, [{"name": "report_emergency", "confidence": 0.7}, {"name": "greet", "confidence": 0.3}]
    )
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == "greet"
    sure = _classified("小孩被夹在单元门那里了 快来人啊", "report_emergency", 0.99, [])
    create(IntentOverride).process([sure])
    assert sure.get(INTENT)["name"] == "report_emergency"


@pytest.mark.parametrize("text", ["阳台推拉门卡住了", "3号楼电梯又坏了", "车库卷帘门卡住了 车开不出来"])
def test_a_sure_emergency_with_no_sign_of_danger_takes_the_next_guess(text):
    """The model's confidence differs between machines; paging staff must not rest on it alone."""
    message = _classified(text, "report_emergency", 0.999, [])
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "report_emergency", "confidence": 0.999}, {"name": "report_repair", "confidence": 0.001}],
    )
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == "report_repair"


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("上周插座冒过火花 现在闸已经关了 麻烦派个电工来看看", None),
        ("昨天有点煤气味 现在已经没味了 想请人来检查下", "gas_leak"),
    ],
)
def test_a_danger_past_and_made_safe_is_a_repair_hazard_word_or_not(text, hazard):
    entities = [{"entity": "hazard", "value": hazard}] if hazard else []
    message = _classified(text, "report_emergency", 0.999, entities)
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "report_emergency", "confidence": 0.999}, {"name": "report_repair", "confidence": 0.001}],
    )
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == "report_repair"
    now = _classified("厨房插座冒火花了", "report_repair", 0.9, [{"entity": "hazard", "value": "electrical"}])
    create(IntentOverride).process([now])
    assert now.get(INTENT)["name"] == "report_emergency"


@pytest.mark.parametrize(
    ("text", "next_guess", "intent"),
    [
        # a gas smell explained by a pot burnt dry, the model left with no second guess: only telling us
        ("之前讲的煤气味 是我锅烧干了 不是煤气 跟你们讲一下", "request_human", "inform"),
        ("之前讲的煤气味 是我锅烧干了 不是煤气 不用来了", "cancel", "cancel"),  # a visit called off
    ],
)
def test_an_emergency_explained_away_with_no_second_guess_only_informs(text, next_guess, intent):
    message = _classified(text, "report_emergency", 0.9999, [{"entity": "hazard", "value": "gas_leak"}])
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "report_emergency", "confidence": 0.9999}, {"name": next_guess, "confidence": 0.0001}],
    )
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == intent


def test_menu_digits_pick_menu_entries():
    picks = {}
    for digit in "123450":
        message = _classified(digit, "inform", 0.6, [{"entity": "number", "value": digit}])
        create(IntentOverride).process([message])
        picks[digit] = message.get(INTENT)["name"]
    assert picks == {
        "1": "report_repair",
        "2": "file_complaint",
        "3": "ask_fee",
        "4": "request_visitor_pass",
        "5": "check_status",
        "0": "request_human",
    }


def test_restorer_maps_offsets_back_and_restores_the_text():
    message = Message(data={TEXT: "嗯 三號樓二單元五零一 我朋友張偉明天來"})
    create(ChineseNormalizer).process([message])
    create(PropertyEntityExtractor).process([message])
    create(OriginalTextRestorer).process([message])
    assert message.get(TEXT) == "嗯 三號樓二單元五零一 我朋友張偉明天來"
    assert message.get(TEXT_MAP) is None
    by_type = {e["entity"]: e for e in message.get(ENTITIES)}
    original = message.get(TEXT)
    assert original[by_type["room"]["start"] : by_type["room"]["end"]] == "五零一"
    assert by_type["room"]["value"] == "501"
    assert by_type["person_name"]["value"] == "張偉"  # names keep the owner's writing


def test_an_external_ticket_number_spoken_aloud_reaches_the_actions_whole():
    """An ASR call reads 20261030-0017 digit by digit with 杠; the actions get the number and its format."""
    message = Message(data={TEXT: "喂 帮我查一下 二零二六一零三零杠零零一七 这个单子 谢谢 王建国"})
    for component in (ChineseNormalizer, PropertyEntityExtractor, OriginalTextRestorer):
        create(component).process([message])
    by_type = {e["entity"]: e for e in message.get(ENTITIES)}
    original = message.get(TEXT)
    ticket = by_type["ticket_id"]
    assert (ticket["value"], ticket["additional_info"]) == ("20261030-0017", {"system": "date_sequence"})
    assert original[ticket["start"] : ticket["end"]] == "二零二六一零三零杠零零一七"
    name = by_type["person_name"]
    assert (name["value"], name["additional_info"]) == ("王建国", {"signature": True})  # the sender's sign-off


@pytest.mark.parametrize(
    ("text", "entities", "next_guess", "intent"),
    [
        # one's own shower water over a blocked drain: the model's flood is a repair
        (
            "卫生间地漏堵了 洗澡水漫到脚踝",
            [{"entity": "hazard", "value": "flooding"}],
            "report_repair",
            "report_repair",
        ),
        # a false alarm with its reason: the model's leftovers are no reading, it informs
        ("烟感响了 是我炒菜呛的 没着火 跟你们说一声", [], "cancel", "inform"),
        # an empty lift said outright
        ("电梯又坏了 里面没人困住 麻烦修一下", [], "report_repair", "report_repair"),
        # a burst pipe while showering stays a flood
        ("洗澡时水管爆了 水漫到脚踝", [{"entity": "hazard", "value": "flooding"}], "report_repair", "report_emergency"),
    ],
)
def test_no_danger_now_takes_the_next_guess_and_a_real_one_stays(text, entities, next_guess, intent):
    message = _classified(text, "report_emergency", 0.999, entities)
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "report_emergency", "confidence": 0.999}, {"name": next_guess, "confidence": 0.001}],
    )
    create(IntentOverride).process([message])
    assert message.get(INTENT)["name"] == intent
