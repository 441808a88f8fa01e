"""The pure parsers behind the HTTP edges, on any input: only their own refusals, never a crash.

Protects: an SMS provider's push (owners' replies, receipts) is read into replies and receipts
or refused with ``Refused`` (which the channel answers with a 4xx), never another exception;
a mobile number is read as exactly 11 ASCII digits starting with 1, or not at all, whatever
script the digits are written in. (The text rules under bot/ run in Rasa's environment and
are fuzzed there.)
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from common.phones import normalize_mobile, same_mobile
from connectors.sms import pushes
from tests.fuzz import strategies as fz
from tests.fuzz.conftest import CASES, FAST_FACTOR

# hypothesis warns when it prints a huge failing input; the inputs are huge on purpose
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

FAST = settings(max_examples=settings().max_examples * FAST_FACTOR)

ITEM_FIELDS = {
    "phone_number": st.sampled_from(["13800000501", "+86 138-0000-0501", "١٣٨٠٠٠٠٠٥٠١", "x"]) | fz.text,
    "content": fz.text,
    "send_time": fz.text,
    "sequence_id": st.integers() | fz.text,
    "mobile": st.sampled_from(["13800000501", "0086 13800000501"]) | fz.text,
    "nationcode": st.sampled_from(["86", "1", "", "٨٦"]) | st.integers(),
    "text": fz.text,
    "time": st.integers() | fz.text,
    "biz_id": fz.text | st.integers(),
    "success": st.booleans() | fz.json_values,
    "err_code": fz.text,
    "err_msg": fz.text,
    "sms_size": st.sampled_from(["1", "2", "٣", "99999"]) | st.integers(),
    "sid": fz.text,
    "report_status": st.sampled_from(["SUCCESS", "FAIL"]) | fz.text,
    "errmsg": fz.text,
    "description": fz.text,
}
item = st.fixed_dictionaries({}, optional={k: v | fz.json_values for k, v in ITEM_FIELDS.items()})
push_bodies = st.one_of(
    st.lists(item, min_size=1, max_size=5).map(lambda items: json.dumps(items).encode()),
    item.map(lambda one: json.dumps(one).encode()),
    fz.bodies,
)


@FAST
@given(provider=st.sampled_from(["aliyun", "tencent"]), body=push_bodies)
@example(provider="aliyun", body=b"[" * 2_000)  # past the JSON parser's recursion limit: once a RecursionError
@example(provider="tencent", body=b'{"mobile":"13000000158","text":"\\ud800","time":0}')  # once a UnicodeEncodeError
@example(provider="aliyun", body=b'[{"phone_number":"13800000501","content":"\\udfff","send_time":"t"}]')
def test_a_push_is_read_or_refused_never_a_crash(provider, body):
    CASES["parser"] += 1
    for read in (pushes.replies, pushes.receipts):
        try:
            found = read(provider, body)
        except pushes.Refused as refused:
            assert 400 <= refused.status < 500
            continue
        assert found
        for one in found:
            if isinstance(one, pushes.Reply):
                assert one.mobile.isascii() and one.mobile.isdigit() and len(one.mobile) == 11
                assert isinstance(one.text, str) and one.key.startswith(provider)
            else:
                assert isinstance(one.message_id, str) and one.message_id
                assert one.parts is None or one.parts >= 0


digits = st.sampled_from("0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९")
separators = st.sampled_from([" ", "-", ".", "/", "(", ")", "\u3000", ""])
phone_like = st.lists(st.one_of(digits, separators), max_size=25).map("".join)


# A mobile-shaped text: 1, 3-9, nine digits, each in any script, with separators between.
mobile_like = st.tuples(
    st.sampled_from(["1", "１", "١", "१"]),
    st.sampled_from(["3", "8", "９", "٨", "८"]),
    st.lists(st.tuples(separators, digits).map("".join), min_size=9, max_size=9).map("".join),
).map("".join)


@FAST
@given(
    text=st.one_of(
        phone_like,
        mobile_like,
        st.text(max_size=40),
        st.tuples(st.sampled_from(["+86", "0086", "86", "+1"]), mobile_like).map("".join),
    )
)
@example("13٨٠٠٠٠٠٥٠١")  # Arabic-Indic digits: once returned as they were, and stored so
@example("13८००००0501")
def test_a_mobile_number_is_eleven_ascii_digits_or_none(text):
    CASES["parser"] += 1
    found = normalize_mobile(text)
    if found is not None:
        assert found.isascii() and found.isdigit() and len(found) == 11 and found[0] == "1", (text, found)
        assert same_mobile(text, found)


def test_a_mobile_number_in_any_script_is_the_same_number():
    assert normalize_mobile("13٨٠٠٠٠٠٥٠١") == normalize_mobile("١٣٨-٠٠٠٠-٠٥٠١") == "13800000501"
