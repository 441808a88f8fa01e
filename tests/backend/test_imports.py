"""Importing the roster and the fee ledger through the staff API, over real HTTP, on both stores.

Protects: the files operators really have (UTF-8 with BOM, GBK from Chinese Excel, .xlsx
with a title row and typed cells, Chinese or English headers) import; a file goes in whole
or not at all, with every bad row reported by the line the operator sees and no phone
number echoed; re-importing updates instead of duplicating, also when imports race; only an admin may import;
oversized and unreadable bodies are refused cleanly.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from backend_bridge.adapters import orm, spreadsheets
from backend_bridge.domain import commands
from backend_bridge.entrypoints.import_api import MAX_UPLOAD
from backend_bridge.service_layer import imports
from tests.conftest import ADMIN_TOKEN, CONTENT, DEMO, bearer

SHANGHAI = ZoneInfo("Asia/Shanghai")
CSV = "text/csv"
ROSTER_HEADER = ["楼栋", "单元", "房号", "建筑面积", "业主姓名", "手机号", "身份"]
LEDGER_HEADER = ["楼栋", "单元", "房号", "账期", "收费项目", "金额(元)", "应缴日期", "缴费日期"]


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def post(client, kind: str, body, *, content_type: str = CSV, dry_run: bool = False, token=ADMIN_TOKEN):
    headers = {"Content-Type": content_type, **(bearer(token) if token else {})}
    params = {"dry_run": int(dry_run), "community": "shifan"}  # the demo has two communities
    return await client.post(f"/api/imports/{kind}", data=body, headers=headers, params=params)


async def ok(resp) -> dict:
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def rejected(resp) -> dict:
    assert resp.status == 422, await resp.text()
    body = await resp.json()
    assert body["error"] == "rejected_rows"
    return body


async def snapshot(backend) -> dict[str, list[tuple]]:
    """Every room, owner and bill as stored: what "nothing was written" is checked against."""
    async with backend.new_uow() as uow:
        return {
            table.name: sorted(tuple(row) for row in (await uow.session.execute(select(table))).all())
            for table in (orm.rooms, orm.owners, orm.bills)
        }


async def room(backend, building: str, unit: str, number: str):
    async with backend.new_uow() as uow:
        return await uow.rooms.find(building, unit, number, "shifan")


async def count(backend, table) -> int:
    async with backend.new_uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(table))


def owners_of(found) -> dict[str, tuple[str, str]]:
    return {o.phone: (o.name, o.role) for o in found.owners}


def bill(found, period: str, item: str):
    return next(b for b in found.bills if (b.period, b.item) == (period, item))


# -- rosters -----------------------------------------------------------------------------------


async def test_a_utf8_bom_roster_with_chinese_headers_adds_and_updates_rooms_and_owners(public_client, backend):
    body = csv_bytes(
        [
            ROSTER_HEADER,
            ["7号楼", "1单元", "101室", "95.5", "赵六", "+86 139-1234-5678", "业主"],
            ["7", "1", "101", "95.5", "赵小六", "13912345679", "家属"],
            ["3", "2", "501", "130", "张伟", "13800000501", "业主"],
            ["3", "2", "0501", "", "李娜", "138 0000 0502", "租户"],
        ]
    )
    result = await ok(await post(public_client, "roster", body))
    assert result == {
        "imported": {
            "community": "shifan",
            "rows": 4,
            "rooms": {"added": 1, "updated": 1, "unchanged": 0},
            "owners": {"added": 3, "updated": 0, "unchanged": 1, "removed": 0},
        },
        "dry_run": False,
    }
    new = await room(backend, "7", "1", "101")
    assert new.area_m2 == 95.5
    assert owners_of(new) == {"13912345678": ("赵六", "owner"), "13912345679": ("赵小六", "family")}
    zhang = await room(backend, "3", "2", "501")
    assert zhang.area_m2 == 130
    assert owners_of(zhang) == {"13800000501": ("张伟", "owner"), "13800000502": ("李娜", "tenant")}
    # An imported owner can prove who they are in the chat at once.
    bound = await backend.bus.handle(
        commands.BindSender(sender="webchat:zhao", building="7", unit="1", room="101", phone="13912345678")
    )
    assert bound.as_json() == {"status": "bound"}


async def test_a_real_roster_for_a_demo_community_replaces_every_fictitious_owner_and_bill(public_client, backend):
    """The demo's owners have guessable phones (139 + flat): a real flat must never keep one."""
    from backend_bridge.demo import mark_demo

    await mark_demo(backend, "shifan")  # as `make run` loads the demo
    zhang_binding = await backend.bus.handle(
        commands.BindSender(sender="webchat:demo-zhang", building="3", unit="2", room="501", phone="13800000501")
    )
    assert zhang_binding.as_json() == {"status": "bound"}
    ledger = csv_bytes([LEDGER_HEADER, ["3", "2", "501", "2026-10", "物业费", "300", "2026-10-20", ""]])
    refused = await post(public_client, "ledger", ledger)
    assert refused.status == 409 and "roster first" in (await refused.json())["message"]
    assert bill(await room(backend, "3", "2", "501"), "2026-09", "物业费")  # the demo's, still there

    roster = csv_bytes([ROSTER_HEADER, ["3", "2", "501", "130", "陈真", "13955550001", "业主"]])
    result = await ok(await post(public_client, "roster", roster))  # no ?replace=1 asked for
    assert result["imported"]["demo_replaced"] is True and result["imported"]["owners"]["removed"] > 0
    flat = await room(backend, "3", "2", "501")
    assert owners_of(flat) == {"13955550001": ("陈真", "owner")} and flat.bills == []
    async with backend.new_uow() as uow:
        assert not await uow.bindings.for_sender("webchat:demo-zhang")  # the guessed phone reads nothing now
        assert not [r for r in await uow.rooms.in_community("shifan") if r.bills]  # no demo bill anywhere
    again = csv_bytes([ROSTER_HEADER, ["3", "2", "502", "90", "林一", "13955550002", "业主"]])
    second = await ok(await post(public_client, "roster", again))  # the demo is gone: an ordinary import
    assert "demo_replaced" not in second["imported"] and second["imported"]["owners"]["removed"] == 0
    assert (await ok(await post(public_client, "ledger", ledger)))["imported"]["bills"]["added"] == 1


