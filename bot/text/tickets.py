"""Ticket numbers in an owner's words: ours (BX000123, TS000123) and the external systems' formats.

An owner who was given a number by the property's own system of record (HC小区, 明源, …) quotes
that number, not ours: 20261030-0017 must reach the status and chase actions whole, not cut at the
dash into a date. Each accepted external format is one row of :data:`EXTERNAL_FORMATS`, so a new
system is a new row, not a new rule. Spoken numbers arrive from bot.text.numerals as digits, with the
dash read out as 杠 (二零二六一零三零杠零零一七 → 20261030杠0017) — except when a caller spells them
in short groups (B X 零 六 …, 二零二六 幺八 …): those stay spoken, and the rules here read them with
numerals.SAID_DIGIT, the parts' values as Arabic digits (each part passes through said_digits).

Every pattern here is a fixed sequence of bounded pieces (no nested quantifiers), so it costs time
linear in the message (tests/bot/test_text_budget.py holds every rule to that).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.text.numerals import SAID_DIGIT, SAID_END, SAID_GAP, said_digits, said_number_is_whole

# What owners put between the parts of a number: a dash of any width, 杠 when they say it aloud.
DASH = r"\s?(?:[-－—–_]|杠)\s?"


@dataclass(frozen=True)
class TicketMention:
    value: str
    start: int
    end: int
    system: str | None = None  # None: our own number (BX/TS, or a bare number after 工单号)


def _is_date(yyyymmdd: str) -> bool:
    """20261030 is a day; 20261399 is not, so it is not read as one of these numbers."""
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ExternalFormat:
    """One external system's ticket numbers.

    ``pattern`` reads the normalised text and names its parts as groups; ``value`` puts them back
    together in the system's own spelling (the form its API answers to); ``valid`` rejects matches
    the pattern cannot rule out by itself (a date that is no date).
    """

    system: str
    pattern: str
    value: str
    valid: Callable[[dict[str, str]], bool] = lambda parts: True


EXTERNAL_FORMATS: tuple[ExternalFormat, ...] = (
    # Date of the order, dash, the day's sequence: 20261030-0017.
    ExternalFormat(
        system="date_sequence",
        pattern=(
            rf"(?<![\dA-Za-z])(?P<date>(?=[2二两]){SAID_DIGIT}(?:{SAID_GAP}{SAID_DIGIT}){{7}})"
            rf"{DASH}(?P<seq>{SAID_DIGIT}(?:{SAID_GAP}{SAID_DIGIT}){{2,5}}){SAID_END}(?!-)"
        ),
        value="{date}-{seq}",
        valid=lambda parts: parts["date"].startswith("20") and _is_date(parts["date"]),
    ),
)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Up to eight digits, as typed or as said in groups (BX 000 456, B X 零 六 …): single spaces between.
_NUMBER = rf"({SAID_DIGIT}(?:{SAID_GAP}{SAID_DIGIT}){{0,7}}){SAID_END}"
_OURS = re.compile(rf"(?<![A-Za-z])([Bb]\s*[Xx]|[Tt]\s*[Ss])\s*(?:-\s*)?{_NUMBER}")
_CUE = re.compile(rf"(?:工单号?|单号|编号)\s*(?:(?:是|为|:|：)\s*)?{_NUMBER}")


def _strip_zeros(number: str) -> str:
    return number.lstrip("0") or "0"


def find_tickets(text: str, formats: tuple[ExternalFormat, ...] = EXTERNAL_FORMATS) -> list[TicketMention]:
    """Ticket numbers in ``text`` (normalised), external ones (``formats``) first, then ours, each
    read whole once: 20261030-0017 is one external number, not our ticket 20261030."""
    found: list[TicketMention] = []
    taken = bytearray(len(text))  # what a number already stands on: a cost per span, not per number

    def free(start: int, end: int) -> bool:
        if taken.find(1, start, end) != -1:
            return False
        taken[start:end] = b"\x01" * (end - start)
        return True

    for fmt in formats:
        for m in _compiled(fmt.pattern).finditer(text):
            parts = {k: said_digits(v) for k, v in m.groupdict().items() if v is not None}
            if fmt.valid(parts) and said_number_is_whole(text, m.group(), m.end()) and free(*m.span()):
                found.append(TicketMention(fmt.value.format(**parts), *m.span(), system=fmt.system))
    for m in _OURS.finditer(text):
        if said_number_is_whole(text, m.group(2), m.end()) and free(*m.span()):
            prefix = re.sub(r"\s", "", m.group(1)).upper()
            found.append(TicketMention(prefix + said_digits(m.group(2)).zfill(6), *m.span()))
    for m in _CUE.finditer(text):
        if said_number_is_whole(text, m.group(1), m.end()) and free(*m.span(1)):
            found.append(TicketMention(_strip_zeros(said_digits(m.group(1))), *m.span(1)))
    return sorted(found, key=lambda t: t.start)
