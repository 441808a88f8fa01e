"""Importing the community roster and the fee ledger from the operators' CSV or Excel exports.

Files come from whatever was used before (an old property system, a spreadsheet), with
Chinese or English headers; adapters/spreadsheets.py turns the bytes (CSV in any encoding
Excel writes, or .xlsx) into rows of cell texts, and this module finds the columns, checks
every row and writes them. Phones and flats are read by the rules the chat assistant uses
(common/), so an imported owner is found by what they type.

A file is imported whole or not at all: every row is checked first and one bad row rejects
the file with a report of every bad row, because a half-imported ledger is worse than none
(owners would be told wrong balances and nobody could say which rows made it).
Reports name the row and the column, never the value, so phone numbers do not leak into them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TypeVar

from backend_bridge.adapters import spreadsheets
from backend_bridge.domain import commands, model
from backend_bridge.service_layer import results, routing
from backend_bridge.service_layer.ports import Deps
from backend_bridge.service_layer.unit_of_work import UnitOfWork
from common.addresses import address_part, flat_key
from common.phones import normalize_mobile

log = logging.getLogger(__name__)

MAX_ROWS = 50_000  # one transaction; a bigger community splits its ledger by building
HEADER_SEARCH = 10  # exports often put a title (某某小区业主花名册) above the header row
MAX_YUAN_DIGITS = 7  # 9,999,999.99 yuan: the cents fit the 32-bit amount column
ROLES = {
    "业主": "owner",
    "户主": "owner",
    "产权人": "owner",
    "owner": "owner",
    "家属": "family",
    "家庭成员": "family",
    "family": "family",
    "租户": "tenant",
    "租客": "tenant",
    "tenant": "tenant",
}
NOON = time(12)  # a date without a time is taken as local noon, as the demo ledger does

Address = tuple[str, str, str]


class ImportFileError(model.DomainError):
    """The file as a whole cannot be used: unreadable, empty, too big, or columns missing."""

    def __init__(self, code: str, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.missing = code, message, list(missing)


class RowsRejected(model.DomainError):
    """Some rows are bad, so nothing was written; ``rejected`` lists every bad row.

    ``dry_run`` is carried so the answer (entrypoints/errors.py) can say which kind of upload it was.
    """

    def __init__(self, rejected: list[dict], accepted: int, dry_run: bool = False) -> None:
        super().__init__(f"{len(rejected)} rows rejected")
        self.rejected, self.accepted, self.dry_run = rejected, accepted, dry_run


@dataclass(frozen=True)
class ImportRow:
    """One data row: the line number the operator sees in the file, and its cells by field."""

    line: int
    values: Mapping[str, str]


@dataclass(frozen=True)
class ImportRoster(commands.Command):
    """Upsert rooms by address and their owners by (room, phone) from a roster export, in one
    community; ``replace``: the file is the whole roster, owners missing from it are removed."""

    rows: Sequence[ImportRow]
    actor: str
    dry_run: bool = False
    columns: Mapping[str, str] = field(default_factory=dict)  # field → the file's header, for the report
    community: str | None = None  # its code; None: the store's only community
    replace: bool = False


@dataclass(frozen=True)
class ImportLedger(commands.Command):
    """Upsert bills by (room, period, item) from a fee ledger export of one community; every flat
    must be on that community's roster."""

    rows: Sequence[ImportRow]
    actor: str
    dry_run: bool = False
    columns: Mapping[str, str] = field(default_factory=dict)
    community: str | None = None  # its code; None: the store's only community


# -- columns -----------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    """金额（元） → 金额, Amount (yuan) → amount, *楼栋 → 楼栋: headers compare loosely."""
    key = unicodedata.normalize("NFKC", text).strip().lower()
    key = re.sub(r"\(.*?\)", "", key)  # units and remarks: (元), (㎡), (必填)
    return re.sub(r"[\s_\-*:.#]", "", key)


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # how the report names the column when the file does not
    aliases: frozenset[str]
    required: bool = True


