"""Repair call-centre ASR homophone errors on domain keywords (保修 → 报修, 无业费 → 物业费).

A window of the message whose toneless pinyin equals a keyword's is rewritten to the
keyword. The list is curated: words with common legitimate homophones are left out
(单元/但愿, 访客/房客, 客服/克服, 煤气/没气, 物业/午夜), because a wrong "fix" would be
worse than the ASR error; a real word that sounds like a kept one is listed in REAL_WORDS.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

KEYWORDS = (
    "报修",
    "维修",
    "投诉",
    "物业费",
    "缴费",
    "电梯",
    "漏水",
    "人工",
    "工单",
    "停车",
    "跳闸",
    "发票",
    "滞纳金",
    "门禁",
    "保洁",
    "噪音",
    "物业公司",
)


# Real words that sound like a keyword: 未修 (not yet repaired: 至今未修, 门锁都未修好) is no 维修.
REAL_WORDS = frozenset({"未修"})


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=1)
def _keyword_pinyin() -> dict[tuple[str, ...], str]:
    return {tuple(lazy_pinyin(k)): k for k in KEYWORDS}


def homophone_edits(text: str) -> list[tuple[int, int, str]]:
    """Return non-overlapping ``(start, end, keyword)`` edits, longest keyword first."""
    if not any(_is_han(ch) for ch in text):
        return []
    syllables = lazy_pinyin(text, errors=lambda s: list(s))
    if len(syllables) != len(text):  # alignment is per character; give up otherwise
        return []
    table = _keyword_pinyin()
    lengths = sorted({len(k) for k in table}, reverse=True)
    edits: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    for size in lengths:
        for i in range(len(text) - size + 1):
            keyword = table.get(tuple(syllables[i : i + size]))
            window = text[i : i + size]
            if not keyword or window in REAL_WORDS or any(taken[i : i + size]) or not all(map(_is_han, window)):
                continue
            if window != keyword:
                edits.append((i, i + size, keyword))
            taken[i : i + size] = [True] * size  # a correct keyword also blocks overlaps
    return edits
