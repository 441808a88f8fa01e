"""Typed keys for what the gateway application carries."""

from __future__ import annotations

from aiohttp import web

from connectors.gateway import Gateway
from connectors.rasa import RasaClient

GATEWAY = web.AppKey("gateway", Gateway)
RASA = web.AppKey("rasa", RasaClient)
