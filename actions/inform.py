"""An owner who informs without asking (no form waiting): read what the information is about.

后天上午十点我表哥李明开车过来 车牌浙A12345 says who comes, when and by which car: that is a
visitor pass being asked for, even though no request word is in it. Anything else is met with
the question what the owner wants done, with the menu; what they said is not lost (the flows
that start next look at the message before — actions.common.previous_inform).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity
from actions.visitor import ActionPrepareVisitorPass


def announces_a_visit(tracker: Tracker) -> bool:
    """A time together with a visitor's name or a car plate."""
    return bool(entity(tracker, "visit_time")) and bool(entity(tracker, "person_name") or entity(tracker, "plate"))


class ActionReadInform(Action):
    def name(self) -> str:
        return "action_read_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if announces_a_visit(tracker):
            return await ActionPrepareVisitorPass().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_ask_what_for")
        return []
