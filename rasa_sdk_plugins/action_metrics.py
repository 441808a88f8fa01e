"""Times every ``POST /webhook`` (one action call) and serves ``GET /metrics`` on the action server."""

from __future__ import annotations

import time

import pluggy
from sanic import Sanic, response
from sanic.exceptions import BadRequest
from sanic.request import Request

from actions.metrics import ACTION_METRICS

hookimpl = pluggy.HookimplMarker("rasa_sdk")


def _action_name(request: Request) -> str:
    try:
        body = request.json
    except BadRequest:  # deflated or malformed bodies: rasa-sdk answers them; the label says unknown
        return "unknown"
    return str(body.get("next_action") or "unknown") if isinstance(body, dict) else "unknown"


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    @app.on_request
    async def started(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response
    async def answered(request: Request, resp) -> None:
        if request.path == "/webhook" and hasattr(request.ctx, "started"):
            ACTION_METRICS.action_answered(
                _action_name(request), resp.status, time.perf_counter() - request.ctx.started
            )

    @app.get("/metrics")
    async def metrics(request: Request):
        body, content_type = ACTION_METRICS.exposition(request.headers.get("Accept", ""))
        return response.raw(body, headers={"Content-Type": content_type})
