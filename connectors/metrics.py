"""What the gateway counts and times, in Prometheus's text format on the loopback port.

Counted as it happens: owner messages in and replies out per channel (the sender's prefix:
webchat, wechat, sms, …), how long an owner waits between the message being written down and
its replies being written down, and how long each call to Rasa takes. Read from the store when
scraped (``views.operations``): the outbox's depth and the age of its oldest notification,
dead letters, and open tickets past a deadline, so several gateways report the same truth.

Each ``Metrics`` has its own registry, never prometheus_client's process-wide default: two
applications in one process (the tests build many) count apart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views

# Seconds. Owners notice from about a second; the slow runs reached 6-16 s at the p99,
# and Rasa's client gives up after 20 s.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
# A turn's own phases (a commit, a lock) take milliseconds: finer at the bottom.
PHASE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 20.0)
# The phases of a message answered in the request (Gateway.handle), for the time budget of a turn
# (bench/load.py, bench/NOTES.md): waiting for the sender's lock, writing the message down,
# deciding and asking Rasa (its call alone is wuye_rasa_seconds), writing the replies down, all of it.
PHASES = ("lock", "record", "respond", "reply", "turn")


def channel_of(sender: str) -> str:
    """The channel part of a conversation id ("webchat:…" → "webchat"): few values, so a label."""
    return sender.split(":", 1)[0]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages_in = Counter(
            "wuye_messages_in", "Owner messages written down (repeats excluded)", ["channel"], registry=r
        )
        self.replies_out = Counter(
            "wuye_replies_out", "Reply texts sent to owners, in the request or pushed later", ["channel"], registry=r
        )
        self.reply_seconds = Histogram(
            "wuye_reply_seconds",
            "From an owner message written down to its replies written down",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rasa_seconds = Histogram(
            "wuye_rasa_seconds",
            "One message through Rasa's REST channel, by outcome (ok, rejected, unavailable, error)",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.turn_phase_seconds = Histogram(
            "wuye_turn_phase_seconds",
            "Where a message answered in the request spends its time: " + ", ".join(PHASES),
            ["phase"],
            buckets=PHASE_BUCKETS,
            registry=r,
        )
        self.outbox_pending = Gauge("wuye_outbox_pending", "Notifications waiting to be delivered", registry=r)
        self.outbox_oldest = Gauge(
            "wuye_outbox_oldest_seconds", "Age of the oldest notification waiting (0 when none)", registry=r
        )
        self.dead_letters = Gauge("wuye_dead_letters", "Notifications given up on and not retried", registry=r)
        self.sla_breaches = Gauge(
            "wuye_sla_breaches", "Open tickets past their response or resolution deadline", registry=r
        )

    def message_in(self, sender: str) -> None:
        self.messages_in.labels(channel_of(sender)).inc()

    def replied(self, sender: str, sent: int, waited: float | None) -> None:
        """``sent`` replies went to the owner; ``waited``: seconds from the message written down to
        its answer written down, None while it is not answered (Rasa was down: the owner was told
        so, and the answer's wait is counted when the backlog answers it)."""
        channel = channel_of(sender)
        if sent:
            self.replies_out.labels(channel).inc(sent)
        if waited is not None:
            self.reply_seconds.labels(channel).observe(max(waited, 0.0))

    def rasa_answered(self, outcome: str, seconds: float) -> None:
        self.rasa_seconds.labels(outcome).observe(seconds)

    def took(self, phase: str, seconds: float) -> None:
        self.turn_phase_seconds.labels(phase).observe(max(seconds, 0.0))

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as one of a turn's ``PHASES`` (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.took(name, time.perf_counter() - started)

    def store_state(self, state: dict) -> None:
        """Set the gauges from ``views.operations``."""
        self.outbox_pending.set(state["outbox_pending"])
        self.outbox_oldest.set(state["outbox_oldest_seconds"])
        self.dead_letters.set(state["dead_letters"])
        self.sla_breaches.set(state["sla_breaches"])

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The body and its content type: the classic text format (0.0.4), or OpenMetrics when
        the scraper's Accept asks for it (Prometheus does), as the client library's own servers do."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


METRICS = web.AppKey("metrics", Metrics)


async def scrape(request: web.Request) -> web.Response:
    """``GET /metrics``: the gauges are read from the store now, then everything is written out."""
    backend = request.app[BACKEND]
    metrics = request.app[METRICS]
    metrics.store_state(await views.operations(backend.new_uow(), backend.clock()))
    body, content_type = metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


routes = [web.get("/metrics", scrape)]
