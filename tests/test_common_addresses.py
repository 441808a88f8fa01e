"""The one rule for a flat's parts (common.addresses), and the assistant and the import agreeing on it.

A flat imported from a roster is found later by what the assistant reads from an owner's
message; unless both read 0501 and A座 the same way, the owner's flat "does not exist".
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.service_layer import imports
from bot.text.entities import extract_address, extract_all
from common.addresses import MARKERS, address_part, flat_key, parse_flat


@pytest.mark.parametrize(
    ("text", "part", "expected"),
    [
        ("3", "building", "3"),
        ("3号楼", "building", "3"),
        ("12栋", "building", "12"),
        ("03", "building", "3"),
        ("２单元", "unit", "2"),
        ("501室", "room", "501"),
        ("0501", "room", "501"),
        (" 501 ", "room", "501"),
        ("0", "room", None),
        ("3-2-501", "room", None),
        ("123456789", "room", None),
        ("1" * 16, "building", "1" * 16),
        ("1" * 17, "building", None),
        # Read by the assistant before, and now by the import too:
        ("A座", "building", "A"),
        ("b栋", "building", "B"),
        ("Ａ座", "building", "A"),
        ("3#", "building", "3"),
        ("7号院", "building", "7"),
        ("2门洞", "unit", "2"),
        ("501号房", "room", "501"),
        ("AB座", "building", None),
        ("A", "unit", None),
        ("A", "room", None),
        ("000", "building", None),
        ("三号楼", "building", None),
        ("", "room", None),
        ("号楼", "building", None),
    ],
)
def test_a_part_is_digits_without_leading_zeros_or_a_building_letter(text, part, expected):
    assert address_part(text, part) == expected


def test_longer_markers_are_tried_before_their_tails():
    for markers in MARKERS.values():
        for i, marker in enumerate(markers):
            assert not any(marker.endswith(earlier) for earlier in markers[:i]), marker


def test_a_flat_key_is_building_unit_room_with_dashes():
    assert flat_key("3", "2", "501") == "3-2-501"


NOW = datetime(2026, 11, 21, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("message", "cells", "flat"),
    [
        # The assistant kept 0501 while the import stored 501; the import refused A座 the assistant read.
        ("3-2-0501 马桶堵了", ("3号楼", "2单元", "0501室"), ("3", "2", "501")),
        ("03栋2单元0501室", ("03", "2", "501"), ("3", "2", "501")),
        ("a座2单元1502", ("A座", "2", "1502"), ("A", "2", "1502")),
    ],
)
def test_the_assistant_reads_a_flat_as_the_import_stores_it(message, cells, flat):
    found = {e.entity: e.value for e in extract_all(message, NOW) if e.entity in ("building", "unit", "room")}
    assert (found["building"], found["unit"], found["room"]) == flat
    values = dict(zip(("building", "unit", "room"), cells, strict=True)) | {"name": "张伟", "phone": "13800000501"}
    entry = imports._roster_row(imports._Row(imports.ImportRow(2, values), {}))
    assert entry is not None and entry.address == flat


def test_a_zero_is_no_building():
    assert not [e for e in extract_address("0号楼漏水") if e.entity == "building"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3-2-501", ("3", "2", "501")),
        ("3/2/0501", ("3", "2", "501")),
        (" 3 - 2 - 501 ", ("3", "2", "501")),
        ("３－２－５０１", ("3", "2", "501")),  # full width, as a Chinese keyboard types it
        ("3号楼2单元501", ("3", "2", "501")),
        ("3栋2单元0501室", ("3", "2", "501")),
        ("A座1单元1502", ("A", "1", "1502")),
        ("12#3门洞101", ("12", "3", "101")),
        ("3号楼", None),
        ("3-2", None),
        ("3-2-501-1", None),
        ("0-2-501", None),
        ("3号楼2单元", None),
        ("BX000123", None),
        ("三号楼二单元五零一", None),  # the chat assistant reads numerals; a search box does not
        ("", None),
    ],
)
def test_a_whole_flat_in_one_string_as_staff_search_for_it(text, expected):
    assert parse_flat(text) == expected
