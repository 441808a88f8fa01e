"""Start Rasa (`rasa run …`) with its API token taken from the environment, not the command line.

A process's command line is visible to every local user (`ps`), and Rasa's token lets anyone
load a model with `PUT /model`. Rasa reads the token only from `--auth-token`, so this wrapper
puts it into ``sys.argv`` inside the process, which leaves /proc/<pid>/cmdline as it was.

It also validates the action server's answers with one validator built once
(:func:`validate_action_results_once`): Rasa 3.6 calls ``jsonschema.validate`` for every custom
action, which first checks the *schema* against the draft 2020-12 meta-schema each time; under
load that was a quarter of Rasa's CPU (py-spy, bench/NOTES.md "Time budget of one turn").
"""

from __future__ import annotations

import os
import sys


def rasa_argv(argv: list[str], env: dict[str, str]) -> list[str]:
    """Rasa's arguments with the token from WUYE_RASA_TOKEN, as one word (a token may start with "-")."""
    token = env.get("WUYE_RASA_TOKEN")
    if not token:
        raise SystemExit("WUYE_RASA_TOKEN is not set: Rasa's API would be open to anyone on this machine")
    return ["rasa", *argv, f"--auth-token={token}"]


def validate_action_results_once() -> None:
    """Make Rasa validate each action server answer against a validator built once.

    Same schema, same acceptance, same error: an answer the validator rejects goes through Rasa's
    own method, which raises its ValidationError with its explanation. Only the schema's check
    against the meta-schema, the same every time, is not repeated.
    """
    from jsonschema import validators  # noqa: PLC0415 - only in Rasa's environment
    from rasa.core.actions.action import RemoteAction  # noqa: PLC0415

    original = RemoteAction._validate_action_result
    if getattr(original, "validator", None) is not None:  # already done
        return
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)  # once, as jsonschema.validate would have each time
    validator = cls(spec)

    def validate(self: RemoteAction, result: dict) -> bool:
        if validator.is_valid(result):
            return True
        return original(self, result)  # raises Rasa's ValidationError, explained

    validate.validator = validator  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate


def main() -> None:
    sys.argv = rasa_argv(sys.argv[1:], dict(os.environ))
    from rasa.__main__ import main as rasa_main  # noqa: PLC0415 - only in Rasa's environment

    validate_action_results_once()
    rasa_main()


if __name__ == "__main__":
    main()