async def test_the_demo_marks_each_community_it_fills(tmp_path, clock, dialogue):
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.demo import load_demo
    from backend_bridge.service_layer.imports import demo_mark
    from backend_bridge.service_layer.ports import NullNotifier

    built = await bootstrap(f"sqlite:///{tmp_path / 'demo.db'}", CONTENT, dialogue, NullNotifier(), clock=clock)
    try:
        assert await load_demo(built, DEMO, SHANGHAI, with_staff=False) > 0
        async with built.new_uow() as uow:
            for code in ("shifan", "yangguang"):
                assert await uow.channel_state.get(demo_mark(code), clock()) == "1"
    finally:
        await built.close()


async def test_a_gbk_roster_as_chinese_excel_saves_it_imports(public_client, backend):
    body = csv_bytes(
        [
            ["楼号", "单元", "房间号", "面积", "姓名", "电话", "角色"],
            ["8栋", "2", "302", "88.00", "欧阳娜娜", "13700001111", "租户"],
        ],
        encoding="gbk",
    )
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # really GBK
    await ok(await post(public_client, "roster", body, content_type="text/csv; charset=utf-8"))  # a wrong claim too
    found = await room(backend, "8", "2", "302")
    assert (found.area_m2, owners_of(found)) == (88.0, {"13700001111": ("欧阳娜娜", "tenant")})


async def test_a_roster_is_read_by_the_rules_the_assistant_reads_owners_by(public_client, backend):
    """Lettered buildings and 0086 were read in the chat but refused or not matched on import
    and binding; now one rule (common/) reads them everywhere, so such an owner can bind."""
    body = csv_bytes(
        [
            ROSTER_HEADER,
            ["A座", "2门洞", "0501号房", "", "钱七", "0086 138-0000-0701", ""],
            ["9#", "1", "101", "", "孙八", "１３８.0000.0801", ""],
        ]
    )
    await ok(await post(public_client, "roster", body))
    lettered = await room(backend, "A", "2", "501")
    assert owners_of(lettered) == {"13800000701": ("钱七", "owner")}
    assert owners_of(await room(backend, "9", "1", "101")) == {"13800000801": ("孙八", "owner")}
    bound = await backend.bus.handle(
        commands.BindSender(sender="webchat:qian", building="A", unit="2", room="501", phone="0086 13800000701")
    )
    assert bound.as_json() == {"status": "bound"}


