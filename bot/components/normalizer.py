"""Rasa component: normalise the owner's text before the tokenizer sees it."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.base import RuleComponent
from bot.components.keys import TEXT_MAP
from bot.text.normalize import normalize
from bot.text.pii import install_log_masking


# Registered as a tokenizer-type step: in Rasa 3.6 only tokenizers and featurizers
# may rewrite training data, and the normaliser must rewrite it exactly as it
# rewrites live messages. It is not a Tokenizer subclass, so the one-tokenizer rule holds.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class ChineseNormalizer(RuleComponent):
    """Replaces TEXT with its normal form and keeps the map back to the original."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        # The first component Rasa creates: the earliest point our code runs in the Rasa
        # process, so its logs (which quote owners' messages on errors) get masked too.
        install_log_masking()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                mapped = normalize(text)
                message.set(TEXT, mapped.text)
                message.set(TEXT_MAP, mapped)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise examples and move their entity annotations onto the new text."""
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not isinstance(text, str):
                continue
            mapped = normalize(text)
            example.set(TEXT, mapped.text)
            entities = []
            for entity in example.get(ENTITIES) or []:
                span = mapped.from_original(entity["start"], entity["end"])
                if span is not None:
                    entities.append({**entity, "start": span[0], "end": span[1]})
            if example.get(ENTITIES):
                example.set(ENTITIES, entities)
        return training_data
