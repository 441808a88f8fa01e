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


def preload_rasa() -> None:
    """Import Rasa and TensorFlow without running TensorFlow, so forked workers share the imports."""
    _quiet()
    import rasa.core.agent  # noqa: F401, PLC0415

    import bot.parse_batch  # noqa: F401, PLC0415


def tensorflow_started() -> bool:
    """Whether TensorFlow's runtime exists here (after it, a forked child hangs in its first op)."""
    if "tensorflow" not in sys.modules:
        return False
    from tensorflow.python.eager import context  # noqa: PLC0415

    current = context.context_safe()
    return current is not None and current._context_handle is not None


def _blank(text: str) -> dict:
    return {"text": text, "intent": None, "confidence": 0.0, "entities": []}


def _head(text: str) -> str:
    """What Rasa sees of a line: the gateway's cut, and never Rasa's /command syntax."""
    return as_plain_text(text[:MAX_PARSE_CHARS])


def _contract(text: str, result: dict) -> dict:
    """Rasa's parse data cut down to the NLU contract, offsets into ``text``."""
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


class Parser:
    """A loaded Rasa model; ``parse`` is safe for any string, including empty and huge ones."""

    def __init__(self, model_path: Path, tf_batch: int = 64) -> None:
        _quiet()
        self._batcher = None
        self._tf_batch = tf_batch
        from rasa.core.agent import Agent  # noqa: PLC0415 - heavy; only where a model is used
        from rasa.utils.log_utils import configure_structlog  # noqa: PLC0415

        configure_structlog(logging.WARNING)  # Rasa's debug events quote every message
        self._loop = asyncio.new_event_loop()
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for results only
            self._agent = Agent.load(str(model_path))
        _quiet()  # loading reconfigured some loggers

    def parse(self, text: str) -> dict:
        """One message through Rasa's processor, as the dialogue parses it."""
        if not text.strip():
            return _blank(text)
        with contextlib.redirect_stdout(sys.stderr):
            result = self._loop.run_until_complete(self._agent.parse_message(_head(text)))
        return _contract(text, result)

    def parse_many(self, texts: list[str]) -> list[dict]:
        """Many messages in one graph run (bot/parse_batch.py); the same answers as ``parse``."""
        if self._batcher is None:
            from bot.parse_batch import GraphBatcher  # noqa: PLC0415 - imports Rasa

            self._batcher = GraphBatcher(self._agent, self._tf_batch)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        with contextlib.redirect_stdout(sys.stderr):
            parsed = self._batcher.parse([_head(texts[i]) for i in todo])
        results = [_blank(text) for text in texts]
        for i, result in zip(todo, parsed, strict=True):
            results[i] = _contract(texts[i], result)
        return results

    def parse_full(self, text: str) -> dict:
        """Rasa's whole parse result (ranking, extractor names), for diagnostics."""
        with contextlib.redirect_stdout(sys.stderr):
            return self._loop.run_until_complete(self._agent.parse_message(as_plain_text(text)))
