"""Keep owners' phone numbers, addresses and names out of log files.

Logs are read by more people than the ticket store and kept longer, so every process
(gateway, action server, Rasa) calls :func:`install_log_masking` at start-up. Detection
reuses the entity rules (and the normaliser, so 幺三八… in a transcript is caught too).
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


def _cut(text: str) -> str:
    if len(text) <= MAX_LOGGED:
        return text
    return f"{text[:MAX_LOGGED]}… [{len(text) - MAX_LOGGED} characters not logged]"


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record's message and its exception text; cut dumps (rasa-sdk echoes a whole
    tracker when an action fails: useless to read and full of owners' messages)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string must not lose the record
        return record
    masked = mask_pii(_cut(message))
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info:  # an exception's text can quote the same data (rasa's 500 bodies)
        record.exc_text = mask_pii(_cut(logging.Formatter().formatException(record.exc_info)))
        record.exc_info = None
    return record


def install_log_masking() -> None:
    """Mask every log record this process creates from now on, whatever logger or handler
    writes it (sanic and Rasa attach handlers of their own, some after start-up)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_pii", False):
        return

    def masked(*args, **kwargs) -> logging.LogRecord:
        return mask_record(make_record(*args, **kwargs))

    masked.masks_pii = True
    logging.setLogRecordFactory(masked)
