"""Communities (项目/小区): one company runs many, and every flat, ticket and conversation belongs to one.

A community is known by its ``code`` (``yangguang``): the key the store, the content files
(content/communities/<code>.yml), the staff API and the entry points (a QR code's scene, a
link's ``scene``) all use. Which community an owner means is decided by :func:`route`, the one
rule for it, so the assistant's answers, a ticket's community and a staff member's view agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend_bridge.domain.errors import DomainError

MAX_CODE = 32
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
DEFAULT_CODE = "default"  # the one community of a store made before there were many (migration 0006)


def valid_code(code: object) -> bool:
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


@dataclass(eq=False)
class Community:
    code: str
    name: str
    address: str = ""

    def __post_init__(self) -> None:
        if not valid_code(self.code):
            raise DomainError(f"a community code is 1-{MAX_CODE} of a-z, 0-9, '-' or '_': {self.code!r}")


class WhichCommunity(DomainError):
    """The owner has flats in several communities and has not said which one this is about."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("which community: " + "、".join(names))
        self.names = names


def mentioned(text: str, aliases: Mapping[str, Iterable[str]]) -> str | None:
    """The one community ``text`` names ("我是阳光小区的"), by its longest alias; None if none or two.

    Longest first, so 阳光花园 is not read as 阳光 when both are communities; an alias inside a
    longer one of another community does not count for it.
    """
    found: set[str] = set()
    spans: list[tuple[int, int]] = []
    by_length = sorted(((a, code) for code, names in aliases.items() for a in names if a), key=lambda p: -len(p[0]))
    for alias, code in by_length:
        start = text.find(alias)
        while start != -1:
            end = start + len(alias)
            if not any(s <= start and end <= e for s, e in spans):
                spans.append((start, end))
                found.add(code)
            start = text.find(alias, end)
    return found.pop() if len(found) == 1 else None


_FILLER = frozenset("我是住在的小区业主家里这边那个呀啊呢吧哦嗯喔，。,.!！?？~～ 　")


def names_only(text: str, aliases: Iterable[str]) -> bool:
    """Whether ``text`` does nothing but name the community ("阳光小区", "我是阳光的"), so there is
    no request in it for the assistant: the answer to "which community?"."""
    rest = text
    for alias in sorted((a for a in aliases if a), key=len, reverse=True):
        rest = rest.replace(alias, "")
    return rest != text and all(ch in _FILLER for ch in rest)


def route(*, bound: Iterable[str], chosen: str | None, only: str | None) -> str | None:
    """The community an owner's request is about; raises nothing, returns None when undecided.

    ``bound``: communities of the flats the sender is bound to; ``chosen``: the one the
    conversation was routed to (entry point or the owner's own words, the latest wins);
    ``only``: the store's community when it has exactly one (else None).

    An owner's only flat decides; with flats in several, the chosen one if it is one of them,
    else undecided (:func:`route_or_ask` asks); without a flat, the chosen one, else the store's
    only community.
    """
    bound_set = set(bound)
    if len(bound_set) == 1:
        return next(iter(bound_set))
    if bound_set:
        return chosen if chosen in bound_set else None
    return chosen if chosen is not None else only


def route_or_ask(*, bound: Iterable[str], chosen: str | None, only: str | None, names: Mapping[str, str]) -> str | None:
    """As :func:`route`, but an owner with flats in several communities is asked (WhichCommunity)."""
    bound_set = set(bound)
    community = route(bound=bound_set, chosen=chosen, only=only)
    if community is None and len(bound_set) > 1:
        raise WhichCommunity(sorted(names.get(code, code) for code in bound_set))
    return community


def sees(scope: Iterable[str], community: str | None) -> bool:
    """Whether staff with ``scope`` (community codes; empty: company-wide) see something of ``community``.

    Something whose community is not known yet (an emergency from an unrouted owner) is the
    company-wide desk's: only company-wide staff see it.
    """
    scope_set = set(scope)
    return not scope_set or community in scope_set
