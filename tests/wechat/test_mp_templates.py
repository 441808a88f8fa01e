"""WeChat template messages as the operator writes them in content (wechat_templates): checked when the
file loads, filled from a notification's fields within the platform's limits.

Protects: a placeholder typo or a missing template id failing at load (the last good content stays
in use), not in front of an owner; times written as the operator asks; long values cut to what each
kind of template field takes; the platform never getting an empty value.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from backend_bridge.adapters.content import ContentError, MessageTemplate, parse_content
from connectors.wechat.messages import split_text, template_data
from tests.conftest import CONTENT

COMPANY = yaml.safe_load((CONTENT / "company.yml").read_text(encoding="utf-8"))


def with_templates(section: object) -> dict:
    doc = copy.deepcopy(COMPANY)
    doc["wechat_templates"] = section
    return doc


def test_the_shipped_content_has_no_templates_and_needs_none():
    assert parse_content(COMPANY).wechat_templates == {}


def test_a_template_is_read_with_its_fields_and_link():
    content = parse_content(
        with_templates(
            {"ticket_resolved": {"template_id": "T1", "fields": {"thing1": "{summary}"}, "url": "https://x"}}
        )
    )
    assert content.wechat_templates == {"ticket_resolved": MessageTemplate("T1", {"thing1": "{summary}"}, "https://x")}


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ({"ticket_resolved": {"fields": {"thing1": "{number}"}}}, "template_id"),
        ({"ticket_resolved": {"template_id": "T1"}}, "fields"),
        ({"ticket_resolved": {"template_id": "T1", "fields": {"thing1": "{numbr}"}}}, "numbr"),
        ({"ticket_resolved": {"template_id": "T1", "fields": {"thing1": "{number"}}}, "not a valid template"),
        (["ticket_resolved"], "must map"),
    ],
)
def test_a_mistake_in_a_template_fails_when_the_content_loads(section, complaint):
    with pytest.raises(ContentError, match=complaint):
        parse_content(with_templates(section))


def test_template_data_writes_times_as_asked_cuts_long_values_and_never_leaves_one_empty():
    template = MessageTemplate(
        "T",
        {
            "character_string1": "{number}",
            "thing2": "{summary}",
            "time3": "{expected_at:%m月%d日 %H:%M}",
            "time4": "{at}",
            "phrase5": "{status_label}",
            "thing6": "{assignee}",
            "thing7": "{text}",
        },
    )
    fields = {
        "number": "BX000001",
        "summary": "厨房水管漏水，已经流到楼下邻居家的天花板上了，请尽快",
        "expected_at": "2026-11-21T12:30:00+08:00",
        "at": "2026-11-21T10:30:00+08:00",
        "status_label": "已处理完，待您评价",
    }
    assert template_data(template, fields, "您的工单已处理完。") == {
        "character_string1": "BX000001",
        "thing2": "厨房水管漏水，已经流到楼下邻居家的天花…",
        "time3": "11月21日 12:30",
        "time4": "2026-11-21 10:30",
        "phrase5": "已处理完，",
        "thing6": "-",
        "thing7": "您的工单已处理完。",
    }


@pytest.mark.parametrize("text", ["短", "漏水" * 700, "第一行\n" * 600, "a" * 5000, "😀" * 1000])
def test_split_text_keeps_every_character_in_parts_of_at_most_2048_bytes(text):
    parts = split_text(text)
    assert all(0 < len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