def _column(name: str, label: str, aliases: str, *, required: bool = True) -> Column:
    """``aliases``: other headers meaning the same, separated by spaces."""
    return Column(name, label, frozenset(_header_key(a) for a in (name, label, *aliases.split())), required)


_ADDRESS_COLUMNS = (
    _column("building", "楼栋", "楼号 楼栋号 栋号 幢号 楼宇 楼 栋 bldg block building_no"),
    _column("unit", "单元", "单元号 unit_no"),
    _column("room", "房号", "房间号 房屋号 室号 门牌号 房间 room_no room_number flat"),
)
ROSTER_COLUMNS = (
    *_ADDRESS_COLUMNS,
    _column("area", "面积", "建筑面积 房屋面积 计费面积 area_m2 floor_area", required=False),
    _column("name", "业主姓名", "姓名 业主 住户姓名 业主名称 名字 owner_name full_name"),
    _column("phone", "电话", "手机 手机号 手机号码 联系电话 电话号码 联系方式 mobile tel telephone phone_number"),
    _column("role", "身份", "角色 住户身份 住户类型 与业主关系 关系 relation relationship", required=False),
)
LEDGER_COLUMNS = (
    *_ADDRESS_COLUMNS,
    _column("period", "账期", "所属期 账单月份 收费月份 计费月份 月份 期间 billing_period month"),
    _column("item", "收费项目", "项目 费用项目 费项 收费项 费用名称 fee_item fee charge_item"),
    _column("amount", "金额(元)", "金额 应收金额 应缴金额 应收 amount_yuan yuan"),
    _column("due_date", "应缴日期", "应收日期 到期日 到期日期 截止日期 缴费期限 due due_on"),
    # Required although its cells may be empty: without it a re-import would mark every bill unpaid.
    _column("paid_at", "缴费日期", "实缴日期 付款日期 支付日期 收款日期 实收日期 paid_date paid_on paid payment_date"),
)
COLUMNS = {"roster": ROSTER_COLUMNS, "ledger": LEDGER_COLUMNS}


@dataclass(frozen=True)
class Upload:
    rows: tuple[ImportRow, ...]
    columns: dict[str, str]  # field → the header as the file writes it


def read_upload(data: bytes, kind: str, content_type: str = "") -> Upload:
    """The rows of an uploaded roster or ledger, keyed by field; ImportFileError for an unusable file."""
    try:
        # A workbook is read no further than the longest file accepted (plus its title rows).
        lines = spreadsheets.read_table(data, content_type, max_rows=MAX_ROWS + HEADER_SEARCH)
    except spreadsheets.UnreadableSpreadsheet as exc:
        raise ImportFileError(exc.code, exc.message) from None
    header, found = _find_header(lines, COLUMNS[kind])
    rows = lines[header + 1 :]
    if not rows:
        raise ImportFileError("empty", "the file has a header but no rows")
    if len(rows) > MAX_ROWS:
        raise ImportFileError("too_many_rows", f"more than {MAX_ROWS} rows; split the file")
    return Upload(
        tuple(
            ImportRow(line, {name: cells[pos] if pos < len(cells) else "" for name, (pos, _) in found.items()})
            for line, cells in rows
        ),
        {name: label for name, (_, label) in found.items()},
    )


def _find_header(lines: spreadsheets.Rows, spec: Sequence[Column]) -> tuple[int, dict[str, tuple[int, str]]]:
    """The first row naming every required column (rows above it are titles), and where each field is."""
    best: dict[str, tuple[int, str]] = {}
    for index, (_, cells) in enumerate(lines[:HEADER_SEARCH]):
        found, doubled = _match_header(cells, spec)
        if all(c.field in found for c in spec if c.required):
            if doubled:
                raise ImportFileError("bad_header", f"several columns mean the same thing: {'; '.join(doubled)}")
            return index, found
        if len(found) > len(best):
            best = found
    missing = [f"{c.label} ({c.field})" for c in spec if c.required and c.field not in best]
    raise ImportFileError(
        "missing_columns", f"missing columns: {', '.join(missing)} (the header must be in the first rows)", missing
    )


