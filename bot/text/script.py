"""Traditional/simplified Chinese: detect which one an owner writes, convert either way.

One OpenCC build (the maintained C++ ``opencc`` wheel) serves both Python
environments. Replies go out with ``s2tw`` (為, 裡) rather than ``s2t`` (爲, 裏),
which is what most readers of traditional characters expect.
"""

from __future__ import annotations

from enum import Enum
from functools import cache

import opencc


class Script(str, Enum):
    SIMPLIFIED = "simplified"
    TRADITIONAL = "traditional"


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(f"{config}.json")


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _converter("s2tw").convert(text)


def detect_script(text: str) -> Script | None:
    """Which script the text is written in, or ``None`` when it cannot tell (你好, 501).

    Counts characters that only exist in one script: a traditional text changes
    under t2s, a simplified one under s2t. Ties (no script-specific characters) are
    undecided so the caller can keep the owner's previous preference.
    """
    simplified = to_simplified(text)
    traditional = _converter("s2t").convert(text)
    n_trad = sum(a != b for a, b in zip(text, simplified, strict=True)) if len(simplified) == len(text) else 0
    n_simp = sum(a != b for a, b in zip(text, traditional, strict=True)) if len(traditional) == len(text) else 0
    if n_trad > n_simp:
        return Script.TRADITIONAL
    if n_simp > n_trad:
        return Script.SIMPLIFIED
    return None


def render(text: str, script: Script | str | None) -> str:
    """Render a (simplified) reply in the owner's script."""
    return to_traditional(text) if script == Script.TRADITIONAL else text
