"""Rasa component (last in the pipeline): hand back the owner's own text.

Everything before it worked on normalised text; callers (the tracker, `make parse`,
the actions) must see entity offsets into what the owner actually wrote.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.components.keys import TEXT_MAP

# Values that are the owner's words rather than a normal form.
VERBATIM = {"person_name"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class OriginalTextRestorer(RuleComponent):
    """Maps entity start/end back to the original text and restores TEXT."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            mapped = message.get(TEXT_MAP)
            if mapped is None:
                continue
            entities = []
            for entity in message.get(ENTITIES, []):
                start, end = mapped.to_original(entity["start"], entity["end"])
                restored = {**entity, "start": start, "end": end}
                if entity.get("entity") in VERBATIM:
                    restored["value"] = mapped.original[start:end]
                entities.append(restored)
            message.set(ENTITIES, entities, add_to_output=True)
            message.set(TEXT, mapped.original)
            message.data.pop(TEXT_MAP, None)
        return messages
