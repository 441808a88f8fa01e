"""Web chat: a small page for people plus the JSON API behind it (and behind load tests)."""

import aiohttp

from connectors.settings import WebChatSettings
from connectors.webchat.channel import WebChat


def create_channel(settings: WebChatSettings | None = None, http: aiohttp.ClientSession | None = None) -> WebChat:
    """Always on; its settings are only limits (the defaults without any)."""
    return WebChat(settings or WebChatSettings())
