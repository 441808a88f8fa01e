"""The one mainland-mobile rule (common.phones), and the three places that use it agreeing on it.

The chat assistant, the roster import and the binding check each used to carry their own
copy, and the copies differed (0086 was read by two of them, not by the binding check).
Here every accepted form is pinned down once, then fed to all three users.
"""

from __future__ import annotations

import pytest

from backend_bridge.domain.model import Owner, Room
from backend_bridge.service_layer import imports
from bot.text.entities import extract_phones
from common.phones import is_mobile, normalize_mobile, same_mobile

WRITTEN = [
    "13800000501",
    "138 0000 0501",
    "138-0000-0501",
    "138.0000.0501",
    "138/0000/0501",
    "(138) 0000 0501",
    "+86 138-0000-0501",
    "+8613800000501",
    "0086 13800000501",
    "0086-138-0000-0501",
    "86 13800000501",
    "8613800000501",
    "１３８００００05０１",  # a Chinese IME's full-width digits
    " 138 0000 0501 ",
]
NOT_A_MOBILE = [
    "",
    "   ",
    "电话",
    "---",
    "1380000050",  # ten digits
    "138000005012",  # twelve
    "12800000501",  # no mobile starts with 12
    "010-12345678",  # a landline
    "13800000501/13900000000",  # two numbers: which one?
    "1.38E+10",  # Excel's rendering of a number cell
    "+13800000501",  # a plus without the country code
    "08613800000501",
    "00868613800000501",  # 0086 and 86 in one
    "8613800000501x",
    "电话13800000501",
]


@pytest.mark.parametrize("text", WRITTEN)
def test_every_usual_way_of_writing_a_mobile_gives_its_eleven_digits(text):
    assert normalize_mobile(text) == "13800000501"
    assert is_mobile(text)


@pytest.mark.parametrize("text", NOT_A_MOBILE)
def test_anything_but_one_mainland_mobile_is_none(text):
    assert normalize_mobile(text) is None
    assert not is_mobile(text)


def test_same_mobile_compares_however_each_side_is_written():
    assert same_mobile("0086 138-0000-0501", "13800000501")
    assert same_mobile("13800000501", "+86 138 0000 0501")
    assert not same_mobile("13800000502", "13800000501")


@pytest.mark.parametrize(("given", "on_file"), [("", ""), ("电话", "电话"), ("---", "")])
def test_two_unreadable_phones_are_not_the_same(given, on_file):
    assert not same_mobile(given, on_file)


# -- the three users agree ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["13800000501", "+86 138 0000 0501", "0086 138 0000 0501", "0086-13800000501"])
def test_the_assistant_the_import_and_the_binding_check_read_a_phone_alike(text):
    """0086 was read by the assistant and the import but not by the binding check: an owner
    imported from 0086 13800000501 who typed it the same way could not bind."""
    [found] = extract_phones(f"我的手机{text}")
    assert found.value == "13800000501"
    cells = {"building": "3", "unit": "2", "room": "501", "name": "张伟", "phone": text}
    entry = imports._roster_row(imports._Row(imports.ImportRow(2, cells), {}))
    assert entry is not None and entry.phone == "13800000501"
    room = Room("3", "2", "501", owners=[Owner("张伟", "13800000501", id=1)])
    owner = room.phone_matches(text)
    assert owner is not None and owner.id == 1
