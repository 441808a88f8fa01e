"""ops/rasa_run.py's validation of the action server's answers, in Rasa's environment.

Protects: with the validator built once, Rasa still accepts every well-formed answer and
rejects a malformed one with its own ValidationError and explanation, and the schema is no
longer checked against the meta-schema on every action (issue 14: a quarter of Rasa's CPU).
"""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

from ops.rasa_run import validate_action_results_once

GOOD = {"events": [{"event": "slot", "name": "building", "value": "3"}], "responses": [{"text": "好的"}]}
BAD = {"events": "not a list", "responses": []}


@pytest.fixture
def remote_action(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    return RemoteAction("action_answer_fee", None)


def test_answers_are_judged_as_rasa_judges_them(remote_action):
    assert remote_action._validate_action_result(GOOD) is True
    with pytest.raises(ValidationError) as rasa_says:
        remote_action._validate_action_result(BAD)

    validate_action_results_once()
    assert remote_action._validate_action_result(GOOD) is True
    with pytest.raises(ValidationError) as now_says:
        remote_action._validate_action_result(BAD)
    assert now_says.value.message == rasa_says.value.message  # Rasa's explanation, word for word


def test_the_schema_is_checked_once_not_on_every_answer(remote_action, monkeypatch):
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    checks = []
    check = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, **kw: checks.append(1) or check(c, s, **kw)))

    for _ in range(3):
        remote_action._validate_action_result(GOOD)
    assert len(checks) == 3  # Rasa's own way: every answer

    checks.clear()
    validate_action_results_once()
    for _ in range(3):
        remote_action._validate_action_result(GOOD)
    assert len(checks) == 1  # once, when the validator was built
