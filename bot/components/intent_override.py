"""Rasa component: rules that must win over the statistical intent classifier.

* Safety: a message naming a hazard (gas smell, fire, people trapped in a lift…)
  is an emergency whatever DIET thinks, unless the owner is declining or plainly
  asking about an existing ticket; without one, DIET must be sure (UNSURE_EMERGENCY)
  and the message must show a sign of danger (bot/text/danger.py): an overconfident
  model must not page the duty staff for a stuck balcony door. A danger that is past and made
  safe (上周冒过火花 现在闸关了) or past and complained of (昨天电梯困人的事 必须给个说法) is not an
  emergency either, hazard word or not, nor is water that is no flood (a garden sprinkler, a seep
  when it rains): the model's next guess (a repair, usually) is taken.
* What the owner says outright, where the model follows the wrong part of a message
  (bot/text/intent_cues.py): a chase that restates the problem, a broken thing told in
  frustration, thanks with praise, asking for the office's phone number. Never over a hazard.
* Elderly-friendly menus: a bare 1-5 / 0 picks the numbered menu entry that the
  greeting and SMS replies offer (回复1报修 2投诉 3缴费 4访客 5查进度 0人工).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import RuleComponent
from bot.text.danger import danger_is_over, harmless_water, shows_danger
from bot.text.intent_cues import corrected_intent, only_tells_of_a_false_alarm

MENU = {
    "1": "report_repair",
    "2": "file_complaint",
    "3": "ask_fee",
    "4": "request_visitor_pass",
    "5": "check_status",
    "0": "request_human",
}
EMERGENCY_INTENT = "report_emergency"
FALLBACK_INTENT = "nlu_fallback"
# Intents a hazard word must not override: 没事了, 取消, 谢谢, 好的.
KEEP_WITH_HAZARD = {"deny", "cancel", "thank", "goodbye", "affirm"}
# The model alone, without a hazard word, must be this sure to call a message an emergency
# (喂喂喂有人吗 is a greeting); every emergency in the held-out sets that no rule caught scored 0.99+.
UNSURE_EMERGENCY = 0.8
# An emergency taken back (a danger explained away) leaves the model's next guess; below this it had
# none (a gas smell explained by a pot burnt dry: request_human at 0.0002), and a false alarm told with
# its reason and nothing asked is what it is, an inform, whatever that leftover guess was.
NO_SECOND_GUESS = 0.05
# A status question about a past hazard (上次着火那单怎么样了) stays one, but only when it says
# so: the model calling 暖气管爆了 满屋热水 a status check must not hide an emergency.
_ABOUT_A_TICKET = re.compile(
    r"[单單]|进度|進度|怎么样|怎麼樣|修[好了]?[没沒吗嗎]|处理[了好]?[没沒吗嗎]|處理[了好]?[沒嗎]|上次|之前|那次|"
    r"BX\d|TS\d|[报報]的|反映的|回访|回訪",
    re.IGNORECASE,
)


def _entity(message: Message, name: str) -> dict | None:
    return next((e for e in message.get(ENTITIES, []) if e.get("entity") == name), None)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class IntentOverride(RuleComponent):
    """Sets the intent for hazards and menu digits, keeping DIET's ranking below it."""

    @staticmethod
    def _demote(message: Message) -> None:
        """Take the model's next guess: an emergency skips every question and pages staff. An
        ambiguity (nlu_fallback) between an emergency and what is left is no ambiguity any more."""
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") not in (EMERGENCY_INTENT, FALLBACK_INTENT)
        ]
        if ranking:
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _force(message: Message, intent: str) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") != intent]
        chosen = {"name": intent, "confidence": 1.0}
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)

    @staticmethod
    def _unsure_of_emergency(message: Message) -> bool:
        """The fallback was chosen over an emergency: the model's best real guess was one."""
        real = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") != FALLBACK_INTENT]
        return bool(real) and real[0].get("name") == EMERGENCY_INTENT

    @staticmethod
    def _no_danger_now(message: Message) -> bool:
        """A danger that is over, or water that is no flood (a garden sprinkler, a seep when it
        rains) and nothing else: whatever the words, not for the duty staff."""
        text = message.get(TEXT) or ""
        if danger_is_over(text):
            return True
        hazards = {e.get("value") for e in message.get(ENTITIES, []) if e.get("entity") == "hazard"}
        return hazards <= {"flooding"} and harmless_water(text)

    def _read_cues(self, message: Message) -> None:
        """The owner's explicit words over a reading the model is known to confuse them with."""
        intended = corrected_intent(message.get(TEXT) or "", (message.get(INTENT) or {}).get("name"))
        if intended:
            self._force(message, intended)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            number = _entity(message, "number")
            if number and number["value"] in MENU:
                self._force(message, MENU[number["value"]])
                continue
            intent = message.get(INTENT) or {}
            current = intent.get("name")
            if self._no_danger_now(message):
                if current == EMERGENCY_INTENT or (current == FALLBACK_INTENT and self._unsure_of_emergency(message)):
                    self._demote(message)
                    guess = message.get(INTENT) or {}
                    if guess.get("confidence", 0) < NO_SECOND_GUESS and only_tells_of_a_false_alarm(
                        message.get(TEXT) or "", nothing_else=True
                    ):
                        self._force(message, "inform")
                        continue
                self._read_cues(message)
                continue
            if not _entity(message, "hazard"):
                if current == EMERGENCY_INTENT and (
                    intent.get("confidence", 0) < UNSURE_EMERGENCY or not shows_danger(message.get(TEXT) or "")
                ):
                    self._demote(message)
                self._read_cues(message)
                continue
            if current in KEEP_WITH_HAZARD:
                continue
            if current == "check_status" and _ABOUT_A_TICKET.search(message.get(TEXT) or ""):
                continue
            self._force(message, EMERGENCY_INTENT)
        return messages
