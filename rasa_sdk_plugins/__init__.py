"""rasa-sdk's plugin package (the name rasa-sdk looks for, documented as its Sanic extensions).

rasa-sdk imports ``rasa_sdk_plugins`` whenever it builds the action server's Sanic app, in every
worker process, and calls ``init_hooks``; this registers the one extension we need: timing each
action call and serving ``/metrics`` (actions/metrics.py holds what is counted).
"""

from __future__ import annotations

import pluggy

from rasa_sdk_plugins import action_metrics


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(action_metrics)
