"""Which fee an owner's question is about, in one place for the assistant and the backend.

The property fee (物业费) is what a community's content answers by default. Any other fee is
answered only where the content has an answer for it (``fees.items.<item>``); otherwise the
assistant says it has nothing on that fee and offers a person, and never answers with the
property fee's schedule instead. Standard library only (see common/__init__.py).
"""

from __future__ import annotations

PROPERTY_FEE = "property"

# item → the words owners use for it (longest is matched first: 车位管理费 is parking, not 管理费)
FEE_ITEMS: dict[str, tuple[str, ...]] = {
    PROPERTY_FEE: ("物业费", "物业管理费", "物管费"),
    "parking": ("车位管理费", "停车管理费", "车位费", "停车费", "月租车", "临时停车"),
    "water": ("水费",),
    "electricity": ("电费",),
    "gas": ("燃气费", "煤气费", "天然气费"),
    "heating": ("暖气费", "供暖费", "取暖费"),
    "garbage": ("垃圾清运费", "垃圾处理费", "垃圾费"),
    "deposit": ("装修押金", "装修保证金", "押金"),
}
