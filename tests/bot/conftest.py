"""Rasa-side fixtures: the trained model is loaded once for the whole session."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "current.tar.gz"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def parser():
    """The model behind `make parse`, loaded once (loading takes seconds, parsing milliseconds)."""
    from bot.parse import Parser

    assert MODEL.exists(), "train first: make train"
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return Parser(MODEL)


@pytest.fixture
def now() -> datetime:
    """A fixed Saturday morning in Shanghai for deterministic time parsing."""
    return datetime(2026, 11, 21, 10, 30, tzinfo=TZ)