def _match_header(cells: list[str], spec: Sequence[Column]) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Which column holds each field (position, header as written), and fields named twice."""
    found: dict[str, tuple[int, str]] = {}
    doubled = []
    for position, cell in enumerate(cells):
        key = _header_key(cell)
        column = next((c for c in spec if key and key in c.aliases), None)
        if column is None:
            continue  # remarks and other columns we do not import
        if column.field in found:
            doubled.append(f"{found[column.field][1]} and {cell.strip()} ({column.field})")
        else:
            found[column.field] = (position, cell.strip())
    return found, doubled


# -- values ------------------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    """Full-width digits and punctuation (１２，：) as ASCII; spaces dropped."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_YUAN = re.compile(rf"(\d{{1,{MAX_YUAN_DIGITS}}})(?:\.(\d{{0,2}}))?")


def yuan_to_cents(text: str) -> int | None:
    """¥1,234.5 → 123450: integer arithmetic only, and never more than two decimals (no silent rounding)."""
    value = _nfkc(text).replace(",", "").removeprefix("¥").removesuffix("元")
    match = _YUAN.fullmatch(value)
    if match is None:
        return None
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


_AREA = re.compile(r"(\d{1,5})(\.\d{1,4})?")


def floor_area(text: str) -> float | None:
    """89.5, 89.5㎡, 89.5平方米 → 89.5 (the model keeps the area as a float)."""
    value = _nfkc(text).lower()
    for unit in ("平方米", "平米", "平", "m2", "sqm"):
        value = value.removesuffix(unit)
    if not _AREA.fullmatch(value) or float(value) <= 0:
        return None
    return float(value)


_PERIOD = re.compile(r"(\d{4})[-/.年](\d{1,2})月?份?|(\d{4})(\d{2})")
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s*T\s*|\s+|(?<=日))(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2})(?:\.\d+)?)?)?"
    r"|(\d{4})(\d{2})(\d{2})"
)


def calendar_date(text: str) -> tuple[date, time | None] | None:
    """2026-10-20, 2026/10/20 9:30, 2026年10月20日, 20261020 → (date, time if one was given).

    Midnight counts as no time: Excel writes date-only cells into CSV as 2026/10/20 0:00.
    """
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())  # spaces part the date and the time
    if match is None:
        return None
    year, month, day, hour, minute, second = (match[1], match[2], match[3], match[4], match[5], match[6])
    if year is None:
        year, month, day = match[7], match[8], match[9]
    try:
        day_ = date(int(year), int(month), int(day))
        at = time(int(hour), int(minute), int(second or 0)) if hour is not None else None
    except ValueError:
        return None
    return (day_, None if at == time() else at) if 2000 <= day_.year <= 2099 else None


def period(text: str) -> str | None:
    """2026-10, 2026/10, 2026年10月, 202610 → 2026-10.

    The first of a month counts too: Excel turns 2026-10 typed into a cell into the date 2026-10-01.
    """
    match = _PERIOD.fullmatch(_nfkc(text))
    if match is not None:
        year, month = (match[1], match[2]) if match[1] else (match[3], match[4])
    else:
        parsed = calendar_date(text)
        if parsed is None or parsed[0].day != 1 or parsed[1] is not None:
            return None
        year, month = str(parsed[0].year), str(parsed[0].month)
    if not (2000 <= int(year) <= 2099 and 1 <= int(month) <= 12):
        return None
    return f"{year}-{int(month):02d}"


def role(text: str) -> str | None:
    return ROLES.get(_nfkc(text).lower())


# -- checking rows -----------------------------------------------------------------------------

T = TypeVar("T")


