"""Load the demo community (content/demo_community.yml) into an empty store."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model


def _months_back(today: datetime, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    periods = []
    for _ in range(count):
        periods.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(periods))


def build_rooms(spec: dict, now: datetime, tz: ZoneInfo) -> list[model.Room]:
    """The rooms, owners and bills the spec describes, with bills up to ``now``'s month."""
    named = {(o["building"], o["unit"], o["room"]): o for o in spec.get("owners", [])}
    fee = spec["fee"]
    periods = _months_back(now.astimezone(tz), int(fee["months"]))
    rooms = []
    counter = 0
    for building in spec["buildings"]:
        for unit in range(1, int(spec["units_per_building"]) + 1):
            for floor in range(1, int(spec["floors"]) + 1):
                for n in range(1, int(spec["rooms_per_floor"]) + 1):
                    number = f"{floor}{n:02d}"
                    key = (str(building), str(unit), number)
                    area = float(spec["area_m2"][str(n)])
                    owner = named.get(key)
                    counter += 1
                    if owner is None:
                        phone = f"139{int(building):03d}{unit:02d}{int(number):03d}"
                        owner = {
                            "name": f"业主{building}-{unit}-{number}",
                            "phone": phone,
                            "months_unpaid": 3 if counter % 7 == 0 else 0,
                        }
                    room = model.Room(str(building), str(unit), number, area_m2=area)
                    room.owners.append(model.Owner(owner["name"], str(owner["phone"])))
                    unpaid_from = len(periods) - int(owner["months_unpaid"])
                    for i, (year, month) in enumerate(periods):
                        due = datetime(year, month, int(fee["due_day"]), 12, tzinfo=tz)  # local noon
                        room.bills.append(
                            model.Bill(
                                period=f"{year}-{month:02d}",
                                item=fee["item"],
                                amount_cents=round(area * int(fee["cents_per_m2_month"])),
                                due_date=due,
                                paid_at=None if i >= unpaid_from else due - timedelta(days=5),
                            )
                        )
                    rooms.append(room)
    return rooms


async def load_demo(backend: Backend, path: Path, tz: ZoneInfo) -> int:
    """Insert the demo community unless the store already has rooms; returns rooms added."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    async with backend.new_uow() as uow:
        if await uow.rooms.any():
            return 0
        rooms = build_rooms(spec, backend.clock(), tz)
        for room in rooms:
            await uow.rooms.add(room)
        await uow.commit()
        return len(rooms)
