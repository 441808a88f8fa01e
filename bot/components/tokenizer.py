"""Rasa component: jieba without whitespace tokens (RasaHQ/rasa#7910), numbers masked."""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import rules_fingerprint
from bot.text.entities import placeholder_spans


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=True)
class SpacelessJiebaTokenizer(JiebaTokenizer):
    """jieba without the ' ' tokens it passes through (我家 wifi 坏了 broke featurisation),
    and with what an owner names reduced to what it is.

    Which flat, phone or plate an owner gives says nothing about what they want, but
    *that* they gave one does: 3号楼2单元501 becomes one ``address`` token (phone and
    plate likewise), and other digits become 0. Only the features see this; entities
    are read from the text itself.
    """

    @classmethod
    def fingerprint_addon(cls, config: dict) -> str | None:
        """jieba's own (its dictionary) and our rules' (placeholders come from bot/text)."""
        return f"{super().fingerprint_addon(config)}:{rules_fingerprint()}"

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = [t for t in super().tokenize(message, attribute) if t.text.strip()]
        text = message.get(attribute) or ""
        spans = placeholder_spans(text) if attribute == TEXT else []
        out: list[Token] = []
        for token in tokens:
            span = next(((s, e, kind) for s, e, kind in spans if s <= token.start < e), None)
            if span is None:
                out.append(Token(_DIGIT.sub("0", token.text), token.start, token.end, token.data, token.lemma))
            elif not out or out[-1].start < span[0]:  # first token of the span stands for all of it
                out.append(Token(span[2], span[0], span[1]))
        return out or [Token(text, 0, len(text))]  # an all-space text still needs one token


_DIGIT = re.compile(r"\d")