async def test_a_roster_without_area_or_role_columns_keeps_what_is_stored(public_client, backend):
    await ok(
        await post(
            public_client, "roster", csv_bytes([ROSTER_HEADER, ["3", "2", "501", "", "李娜", "13800000502", "家属"]])
        )
    )
    body = csv_bytes([["building", "unit", "room", "name", "mobile"], ["3", "2", "501", "李娜娜", "13800000502"]])
    result = await ok(await post(public_client, "roster", body))
    assert result["imported"]["rooms"] == {"added": 0, "updated": 0, "unchanged": 1}
    assert result["imported"]["owners"] == {"added": 0, "updated": 1, "unchanged": 0, "removed": 0}
    zhang = await room(backend, "3", "2", "501")
    assert zhang.area_m2 == 89.5
    assert owners_of(zhang)["13800000502"] == ("李娜娜", "family")


# -- ledgers -----------------------------------------------------------------------------------


async def test_an_xlsx_ledger_with_a_title_row_and_typed_cells_imports(public_client, backend, clock):
    body = xlsx_bytes(
        [
            ["阳光小区2026年10月收费明细"],
            LEDGER_HEADER,
            [3, 2, 501, "2026年10月", "水费", 89.5 * 3.3, datetime(2026, 10, 20), datetime(2026, 10, 18, 9, 30)],
            [3, 2, 502, datetime(2026, 10, 1), "水费", 45, date(2026, 10, 20), None],
            [],
            ["5", "1", "302", 202610, "物业费", "278.01", "2026/10/20", ""],
        ]
    )
    assert 89.5 * 3.3 == 295.34999999999997  # a formula's float noise, as Excel stores it
    result = await ok(await post(public_client, "ledger", body, content_type=spreadsheets.XLSX_TYPE))
    assert result == {
        "imported": {"community": "shifan", "rows": 3, "bills": {"added": 2, "updated": 1, "unchanged": 0}},
        "dry_run": False,
    }
    water = bill(await room(backend, "3", "2", "501"), "2026-10", "水费")
    assert water.amount_cents == 29535
    assert water.due_date == datetime(2026, 10, 20, 12, tzinfo=SHANGHAI)
    assert water.paid_at == datetime(2026, 10, 18, 9, 30, tzinfo=SHANGHAI)
    other = bill(await room(backend, "3", "2", "502"), "2026-10", "水费")
    assert (other.amount_cents, other.paid_at) == (4500, None)
    fee = bill(await room(backend, "5", "1", "302"), "2026-10", "物业费")
    assert (fee.amount_cents, fee.paid_at) == (27801, None)


async def test_an_xlsx_sent_as_octet_stream_is_recognised_by_its_signature(public_client, backend):
    body = xlsx_bytes([LEDGER_HEADER, ["1", "1", "101", "2026-12", "物业费", "196.90", "2026-12-20", ""]])
    result = await ok(await post(public_client, "ledger", body, content_type="application/octet-stream"))
    assert result["imported"]["bills"]["added"] == 1


async def test_a_ledger_with_english_headers_updates_bills_and_marks_unpaid(public_client, backend):
    zhang = await room(backend, "3", "2", "501")
    assert bill(zhang, "2026-09", "物业费").paid_at is not None
    body = csv_bytes(
        [
            ["Building", "Unit", "Room", "Period", "Item", "Amount (yuan)", "Due date", "Paid date"],
            ["3", "2", "501", "2026/09", "物业费", "¥1,200.5", "2026-09-20", ""],
        ],
        encoding="utf-8",
    )
    await ok(await post(public_client, "ledger", body))
    stored = bill(await room(backend, "3", "2", "501"), "2026-09", "物业费")
    assert (stored.amount_cents, stored.paid_at) == (120050, None)
    assert stored.due_date == datetime(2026, 9, 20, 12, tzinfo=SHANGHAI)


# -- dry runs ----------------------------------------------------------------------------------


