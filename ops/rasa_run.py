"""Start Rasa (`rasa run …`) with its API token taken from the environment, not the command line.

A process's command line is visible to every local user (`ps`), and Rasa's token lets anyone
load a model with `PUT /model`. Rasa reads the token only from `--auth-token`, so this wrapper
puts it into ``sys.argv`` inside the process, which leaves /proc/<pid>/cmdline as it was.
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


def main() -> None:
    sys.argv = rasa_argv(sys.argv[1:], dict(os.environ))
    from rasa.__main__ import main as rasa_main  # noqa: PLC0415 - only in Rasa's environment

    rasa_main()


if __name__ == "__main__":
    main()
