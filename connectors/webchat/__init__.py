"""Web chat: a small page for people plus the JSON API behind it (and behind load tests)."""

from connectors.webchat.channel import WebChat


def create_channel() -> WebChat:
    return WebChat()
