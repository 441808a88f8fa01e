"""Places and times as owners and staff read them (common/wording.py), the same from every side.

Protects: the address the assistant reads back before a ticket exists is the one written on the
ticket (both use describe_place); times read as 11月22日 15:00 in the community's time zone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.domain.model import Location
from common.wording import describe_place, local_time

PLACES = [
    (("3", "2", "501", None), "3号楼2单元501"),
    (("A", "1", "1203", None), "A座1单元1203"),
    (("B", None, None, None), "B座"),
    (("5", None, None, None), "5号楼"),
    ((None, None, None, "地下车库"), "地下车库"),
    (("2", None, None, "电梯厅"), "2号楼 电梯厅"),
    (("2", "1", None, "楼道"), "2号楼1单元 楼道"),
    (("", "", "", ""), "待确认"),
    ((None, None, None, None), "待确认"),
]


@pytest.mark.parametrize(("parts", "text"), PLACES)
def test_a_place_reads_like_an_address(parts, text):
    assert describe_place(*parts) == text


@pytest.mark.parametrize(("parts", "text"), PLACES)
def test_a_ticket_s_location_is_worded_as_the_assistant_words_it(parts, text):
    assert Location(*parts).describe() == describe_place(*parts) == text


def test_times_read_as_month_day_and_clock_in_the_given_zone():
    when = datetime(2026, 11, 22, 7, 5, tzinfo=timezone.utc)
    assert local_time(when, ZoneInfo("Asia/Shanghai")) == "11月22日 15:05"
    assert local_time(when) == "11月22日 07:05"  # no zone: as given
    assert local_time(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), ZoneInfo("Asia/Shanghai")) == "1月1日 07:30"
