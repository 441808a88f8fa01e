"""Visit times: 明天下午三点 → an ISO 8601 instant (and the window it implies), against now.

jionlp finds and resolves Chinese time expressions offline. Around it we fix what it
gets wrong for visitor passes: it reads 3号楼 as the 3rd of the month (callers drop
times that overlap an address), 两点半 as 02:30 (a visitor comes at 14:30), and
七点半到九点 as two points with a morning end.

jionlp tries every window of a run of time characters, longest first, and starts over after each
time it finds: cubic in the run's length (下午 forty times, 80 characters, took 5 s; 2,000
characters, minutes) and inside Rasa's only worker. So it only ever sees :func:`time_spans`: the
runs its own pattern picks (one linear scan), each at most MAX_SPAN_CHARS long and
MAX_TIME_CHARS in all, whatever the message's length.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_RANGE_JOINER = re.compile(r"^\s*(到|至|-|~|～|—)\s*$")
_DAY_PART = re.compile(r"上午|早上|早晨|凌晨|半夜|夜里|晚上|下午|中午|傍晚|晚|早|夜")
_HOUR = re.compile(r"[点點时:：]|分钟")
_FMT = "%Y-%m-%d %H:%M:%S"
# Owners write a time in at most 16 characters (2026年11月22日下午3点半, 明天上午9:00-11:00; a pass
# window as the assistant words it, 11月22日 14:00 - 19:00, is 20), and no message in the NLU data
# has more than 22 characters in such runs (two phone numbers, a flat and a time come to 41): the
# bounds leave them whole. The worst a message then costs is two full spans, a fraction of a second.
MAX_SPAN_CHARS = 24
MAX_TIME_CHARS = 48  # in all the spans of one message
_CUT_AFTER = " ,，、"  # a run too long is cut after the last of these in it, if any


@dataclass(frozen=True)
class TimeMention:
    """A resolved time expression; start/end index the text it was found in."""

    start: int
    end: int
    begins: datetime
    ends: datetime
    kind: str  # "point" (三点), "period" (下午), "day" (明天) or "span" (三点到五点)


def _not_a_jionlp_traceback(record: logging.LogRecord) -> bool:
    """jionlp logs a full traceback on the root logger for each candidate that turns out not to
    be a time (每天早上来做饭); that is an answer, not an error: keep it out of the logs."""
    return not (record.name == "root" and "jionlp" in record.pathname and record.levelno == logging.ERROR)


@lru_cache(maxsize=1)
def _jionlp():
    import jionlp  # noqa: PLC0415 - 0.4 s import, only paid where times are parsed

    logging.getLogger().addFilter(_not_a_jionlp_traceback)
    return jionlp


@lru_cache(maxsize=1)
def _time_run() -> re.Pattern[str]:
    """jionlp's own pattern for a run of characters that may hold a time: one repeated group, linear."""
    return re.compile(_jionlp().rule.rule_pattern.TIME_CHAR_STRING)


def _cut(text: str, start: int, end: int) -> int:
    if end - start <= MAX_SPAN_CHARS:
        return end
    window = text[start : start + MAX_SPAN_CHARS]
    after = max(window.rfind(ch) for ch in _CUT_AFTER) + 1
    return start + (after if after > 1 else MAX_SPAN_CHARS)


