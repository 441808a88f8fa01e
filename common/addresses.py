"""How a flat's building, unit and room are written once read: the key rooms are found by.

A flat is stored as three short strings (3, 2, 501) and looked up by them. The chat
assistant reads them out of a message (三号楼二单元五零一, 3-2-0501, A座1502), the roster
import out of three spreadsheet cells (3号楼 | 2单元 | 0501室). Unless both turn what they
read into the same strings, an owner whose flat was imported as 3-2-501 is told their flat
does not exist. So both normalise each part through :func:`address_part`.

Standard library only and Python 3.10: this module also runs inside Rasa's environment.
"""

from __future__ import annotations

import re
import unicodedata

BUILDING, UNIT, ROOM = "building", "unit", "room"
PARTS = (BUILDING, UNIT, ROOM)
# The markers a part may carry (3号楼, 3#, 2单元, 2门洞, 501室), longest first so 号楼 goes before 号.
# In free text 3楼 is more often a floor and 5号 a date: there the chat assistant's own patterns
# decide what is an address; in a cell headed 楼栋 they can only be the building.
MARKERS = {
    BUILDING: ("号楼", "号院", "栋", "幢", "座", "楼", "号", "#"),
    UNIT: ("单元", "门洞"),
    ROOM: ("号房", "室", "号", "房"),
}
WIDTH = {BUILDING: 16, UNIT: 8, ROOM: 8}  # the store's columns
_LETTER = re.compile(r"[A-Za-z]")  # a lettered building: A座, B栋


def address_part(text: str, part: str) -> str | None:
    """3号楼 → 3, 2单元 → 2, 0501室 → 501, A座 → A; None unless ``text`` is one ``part``.

    Digits lose their leading zeros (0501 and 501 are one flat); a building may also be a
    single Latin letter, upper-cased. Full-width characters count as their ASCII twins and
    spaces are ignored. Zero, and numbers wider than the store's column, are no flat.
    """
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    for marker in MARKERS[part]:
        if value.endswith(marker):
            value = value[: -len(marker)]
            break
    if part == BUILDING and _LETTER.fullmatch(value):
        return value.upper()
    if not (value.isascii() and value.isdigit()):
        return None
    value = value.lstrip("0")
    return value if value and len(value) <= WIDTH[part] else None


def flat_key(building: str, unit: str, room: str) -> str:
    """3-2-501: how a flat is named in one string (reports, the per-flat binding attempt count)."""
    return f"{building}-{unit}-{room}"


# 3-2-501, 3/2/501, 3－2－501: three parts with one separator between each.
_SEPARATED = re.compile(r"([^-/－—]+)[-/－—]([^-/－—]+)[-/－—]([^-/－—]+)")
# 3号楼2单元501室, A座1单元1502, 3栋2单元0501: the building's marker, the unit's marker, the room.
_MARKED = re.compile(r"(.+?(?:号楼|号院|栋|幢|座|楼|号|#))(.+?(?:单元|门洞))(.+)")


def parse_flat(text: str) -> tuple[str, str, str] | None:
    """A whole flat written in one string, as staff type it into a search box: 3-2-501 or
    3号楼2单元501室 → ("3", "2", "501"); None unless every part is one (see address_part).
    Chinese numerals (三号楼) are the chat assistant's business (bot/text), not a search box's."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    found = _SEPARATED.fullmatch(value) or _MARKED.fullmatch(value)
    if found is None:
        return None
    parts = tuple(address_part(p, part) for p, part in zip(found.groups(), PARTS, strict=True))
    return parts if all(parts) else None  # type: ignore[return-value]
