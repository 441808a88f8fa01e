"""A satisfaction rating in the owner's own words (回访): "5", "五分", "满意", "还行", "不满意，根本没修好".

Only asked right after a ticket is resolved, and only the owner's first reply after the
question is read (connectors/gateway.py), so the reading is deliberately narrow: a message is
a rating when it is short and says little else than a score or a verdict. Questions, new
requests, anything longer or unclear return None and go to the assistant as usual.
"""

from __future__ import annotations

import re

from bot.text.numerals import DIGIT_OF
from bot.text.script import to_simplified

_MENU_DIGITS = frozenset({"1", "一"})  # the numbered menu's first entry (报修), also on SMS
MAX_RATING_TEXT = 40  # a longer message is a new request, not an answer to the survey

_SCORE = re.compile(r"^(?:我?(?:打|给|评)?)\s*([1-5一二三四五两])\s*(?:分|星|颗星)?\s*(?:吧|啊|的)?$")
# Most specific first: 不满意 contains 满意, 非常不满意 contains 不满意.
_VERDICTS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"非常不满意|很不满意|特别不满意|太差了?$|极差|差评|一星")),
    (2, re.compile(r"不满意|不太满意|不怎么样|没修好|没解决|没弄好|还是坏的?|还在漏|还漏|根本没修")),
    (5, re.compile(r"非常满意|很满意|特别满意|十分满意|太好了|好评|五星|点赞|👍")),
    (3, re.compile(r"^(?:还行|一般般?|凑合|马马虎虎|还可以吧?|过得去|中评)")),
    (4, re.compile(r"^(?:挺|比较)?满意|满意的|^不错|^挺好|^很好|^修好了")),
]


# A question or a new request is not an answer to "how satisfied are you?", whatever words it shares.
_REQUEST = re.compile(r"吗|呢|请|帮|能不能|能否|可以来|来看|报修|投诉|怎么|什么|几点|几号|哪|[?？]")
_SCORE_WORDS = re.compile(r"[1-5一二三四五两](?:分|星)|评")


def parse_rating(text: str) -> int | None:
    """1-5, or None when the message is not (clearly) a rating."""
    plain = to_simplified(text).strip()
    if not plain or len(plain) > MAX_RATING_TEXT:
        return None
    core = re.sub(r"[\s，。！!？?,.~～、…]+", "", plain)
    if core in _MENU_DIGITS:  # a bare "1" is the menu's 报修 as often as a score: "1分" is the score
        return None
    if match := _SCORE.match(core):
        digit = match.group(1)
        return int(digit) if digit.isdigit() else int(DIGIT_OF[digit])
    if _REQUEST.search(plain) and not _SCORE_WORDS.search(core):  # "又坏了，能来看看吗", "满意吗"
        return None
    for score, pattern in _VERDICTS:
        if pattern.search(core):
            return score
    return None