class _Row:
    """One row being checked: its errors, worded with the file's own headers and never its values."""

    def __init__(self, row: ImportRow, columns: Mapping[str, str]) -> None:
        self.line = row.line
        self.values = row.values
        self.columns = columns
        self.errors: list[str] = []
        self.key: tuple | None = None  # the upsert key, when its cells are valid

    def label(self, name: str) -> str:
        return self.columns.get(name) or name

    def error(self, name: str | None, message: str) -> None:
        self.errors.append(f"{self.label(name)}: {message}" if name else message)

    def get(self, name: str, parse: Callable[[str], T | None], problem: str, *, required: bool = True) -> T | None:
        text = str(self.values.get(name) or "").strip()
        if not text:
            if required:
                self.error(name, "is empty")
            return None
        value = parse(text)
        if value is None:
            self.error(name, problem)
        return value

    def address(self) -> Address | None:
        parts = (
            self.get("building", lambda t: address_part(t, "building"), "must be a building such as 3, 3号楼 or A座"),
            self.get("unit", lambda t: address_part(t, "unit"), "must be a unit number such as 2 or 2单元"),
            self.get("room", lambda t: address_part(t, "room"), "must be a room number such as 501 or 501室"),
        )
        return parts if all(parts) else None

    def text(self, name: str, max_len: int) -> str | None:
        """Free text (a name, a fee item), on one line: a cell may hold line breaks."""
        value = self.get(name, lambda t: " ".join(t.split()), "")
        if value is not None and len(value) > max_len:
            self.error(name, f"is longer than {max_len} characters")
            return None
        return value


@dataclass(frozen=True)
class RosterEntry:
    address: Address
    name: str
    phone: str
    role: str | None  # None: keep an existing owner's role, "owner" for a new one
    area: float | None  # None: keep the room's area


@dataclass(frozen=True)
class LedgerEntry:
    address: Address
    period: str
    item: str
    amount_cents: int
    due_date: datetime
    paid_at: datetime | None


def _roster_row(row: _Row) -> RosterEntry | None:
    address = row.address()
    name = row.text("name", 64)
    phone = row.get("phone", normalize_mobile, "must be one 11-digit mainland mobile number")
    role_ = row.get("role", role, "must be 业主, 家属 or 租户 (owner, family, tenant)", required=False)
    area = row.get("area", floor_area, "must be a floor area in m² such as 89.5", required=False)
    if address and phone:
        row.key = (*address, phone)
    if row.errors:
        return None
    return RosterEntry(address, name, phone, role_, area)


def _ledger_row(row: _Row, deps: Deps) -> LedgerEntry | None:
    tz = deps.timezone
    address = row.address()
    period_ = row.get("period", period, "must be a month such as 2026-10, 2026/10 or 2026年10月")
    item = row.text("item", 32)
    cents = row.get("amount", yuan_to_cents, "must be an amount in yuan with at most 2 decimals, such as 196.90")
    date_problem = "must be a date such as 2026-10-20 or 2026年10月20日"
    due = row.get("due_date", calendar_date, date_problem)
    paid = row.get("paid_at", calendar_date, date_problem, required=False)
    if paid is not None and paid[0] > deps.clock().astimezone(tz).date():
        row.error("paid_at", "is in the future")
    if address and period_ and item:
        row.key = (*address, period_, item)
    if row.errors:
        return None
    return LedgerEntry(
        address,
        period_,
        item,
        cents,
        datetime.combine(due[0], due[1] or NOON, tzinfo=tz),
        datetime.combine(paid[0], paid[1] or NOON, tzinfo=tz) if paid else None,
    )


