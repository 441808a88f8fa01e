"""Bulk NLU for `make parse`: many messages through the loaded Rasa graph in one run.

Rasa's processor parses one message per graph run, and DIET (Rasa 3.6) predicts one
message per TensorFlow call; for a log of thousands of lines that per-call overhead is
most of the time (issue 14: 127 messages/s). Here the same graph (every component of
config.yml, ours included, exactly as in serving) gets a list of messages in one run,
and DIET's node predicts that list with Rasa's own bulk ``run_inference`` in batches of
similar length, so padding does not make a long line cost a whole batch. The result
per message is the one the processor would return, up to float noise from padding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

# DIET's sequence batch: messages of similar token counts run together.
DEFAULT_TF_BATCH = 64
# Padded token slots per TensorFlow call: a 2,000-token line runs alone, not padded 64 times.
TOKEN_BUDGET = 64 * 48


def _token_count(message: Message) -> int:
    return len(message.get(TOKENS_NAMES[TEXT]) or [])


def _length_groups(messages: list[Message], batch: int) -> Iterator[list[Message]]:
    """Messages shortest first, cut so that padding to the longest stays within budget."""
    group: list[Message] = []
    for message in sorted(messages, key=_token_count):
        tokens = max(1, _token_count(message))
        if group and (len(group) >= batch or (len(group) + 1) * tokens > TOKEN_BUDGET):
            yield group
            group = []
        group.append(message)
    if group:
        yield group


def diet_process_batched(component: DIETClassifier, messages: list[Message], batch: int) -> list[Message]:
    """DIETClassifier.process for a list, with one TensorFlow call per ``batch`` messages.

    Mirrors DIETClassifier.process (intent only: config.yml turns DIET's entities off;
    no diagnostic data, which serving does not ask for either) but feeds each group to
    RasaModel.run_inference. A group whose scores do not line up one per message goes
    through the stock per-message path instead, so a batch never misaligns.
    """
    if component.model is None or component.component_config.get("entity_recognition"):
        return DIETClassifier.process(component, messages)
    for group in _length_groups(messages, batch):
        data = component._create_model_data(group, training=False)
        scores = None
        if not data.is_empty() and data.number_of_examples() == len(group):
            out = component.model.run_inference(data, batch_size=len(group), output_keys_expected=["i_scores"])
            scores = out.get("i_scores")
        if scores is None or len(scores) != len(group):
            DIETClassifier.process(component, group)
            continue
        for offset, message in enumerate(group):
            label, ranking = component._predict_label({"i_scores": scores[offset : offset + 1]})
            message.set(INTENT, label, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
    return messages


class GraphBatcher:
    """Runs the NLU part of a loaded Agent's graph on lists of texts."""

    def __init__(self, agent: Any, tf_batch: int = DEFAULT_TF_BATCH) -> None:
        processor = agent.processor
        self._processor = processor
        self._runner = processor.graph_runner
        self._target = processor.model_metadata.nlu_target
        self._batched_diet = self._install_diet_batching(tf_batch)

    def _install_diet_batching(self, tf_batch: int) -> bool:
        """Point the DIET node of this graph at the batched predict (Rasa 3.6's GraphNode)."""
        nodes = getattr(self._runner, "_instantiated_nodes", {})
        installed = False
        for node in nodes.values():
            component = getattr(node, "_component", None)
            if isinstance(component, DIETClassifier) and getattr(node, "_fn_name", "") == "process":
                node._fn = _batched(tf_batch)
                installed = True
        if not installed:
            logger.warning("DIET node not found: bulk parse predicts one message per TensorFlow call")
        return installed

    def parse(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Rasa's parse data per text, as MessageProcessor.parse_message builds it."""
        if not texts:
            return []
        messages = [UserMessage(text) for text in texts]
        tracker = DialogueStateTracker.from_events(messages[0].sender_id, [])
        results = self._runner.run(
            inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker},
            targets=[self._target],
        )
        parsed = []
        for message in results[self._target]:
            data = {TEXT: "", INTENT: {"name": None, "confidence": 0.0}, "entities": []}
            data.update(message.as_dict(only_output_properties=True))
            self._processor._update_full_retrieval_intent(data)
            parsed.append(data)
        return parsed


def _batched(tf_batch: int) -> Callable[..., list[Message]]:
    def process(component: DIETClassifier, messages: list[Message]) -> list[Message]:
        if len(messages) < 2:  # the processor's one-message runs stay Rasa's own code
            return DIETClassifier.process(component, messages)
        return diet_process_batched(component, messages, tf_batch)

    return process
