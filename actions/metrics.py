"""What the action server counts and times, in Prometheus's text format at its own ``/metrics``.

Rasa waits for every custom action, and every action waits for the backend's bot API: when a
turn is slow, these say whether the time went into an action and which backend call it waited
for. ``wuye_action_seconds`` times one action call as the action server answers it (by action
and outcome); ``wuye_backend_call_seconds`` times each bot API call an action makes, from the
action server's side (network included), by method and route with ids folded into ``{id}`` so
the labels stay few.

The action server listens on loopback (SANIC_HOST), so ``/metrics`` is as private as the
gateway's loopback port. One registry per process: with several Sanic workers
(ACTION_SERVER_SANIC_WORKERS) each answers for itself, as Prometheus expects of separate targets.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import choose_encoder

# Seconds: an action that calls the backend takes a few milliseconds; Rasa gives up on the
# action server after its own timeout, and the backend client after 5 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
_HAS_DIGIT = re.compile(r"\d")


def route_of(path: str) -> str:
    """A bot API path as a label: segments carrying an id (ticket numbers, ids) become ``{id}``,
    so ``/bot/v1/tickets/WY20261128-0012/chase`` and every other chase share one series."""
    segments = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if i > 2 and _HAS_DIGIT.search(s) else s for i, s in enumerate(segments))


def outcome_of(status: int) -> str:
    """An action call's answer in a word: ok; rejected (a form's validation, 400); not_found
    (the action server does not know the action, 404); error (anything else)."""
    return {200: "ok", 400: "rejected", 404: "not_found"}.get(status, "error")


class ActionMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.action_seconds = Histogram(
            "wuye_action_seconds",
            "One custom action call, as the action server answers it, by action and outcome",
            ["action", "outcome"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.backend_seconds = Histogram(
            "wuye_backend_call_seconds",
            "One bot API call an action makes, by method, route and outcome (ok, refused, unavailable)",
            ["method", "route", "outcome"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def action_answered(self, action: str, status: int, seconds: float) -> None:
        self.action_seconds.labels(action or "unknown", outcome_of(status)).observe(seconds)

    def backend_called(self, method: str, path: str, outcome: str, seconds: float) -> None:
        self.backend_seconds.labels(method, route_of(path), outcome).observe(seconds)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


ACTION_METRICS = ActionMetrics()  # the action server's process-wide registry