async def test_a_dry_run_reports_what_would_change_and_writes_nothing(public_client, backend):
    before = await snapshot(backend)
    roster = csv_bytes([ROSTER_HEADER, ["9", "1", "101", "90", "钱七", "13512345678", "业主"]])
    assert await ok(await post(public_client, "roster", roster, dry_run=True)) == {
        "imported": {
            "community": "shifan",
            "rows": 1,
            "rooms": {"added": 1, "updated": 0, "unchanged": 0},
            "owners": {"added": 1, "updated": 0, "unchanged": 0, "removed": 0},
        },
        "dry_run": True,
    }
    ledger = csv_bytes([LEDGER_HEADER, ["3", "2", "501", "2026-11", "物业费", "1", "2026-11-20", ""]])
    result = await ok(await post(public_client, "ledger", ledger, dry_run=True))
    assert result == {
        "imported": {"community": "shifan", "rows": 1, "bills": {"added": 0, "updated": 1, "unchanged": 0}},
        "dry_run": True,
    }
    assert await snapshot(backend) == before


# -- bad rows ----------------------------------------------------------------------------------

BAD_PHONE = "1380000050"  # ten digits


async def test_bad_roster_rows_are_all_reported_and_nothing_is_written(public_client, backend, caplog):
    before = await snapshot(backend)
    body = csv_bytes(
        [
            ROSTER_HEADER,
            ["3", "2", "501", "89.5", "张伟", "13800000501", "业主"],  # 2: fine
            ["3", "2", "502", "89.5", "王五", BAD_PHONE, "业主"],  # 3
            ["3", "2", "601", "89.5", "赵四", "13800000601", "房东"],  # 4
            ["5", "1", "101", "", "孙二", "13800000777", "业主"],  # 5: same owner as row 8
            ["东区", "1", "101", "abc", "", "13800000778", ""],  # 6
            ["6", "1", "102", "120", "周一", "13800000779", ""],  # 7: another area for the flat than row 9
            ["5号楼", "1单元", "101", "", "孙二", "+86 13800000777", ""],  # 8
            ["6", "1", "102", "121", "周二", "13800000780", ""],  # 9
        ]
    )
    with caplog.at_level(logging.DEBUG):
        resp = await post(public_client, "roster", body)
        report = await rejected(resp)
    assert report["accepted"] == 1
    assert report["rejected_count"] == 7
    assert report["rejected"] == [
        {"row": 3, "errors": ["手机号: must be one 11-digit mainland mobile number"]},
        {"row": 4, "errors": ["身份: must be 业主, 家属 or 租户 (owner, family, tenant)"]},
        {"row": 5, "errors": ["same flat and phone as row 8"]},
        {
            "row": 6,
            "errors": [
                "楼栋: must be a building such as 3, 3号楼 or A座",
                "业主姓名: is empty",
                "建筑面积: must be a floor area in m² such as 89.5",
            ],
        },
        {"row": 7, "errors": ["建筑面积: differs for the same flat in row(s) 9"]},
        {"row": 8, "errors": ["same flat and phone as row 5"]},
        {"row": 9, "errors": ["建筑面积: differs for the same flat in row(s) 7"]},
    ]
    text = await resp.text()
    for phone in (BAD_PHONE, "13800000777", "13800000501"):
        assert phone not in text
        assert phone not in caplog.text
    assert await snapshot(backend) == before


