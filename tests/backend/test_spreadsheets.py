"""Reading uploaded spreadsheets (adapters/spreadsheets.py): encodings and separators Excel
writes, typed .xlsx cells as the operator sees them, and the limits on what is read at all;
and the one CSV writer the exports use: what it writes reads back the same, with a BOM and CRLF
as Excel wants, and no cell Excel would run as a formula.

What the rows mean (columns, values, rejection) is tested in test_imports.py.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest

from backend_bridge.adapters import spreadsheets
from backend_bridge.adapters.spreadsheets import UnreadableSpreadsheet, read_table

HEADER = ["楼栋", "单元", "房号", "建筑面积", "业主姓名", "手机号", "身份"]
ROW = ["3", "2", "501", "89.5", "张伟", "138", "业主"]


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gb18030", ";"), ("utf-16", "\t"), ("utf-8-sig", "\t")],
)
def test_csv_text_in_the_encodings_and_separators_excel_writes(encoding, delimiter):
    text = delimiter.join(HEADER) + "\r\n" + delimiter.join(ROW)
    assert read_table(text.encode(encoding)) == [(1, HEADER), (2, ROW)]


def test_csv_rows_are_numbered_by_the_line_they_start_on_and_blank_ones_skipped():
    text = '楼栋,备注\r\n\r\n3,"两行\r\n的备注"\r\n5,x\r\n'
    assert read_table(text.encode()) == [(1, ["楼栋", "备注"]), (3, ["3", "两行\r\n的备注"]), (5, ["5", "x"])]


def test_xlsx_cells_read_as_the_operator_sees_them():
    rows = read_table(
        xlsx_bytes([["楼栋", "金额", "应缴日期", "账期"], [3.0, 196.9, datetime(2026, 10, 20), date(2026, 10, 1)]])
    )
    assert rows == [(1, ["楼栋", "金额", "应缴日期", "账期"]), (2, ["3", "196.9", "2026-10-20", "2026-10-01"])]


def test_a_workbook_is_read_no_further_than_asked():
    rows = read_table(xlsx_bytes([[n] for n in range(1, 101)]), max_rows=10)
    assert len(rows) == 11  # one past the limit: enough for the caller to say "too long"


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_opened(monkeypatch):
    body = xlsx_bytes([HEADER, ROW])
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED", 1000)
    with pytest.raises(UnreadableSpreadsheet, match="too large once unpacked") as caught:
        read_table(body, spreadsheets.XLSX_TYPE)
    assert caught.value.code == "unreadable"


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"", "text/csv", "empty"),
        (b" \r\n", "text/csv", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "application/vnd.ms-excel", "unreadable"),
        (b"3,2,501", spreadsheets.XLSX_TYPE, "unreadable"),  # claimed a workbook, is not a zip
        (b"PK\x03\x04" + b"\0" * 64, "", "unreadable"),
        (b"\x00\x01\x02binary", "text/csv", "unreadable"),
    ],
)
def test_what_is_not_a_spreadsheet_says_why(body, content_type, code):
    with pytest.raises(UnreadableSpreadsheet) as caught:
        read_table(body, content_type)
    assert caught.value.code == code and caught.value.message


def test_a_cell_far_to_the_right_does_not_pad_every_row_to_the_sheet_s_width():
    """A crafted .xlsx (one cell in column XFD) made each row 16,384 cells, 137 KB in memory."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 201):
        sheet.cell(row=row, column=1, value="3-2-501")
        sheet.cell(row=row, column=16000, value="x")
    out = io.BytesIO()
    workbook.save(out)
    rows = spreadsheets.read_table(out.getvalue(), spreadsheets.XLSX_TYPE)
    assert len(rows) == 200
    assert max(len(cells) for _, cells in rows) <= spreadsheets.MAX_COLUMNS
    assert rows[0][1][0] == "3-2-501"


# -- writing ------------------------------------------------------------------------------------

TABLE = [
    ["工单号", "描述", "催单次数", "剩余分钟", "评分"],
    ["BX000001", "厨房水管漏水，师傅请带扳手", 2, -15, None],
    ["TS000002", '说"很吵"，逗号,分号;都在', 0, 1440, 5],
    ["BX000003", "第一行\n第二行", 1, 0.5, 4],
]


def test_what_is_written_reads_back_as_the_same_values():
    written = spreadsheets.write_csv(TABLE)
    expected = [["" if v is None else str(v) for v in row] for row in TABLE]
    assert [cells for _, cells in read_table(written)] == expected


def test_the_file_is_utf8_with_a_bom_and_crlf_line_ends():
    written = spreadsheets.write_csv([["楼栋", "房号"], ["3", "501"]])
    assert written.startswith(b"\xef\xbb\xbf")  # without it Chinese Excel reads GBK: mojibake
    assert written == "\ufeff楼栋,房号\r\n3,501\r\n".encode()
    assert b"\n" not in written.replace(b"\r\n", b"")


def test_cells_are_quoted_the_way_excel_writes_them():
    """Quotes only where needed; a quote doubled; a line break kept inside one quoted cell; an
    empty row is a blank line (between the sections of a report)."""
    written = spreadsheets.write_csv([["a,b", 'x"y', "1\n2", "plain"], [], [None, True, False]])
    assert written.decode("utf-8-sig") == '"a,b","x""y","1\n2",plain\r\n\r\n,是,否\r\n'


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://evil","点我")', '\'=HYPERLINK("http://evil","点我")'),
        ("+86 138", "'+86 138"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("3-2-501", "3-2-501"),  # only the first character matters
        ("'already", "'already"),
        ("", ""),
    ],
)
def test_a_cell_excel_would_run_as_a_formula_is_written_as_text(cell, shown):
    assert spreadsheets.neutralise(cell) == shown
    written = spreadsheets.write_csv([["h"], [cell]])
    if cell:
        [(_, [read])] = read_table(written)[1:]
        assert read == shown.strip()  # the reader strips the cells it reads


def test_our_own_numbers_are_numbers_even_when_negative():
    assert spreadsheets.write_csv([[-5, -0.25, 0]]).decode("utf-8-sig") == "-5,-0.25,0\r\n"
