"""One normal form for the four kinds of owner writing before the model sees them.

WeChat chat (emoji, @-mentions, full-width punctuation), terse SMS, unpunctuated ASR
transcripts (fillers, Chinese numerals, homophones), traditional characters and Cantonese
words (bot/text/cantonese.py) all become the same simplified text with Arabic digits in addresses and phone numbers.
Every step edits a :class:`MappedText`, so offsets still lead back to the original.
"""

from __future__ import annotations

import re
import unicodedata

from bot.text.cantonese import cantonese_edits
from bot.text.homophones import homophone_edits
from bot.text.numerals import numeral_edits
from bot.text.script import to_simplified
from bot.text.textmap import MappedText

# WeChat puts U+2005 after an @-mention; a short one closing a message has nothing after it. Typed
# by hand with nothing after it, a mention runs into the message (@物业小助手催一下我的报修): only
# the names owners use for the assistant are taken then, else just the @ — never the message.
_MENTION = re.compile(
    r"@[^\s\u2005@]{1,24}[\u2005 ]"
    r"|(?<=\s)@[^\s\u2005@]{1,10}$"
    r"|@(?:物业小助手|物业助手|小助手|物业客服|物业管家|物业前台|物业|客服|管家)?"
)
_COLLOQUIAL_TIME = {"明早": "明天早上", "今早": "今天早上", "明儿": "明天"}
_CLAUSE_START = r"(?:^|(?<=[\s,，.。!！?？、;；~～]))"
_FILLERS = re.compile(
    r"[嗯呃唔]+"
    r"|就是说|怎么说呢|那个那个|这个这个"
    # 喂 is a filler only as a call opener (喂，你好), never in 喂猫 (feeding cats).
    rf"|{_CLAUSE_START}喂+(?=[\s,，.。!！?？~～]|$|你|您|是|在|请问|物业)"
    rf"|{_CLAUSE_START}那个(?=\s*[\u4e00-\u9fff])"
)
_SPACES = re.compile(r"\s+")
# The same sounds in the owner's own script, for text staff read: 那個 as well as 那个, and 唔 only
# standing alone (唔該, 唔係 are Cantonese words; the normal form has already made them Mandarin).
_FILLERS_AS_WRITTEN = re.compile(
    r"[嗯呃]+|唔+(?![\u4e00-\u9fff])"
    r"|就是说|就是說|怎么说呢|怎麼說呢|那个那个|那個那個|这个这个|這個這個"
    rf"|{_CLAUSE_START}喂+(?=[\s,，.。!！?？~～]|$|你|您|是|在|请问|請問|物业|物業)"
    rf"|{_CLAUSE_START}那[个個](?=\s*[\u4e00-\u9fff])"
)
_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[,，.。!！?？、;；])")


def without_mentions(text: str) -> str:
    """The message minus WeChat @-mentions (@物业小助手), e.g. for a ticket description."""
    return " ".join(_MENTION.sub(" ", text).split())


def _regex_edits(pattern: re.Pattern[str], text: str, repl: str = "") -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), repl) for m in pattern.finditer(text)]


def _char_edits(text: str, convert) -> list[tuple[int, int, str]]:
    edits = []
    for i, ch in enumerate(text):
        new = convert(ch)
        if new != ch:
            edits.append((i, i + 1, new))
    return edits


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\n\t"


def without_invisible(text: str) -> str:
    """The text minus control and format characters (NUL, zero-width, BOM, bidi overrides)."""
    return "".join(ch for ch in text if not _is_control(ch))


def _simplified_edits(text: str) -> list[tuple[int, int, str]]:
    converted = to_simplified(text)
    if len(converted) == len(text):  # OpenCC kept the length: align character by character
        return [(i, i + 1, b) for i, (a, b) in enumerate(zip(text, converted, strict=True)) if a != b]
    return _char_edits(text, to_simplified)


def normalize(text: str) -> MappedText:
    """Normalise an owner's message; ``result.text`` is what the pipeline sees."""
    mt = MappedText(text)
    mt.apply(_char_edits(mt.text, lambda ch: "" if _is_control(ch) else ch))
    mt.apply(_regex_edits(_MENTION, mt.text, " "))
    mt.apply(_char_edits(mt.text, lambda ch: unicodedata.normalize("NFKC", ch)))
    if any(unicodedata.category(ch) != "So" for ch in mt.text if not ch.isspace()):
        # Emoji carry mood, not intent (我要投诉🙄), unless they are all there is (👍).
        mt.apply(_char_edits(mt.text, lambda ch: " " if unicodedata.category(ch) == "So" else ch))
    mt.apply(_simplified_edits(mt.text))
    mt.apply(
        [(m.start(), m.end(), _COLLOQUIAL_TIME[m.group()]) for m in re.finditer("|".join(_COLLOQUIAL_TIME), mt.text)]
    )
    mt.apply(cantonese_edits(mt.text))  # before the fillers: Cantonese 唔 (not) is no hesitation
    mt.apply(_regex_edits(_FILLERS, mt.text, " "))
    mt.apply(homophone_edits(mt.text))
    mt.apply(numeral_edits(mt.text))
    mt.apply(_regex_edits(_SPACES, mt.text, " "))
    stripped = mt.text.strip()
    if stripped != mt.text:
        lead = len(mt.text) - len(mt.text.lstrip())
        mt.apply([(0, lead, ""), (lead + len(stripped), len(mt.text), "")])
    return mt


def without_fillers(text: str) -> str:
    """The owner's words minus hesitation sounds and call openers, in their own script and
    numerals: what staff read as a ticket's description (喂 那个 我家厨房的水管 嗯 漏水了 →
    我家厨房的水管 漏水了). The message log keeps every word as it came."""
    text = _SPACES.sub(" ", _FILLERS_AS_WRITTEN.sub(" ", text)).strip(" ,，")
    return _BEFORE_PUNCTUATION.sub("", text)