async def test_bad_ledger_rows_are_all_reported_and_nothing_is_written(public_client, backend):
    before = await snapshot(backend)
    good = ["3", "2", "501", "2026-11", "物业费", "196.90", "2026-11-20", "2026-11-19"]
    body = csv_bytes(
        [
            LEDGER_HEADER,
            good,  # 2
            ["3", "2", "999", "2026-11", "物业费", "196.90", "2026-11-20", ""],  # 3: no such flat
            ["3", "2", "502", "2026-11", "物业费", "196.905", "2026-11-20", ""],  # 4
            ["3", "2", "601", "2026-11", "物业费", "-5", "2026-11-20", ""],  # 5
            ["3", "2", "602", "2026-11", "物业费", "一百元", "2026-11-20", ""],  # 6
            ["5", "1", "101", "2026-13", "物业费", "1", "2026-11-20", ""],  # 7
            ["5", "1", "102", "十月", "物业费", "1", "2026-11-31", "2026-12-01"],  # 8: 2026-11-21 is today
            ["1", "1", "101", "2026年11月", "水费", "10", "2026-11-20", ""],  # 9: same bill as row 10
            ["1号楼", "1", "101", "2026/11", "水费", "11", "2026-11-20", ""],  # 10
        ]
    )
    report = await rejected(await post(public_client, "ledger", body))
    assert report["accepted"] == 1
    assert report["rejected"] == [
        {"row": 3, "errors": ["flat 3-2-999 is not on the roster; import the roster first"]},
        {"row": 4, "errors": ["金额(元): must be an amount in yuan with at most 2 decimals, such as 196.90"]},
        {"row": 5, "errors": ["金额(元): must be an amount in yuan with at most 2 decimals, such as 196.90"]},
        {"row": 6, "errors": ["金额(元): must be an amount in yuan with at most 2 decimals, such as 196.90"]},
        {"row": 7, "errors": ["账期: must be a month such as 2026-10, 2026/10 or 2026年10月"]},
        {
            "row": 8,
            "errors": [
                "账期: must be a month such as 2026-10, 2026/10 or 2026年10月",
                "应缴日期: must be a date such as 2026-10-20 or 2026年10月20日",
                "缴费日期: is in the future",
            ],
        },
        {"row": 9, "errors": ["same flat, period and item as row 10"]},
        {"row": 10, "errors": ["same flat, period and item as row 9"]},
    ]
    assert await snapshot(backend) == before


async def test_rows_are_numbered_as_the_operator_sees_them(public_client, backend):
    # CSV: a quoted cell over two lines and a blank line; the bad row is on line 6 of the file.
    text = "\ufeff" + ",".join(ROSTER_HEADER) + '\r\n3,2,501,89.5,"张伟\r\n(户主)",13800000501,业主\r\n\r\n'
    text += "3,2,502,89.5,王五,13800000502,业主\r\n3,2,601,89.5,赵四,123,业主\r\n"
    report = await rejected(await post(public_client, "roster", text.encode()))
    assert [r["row"] for r in report["rejected"]] == [6]
    # XLSX: a title row and an empty row above; Excel shows the bad row as row 5.
    body = xlsx_bytes(
        [["花名册"], [], ROSTER_HEADER, [3, 2, 501, 89.5, "张伟", 13800000501, "业主"], [3, 2, 502, 1, "x", 1]]
    )
    report = await rejected(await post(public_client, "roster", body, content_type=spreadsheets.XLSX_TYPE))
    assert [r["row"] for r in report["rejected"]] == [5]


MISSING = [
    ("roster", ["楼栋", "单元", "房号", "业主姓名"], ["电话 (phone)"]),
    ("roster", ["楼栋", "房号", "姓名", "手机"], ["单元 (unit)"]),
    ("ledger", LEDGER_HEADER[:-1], ["缴费日期 (paid_at)"]),
    (
        "ledger",
        ["备注"],
        [
            "楼栋 (building)",
            "单元 (unit)",
            "房号 (room)",
            "账期 (period)",
            "收费项目 (item)",
            "金额(元) (amount)",
            "应缴日期 (due_date)",
            "缴费日期 (paid_at)",
        ],
    ),
]


async def test_missing_columns_are_400_and_named(public_client, backend):
    for kind, header, missing in MISSING:
        resp = await post(public_client, kind, csv_bytes([header, ["3"] * len(header)]))
        assert resp.status == 400, header
        answer = await resp.json()
        assert (answer["error"], answer["missing"]) == ("missing_columns", missing)
        assert all(name in answer["message"] for name in missing)


async def test_two_columns_meaning_the_same_field_are_400(public_client, backend):
    body = csv_bytes(
        [[*ROSTER_HEADER, "电话"], ["3", "2", "501", "89.5", "张伟", "13800000501", "业主", "13800000501"]]
    )
    resp = await post(public_client, "roster", body)
    assert resp.status == 400
    answer = await resp.json()
    assert answer["error"] == "bad_header" and "手机号 and 电话" in answer["message"]
    assert "13800000501" not in await resp.text()


# -- all or nothing ----------------------------------------------------------------------------


def _big_ledger(backend_rooms: list[tuple[str, str, str]]) -> list[list[str]]:
    rows = [LEDGER_HEADER]
    for building, unit, number in backend_rooms:
        for month in range(1, 12):
            rows.append([building, unit, number, f"2026-{month:02d}", "物业费", "200.00", f"2026-{month:02d}-20", ""])
        rows.append([building, unit, number, "2026-11", "水费", "12.30", "2026-11-20", "2026-11-01"])
    return rows


