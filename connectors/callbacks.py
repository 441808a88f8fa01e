"""What every platform callback shares: refusing a call before anything is processed, and
reading a body no bigger than the platform ever sends.

A channel's parser raises :class:`Refused` for a call that is not the platform's shape; the
channel answers it with ``status`` and ``reason`` (the platforms log what they get back).
"""

from __future__ import annotations

from aiohttp import web


class Refused(Exception):
    """A call that is not the platform's or not readable: answered with ``status``, nothing processed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: web.Request, limit: int, too_large: str) -> bytes:
    """The request's body; Refused(413, ``too_large``) over ``limit`` bytes, whether the length is
    declared up front or only found while reading."""
    if (request.content_length or 0) > limit:
        raise Refused(413, too_large)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, too_large) from None
    if len(body) > limit:
        raise Refused(413, too_large)
    return body
