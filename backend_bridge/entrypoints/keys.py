"""Typed keys for what the aiohttp applications carry."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from backend_bridge.bootstrap import Backend

BACKEND = web.AppKey("backend", Backend)
ADMIN_TOKEN = web.AppKey("admin_token", str)
INTERNAL_TOKEN = web.AppKey("internal_token", str)
TIMEZONE = web.AppKey("timezone", ZoneInfo)
# Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (WUYE_TRUSTED_PROXIES); absent: none
TRUSTED_PROXIES = web.AppKey("trusted_proxies", frozenset)
