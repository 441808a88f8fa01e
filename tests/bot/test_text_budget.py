"""Every text rule costs a bounded time per message, whatever the message: they run inside Rasa's
only worker (and on every log line), so one slow message stalls every owner.

The messages below once took from seconds to minutes: jionlp's time parser is cubic in the length
of a run of time characters (下午 forty times took 5 s), and a few patterns could match one stretch
of text in many ways (11:111:1…, 王明 followed by spaces, a name after a long run of digits).
"""

from __future__ import annotations

import random
import time

import pytest

from bot.text import timeparse
from bot.text.danger import shows_danger
from bot.text.description import says_what, without_address
from bot.text.entities import (
    extract_address,
    extract_all,
    extract_fee_item,
    extract_fee_topic,
    extract_hazards,
    extract_phones,
    extract_plates,
    extract_tickets,
    placeholder_spans,
)
from bot.text.names import extract_person_names
from bot.text.normalize import normalize
from bot.text.pii import mask_pii
from bot.text.rating import parse_rating
from bot.text.script import detect_script

MAX_MESSAGE = 2000  # the gateway forwards no more (connectors/gateway.py MAX_TEXT)

ADVERSARIAL = {
    "下午 x40": "下午" * 40,
    "下午 x1000": "下午" * 1000,
    "3-2- x500": "3-2-" * 500,
    "明天后天 x300": "明天后天" * 300,
    "3号 x1000": "3号" * 1000,
    "1- x1000": "1-" * 1000,
    "下周一 x600": "下周一" * 600,
    "2026年 x400": "2026年" * 400,
    "digits": "1" * MAX_MESSAGE,
    "phones": "13812345678" * 180,
    "号楼 x500": "号楼" * 500,
    "单元 x500": "单元" * 500,
    "A座 x1000": "A座" * 1000,
    "one CJK char": "啊" * MAX_MESSAGE,
    "one surname": "王" * MAX_MESSAGE,
    "one numeral": "三" * MAX_MESSAGE,
    "emoji": "😀" * 1000,
    "emoji and text": "😀漏水" * 600,
    "clock chain after a name": ("王明" + "11:1" * 22 + "x") * 20,
    "name then spaces": "王明" + " " * 1990 + "来",
    "names after digits": "1" * 1000 + "王明过来" * 250,
    "weekday names": "周一" * 999 + "来",
    "spaces": " 1" + " " * 1998,
    "zero width": "\u200b啊" * 1000,
    "room corrections": "501 不对 " * 250,
    "room corrections, no answer": "501不是 " * 285,
    "spaces before a last room": "3号楼2单元" + " " * 1990 + "501",
    "digits before a last room": "3号楼2单元 " + "1 " * 990 + "501",
    "dashes before a signature": "修" + "—" * 1998 + "李",
    "surnames between spaces": "王 " * 1000,
    "dated numbers": "20261030-" * 222,
    "spoken dashes": "2026杠" * 400,
    "dotted plates": "粤B·" * 666,
    "digits spelt after 电话": "电话 " + "幺 " * 997,
    "a ticket spelt on and on": "B X " + "零 " * 998,
    "spelt digit pairs and dashes": "二零 幺二 杠 " * 222,
    "plates spelt without a cue": "琼A 三 七 " * 250,
    "rooms before buildings": "是502 " * 285 + "3栋",
    "names after flats": "3栋王丽" * 400,
    "spelling aids": "岳飞的岳 " * 400,
}


def _random_messages(count: int) -> dict[str, str]:
    """Seeded mixes of what the rules look for: time words, digits, markers, names, separators."""
    times = ["下午", "明天", "后天", "上午", "周六", "下周", *"点半号月日年到-:"]
    numbers = ["3", "12", "501", "138", "号楼", "单元", "栋", "室", "三", "十", "五零一"]
    others = ["王", "李明", "先生", "来", "过来", "电话", "煤气味", "漏水", "BX", "京A", " ", "，", "、", "😀"]
    pieces = times + numbers + others
    rng = random.Random(20261121)
    messages = {}
    for i in range(count):
        size = rng.choice((80, 400, MAX_MESSAGE))
        text = ""
        while len(text) < size:
            text += rng.choice(pieces)
        messages[f"random {i}"] = text[:size]
    return messages


MESSAGES = {**ADVERSARIAL, **_random_messages(12)}


def _run_every_rule(message: str, now) -> None:
    """What Rasa, the action server and the log masking do with one owner message."""
    normal = normalize(message).text
    extract_all(normal, now)  # PropertyEntityExtractor
    placeholder_spans(normal)  # the tokenizer
    shows_danger(normal)  # IntentOverride
    mask_pii(message)  # every log line
    says_what(message)  # the actions
    without_address(message)
    parse_rating(message)  # the gateway
    detect_script(message)
    # The rules are public: they must hold on text nobody normalised too.
    for rule in (
        extract_address,
        extract_phones,
        extract_plates,
        extract_tickets,
        extract_hazards,
        extract_fee_topic,
        extract_fee_item,
        extract_person_names,
        placeholder_spans,
    ):
        rule(message)


# A hang detector, not a performance target: normal messages take milliseconds and the worst
# message here well under a second of CPU, while these took from 4 s to minutes before the bounds.
# It counts the CPU this process spent (time.process_time), not the wall clock: on a shared
# machine with the load at 9 a wall-clock limit failed while the rules did the same work as
# ever (a fresh-clone CI run, 2026-12-01). Waiting for a core is not work; a cubic parser is.
HANG_CPU_SECONDS = 5.0


@pytest.fixture(autouse=True)
def _warm(now):
    _run_every_rule("我朋友明天下午三点来 3号楼2单元501", now)  # jionlp, OpenCC and pypinyin load on first use


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_no_message_stalls_the_text_rules(message, now):
    assert len(message) <= MAX_MESSAGE
    started = time.process_time()
    _run_every_rule(message, now)
    took = time.process_time() - started
    assert took < HANG_CPU_SECONDS, f"{took:.1f} s of CPU"


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_the_time_parser_reads_a_bounded_part_of_any_message(message, now, monkeypatch):
    read: list[str] = []

    def extract_time(text, **_):
        read.append(text)
        return []

    monkeypatch.setattr(timeparse._jionlp().ner, "extract_time", extract_time)
    timeparse.find_times(message, now)
    assert all(len(text) <= timeparse.MAX_SPAN_CHARS + 2 for text in read)  # + the two characters it peeks at
    spans = timeparse.time_spans(message)
    assert sum(end - start for start, end in spans) <= timeparse.MAX_TIME_CHARS
    assert len(read) == len(spans) <= timeparse.MAX_TIME_CHARS // 2


def test_the_bound_is_the_same_for_a_message_ten_times_longer():
    short, long = "明天下午三点到五点 " * 20, "明天下午三点到五点 " * 200
    assert timeparse.time_spans(short) == timeparse.time_spans(long)


def test_a_time_before_a_wall_of_time_words_is_still_found(now):
    found = extract_all(normalize("我朋友明天下午三点来，" + "下午" * 900).text, now)
    assert [e.value for e in found if e.entity == "visit_time"] == ["2026-11-22T15:00:00+08:00"]


def test_a_pass_window_as_the_assistant_words_it_is_read_whole(now):
    [window] = timeparse.find_times("11月22日 14:00 - 19:00", now)
    assert (window.kind, window.begins.hour, window.ends.hour) == ("span", 14, 19)
