"""Masking a piece of personal data where it is shown to people who need only its shape.

One rule for logs (bot/text/pii.py masks phones, ID numbers, plates and names in every log line)
and for the staff console (an owner's phone beside their conversation: 138****0501).

Standard library only and Python 3.10: this module also runs inside Rasa's environment.
"""

from __future__ import annotations

from common.phones import normalize_mobile


def masked(fragment: str, keep_head: int = 0, keep_tail: int = 0) -> str:
    """``fragment`` with every character but the first ``keep_head`` and last ``keep_tail`` as *
    (all of it when it is not longer than what would be kept); the length is kept."""
    if len(fragment) <= keep_head + keep_tail:
        return "*" * len(fragment)
    tail = fragment[len(fragment) - keep_tail :] if keep_tail else ""
    return fragment[:keep_head] + "*" * (len(fragment) - keep_head - keep_tail) + tail


def masked_phone(phone: str) -> str:
    """138****0501: a mobile's first three and last four digits (however it was stored)."""
    return masked(normalize_mobile(phone) or phone, 3, 4)
