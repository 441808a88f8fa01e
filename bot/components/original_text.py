"""Rasa component (last in the pipeline): hand back the owner's own text.

Everything before it worked on normalised text; callers (the tracker, `make parse`,
the actions) must see entity offsets into what the owner actually wrote.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.keys import TEXT_MAP

# Values that are the owner's words rather than a normal form.
VERBATIM = {"person_name"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class OriginalTextRestorer(GraphComponent):
    """Maps entity start/end back to the original text and restores TEXT."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OriginalTextRestorer:
        return cls()

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
