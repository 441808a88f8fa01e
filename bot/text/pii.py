"""Keep owners' phone numbers, ID numbers, addresses, names and chat ids out of log files.

Logs are read by more people than the ticket store and kept longer, so every process
(gateway, action server, Rasa) calls :func:`install_log_masking` at start-up. Detection
reuses the entity rules (and the normaliser, so 幺三八… in a transcript is caught too),
and common.phones' rule for what a mobile is.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator

from bot.text.entities import Taken, extract_address, extract_phones, extract_plates
from bot.text.names import extract_person_names
from bot.text.normalize import normalize
from common.masking import masked as _masked
from common.phones import SEPARATOR, normalize_mobile

# Eleven digits with up to two separators between any two (1 3 8 1 2 3 4 …, 1381 234 5678):
# the entity rule reads the usual groupings only, and a log must not show the others either.
_MOBILE_LIKE = re.compile(rf"(?<!\d)1(?:{SEPARATOR}{{0,2}}\d){{10}}(?!\d)")
# 身份证: 6 digits of region, the birth date, 3 of sequence and a check digit (or X).
_ID_NUMBER = re.compile(
    r"(?<!\d)[1-9]\d{5}\s?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?\d{3}[\dXx](?!\d)"
)
# A chat id ("<channel>:<id>", the web chat's id is also its conversation's secret) where logs
# show one: a path segment (":" or "%3A"; not a host:port after "//"), the web chat's
# /api/chat/<id>, a sender (or WeChat's openid) query parameter, a sender field of a dumped body or tracker.
# Rasa's token travels in its URLs' query (?token=…) and is masked with them.
_CHAT_ID = re.compile(
    r"""(?P<keep>(?<![/:])/[a-z][a-z0-9_]{1,31}(?::|%3[Aa])|/api/chat/"""
    r"""|\b(?:sender|sender_id|token|openid)=|["'](?:sender|sender_id|recipient_id)["']\s*:\s*["'])"""
    r"""(?P<id>[^/?#&\s"']+)"""
)


def _found(norm: str) -> Iterator[tuple[int, int, int, int]]:
    """Where personal data stands in normalised text: start, end, and how much to keep of its head and tail."""
    for e in extract_phones(norm):
        yield e.start, e.end, 3, 4
    for m in _MOBILE_LIKE.finditer(norm):
        if normalize_mobile(m.group()) is not None:
            yield *m.span(), 3, 4
    for m in _ID_NUMBER.finditer(norm):
        yield *m.span(), 0, 0
    for e in extract_plates(norm):
        yield e.start, e.end, 2, 0
    for e in extract_address(norm):
        if e.entity != "public_area":
            yield e.start, e.end, 0, 0
    for start, end in extract_person_names(norm):
        yield start, end, 1, 0


def mask_pii(text: str) -> str:
    """Replace phones (138****5678), ID numbers, address numbers, plates, names (张*) and chat ids in ``text``."""
    if not text:
        return text
    text = _CHAT_ID.sub(lambda m: m["keep"] + "***", text)
    mapped = normalize(text)
    spans = [(*mapped.to_original(start, end), head, tail) for start, end, head, tail in _found(mapped.text)]
    out = list(text)  # masking keeps lengths: each span is rewritten in place
    taken = Taken(len(text))
    for start, end, head, tail in sorted(spans, key=lambda s: s[0], reverse=True):
        if taken.overlaps(start, end):
            continue
        taken.take(start, end)
        out[start:end] = _masked(text[start:end], head, tail)
    return "".join(out)


MAX_LOGGED = 2000


def _cut(text: str, limit: int = MAX_LOGGED) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} characters not logged]"


def _cut_traceback(exc_info) -> str:
    """A traceback in MAX_LOGGED characters: its end kept, the innermost frames and the exception's
    type and message (the start of that message when it alone is too long); the outer frames go."""
    text = logging.Formatter().formatException(exc_info)
    if len(text) <= MAX_LOGGED:
        return text
    exception = "".join(traceback.format_exception_only(*exc_info[:2])).rstrip("\n")
    if not text.endswith(exception):  # pragma: no cover - formatException ends with it
        exception = text.rsplit("\n", 1)[-1]
    frames = text[: len(text) - len(exception)]
    exception = _cut(exception, MAX_LOGGED // 2)
    kept = frames[max(0, len(frames) - (MAX_LOGGED - len(exception))) :]
    if len(kept) < len(frames):
        kept = kept[kept.find("\n") + 1 :]  # whole lines only
    dropped = len(frames) - len(kept)
    return (f"[{dropped} characters not logged]\n" if dropped else "") + kept + exception


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
        record.exc_text = mask_pii(_cut_traceback(record.exc_info))
        record.exc_info = None
    return record


# Access loggers put the request line in the record's extra fields (sanic: "request"), which are
# set after the record factory ran; a filter on the logger masks them before any handler writes.
ACCESS_LOGGERS = ("sanic.access", "aiohttp.access")
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def mask_extras(record: logging.LogRecord) -> bool:
    """Logging filter: mask the text a record carries in extra fields; never drops the record."""
    for name, value in list(vars(record).items()):
        if name not in _RECORD_FIELDS and isinstance(value, str):
            setattr(record, name, mask_pii(_cut(value)))
    return True


def install_log_masking() -> None:
    """Mask every log record this process creates from now on, whatever logger or handler
    writes it (sanic and Rasa attach handlers of their own, some after start-up), and the
    request lines of the access logs."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_pii", False):
        return

    def masked(*args, **kwargs) -> logging.LogRecord:
        return mask_record(make_record(*args, **kwargs))

    masked.masks_pii = True
    logging.setLogRecordFactory(masked)
    for name in ACCESS_LOGGERS:
        logging.getLogger(name).addFilter(mask_extras)
