"""Keep owners' phone numbers, addresses and names out of log files.

Logs are read by more people than the ticket store and kept longer, so every
process installs :class:`PiiMaskingFilter` on its log handlers. Detection reuses the
entity rules (and the normaliser, so 幺三八… in a transcript is caught too).
"""

from __future__ import annotations

import logging

from bot.text.entities import extract_address, extract_phones, extract_plates
from bot.text.names import extract_person_names
from bot.text.normalize import normalize


def _masked(fragment: str, keep_head: int = 0, keep_tail: int = 0) -> str:
    if len(fragment) <= keep_head + keep_tail:
        return "*" * len(fragment)
    tail = fragment[len(fragment) - keep_tail :] if keep_tail else ""
    return fragment[:keep_head] + "*" * (len(fragment) - keep_head - keep_tail) + tail


def mask_pii(text: str) -> str:
    """Replace phones (138****5678), address numbers, plates and names (张*) in ``text``."""
    if not text:
        return text
    mapped = normalize(text)
    norm = mapped.text
    spans: list[tuple[int, int, int, int]] = []  # original start/end, keep head/tail
    for e in extract_phones(norm):
        spans.append((*mapped.to_original(e.start, e.end), 3, 4))
    for e in extract_plates(norm):
        spans.append((*mapped.to_original(e.start, e.end), 2, 0))
    for e in extract_address(norm):
        if e.entity != "public_area":
            spans.append((*mapped.to_original(e.start, e.end), 0, 0))
    for start, end in extract_person_names(norm):
        spans.append((*mapped.to_original(start, end), 1, 0))
    out = text
    taken: list[tuple[int, int]] = []
    for start, end, head, tail in sorted(spans, key=lambda s: s[0], reverse=True):
        if any(s < end and start < e for s, e in taken):
            continue
        taken.append((start, end))
        out = out[:start] + _masked(out[start:end], head, tail) + out[end:]
    return out


MAX_LOGGED = 2000


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record's message with :func:`mask_pii` before any handler sees it.

    Records longer than MAX_LOGGED characters are cut: they are dumps (rasa-sdk
    echoes a whole tracker when an action fails), useless to read and full of
    owners' messages.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            return True
        if len(message) > MAX_LOGGED:
            message = f"{message[:MAX_LOGGED]}… [{len(message) - MAX_LOGGED} characters not logged]"
            record.msg, record.args = message, ()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info:  # an exception's text can quote the same data (rasa's 500 bodies)
            trace = logging.Formatter().formatException(record.exc_info)
            if len(trace) > MAX_LOGGED:
                trace = f"{trace[:MAX_LOGGED]}… [{len(trace) - MAX_LOGGED} characters not logged]"
            record.exc_text, record.exc_info = mask_pii(trace), None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
            handler.addFilter(PiiMaskingFilter())