def _flag_duplicates(rows: Sequence[_Row], what: str) -> None:
    """Rows with the same key contradict each other or repeat: reject all of them, naming the others."""
    by_key: dict[tuple, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.key is not None:
            by_key[row.key].append(row)
    for same in by_key.values():
        if len(same) > 1:
            for row in same:
                others = ", ".join(str(r.line) for r in same if r is not row)
                row.error(None, f"same {what} as row{'s' if len(same) > 2 else ''} {others}")


def _flag_conflicting_areas(rows: Sequence[_Row], entries: Sequence[RosterEntry | None]) -> None:
    """Several owners of one flat are several rows; they must not disagree about its area."""
    areas: dict[Address, dict[float, list[_Row]]] = defaultdict(lambda: defaultdict(list))
    for row, entry in zip(rows, entries, strict=True):
        if entry is not None and entry.area is not None:
            areas[entry.address][entry.area].append(row)
    for by_area in areas.values():
        if len(by_area) > 1:
            flagged = [row for group in by_area.values() for row in group]
            for row in flagged:
                others = ", ".join(str(r.line) for r in flagged if r is not row)
                row.error("area", f"differs for the same flat in row(s) {others}")


def _reject_bad(rows: Sequence[_Row], cmd: ImportRoster | ImportLedger, kind: str) -> None:
    bad = [row for row in rows if row.errors]
    if bad:
        log.info("%s import by %s rejected: %d bad rows", kind, cmd.actor, len(bad))
        rejected = [{"row": row.line, "errors": row.errors} for row in sorted(bad, key=lambda r: r.line)]
        raise RowsRejected(rejected, accepted=len(rows) - len(bad), dry_run=cmd.dry_run)


# -- handlers ----------------------------------------------------------------------------------


def demo_mark(community: str) -> str:
    """The store's note that ``community`` holds the demo's fictitious owners and bills
    (backend_bridge/demo.py): their phones follow a pattern anyone can guess."""
    return f"store:demo:{community}"


def _tally() -> dict[str, int]:
    return {"added": 0, "updated": 0, "unchanged": 0}


async def _community(uow: UnitOfWork, deps: Deps, code: str | None) -> str:
    """The community an import is for: the one named, or the store's only one."""
    if code is not None:
        if await routing.known_community(uow, deps.content, code) is None:
            raise model.NotFound("community", code)
        return code
    only = await uow.communities.only()
    if only is None:
        raise model.DomainError("this company has several communities: name one (?community=<code>)")
    return only


async def import_roster(cmd: ImportRoster, uow: UnitOfWork, deps: Deps) -> results.Imported:
    """Rooms by address (area updated when given), owners by (room, phone) (name, and role when given).

    Owners missing from the file are kept: a roster export may cover one building only. With
    ``replace`` the file is the community's whole roster: owners not in it are removed with their
    chat bindings (a sold flat's former owner no longer reads its ledger). Rooms always stay,
    because tickets and bills refer to them.

    A community that still holds the demo's owners is always replaced, and its demo bills go
    too: a real flat must never keep a fictitious owner whose guessable phone reads its ledger.
    """
    rows = [_Row(r, cmd.columns) for r in cmd.rows]
    entries = [_roster_row(row) for row in rows]
    _flag_duplicates(rows, "flat and phone")
    _flag_conflicting_areas(rows, entries)
    _reject_bad(rows, cmd, "roster")
    room_state: dict[Address, str] = {}
    owners = _tally() | {"removed": 0}
    async with uow:
        community = await _community(uow, deps, cmd.community)
        demo = await uow.channel_state.get(demo_mark(community), deps.clock()) is not None
        if demo:  # the demo's bills are as fictitious as its owners
            for room in await uow.rooms.in_community(community):
                room.bills.clear()
        rooms = await uow.rooms.find_many(community, (e.address for e in entries if e))
        for entry in filter(None, entries):  # all of them: no row was rejected
            room = rooms.get(entry.address)
            if room is None:
                room = model.Room(*entry.address, area_m2=entry.area or 0.0, community=community)
                await uow.rooms.add(room)
                rooms[entry.address] = room
                room_state[entry.address] = "added"
            elif entry.area is not None and room.area_m2 != entry.area:
                room.area_m2 = entry.area
                if room_state.get(entry.address) != "added":
                    room_state[entry.address] = "updated"
            else:
                room_state.setdefault(entry.address, "unchanged")
            owners[_upsert_owner(room, entry)] += 1
        if cmd.replace or demo:
            listed = {(e.address, e.phone) for e in entries if e}
            owners["removed"] = await _remove_unlisted(uow, community, listed)
        if demo:
            await uow.channel_state.remove(demo_mark(community))
            log.warning("community %s held the demo's owners and bills; this roster replaced them", community)
        if not cmd.dry_run:
            await uow.commit()
    rooms_tally = _tally() | Counter(room_state.values())
    counts = {"community": community, "rows": len(rows), "rooms": dict(rooms_tally), "owners": owners}
    if demo:
        counts["demo_replaced"] = True
    log.info("roster import by %s%s: %s", cmd.actor, " (dry run)" if cmd.dry_run else "", counts)
    return results.Imported(counts, cmd.dry_run)


async def _remove_unlisted(uow: UnitOfWork, community: str, listed: set[tuple[Address, str]]) -> int:
    unlisted = [
        (room, owner)
        for room in await uow.rooms.in_community(community)
        for owner in room.owners
        if ((room.building, room.unit, room.room), owner.phone) not in listed and owner.id is not None
    ]
    await uow.bindings.remove_for_owners([owner.id for _, owner in unlisted])  # first: they refer to the owners
    for room, owner in unlisted:
        room.owners.remove(owner)
    return len(unlisted)


def _upsert_owner(room: model.Room, entry: RosterEntry) -> str:
    owner = next((o for o in room.owners if o.phone == entry.phone), None)
    if owner is None:
        room.owners.append(model.Owner(entry.name, entry.phone, entry.role or "owner"))
        return "added"
    changed = owner.name != entry.name or (entry.role is not None and owner.role != entry.role)
    owner.name = entry.name
    owner.role = entry.role or owner.role
    return "updated" if changed else "unchanged"


async def import_ledger(cmd: ImportLedger, uow: UnitOfWork, deps: Deps) -> results.Imported:
    """Bills by (room, period, item): amount, due date and payment as the ledger says.

    An empty 缴费日期 marks the bill unpaid, also one recorded as paid before: the ledger
    being imported is the system of record. Flats must already be on the roster.
    """
    rows = [_Row(r, cmd.columns) for r in cmd.rows]
    entries = [_ledger_row(row, deps) for row in rows]
    _flag_duplicates(rows, "flat, period and item")
    bills = _tally()
    async with uow:
        community = await _community(uow, deps, cmd.community)
        if await uow.channel_state.get(demo_mark(community), deps.clock()) is not None:
            raise model.DomainError(
                f"community {community} still holds the demo's fictitious owners and bills: "
                "import its roster first, which replaces them"
            )
        rooms = await uow.rooms.find_many(community, (row.key[:3] for row in rows if row.key))
        for row in rows:
            if row.key and row.key[:3] not in rooms:
                row.error(None, f"flat {flat_key(*row.key[:3])} is not on the roster; import the roster first")
        _reject_bad(rows, cmd, "ledger")
        ledgers: dict[Address, dict[tuple[str, str], model.Bill]] = {}  # each flat's bills, indexed once
        for entry in filter(None, entries):  # all of them: no row was rejected
            room = rooms[entry.address]
            if entry.address not in ledgers:
                ledgers[entry.address] = {(b.period, b.item): b for b in room.bills}
            bills[_upsert_bill(room, entry, ledgers[entry.address])] += 1
        if not cmd.dry_run:
            await uow.commit()
    counts = {"community": community, "rows": len(rows), "bills": bills}
    log.info("ledger import by %s%s: %s", cmd.actor, " (dry run)" if cmd.dry_run else "", counts)
    return results.Imported(counts, cmd.dry_run)


def _upsert_bill(room: model.Room, entry: LedgerEntry, ledger: dict[tuple[str, str], model.Bill]) -> str:
    """One bill by (period, item), found through ``ledger`` (the flat's bills by key): looking
    through the flat's list for each row made a big ledger quadratic and froze the event loop."""
    bill = ledger.get((entry.period, entry.item))
    if bill is None:
        bill = model.Bill(entry.period, entry.item, entry.amount_cents, entry.due_date, entry.paid_at)
        room.bills.append(bill)
        ledger[(entry.period, entry.item)] = bill
        return "added"
    new = (entry.amount_cents, entry.due_date, entry.paid_at)
    changed = (bill.amount_cents, bill.due_date, bill.paid_at) != new
    bill.amount_cents, bill.due_date, bill.paid_at = new
    return "updated" if changed else "unchanged"


COMMAND_HANDLERS: dict = {ImportRoster: import_roster, ImportLedger: import_ledger}
EVENT_HANDLERS: dict = {}