async def _addresses(backend) -> list[tuple[str, str, str]]:
    async with backend.new_uow() as uow:
        flats = select(orm.rooms.c.building, orm.rooms.c.unit, orm.rooms.c.room).where(
            orm.rooms.c.community == "shifan"
        )
        rows = (await uow.session.execute(flats)).all()
    return sorted(tuple(r) for r in rows)


async def test_a_bad_row_late_in_a_big_file_leaves_the_store_unchanged(public_client, backend):
    addresses = await _addresses(backend)
    rows = _big_ledger(addresses)
    rows.append(["6", "2", "602", "2026-11", "停车费", "12.3.4", "2026-11-20", ""])
    assert len(rows) > 1400
    before = await snapshot(backend)
    report = await rejected(await post(public_client, "ledger", csv_bytes(rows)))
    assert report["rejected"] == [
        {"row": len(rows), "errors": ["金额(元): must be an amount in yuan with at most 2 decimals, such as 196.90"]}
    ]
    assert report["accepted"] == len(rows) - 2
    assert await snapshot(backend) == before
    # Without the bad row the same file goes in whole.
    result = await ok(await post(public_client, "ledger", csv_bytes(rows[:-1])))
    assert result["imported"]["bills"] == {"added": len(addresses), "updated": 11 * len(addresses), "unchanged": 0}
    assert await count(backend, orm.bills) == len(before["bills"]) + len(addresses)


async def test_a_failure_while_writing_rolls_back_every_row_before_it(backend, monkeypatch):
    rows = _big_ledger(await _addresses(backend))
    before = await snapshot(backend)
    upsert, calls = imports._upsert_bill, []

    def failing(found, entry, ledger):
        calls.append(entry)
        if len(calls) == len(rows) - 5:
            raise RuntimeError("the database went away")
        return upsert(found, entry, ledger)

    monkeypatch.setattr(imports, "_upsert_bill", failing)
    upload = imports.read_upload(csv_bytes(rows), "ledger")
    with pytest.raises(RuntimeError):
        await backend.bus.handle(
            imports.ImportLedger(rows=upload.rows, actor="admin", columns=upload.columns, community="shifan")
        )
    assert await snapshot(backend) == before


# -- re-imports --------------------------------------------------------------------------------


async def test_importing_again_updates_instead_of_duplicating(public_client, backend):
    roster = [
        ROSTER_HEADER,
        ["7", "1", "101", "95.5", "赵六", "13912345678", "业主"],
        ["3", "2", "501", "89.5", "张伟", "13800000501", "业主"],
    ]
    await ok(await post(public_client, "roster", csv_bytes(roster)))
    owners, rooms = await count(backend, orm.owners), await count(backend, orm.rooms)
    again = await ok(await post(public_client, "roster", xlsx_bytes(roster), content_type=spreadsheets.XLSX_TYPE))
    assert again["imported"]["rooms"] == {"added": 0, "updated": 0, "unchanged": 2}
    assert again["imported"]["owners"] == {"added": 0, "updated": 0, "unchanged": 2, "removed": 0}
    roster[1] = ["7", "1", "101", "96", "赵六六", "139 1234 5678", "家属"]
    changed = await ok(await post(public_client, "roster", csv_bytes(roster, encoding="gb18030")))
    assert changed["imported"]["rooms"] == {"added": 0, "updated": 1, "unchanged": 1}
    assert changed["imported"]["owners"] == {"added": 0, "updated": 1, "unchanged": 1, "removed": 0}
    assert (await count(backend, orm.owners), await count(backend, orm.rooms)) == (owners, rooms)
    new = await room(backend, "7", "1", "101")
    assert (new.area_m2, owners_of(new)) == (96, {"13912345678": ("赵六六", "family")})

    ledger = [LEDGER_HEADER, ["7", "1", "101", "2026-11", "物业费", "210.10", "2026-11-20", ""]]
    assert (await ok(await post(public_client, "ledger", csv_bytes(ledger))))["imported"]["bills"]["added"] == 1
    bills = await count(backend, orm.bills)
    same = await ok(await post(public_client, "ledger", csv_bytes(ledger)))
    assert same["imported"]["bills"] == {"added": 0, "updated": 0, "unchanged": 1}
    ledger[1][-1] = "2026-11-21 10:05"
    paid = await ok(await post(public_client, "ledger", csv_bytes(ledger)))
    assert paid["imported"]["bills"] == {"added": 0, "updated": 1, "unchanged": 0}
    assert await count(backend, orm.bills) == bills
    stored = bill(await room(backend, "7", "1", "101"), "2026-11", "物业费")
    assert stored.paid_at == datetime.combine(date(2026, 11, 21), time(10, 5), tzinfo=SHANGHAI)


