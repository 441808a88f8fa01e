"""What a hostile client sends: JSON of any shape, bytes, wrong content types, odd headers.

JSON bodies are mostly objects whose keys are the fields our routes read (so the fuzz reaches
the handlers' field checks and the domain behind them, not just the JSON parser), with values
of any type: nested structures, integers far past 64 bits, strings with NUL and lone
surrogates, dates that are not dates. Raw bodies add what json.dumps cannot make: nesting past
the parser's recursion limit, integers past Python's 4,300-digit conversion limit, invalid
UTF-8, NaN.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Every field name a route reads from a body (bot API, staff API, web chat, webhook, pushes).
FIELDS = [
    "sender",
    "text",
    "message_id",
    "community",
    "kind",
    "description",
    "intake",
    "priority",
    "building",
    "unit",
    "room",
    "public_area",
    "contact",
    "assignee",
    "expected_at",
    "status",
    "note",
    "into",
    "username",
    "name",
    "role",
    "communities",
    "wecom_userid",
    "hazard",
    "anonymous",
    "phone",
    "time_kind",
    "visitor_name",
    "start",
    "end",
    "plate",
    "reason",
    "event_id",
    "ticket_id",
]
# Every query parameter a route reads.
QUERY = [
    "after",
    "assignee",
    "overdue",
    "building",
    "status",
    "community",
    "sender",
    "open",
    "item",
    "replace",
    "dry_run",
    "limit",
]

HOSTILE_TEXT = ["\x00", "\ud800", "\udfff", "\ufeff", "\u202e", "../", "%00", "' OR 1=1 --", "3-2-501", "BX000001"]
PLAUSIBLE = [
    "webchat:a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6",
    "a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6",
    "repair",
    "complaint",
    "in_progress",
    "resolved",
    "closed",
    "cancelled",
    "dispatched",
    "agent",
    "technician",
    "admin",
    "shifan",
    "yangguang",
    "3",
    "2",
    "501",
    "13800000501",
    "2026-11-21T15:00:00+08:00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00",
    "point",
    "range",
    "电梯",
    "厨房漏水",
]

_chars = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
text = st.one_of(
    st.sampled_from(HOSTILE_TEXT + PLAUSIBLE),
    st.text(_chars, max_size=40),
    st.lists(st.sampled_from([*HOSTILE_TEXT, "a", "中", " "]), max_size=20).map("".join),
    st.integers(0, 3000).map(lambda n: "下午" * n),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.sampled_from(FIELDS) | text, children, max_size=5)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.sampled_from(FIELDS) | text, json_values, max_size=8)


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


raw_hostile = st.one_of(
    st.binary(max_size=300),
    st.integers(1, 60_000).map(lambda n: b"[" * n),
    st.integers(1, 20_000).map(lambda n: b'{"a":' * n),
    st.integers(4_000, 20_000).map(lambda n: b'{"sender": "x", "text": "hi", "n": ' + b"9" * n + b"}"),
    st.sampled_from([b"", b"null", b"[]", b"{}", b'"x"', b"0", b"NaN", b"\xff\xfe{}", b'{"text": "\\ud800"}']),
)
bodies = st.one_of(json_objects.map(_dumps), json_objects.map(_dumps), json_values.map(_dumps), raw_hostile)

content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=gbk",
        "text/plain",
        "text/csv",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "garbage/;;;",
    ]
)
# Header values a real client can send (printable ASCII), up to near aiohttp's 8,190-byte field limit.
_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=64)
header_values = st.one_of(_header_text, st.integers(0, 8000).map(lambda n: "x" * n))
extra_headers = st.dictionaries(
    st.sampled_from(["X-Forwarded-For", "X-Request-Id", "Accept-Language", "User-Agent", "Cookie", "X-Anything"]),
    header_values,
    max_size=3,
)
# What a URL can carry: any text that has a UTF-8 encoding (lone surrogates have none).
_url_text = st.text(st.characters(codec="utf-8"), max_size=30)
query_params = st.dictionaries(
    st.sampled_from(QUERY) | _header_text, st.one_of(st.sampled_from(PLAUSIBLE), _url_text), max_size=4
)
path_values = st.one_of(st.sampled_from(PLAUSIBLE), _header_text, _url_text)
