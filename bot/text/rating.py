"""A satisfaction rating in the owner's own words (回访): "5", "五分", "满意", "还行", "不满意，根本没修好".

Only asked right after a ticket is resolved, so the reading is deliberately narrow:
a message is a rating when it is short and says little else than a score or a verdict.
Anything longer or unclear returns None and goes to the assistant as usual.
"""

from __future__ import annotations

import re

from bot.text.numerals import DIGIT_OF
from bot.text.script import to_simplified

MAX_RATING_TEXT = 40  # a longer message is a new request, not an answer to the survey

_SCORE = re.compile(r"^(?:我?(?:打|给|评)?)\s*([1-5一二三四五两])\s*(?:分|星|颗星)?\s*(?:吧|啊|的)?$")
# Most specific first: 不满意 contains 满意, 非常不满意 contains 不满意.
_VERDICTS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"非常不满意|很不满意|特别不满意|太差|极差|差评|垃圾|一星")),
    (2, re.compile(r"不满意|不太满意|不怎么样|没修好|没解决|没弄好|还是坏|又坏|还在漏|还漏|根本没")),
    (5, re.compile(r"非常满意|很满意|特别满意|十分满意|太好了|好评|五星|点赞|👍")),
    (3, re.compile(r"还行|一般|凑合|马马虎虎|还可以吧|过得去|中评")),
    (4, re.compile(r"^(?:挺)?满意|比较满意|满意的|不错|挺好|很好|可以|修好了")),
]


_REQUEST = re.compile(r"吗|请|帮|能不能|能否|可以来|来看|报修|投诉|怎么办|什么时候")
_EXPLICIT = re.compile(r"满意|分|星|评")


def parse_rating(text: str) -> int | None:
    """1-5, or None when the message is not (clearly) a rating."""
    plain = to_simplified(text).strip()
    if not plain or len(plain) > MAX_RATING_TEXT:
        return None
    core = re.sub(r"[\s，。！!？?,.~～、…]+", "", plain)
    if match := _SCORE.match(core):
        digit = match.group(1)
        return int(digit) if digit.isdigit() else int(DIGIT_OF[digit])
    if _REQUEST.search(core) and not _EXPLICIT.search(core):  # "又坏了，能来看看吗" is a new request
        return None
    for score, pattern in _VERDICTS:
        if pattern.search(core):
            return score
    return None
