"""What our graph components share."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

_SOURCES = Path(__file__).resolve().parent.parent  # bot/: the components and the text rules they run
_COMMON = _SOURCES.parent / "common"  # rules bot/text shares with the backend (addresses, phones)


@lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """A hash of the code our components run (bot/ and common/).

    Rasa caches each graph node's output by its config and inputs, not by the code that made it:
    after a change to a text rule (a Cantonese word, a new entity pattern), ``rasa train`` would
    reuse the cached, stale normalised training data and keep the old model. With this in every
    component's fingerprint, a rule change retrains what depends on it.
    """
    return sources_fingerprint(_SOURCES.parent, [_SOURCES, _COMMON])


def sources_fingerprint(root: Path, folders: list[Path]) -> str:
    """A hash of every .py file under ``folders``: names (relative to ``root``) and contents."""
    digest = hashlib.sha256()
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class RuleComponent(GraphComponent):
    """A component with nothing to train or store: built from its config alone."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return rules_fingerprint()

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RuleComponent:
        return cls(config)
