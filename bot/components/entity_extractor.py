"""Rasa component: the rule-based entities of bot.text.entities."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.text.entities import extract_all

# Parsing a 10,000-character paste for times and names costs more than it tells us.
MAX_ENTITY_TEXT = 2000


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class PropertyEntityExtractor(EntityExtractorMixin, RuleComponent):
    """Adds building/unit/room/public_area, phone, plate, ticket_id, visit_time,
    person_name, hazard, fee_topic and number entities (normalised-text offsets)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"timezone": os.environ.get("WUYE_TIMEZONE", "Asia/Shanghai")}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._tz = ZoneInfo(config["timezone"])

    def process(self, messages: list[Message]) -> list[Message]:
        now = datetime.now(self._tz)
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            found = []
            for e in extract_all(text[:MAX_ENTITY_TEXT], now):
                entity = {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end}
                if e.extra:
                    entity["additional_info"] = e.extra
                found.append(entity)
            found = self.add_extractor_name(found)
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
