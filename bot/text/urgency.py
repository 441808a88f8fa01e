"""An owner saying their emergency is not one: "不急", "不紧急", "没那么急", "唔急", "普通报修就行".

The model calls some ordinary faults emergencies (a stuck door, a seeping drain). The owner then
gets an urgent ticket, the leads are paged and the conversation waits for a person. Issue 15 asks
that the owner can put that right in one word. The gateway reads this only as the owner's first
words after an emergency nobody has taken up yet (connectors/gateway.py), so the reading is
deliberately narrow, like the 回访 rating's: a short message whose only content is "not urgent".

Anything that could still be danger keeps the emergency: a question ("不急吗？"), urgency ("急死了",
"不急才怪", "快点"), or any danger sign besides the negated urgency itself ("不急，就是还有点煤气味").
A wrong "yes, urgent" costs a supervisor a look; a wrong "not urgent" could cost far more.
"""

from __future__ import annotations

import re

from bot.text.danger import shows_danger
from bot.text.script import to_simplified

MAX_CORRECTION_TEXT = 24  # longer is a new story for the staff on duty, not a one-word correction

# 不/没/唔/冇, an optional softener (是, 太, 算, 那么, 用…), then 急 / 着急 / 紧急 / 危险.
_NOT_URGENT = re.compile(
    r"(?:不|没|唔|冇)(?:有|是|系|太|算|用|使|怎么|那么|这么|咁)?(?:很|好|特别|太)?(?:着急|紧急|急|危险)"
    r"|普通报修|按普通|改(?:成|为)?普通|误报"
)
# A question, or irony, instead of telling ("不急吗？", "怎么不急", "不急才怪").
_NOT_TELLING = re.compile(r"[?？]|吗|呢|才怪|怎么不|哪能不")
# What says it is urgent after all, once the "not urgent" words are taken out.
_URGENT = re.compile(r"急|赶紧|快点|快来|马上|立刻")


def says_not_urgent(text: str) -> bool:
    """Whether ``text`` is the owner saying, and only saying, that it is not an emergency."""
    plain = to_simplified(text).strip()
    if not plain or len(plain) > MAX_CORRECTION_TEXT or not _NOT_URGENT.search(plain):
        return False
    if _NOT_TELLING.search(plain):
        return False
    # 紧急 and 危险 are danger signs themselves: look for urgency and danger in what is left.
    rest = _NOT_URGENT.sub("", plain)
    return not _URGENT.search(rest) and not shows_danger(rest)
