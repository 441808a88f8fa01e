"""What every platform callback shares: refusing a call before anything is processed, and
reading a body no bigger than the platform ever sends.

A channel's parser raises :class:`Refused` for a call that is not the platform's shape; the
channel answers it with ``status`` and ``reason`` (the platforms log what they get back).
"""

from __future__ import annotations

import json
from typing import Any

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


def parse_json(body: bytes | str) -> Any:
    """A callback's JSON; Refused(400) for anything else: not UTF-8, not JSON, an integer past
    Python's 4,300-digit limit, or nesting deeper than the parser's recursion limit ("[[[[…", a
    few KB of it: a RecursionError, not a ValueError)."""
    try:
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "not UTF-8 JSON") from None
    except RecursionError:
        raise Refused(400, "JSON nested too deeply") from None
