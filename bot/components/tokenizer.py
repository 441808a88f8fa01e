"""Rasa component: jieba without whitespace tokens (RasaHQ/rasa#7910)."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=True)
class SpacelessJiebaTokenizer(JiebaTokenizer):
    """jieba passes ' ' through as tokens (我家 wifi 坏了); they break featurisation."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        kept = [t for t in tokens if t.text.strip()]
        return kept or tokens[:1]  # an all-space text still needs one token
