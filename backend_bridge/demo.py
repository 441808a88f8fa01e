"""Load the demo (content/demo_community.yml) into an empty store: two communities, their flats,
owners and bills, staff scoped to each, and a few 常用语 (canned replies) for the console."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import commands, model
from backend_bridge.service_layer.imports import demo_mark


def _months_back(today: datetime, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    periods = []
    for _ in range(count):
        periods.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(periods))


def _generated_phone(prefix: str, building: int, unit: int, room: int) -> str:
    """Eleven digits, one per flat: prefix + building + unit + room (a 4-digit room for tall buildings)."""
    if room < 1000:
        return f"{prefix}{building:03d}{unit:02d}{room:03d}"
    return f"{prefix}{building:02d}{unit:02d}{room:04d}"


def build_rooms(spec: dict, now: datetime, tz: ZoneInfo, community: str = model.DEFAULT_CODE) -> list[model.Room]:
    """One community's rooms, owners and bills as the spec describes, with bills up to ``now``'s month."""
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
                        phone = _generated_phone(spec.get("phone_prefix", "139"), int(building), unit, int(number))
                        owner = {
                            "name": f"业主{building}-{unit}-{number}",
                            "phone": phone,
                            "months_unpaid": 3 if counter % 7 == 0 else 0,
                        }
                    room = model.Room(str(building), str(unit), number, area_m2=area, community=community)
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


async def load_demo(backend: Backend, path: Path, tz: ZoneInfo, *, with_staff: bool = True, mark: bool = True) -> int:
    """Insert the demo communities and staff unless the store already has rooms; returns rooms added.

    A community of the demo must be one the content names (content/communities/<code>.yml):
    bootstrap has put those in the store already. Each is marked as holding demo data
    (``mark``), so the first real roster imported there replaces every fictitious owner and bill
    (service_layer/imports.py); tests that use the demo flats as a real roster leave it unmarked.
    """
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    async with backend.new_uow() as uow:
        if await uow.rooms.any():
            return 0
        added = 0
        for code, community in spec["communities"].items():
            if await uow.communities.get(code) is None:
                raise ValueError(f"demo community {code!r} has no content file (content/communities/{code}.yml)")
            for room in build_rooms(community, backend.clock(), tz, code):
                await uow.rooms.add(room)
                added += 1
            if mark:  # in the same transaction: demo data is never in the store unmarked
                await uow.channel_state.put(demo_mark(code), "1")
        await uow.commit()
    if with_staff:
        await add_demo_staff(backend, spec)
    await add_demo_canned_replies(backend, spec)
    return added


async def add_demo_canned_replies(backend: Backend, spec: dict) -> None:
    """The demo's 常用语: the company's and each community's own (through the bus, checked as staff's are)."""
    for reply in spec.get("canned_replies", []):
        command = commands.SaveCannedReply(
            "demo", title=reply["title"], text=reply["text"], community=reply.get("community")
        )
        await backend.bus.handle(command)


async def mark_demo(backend: Backend, code: str) -> None:
    """Note that community ``code`` holds the demo's owners and bills (imports replace them)."""
    async with backend.new_uow() as uow:
        await uow.channel_state.put(demo_mark(code), "1")
        await uow.commit()


async def add_demo_staff(backend: Backend, spec: dict) -> None:
    """The demo's staff accounts (a desk and a technician per community, a company-wide 主管)."""
    for member in spec.get("staff", []):
        await _add_staff(backend, member)


async def _add_staff(backend: Backend, member: dict) -> None:
    command = commands.AddStaff(
        member["username"], member["name"], member["role"], "demo", tuple(member.get("communities") or ())
    )
    with contextlib.suppress(model.DomainError):  # already there (a store whose rooms were removed by hand)
        await backend.bus.handle(command)
