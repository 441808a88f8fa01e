"""Reading an uploaded spreadsheet into rows of cell texts (CSV in whatever encoding, or .xlsx),
and writing the one CSV every export uses (``write_csv``).

Operators export from whatever they used before (an old property system, Excel): UTF-8
with or without a BOM, GBK/GB18030 (what Chinese Excel writes), UTF-16, or .xlsx. This is
file-format work with no idea of rosters or ledgers, so it lives apart from the import's
rules (service_layer/imports.py), which get rows of strings and need not know where they
came from. An .xlsx is a zip, so its unpacked size is checked before openpyxl opens it.

Exports are written for Excel as the property office has it (Chinese Windows): UTF-8 *with* a
BOM, or Excel reads the bytes as GBK and shows mojibake; CRLF line ends; and every text cell
that Excel would take for a formula (= + - @, or a leading tab or CR) gets a leading ' , since
the cells carry what owners wrote (CSV injection: a description "=HYPERLINK(...)" must stay text).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

import openpyxl

log = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_COLUMNS = 64  # columns read from a worksheet; the rest are ignored
MAX_UNPACKED = 100 * 1024 * 1024  # an .xlsx is a zip: refuse one that unpacks to more than this

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # text files have none of these

Rows = list[tuple[int, list[str]]]
Cell = str | int | float | None
CSV_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel (and LibreOffice) read as a formula


class UnreadableSpreadsheet(Exception):
    """The bytes are not a spreadsheet we can read; ``code`` is ``empty`` or ``unreadable``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def read_table(data: bytes, content_type: str = "", max_rows: int | None = None) -> Rows:
    """The file's non-blank rows as (line or row number the operator sees, cell texts).

    An .xlsx is recognised by its zip signature whatever the Content-Type says (browsers
    send application/vnd.ms-excel or octet-stream for anything Excel opens); anything
    else is read as CSV. A workbook stops being read after ``max_rows`` non-blank rows,
    so a caller that refuses longer files anyway does not wait for openpyxl to read a
    million; a CSV is bounded by the upload's size.
    """
    if not data.strip():
        raise UnreadableSpreadsheet("empty", "the file is empty")
    if data.startswith(_OLE_MAGIC):
        raise UnreadableSpreadsheet(
            "unreadable", "this is an old Excel .xls file; save it as .xlsx or CSV and upload that"
        )
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_rows(data, max_rows)
    if content_type == XLSX_TYPE:
        raise UnreadableSpreadsheet("unreadable", "the file is not an .xlsx workbook")
    return _csv_rows(data)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), else GB18030.

    A declared charset is not trusted: upload tools often claim UTF-8 for a GBK file, and
    GBK text almost never decodes as strict UTF-8, so trying UTF-8 first tells them apart.
    GB18030 is a superset of GBK and GB2312.
    """
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # binary data that happened to decode
        return text
    raise UnreadableSpreadsheet("unreadable", "the file is neither an .xlsx workbook nor CSV text (UTF-8 or GBK)")


def _csv_rows(data: bytes) -> Rows:
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1  # a quoted cell may span lines: a record is numbered by the line it starts on
    try:
        for record in reader:
            cells = [cell.strip() for cell in record]
            if any(cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableSpreadsheet("unreadable", f"the CSV is malformed near line {start}: {exc}") from None
    return rows


def _xlsx_rows(data: bytes, max_rows: int | None) -> Rows:
    """The first worksheet's rows (the sheet open when the file was saved), numbered as Excel shows them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise UnreadableSpreadsheet(
            "unreadable", "the file looks like a zip but is damaged; save the .xlsx again"
        ) from None
    if unpacked > MAX_UNPACKED:
        raise UnreadableSpreadsheet("unreadable", "the workbook is too large once unpacked; split it")
    rows = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like: noise for our purpose
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.active if workbook.active in workbook.worksheets else workbook.worksheets[0]
                sheet.reset_dimensions()  # some exporters write a wrong dimension; read every cell
                # At most MAX_COLUMNS: one cell far to the right would pad every row to 16,384 cells
                # (137 KB a row); no export we read has a tenth of that many columns.
                cells_of = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
                for number, values in enumerate(cells_of, start=1):
                    cells = [_cell_text(value) for value in values]
                    while cells and not cells[-1]:  # max_col pads every row to it
                        cells.pop()
                    if any(cells):
                        rows.append((number, cells))
                        if max_rows is not None and len(rows) > max_rows:
                            break  # the caller says the file is too long
            finally:
                workbook.close()
        width = max((len(cells) for _, cells in rows), default=0)  # as wide as the widest row, as before
        rows = [(number, cells + [""] * (width - len(cells))) for number, cells in rows]
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips over, the workbook is unreadable
        log.info("unreadable workbook: %s", type(exc).__name__)
        raise UnreadableSpreadsheet(
            "unreadable", "the workbook cannot be read; save it again as .xlsx or CSV"
        ) from None
    return rows


def _cell_text(value: object) -> str:
    """A cell as the operator sees it: 3 not 3.0, 196.9 not 196.90000000000003, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")  # Excel shows 15 digits
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def neutralise(text: str) -> str:
    """A text cell Excel will show as text: a leading ' when it would start a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell_out(value: Cell) -> str:
    """Numbers as Python writes them (our own counts and rates: -5 is a number, never a formula,
    so it is left alone); None as an empty cell; text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


def write_csv(rows: Iterable[Sequence[Cell]]) -> bytes:
    """Rows (the header first; an empty row is a blank line between sections) as the bytes of a
    CSV Excel opens directly: UTF-8 with BOM, CRLF, minimal quoting, formulas neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell_out(value) for value in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
