"""The action server's /metrics, on the shared stack: it counts the actions Rasa called and the
bot API calls they made (rasa_sdk_plugins/ attaches it to rasa-sdk's app, actions/metrics.py
holds what is counted).

Protects: the plugin is found by rasa-sdk in the real action server process; each fee question
adds one ``action_answer_fee`` call answered ok and one timed call of the fee content route, with
the fee topic kept as a word and ids folded so labels stay few; the output parses as Prometheus
text. Counts only: timings are never asserted.
"""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def samples(stack) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.actions_port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def count(found: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


def test_each_fee_question_counts_one_action_call_and_its_backend_call(stack, owner):
    before = samples(stack)
    assert "2.20" in owner.said("物业费收费标准是多少")
    after = samples(stack)
    assert count(after, "wuye_action_seconds_count", action="action_answer_fee", outcome="ok") == (
        count(before, "wuye_action_seconds_count", action="action_answer_fee", outcome="ok") + 1
    )
    fee_calls = {
        dict(ls)["route"]
        for (n, ls), v in after.items()
        if n == "wuye_backend_call_seconds_count" and dict(ls)["route"].startswith("/bot/v1/content/fees/") and v
    }
    assert fee_calls, "the fee action's call to the bot API was not timed"
    assert all("{id}" not in route for route in fee_calls)  # a topic is a word, not an id
    grown = sum(count(after, "wuye_backend_call_seconds_count", route=r, outcome="ok") for r in fee_calls)
    earlier = sum(count(before, "wuye_backend_call_seconds_count", route=r, outcome="ok") for r in fee_calls)
    assert grown == earlier + 1
