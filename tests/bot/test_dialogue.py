"""Rasa test stories (tests/test_stories.yml): the owner's words through NLU and the policies."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import ROOT


def test_story_predictions_all_correct(parser, tmp_path):
    from rasa.core.test import test as evaluate_stories

    agent = parser._agent
    result = asyncio.new_event_loop().run_until_complete(
        evaluate_stories(
            str(ROOT / "tests" / "test_stories.yml"),
            agent,
            out_directory=str(tmp_path),
            disable_plotting=True,
            e2e=False,  # intents and actions; entities are tested in test_parse and test_entities
        )
    )
    failed = (
        (tmp_path / "failed_test_stories.yml").read_text() if (tmp_path / "failed_test_stories.yml").exists() else ""
    )
    assert result["report"]["conversation_accuracy"]["accuracy"] == 1.0, failed
