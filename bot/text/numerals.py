"""Chinese numerals → Arabic digits, but only where a number is an address, phone or code.

cn2an on a whole message turns 一直 into 1直 and 看一下 into 看1下, so we convert a
numeral run only when its neighbours say it is part of an address (三号楼, 二单元,
五零一室), a phone number (幺三八…), a plate, a ticket number, or when it is a long
digit-by-digit run that can only be a number (五零一, 一三八一二三四五六七八).
"""

from __future__ import annotations

import re

import cn2an

DIGIT_OF = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
}
POSITIONAL = "十拾百佰千仟"
_RUN = re.compile(f"[0-9{''.join(DIGIT_OF)}{POSITIONAL}]+")

# A numeral directly followed by one of these is an address part (三号楼, 二单元, 十八层).
_AFTER = re.compile(r"\s*(号楼|号院|号门|栋|幢|座|单元|室|层|楼|期|区|号房|房|户|#)")
# A numeral directly preceded by one of these is a room, phone, plate or ticket number.
_BEFORE = re.compile(
    r"(单元|号楼|栋|幢|座|室|房号|房间|门牌号?|电话|手机|号码|尾号|工单号?|单号|编号|"
    r"车牌号?|[A-Za-z#-]|\d\s*杠)\s*(是|为|:|：)?\s*$"  # 杠: a dash read aloud inside a number
)
# 号 alone is an address marker (五零一号) unless it is a date (十一月三号) or 号码.
_HAO = re.compile(r"\s*号(?!码)")


def to_digits(run: str) -> str | None:
    """Convert one numeral run; ``None`` when it is not a well-formed number."""
    if not any(ch in POSITIONAL for ch in run):
        return "".join(DIGIT_OF.get(ch, ch) for ch in run)
    if any(ch.isdigit() for ch in run):
        return None
    try:
        return str(cn2an.cn2an(run.replace("幺", "一").replace("洞", "零"), "smart"))
    except (ValueError, KeyError, IndexError):
        return None


# Digits as a caller says them one by one; what is left of them after normalisation is a run of one
# or two between spaces (幺八 零六: numeral_edits converts runs of three or more), so the rules that
# read a number spelt out in a call (a ticket, a phone, a plate) read these as well as Arabic ones.
SPOKEN_DIGITS = "零〇○洞一幺二两三四五六七八九"
_ANY_DIGIT = f"[0-9{SPOKEN_DIGITS}]"
# A Han character that is no digit (nor 杠, a dash said aloud): a spoken digit glued to one starts a
# word (一直, 两个, 三天), and a group glued to one is a number of its own (2号楼, 3点), never the
# tail of the one before.
_WORD = rf"(?![{SPOKEN_DIGITS}杠])[\u4e00-\u9fff]"
# One digit of a number said aloud: Arabic, or spoken and not the first character of a word.
SAID_DIGIT = rf"(?:[0-9]|[{SPOKEN_DIGITS}](?!{_WORD}))"
# What may stand between the groups a caller says (幺五零 七七 幺八): nothing, or one space before
# a group that is not glued to a word. Either there is a space or there is not, so a number read as
# SAID_DIGIT (SAID_GAP SAID_DIGIT){m,n} is matched one way only: linear time.
SAID_GAP = rf"(?:\s(?={_ANY_DIGIT}{{1,12}}(?!{_ANY_DIGIT})(?!{_WORD})))?"
# After a number read whole: no further digit of it.
SAID_END = rf"(?!{SAID_GAP}{SAID_DIGIT})"
_DIGIT_NEXT = re.compile(rf"\s?{_ANY_DIGIT}")


def said_digits(said: str) -> str:
    """The Arabic digits of a number read with SAID_DIGIT and SAID_GAP: 幺八八 620 → 188620."""
    return "".join(DIGIT_OF.get(ch, ch) for ch in said if not ch.isspace())


def said_number_is_whole(text: str, said: str, end: int) -> bool:
    """Whether a number read up to ``end`` is all the caller said of it. One spelt out with spoken
    digits and followed by another digit glued to a word (七 三查一下, 六 一直, 八 2号) may have gone on
    (the digit could be its last, with the next word said straight after), so it is read as nothing
    rather than cut short: a wrong ticket or phone is worse than none. Arabic digits typed before a
    word (BX000123一直) are the typist's own grouping and stay as they were read."""
    if not any(ch in SPOKEN_DIGITS for ch in said):
        return True
    return _DIGIT_NEXT.match(text, end) is None


# 么 is also a variant of 幺 (one, said yāo in numbers): "么三八…" in a typed or transcribed phone.
# It reads as 1 only beside another numeral, never in 什么/怎么/这么/那么/多么/要么 (怎么3号楼又停水).
_DIGITS = f"0-9{SPOKEN_DIGITS}"
_YAO_VARIANT = re.compile(rf"(?<![什怎这這那多要干幹甚咋为為])么(?=\s*[{_DIGITS}])|(?<=[{_DIGITS}])么")


def numeral_edits(text: str) -> list[tuple[int, int, str]]:
    """Return ``(start, end, digits)`` edits for the numeral runs that are numbers."""
    edits = []
    text = _YAO_VARIANT.sub("幺", text)  # same length: the spans found hold for the text given
    for match in _RUN.finditer(text):
        run = match.group()
        if run.isdigit():  # already Arabic (str.isdigit is False for Chinese numerals)
            continue
        start, end = match.span()
        before = text[max(0, start - 8) : start]
        digit_by_digit = not any(ch in POSITIONAL for ch in run)
        in_context = bool(
            _AFTER.match(text, end)
            or _BEFORE.search(before)
            or (_HAO.match(text, end) and not before.endswith("月"))
            or (digit_by_digit and len(run) >= 3)
        )
        if not in_context:
            continue
        digits = to_digits(run)
        if digits is not None and digits != run:
            edits.append((start, end, digits))
    return edits