async def test_imports_running_at_once_that_add_the_same_new_flats_all_succeed(public_client, backend):
    """Two operators upload the same new building at the same moment: the loser of the race
    on the new rooms' keys runs again on the rooms the winner added, instead of failing."""
    flats = [(floor, door) for floor in range(1, 16) for door in (1, 2)]
    roster = [ROSTER_HEADER] + [
        ["20", "1", f"{floor}0{door}", "88", f"业主{floor}{door}", f"1370000{floor:02d}{door:02d}", "业主"]
        for floor, door in flats
    ]
    answers = await asyncio.gather(*(post(public_client, "roster", csv_bytes(roster)) for _ in range(4)))
    results = [await ok(resp) for resp in answers]
    assert sum(r["imported"]["rooms"]["added"] for r in results) == 30  # each new flat added exactly once
    async with backend.new_uow() as uow:
        stored = await uow.session.scalar(
            select(func.count()).select_from(orm.rooms).where(orm.rooms.c.building == "20")
        )
    assert stored == 30


# -- who may import ----------------------------------------------------------------------------

ROSTER = csv_bytes([ROSTER_HEADER, ["9", "1", "101", "90", "钱七", "13512345678", "业主"]])


@pytest.mark.parametrize("kind", ["roster", "ledger"])
async def test_imports_need_a_staff_token(public_client, backend, kind):
    before = await snapshot(backend)
    for token in (None, "wrong-token"):
        resp = await post(public_client, kind, ROSTER, token=token)
        assert resp.status == 401
        assert (await resp.json())["error"] == "unauthorized"
    assert await snapshot(backend) == before


@pytest.mark.parametrize("role", ["agent", "supervisor", "technician"])
async def test_only_an_admin_may_import(public_client, backend, role):
    added = await backend.bus.handle(commands.AddStaff(username=f"{role}1", name="小王", role=role, actor="admin"))
    before = await snapshot(backend)
    for kind in ("roster", "ledger"):
        resp = await post(public_client, kind, ROSTER, token=added.token)
        assert resp.status == 403
        assert (await resp.json())["error"] == "forbidden"
    assert await snapshot(backend) == before
    admin = await backend.bus.handle(commands.AddStaff(username="admin2", name="老李", role="admin", actor="admin"))
    await ok(await post(public_client, "roster", ROSTER, token=admin.token))


# -- bodies that are not a roster or a ledger --------------------------------------------------