def time_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``text`` jionlp is asked about: the runs it would pick itself,
    each cut to MAX_SPAN_CHARS, as many as fit in MAX_TIME_CHARS."""
    spans: list[tuple[int, int]] = []
    budget = MAX_TIME_CHARS
    for run in _time_run().finditer(text):
        start, end = run.span()
        while end - start > 1:  # jionlp never reads a time in one character
            cut = _cut(text, start, end)
            budget -= cut - start
            if budget < 0:
                return spans
            spans.append((start, cut))
            start = cut
    return spans


def _jionlp_times(text: str, base: datetime) -> list[dict]:
    """What jionlp finds in ``text``, asked span by span; offsets index ``text``."""
    try:
        spans = time_spans(text)
    except ImportError:  # the action server's environment has no jionlp, so no times (tests/actions)
        return []
    found = []
    for start, end in spans:
        # A whole run is given the two characters after it, as jionlp reads them (2033亿 is no
        # year); a run that was cut is given nothing more, or jionlp would read on into the next piece.
        tail = end + 2 if _time_run().match(text, end) is None else end
        try:
            items = _jionlp().ner.extract_time(text[start:tail], time_base=base, with_parsing=True)
        except Exception:  # noqa: BLE001 - a parser bug must never break understanding
            continue
        for item in items:
            first, last = item["offset"]
            if first < end - start:  # not a time begun in the two characters after
                found.append({**item, "offset": [start + first, start + last]})
    return found


# 半小时后, 两个钟头以后: counted from now, so already on the right clock whatever the hour.
_FROM_NOW = re.compile(r"(小时|钟头|分钟)\s*(以后|之后|后)")


def _afternoon_fix(text: str, begins: datetime, ends: datetime) -> tuple[datetime, datetime]:
    """两点半 without 上午/早上 means 14:30 for a visit, not 02:30; 半小时后 said at 1 a.m. stays 1:30."""
    if not _DAY_PART.search(text) and not _FROM_NOW.search(text) and 1 <= begins.hour <= 6:
        return begins + timedelta(hours=12), ends + timedelta(hours=12)
    return begins, ends


def _kind(found: dict) -> str:
    detail = found["detail"]
    if detail["type"] == "time_span":
        return "span"
    if detail.get("definition") == "blur":
        return "period"
    if not _HOUR.search(found["text"]):
        return "day"
    return "point"


_NOT_A_TIME = re.compile(r"现在|目前|当前|此刻|刚才|刚刚|当下|马上|立刻|一会儿?")
_RECURRING = re.compile(r"(天天|每天|每晚|每周|每个?月|经常|老是|总是|一直|平时|整天)\s*$")
_DAY_ANCHOR = re.compile(r"今|明|后天|昨|前天|周|星期|礼拜|号|日|月|节|\d+[/.-]\d+")
_MAX_VAGUE = timedelta(days=2)


def _parse(item: dict) -> tuple[datetime, datetime] | None:
    try:
        begins = datetime.strptime(item["detail"]["time"][0], _FMT)
        end_text = item["detail"]["time"][1]
        if end_text == "inf":  # 两点以后: until the end of that day
            return begins, begins.replace(hour=23, minute=59, second=59)
        return begins, datetime.strptime(end_text, _FMT)
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def _raw_mentions(text: str, base: datetime, tz) -> list[TimeMention]:
    mentions: list[TimeMention] = []
    for item in _jionlp_times(text, base):
        if (item.get("detail") or {}).get("type") not in ("time_point", "time_span"):
            continue
        parsed = _parse(item)
        if parsed is None:
            continue
        begins, ends = parsed
        start, end = item["offset"]
        kind = "span" if item["detail"]["time"][1] == "inf" else _kind(item)
        if kind == "point":
            begins, ends = _afternoon_fix(item["text"], begins, ends)
        previous = mentions[-1] if mentions else None
        gap = text[previous.end : start] if previous else ""
        if previous and previous.kind == "point" and kind == "point" and _RANGE_JOINER.match(gap):
            # 七点半到九点: one span; an end before the start is on the afternoon clock.
            while begins <= previous.begins.replace(tzinfo=None):
                begins += timedelta(hours=12)
            mentions[-1] = TimeMention(previous.start, end, previous.begins, begins.replace(tzinfo=tz), "span")
            continue
        if (
            previous
            and len(gap) <= 6
            and _DAY_ANCHOR.search(text[previous.start : previous.end])
            and not _DAY_ANCHOR.search(item["text"])
            and _HOUR.search(item["text"])
        ):
            # 明天上午 上午十点: the clock time belongs to the day said just before.
            day = previous.begins.date()
            begins = datetime.combine(day, begins.time())
            ends = datetime.combine(day, ends.time())
            mentions[-1] = TimeMention(previous.start, end, begins.replace(tzinfo=tz), ends.replace(tzinfo=tz), kind)
            continue
        mentions.append(TimeMention(start, end, begins.replace(tzinfo=tz), ends.replace(tzinfo=tz), kind))
    return mentions


def _specific_and_upcoming(text: str, m: TimeMention, now: datetime) -> bool:
    """A time a visit can be planned for: anchored or on the clock, not on a past day, not vague."""
    said = text[m.start : m.end]
    if _NOT_A_TIME.fullmatch(said) or text[m.end : m.end + 1] == "好":  # 现在 / 早上好
        return False
    if _RECURRING.search(text[max(0, m.start - 4) : m.start]):  # 天天晚上十一点
        return False
    if not (_DAY_ANCHOR.search(said) or _HOUR.search(said)):  # 晚上, 中午, 夏天
        return False
    if m.ends < now.replace(hour=0, minute=0, second=0, microsecond=0):  # 昨天, 前天, 去年
        return False  # (earlier today stays: the dialogue, not the parser, says "that time has passed")
    # Long stretches only when said as a range (周六到下周一), never 今年 or 下周 alone.
    return m.ends - m.begins <= _MAX_VAGUE or bool(re.search(r"到|至|以后|之后|~|～|-", said))


def find_times(text: str, now: datetime) -> list[TimeMention]:
    """Specific, upcoming time mentions in ``text``; ``now`` is timezone-aware."""
    tz = now.tzinfo or ZoneInfo("Asia/Shanghai")
    base = now.astimezone(tz).replace(tzinfo=None)
    return [m for m in _raw_mentions(text, base, tz) if _specific_and_upcoming(text, m, now)]
