"""How places and times are written to owners and staff.

The action server reads an address back to the owner before any ticket exists, and the backend
writes the same address on the ticket and in every notice about it; both word it here, so the
owner sees one wording for one place. Standard library only (see common/__init__.py).
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def describe_place(
    building: str | None = None, unit: str | None = None, room: str | None = None, public_area: str | None = None
) -> str:
    """3号楼2单元501, A座1单元1203, 2号楼 电梯厅, 地下车库; 待确认 when nothing is known.

    A numbered building is a 号楼, a lettered one a 座; a public area follows the building part.
    """
    parts = []
    if building:
        parts.append(f"{building}号楼" if building.isdigit() else f"{building}座")
    if unit:
        parts.append(f"{unit}单元")
    if room:
        parts.append(room)
    address = "".join(parts)
    if public_area:
        return f"{address} {public_area}".strip()
    return address or "待确认"


def local_time(when: datetime, tz: tzinfo | None = None) -> str:
    """11月22日 15:00: how times are written to owners and staff (in ``tz``, else as given)."""
    local = when.astimezone(tz) if tz else when
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def which_community(names: list[str]) -> str:
    """The question a landlord with flats in several communities is asked before anything personal.

    The owner's answer (a community's name) routes the conversation (domain.communities.mentioned).
    """
    listed = "、".join(names) if names else "多个小区"
    return f"您在{listed}都有房屋，请问这次是哪个小区的事？直接回复小区名称就行。"
