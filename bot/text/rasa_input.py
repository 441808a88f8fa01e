"""Owner text must never be taken for Rasa's ``/intent{...}`` shortcut syntax.

Rasa treats a message starting with "/" as a command (``/restart`` would wipe the
conversation, ``/inform{"room": "1"}`` would inject entities). A leading "/" is
swapped for the full-width "／" of the same length, which the normaliser turns back
into "/" after Rasa's shortcut check, so offsets and understanding are unchanged.
"""

from __future__ import annotations


def as_plain_text(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("/"):
        cut = len(text) - len(stripped)
        return text[:cut] + "／" + stripped[1:]
    return text