async def test_a_body_over_the_limit_is_413(public_client, backend):
    big = csv_bytes([ROSTER_HEADER]) + b"3,2,501,89.5,x,13800000501,\r\n" * (MAX_UPLOAD // 28 + 1)
    assert len(big) > MAX_UPLOAD
    resp = await post(public_client, "roster", big)
    assert resp.status == 413
    assert (await resp.json())["error"] == "too_large"

    async def chunks():  # no Content-Length: counted while reading
        for _ in range(MAX_UPLOAD // 65536 + 2):
            yield b"x" * 65536

    resp = await post(public_client, "roster", chunks())
    assert resp.status == 413
    # Just under the limit is read, and judged on what it holds (here: too many rows), not on its size.
    resp = await post(public_client, "roster", big[: MAX_UPLOAD - 1000])
    assert resp.status == 400
    assert (await resp.json())["error"] == "too_many_rows"


JUNK = random.Random(7).randbytes(4096)
UNREADABLE = [
    ("junk", JUNK, "text/csv", "unreadable"),
    ("junk sent as xlsx", JUNK, spreadsheets.XLSX_TYPE, "unreadable"),
    ("a broken zip", b"PK\x03\x04" + JUNK, spreadsheets.XLSX_TYPE, "unreadable"),
    ("an old .xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + JUNK, "application/vnd.ms-excel", "unreadable"),
    ("a picture", b"\x89PNG\r\n\x1a\n" + JUNK, "image/png", "unreadable"),
    ("nothing", b"", "text/csv", "empty"),
    ("blank lines", b" \r\n\r\n", "text/csv", "empty"),
]


async def test_unreadable_bodies_are_400_and_write_nothing(public_client, backend):
    before = await snapshot(backend)
    for what, body, content_type, error in UNREADABLE:
        for kind in ("roster", "ledger"):
            resp = await post(public_client, kind, body, content_type=content_type)
            assert resp.status == 400, (what, await resp.text())
            answer = await resp.json()
            assert (answer["error"], bool(answer["message"])) == (error, True), what
    for kind, header in (("roster", ROSTER_HEADER), ("ledger", LEDGER_HEADER)):
        resp = await post(public_client, kind, csv_bytes([header, []]))
        assert resp.status == 400
        assert await resp.json() == {"error": "empty", "message": "the file has a header but no rows"}
    assert await snapshot(backend) == before


async def test_a_multipart_form_or_a_bad_dry_run_flag_is_400(public_client, backend):
    form = {"file": io.BytesIO(ROSTER)}
    resp = await public_client.post("/api/imports/roster", data=form, headers=bearer(ADMIN_TOKEN))
    assert resp.status == 400
    assert "multipart" in (await resp.json())["message"]
    resp = await public_client.post(
        "/api/imports/roster?dry_run=perhaps", data=ROSTER, headers={**bearer(ADMIN_TOKEN), "Content-Type": CSV}
    )
    assert resp.status == 400


# -- reading values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("196.9", 19690),
        ("196.90", 19690),
        ("196", 19600),
        ("196.", 19600),
        ("0.05", 5),
        ("¥1,234.56", 123456),
        ("１２.５元", 1250),
        ("9999999.99", 999999999),
        ("196.905", None),
        ("-5", None),
        ("abc", None),
        ("1e3", None),
        (".5", None),
        ("10000000", None),
        ("", None),
    ],
)
def test_amounts_are_yuan_with_two_decimals_made_cents_without_floats(text, cents):
    assert imports.yuan_to_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10", "2026-10"),
        ("2026/10", "2026-10"),
        ("2026年10月", "2026-10"),
        ("2026年1月份", "2026-01"),
        ("2026.3", "2026-03"),
        ("202610", "2026-10"),
        ("2026-10-01", "2026-10"),
        ("2026/10/1 0:00", "2026-10"),
        ("2026 年 10 月", "2026-10"),
        ("2026-13", None),
        ("2026-00", None),
        ("26-10", None),
        ("2026-10-15", None),
        ("十月", None),
        ("1999-12", None),
    ],
)
def test_periods(text, expected):
    assert imports.period(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-20", (date(2026, 10, 20), None)),
        ("2026/10/20 9:30", (date(2026, 10, 20), time(9, 30))),
        ("2026年10月20日", (date(2026, 10, 20), None)),
        ("20261020", (date(2026, 10, 20), None)),
        ("2026-10-20 09:30:15", (date(2026, 10, 20), time(9, 30, 15))),
        ("2026-10-2 09:30", (date(2026, 10, 2), time(9, 30))),
        ("2026年10月20日 9:30", (date(2026, 10, 20), time(9, 30))),
        ("2026/10/20 0:00", (date(2026, 10, 20), None)),  # Excel's date-only cell in a CSV
        ("2026-02-30", None),
        ("20/10/2026", None),
        ("2026-10-20 25:00", None),
    ],
)
def test_dates(text, expected):
    assert imports.calendar_date(text) == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("金额（元）", "amount"),
        ("Amount (yuan)", "amount"),
        ("*楼栋", "building"),
        ("手机号码", "phone"),
        ("Paid_Date", "paid_at"),
        ("建筑面积(㎡)", "area"),
        ("房间号", "room"),
    ],
)
def test_headers_compare_loosely(header, field):
    spec = imports.LEDGER_COLUMNS + imports.ROSTER_COLUMNS
    key = imports._header_key(header)
    assert any(c.field == field and key in c.aliases for c in spec)
