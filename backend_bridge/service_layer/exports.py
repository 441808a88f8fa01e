"""Exports for the office's spreadsheets: the staff ticket list and the statistics as CSV.

The tables are built from exactly what the JSON APIs answer (``views.tickets_for_staff``'s
items, ``statistics.compute``'s dict), so a download never says something the console does not;
the bytes come from the one CSV writer (adapters/spreadsheets.py: UTF-8 with BOM, CRLF,
formulas neutralised). Headers and codes are in Chinese, times in the community's local time,
as the office reads them in Excel.

The ticket export leaves out the owner's chat id (the list shows it to some roles): a file
travels by mail and USB stick, and the address and description are what the work needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from backend_bridge.adapters import spreadsheets
from backend_bridge.adapters.spreadsheets import Cell

CSV_TYPE = spreadsheets.CSV_TYPE
MAX_ROWS = 10_000  # tickets in one export; narrow the filters (or the period) for more

KIND = {"repair": "报修", "complaint": "投诉"}
# Staff words, not the owner-facing STATUS_LABELS ("已处理完，待您评价" speaks to the owner).
STATUS = {
    "new": "待派单",
    "assigned": "已派单",
    "in_progress": "处理中",
    "on_hold": "暂停",
    "resolved": "待评价",
    "reopened": "已重开",
    "closed": "已办结",
    "cancelled": "已取消",
}
PRIORITY = {"emergency": "急修", "urgent": "加急", "normal": "普通", "low": "低"}
INTAKE = {"assistant": "智能助手", "staff": "客服代录", "phone": "电话"}
DEADLINE = {"respond": "响应", "resolve": "解决"}
MONTH_HEADER = ["月份", "工单数", "报修", "投诉", "响应应达标", "响应达标", "响应达标率"]
MONTH_HEADER += ["解决应达标", "解决达标", "解决达标率", "评价数", "满意", "满意度"]

TICKET_HEADER = [
    "工单号",
    "小区",
    "类型",
    "状态",
    "优先级",
    "分类",
    "位置",
    "描述",
    "受理方式",
    "处理人",
    "催单次数",
    "创建时间",
    "更新时间",
    "响应时限",
    "解决时限",
    "派单时间",
    "解决时间",
    "办结时间",
    "评分",
    "当前时限",
    "剩余分钟",
    "已超时",
    "暂停中",
    "合并至",
]


def attachment(filename: str) -> str:
    """Content-Disposition for a download: an ASCII fallback and the real name (RFC 5987/6266)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _local(iso: str | None, tz: ZoneInfo) -> str | None:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M") if iso else None


def ticket_rows(tickets: Sequence[dict], tz: ZoneInfo) -> list[list[Cell]]:
    """The header and one row per staff ticket view (``views.ticket_view`` with ``now``)."""
    rows: list[list[Cell]] = [list(TICKET_HEADER)]
    for t in tickets:
        sla = t.get("sla") or {}
        left = sla.get("seconds_left")
        rows.append(
            [
                t["id"],
                t["community"],
                KIND.get(t["kind"], t["kind"]),
                STATUS.get(t["status"], t["status"]),
                PRIORITY.get(t["priority"], t["priority"]),
                t.get("category_label") or t["category"],
                t["location"],
                t["description"],
                INTAKE.get(t["intake"], t["intake"]),
                t["assignee"],
                t["chases"],
                _local(t["created_at"], tz),
                _local(t["updated_at"], tz),
                _local(t["respond_by"], tz),
                _local(t["resolve_by"], tz),
                _local(t["responded_at"], tz),
                _local(t["resolved_at"], tz),
                _local(t["closed_at"], tz),
                t["rating"],
                DEADLINE.get(sla.get("deadline") or ""),
                None if left is None else left // 60,
                sla.get("breached", False) if sla.get("deadline") else None,
                sla.get("paused", False) if sla.get("deadline") else None,
                t["merged_into"],
            ]
        )
    return rows


def tickets_csv(tickets: Sequence[dict], tz: ZoneInfo) -> bytes:
    return spreadsheets.write_csv(ticket_rows(tickets, tz))


def _percent(rate: float | None) -> str | None:
    """0.6667 → 66.7% (as the dashboard shows it); None without data."""
    return None if rate is None else f"{rate * 100:.1f}%"


def stats_rows(stats: dict) -> list[list[Cell]]:
    """The statistics as one sheet of sections, each a title row, a header row and its rows,
    with a blank line between: what a manager pastes into a monthly report. One sheet rather
    than several files because a CSV has one sheet and the office wants one download; the
    sections are the dashboard's (KPIs, months, categories, buildings, staff)."""
    period = stats["period"]
    sla, satisfaction = stats["sla"], stats["satisfaction"]
    rows: list[list[Cell]] = [
        ["概况"],
        ["指标", "数值"],
        ["统计区间", f"{period['from']} 至 {period['to']}"],
        ["小区", stats.get("community") or "全部"],
        ["工单数", stats["tickets"]],
        ["报修", stats["by_kind"]["repair"]],
        ["投诉", stats["by_kind"]["complaint"]],
        ["响应达标率", _percent(sla["respond"]["rate"])],
        ["解决达标率", _percent(sla["resolve"]["rate"])],
        ["整体达标率", _percent(sla["rate"])],
        ["满意度", _percent(satisfaction["rate"])],
        ["评价数", satisfaction["ratings"]],
        ["重开工单", stats["reopened"]],
        ["当前积压", stats["backlog"]["total"]],
        ["响应时间中位数(分钟)", stats["response_minutes"]["median"]],
        ["解决时间中位数(分钟)", stats["resolution_minutes"]["median"]],
        ["合并未计", stats["excluded"]["merged"]],
        [],
        ["按月"],
        MONTH_HEADER,
    ]
    months = zip(stats["by_month"], stats["sla_by_month"], stats["satisfaction_by_month"], strict=True)
    for count, month_sla, month_rating in months:
        respond, resolve = month_sla["respond"], month_sla["resolve"]
        rows.append(
            [
                *(count["month"], count["total"], count["repair"], count["complaint"]),
                *(respond["due"], respond["met"], _percent(respond["rate"])),
                *(resolve["due"], resolve["met"], _percent(resolve["rate"])),
                *(month_rating["ratings"], month_rating["satisfied"], _percent(month_rating["rate"])),
            ]
        )
    rows += [[], ["按分类"], ["分类", "工单数"]]
    rows += [[c["label"], c["count"]] for c in stats["by_category"]]
    rows += [[], ["按楼栋"], ["楼栋", "工单数"]]
    rows += [[b["building"] or "公共区域", b["count"]] for b in stats["by_building"]]
    rows += [[], ["按人员"], ["账号", "姓名", "负责", "已解决", "未完成", "超时", "按时解决率", "满意度"]]
    rows += [
        [
            s["username"],
            s["name"],
            s["assigned"],
            s["resolved"],
            s["open"],
            s["overdue"],
            _percent(s["resolve_on_time_rate"]),
            _percent(s["satisfaction_rate"]),
        ]
        for s in stats["by_staff"]
    ]
    return rows


def stats_csv(stats: dict) -> bytes:
    return spreadsheets.write_csv(stats_rows(stats))
