"""Visitor-pass limits the owner meets twice: in the chat, and when the backend issues the pass.

The action server asks for another day at once when a visit is too far ahead; the backend
refuses the same pass (PassRefused "too_far") should a request get past the chat. One number,
so the two never disagree. Standard library only (see common/__init__.py).
"""

from __future__ import annotations

MAX_PASS_DAYS = 7  # how many days ahead a visit may start, and how many days a pass may last at most
