"""Web chat: a small page for people plus the JSON API behind it (and behind load tests)."""

import aiohttp

from connectors.webchat.channel import WebChat


def create_channel(settings: None = None, http: aiohttp.ClientSession | None = None) -> WebChat:
    """Always on; needs no settings and no client."""
    return WebChat()
