"""Which community an owner's request is about: the store's facts read for domain.communities.route.

One place decides it for every use (the assistant's answers, a new ticket, a pass, the ledger),
so a fee answer and the ticket opened a minute later never disagree about the community.
"""

from __future__ import annotations

from backend_bridge.domain import model
from backend_bridge.service_layer.ports import ContentSource
from backend_bridge.service_layer.unit_of_work import UnitOfWork


async def known_community(uow: UnitOfWork, content: ContentSource, code: str) -> model.Community | None:
    """The community with ``code``: in the store, or named by the content since the last start (a
    new content/communities/<code>.yml), then added now, so a new community needs no restart."""
    community = await uow.communities.get(code)
    if community is None and model.valid_code(code):
        listed = next((c for c in content.communities() if c.code == code), None)
        if listed is not None:
            community = await uow.communities.ensure(listed.code, listed.name, listed.address)
    return community


async def _facts(uow: UnitOfWork, sender: str) -> tuple[dict[str, model.Binding], str | None, str | None]:
    bound = await uow.bindings.for_sender(sender)
    conversation = await uow.conversations.get(sender)
    return bound, conversation.community if conversation else None, await uow.communities.only()


async def community_of(uow: UnitOfWork, sender: str) -> str | None:
    """The sender's community, or None when undecided (then the company's content answers)."""
    bound, chosen, only = await _facts(uow, sender)
    return model.route(bound=bound, chosen=chosen, only=only)


async def binding_in_community(uow: UnitOfWork, sender: str) -> tuple[str | None, model.Binding | None]:
    """The sender's community and their flat there; a landlord who has not said which is asked
    (WhichCommunity, a 409 the assistant turns into the question)."""
    bound, chosen, only = await _facts(uow, sender)
    names = {}
    if len(bound) > 1:
        names = {code: (c.name if (c := await uow.communities.get(code)) else code) for code in bound}
    community = model.route_or_ask(bound=bound, chosen=chosen, only=only, names=names)
    return community, bound.get(community) if community else None


async def community_for_ticket(uow: UnitOfWork, sender: str, location: model.Location) -> str | None:
    """A new ticket's community: the sender's; if undecided, the one community with the flat named."""
    community = await community_of(uow, sender)
    if community is None and location.building and location.unit and location.room:
        rooms = await uow.rooms.find_everywhere(location.building, location.unit, location.room)
        bound = await uow.bindings.for_sender(sender)
        candidates = {r.community for r in rooms} & set(bound) or {r.community for r in rooms}
        if len(candidates) == 1:
            community = candidates.pop()
    return community
