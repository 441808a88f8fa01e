"""Reading another service's HTTP answer (Rasa, the external property system) without trusting it.

An answer is read up to MAX_ANSWER bytes, whatever its Content-Length says or does not say,
and must be UTF-8 JSON. Anything else raises UnusableAnswer, which each client turns into
its own "that service failed" (DialogueRejected, DeliveryFailed): a broken or hostile peer
costs one failed call, never the process's memory or a crash.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

MAX_ANSWER = 1024 * 1024  # far above any real answer (a few KB)
MAX_DETAIL = 200  # characters of an error answer quoted in a log or an exception


class UnusableAnswer(ValueError):
    """The answer was too large, not UTF-8, or not JSON."""


async def _read(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise UnusableAnswer(f"an answer of {resp.content_length} bytes (more than {limit})")
    body = bytearray()
    async for chunk in resp.content.iter_any():
        body += chunk
        if len(body) > limit:
            raise UnusableAnswer(f"an answer of more than {limit} bytes")
    return bytes(body)


async def json_answer(resp: aiohttp.ClientResponse, limit: int = MAX_ANSWER) -> Any:
    """The answer's JSON value; UnusableAnswer when it is over ``limit`` bytes or not UTF-8 JSON."""
    raw = await _read(resp, limit)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: JSON, or a too-long integer
        raise UnusableAnswer("an answer that is not UTF-8 JSON") from exc


async def answer_detail(resp: aiohttp.ClientResponse) -> str:
    """The start of an error answer, to say what went wrong; the rest is never read."""
    return (await resp.content.read(4 * MAX_DETAIL)).decode("utf-8", "replace")[:MAX_DETAIL]
