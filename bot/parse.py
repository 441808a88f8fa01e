"""Load a trained model once and parse owner messages with it (make parse, the NLU benchmark).

The output is the NLU contract: {"text", "intent", "confidence", "entities":
[{"entity", "value", "start", "end"}]}, offsets into the text as given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from bot.text.rasa_input import as_plain_text

# The gateway forwards at most this much of a message; parse the same way.
MAX_PARSE_CHARS = 2000


def _quiet() -> None:
    """stdout carries results only: every log goes to stderr, and only errors at that."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # First basicConfig wins: Rasa's later one (to stdout) becomes a no-op.
    logging.basicConfig(stream=sys.stderr, level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("rasa", "tensorflow", "jieba", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Parser:
    """A loaded Rasa model; ``parse`` is safe for any string, including empty and huge ones."""

    def __init__(self, model_path: Path) -> None:
        _quiet()
        from rasa.core.agent import Agent  # noqa: PLC0415 - heavy; only where a model is used
        from rasa.utils.log_utils import configure_structlog  # noqa: PLC0415

        configure_structlog(logging.WARNING)  # Rasa's debug events quote every message
        self._loop = asyncio.new_event_loop()
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for results only
            self._agent = Agent.load(str(model_path))
        _quiet()  # loading reconfigured some loggers

    def parse(self, text: str) -> dict:
        if not text.strip():
            return {"text": text, "intent": None, "confidence": 0.0, "entities": []}
        head = as_plain_text(text[:MAX_PARSE_CHARS])
        with contextlib.redirect_stdout(sys.stderr):
            result = self._loop.run_until_complete(self._agent.parse_message(head))
        intent = result.get("intent") or {}
        return {
            "text": text,
            "intent": intent.get("name"),
            "confidence": round(float(intent.get("confidence") or 0.0), 4),
            "entities": [
                {"entity": e["entity"], "value": e["value"], "start": e["start"], "end": e["end"]}
                for e in result.get("entities", [])
            ],
        }

    def parse_full(self, text: str) -> dict:
        """Rasa's whole parse result (ranking, extractor names), for diagnostics."""
        with contextlib.redirect_stdout(sys.stderr):
            return self._loop.run_until_complete(self._agent.parse_message(as_plain_text(text)))
