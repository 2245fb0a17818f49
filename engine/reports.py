"""Reports to the inspectorate (DESIGN §6c): the tables of a period, as data.

A :class:`Report` is computed from the history, the deadlines and the feed (never typed in) for
the local days ``start`` .. ``end`` (both included). Its ``tables`` map a table name to rows, each
row a dict of plain JSON values (str, int, float, bool, None); the writers (adapters/reports/)
turn it into XLSX, CSV or JSON with the Vietnamese headings of :data:`TABLE_TITLES` and
:data:`COLUMN_LABELS`. ``Report.as_dict()`` is the JSON form:
``{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "tables": {NAME: [ROW, ...]}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["COLUMN_LABELS", "TABLE_TITLES", "Report"]

#: The tables of a report, in order, with their Vietnamese titles (a sheet each in XLSX).
TABLE_TITLES: dict[str, str] = {
    "summary_by_kind": "Tổng hợp theo loại đơn",
    "received_by_channel": "Tiếp nhận theo nguồn đơn",
    "handling": "Kết quả xử lý đơn",
    "extensions": "Gia hạn giải quyết",
    "reception": "Tiếp công dân",
    "hot_spots_by_type": "Điểm nóng theo loại",
    "by_phase": "Theo giai đoạn của thời kỳ nhạy cảm",
    "weekly": "Tiếp nhận và giải quyết theo tuần",
}

#: Vietnamese headings of the columns (a column not listed keeps its name).
COLUMN_LABELS: dict[str, str] = {
    "kind": "Loại", "kind_label": "Loại đơn", "channel": "Nguồn đơn", "phase": "Giai đoạn",
    "carried_over": "Kỳ trước chuyển sang", "received": "Tiếp nhận mới", "total": "Tổng số",
    "accepted": "Thụ lý", "transferred": "Chuyển đơn", "guided": "Hướng dẫn", "filed": "Lưu đơn",
    "resolved": "Đã giải quyết", "resolved_on_time": "Giải quyết đúng hạn", "resolved_late": "Giải quyết quá hạn",
    "overdue_now": "Đang quá hạn", "extended": "Gia hạn", "dialogues": "Đối thoại",
    "case_id": "Hồ sơ", "deadline": "Thời hạn", "reason": "Lý do", "on": "Ngày",
    "visits": "Lượt tiếp", "persons": "Số người", "crowded_delegations": "Đoàn đông người",
    "head_days_held": "Ngày tiếp của thủ trưởng", "type": "Loại điểm nóng", "count": "Số lượng",
    "hot_spots": "Điểm nóng", "escalations": "Cảnh báo, báo cáo vượt cấp", "week": "Tuần (từ thứ Hai)",
}


@dataclass(frozen=True, slots=True)
class Report:
    """The tables of one reporting period (local days ``start`` .. ``end``, both included)."""

    start: date
    end: date
    tables: dict[str, list[dict[str, Any]]]
    generated_at: datetime | None = None
    #: e.g. {"cut_off": "...", "phases": [...]}: how the figures were counted
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"from", "to", "tables"}`` (DESIGN §6c)."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "tables": {name: [dict(row) for row in rows] for name, rows in self.tables.items()}}
