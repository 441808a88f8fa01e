"""Text rewrites that remember where every character came from.

Normalisation (full-width → half-width, traditional → simplified, 三号楼 → 3号楼,
filler removal) changes the text the model sees, but entity offsets handed back
to callers must index the text *as the owner wrote it*. Every rewrite therefore
goes through :class:`MappedText`, which keeps, for each current character, the
half-open span of the original text it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MappedText:
    """A rewritten text plus, per character, its ``(start, end)`` span in the original."""

    original: str
    text: str = field(init=False)
    spans: list[tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.text = self.original
        self.spans = [(i, i + 1) for i in range(len(self.original))]

    def replace(self, start: int, end: int, new: str) -> None:
        """Replace ``text[start:end]`` with ``new``; new characters inherit the union span.

        Replacing with ``""`` deletes; the deleted characters simply disappear from
        the map, so an entity can never start or end inside removed filler.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"bad range {start}:{end} for length {len(self.text)}")
        if start == end and not new:
            return
        if start < end:
            origin = (self.spans[start][0], self.spans[end - 1][1])
        else:  # pure insertion: anchor on the neighbouring character
            anchor = self.spans[start][0] if start < len(self.spans) else len(self.original)
            origin = (anchor, anchor)
        self.text = self.text[:start] + new + self.text[end:]
        self.spans[start:end] = [origin] * len(new)

    def apply(self, edits: list[tuple[int, int, str]]) -> None:
        """Apply non-overlapping edits given in current-text coordinates, in one pass."""
        if not edits:
            return
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        cursor = 0
        for start, end, new in sorted(edits):
            if start < cursor or end > len(self.text) or start > end:
                raise ValueError(f"overlapping or bad edit {start}:{end}")
            pieces.append(self.text[cursor:start])
            spans.extend(self.spans[cursor:start])
            if new:
                if start < end:
                    origin = (self.spans[start][0], self.spans[end - 1][1])
                else:
                    anchor = self.spans[start][0] if start < len(self.spans) else len(self.original)
                    origin = (anchor, anchor)
                pieces.append(new)
                spans.extend([origin] * len(new))
            cursor = end
        pieces.append(self.text[cursor:])
        spans.extend(self.spans[cursor:])
        self.text = "".join(pieces)
        self.spans = spans

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the current text back to the smallest covering original span."""
        if not self.spans:
            return (0, 0)
        start = max(0, min(start, len(self.spans) - 1))
        end = max(start + 1, min(end, len(self.spans)))
        return (self.spans[start][0], self.spans[end - 1][1])

    def from_original(self, start: int, end: int) -> tuple[int, int] | None:
        """Map an original span into current coordinates (for training annotations).

        Returns ``None`` when every character of the span was removed.
        """
        hits = [i for i, (s, e) in enumerate(self.spans) if s < end and e > start]
        if not hits:
            return None
        return (hits[0], hits[-1] + 1)
