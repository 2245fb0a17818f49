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

__all__ = ["COLUMN_LABELS", "COUNTING", "CROWDED_AT", "DIALOGUE_EVENTS", "EXTEND_EVENTS", "HANDLING_EVENTS",
           "HEAD_DAY_EVENT", "KIND_LABELS", "TABLE_TITLES", "Counting", "Report", "ReportFigures"]

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
class Counting:
    """How one workflow kind is counted: what ends its handling here, and its time limit.

    ``ends_by``: the events after which the case no longer waits on this unit (decided, concluded,
    answered, rejected, transferred, withdrawn...); the first of them in the case's history is its
    resolution (``resolved`` and the carried-over balance count it; a back-dated act counts at the
    moment it happened). ``time_limit``: the deadline whose ledger says on time or late (a
    resolution whose ledger is ``missed`` is late, any other, or none, on time) and which
    ``overdue_now`` counts.
    """

    ends_by: tuple[str, ...]
    time_limit: str | None


#: The one table mapping the shipped workflows' events to the report's figures (DESIGN §6c).
COUNTING: dict[str, Counting] = {
    "complaint": Counting(("decide", "reject", "transfer", "withdraw", "terminate"), "resolution"),
    "disciplinary_complaint": Counting(("decide", "reject", "transfer", "withdraw"), "resolution"),
    "denunciation": Counting(("conclude", "reject", "transfer", "terminate"), "resolution"),
    "petition": Counting(("answer", "reject", "transfer", "withdraw"), "resolution"),
    "letter": Counting(("accept", "guide", "transfer", "file", "merge", "split", "no_action", "route_election",
                        "inspect_only", "urge_lower_level"), "process"),
    "reception": Counting(("take_letter", "guide", "refuse", "refuse_persistent", "answer", "close"), "reply"),
    "reception_schedule": Counting(("hold", "cancel"), None),
}
#: The ``handling`` table's columns and the events (of any kind) each counts.
HANDLING_EVENTS: dict[str, str] = {"accepted": "accept", "transferred": "transfer", "guided": "guide", "filed": "file"}
#: A dialogue held (complaints: LKN Điều 30).
DIALOGUE_EVENTS: tuple[str, ...] = ("hold_dialogue",)
#: An extension, and the deadline it extends (None: the kind's time limit); the reason is its payload's ``reason``.
EXTEND_EVENTS: dict[str, str | None] = {"extend": None, "extend_intake": "acceptance"}
#: A head's reception day held (``reception_schedule``); a delegation of at least this many is crowded (LTCD Điều 30).
HEAD_DAY_EVENT = "hold"
CROWDED_AT = 5
#: The kinds' Vietnamese names (a kind not listed is shown by its name).
KIND_LABELS: dict[str, str] = {
    "complaint": "Khiếu nại", "disciplinary_complaint": "Khiếu nại quyết định kỷ luật", "denunciation": "Tố cáo",
    "petition": "Kiến nghị, phản ánh", "letter": "Xử lý đơn", "reception": "Tiếp công dân",
    "reception_schedule": "Lịch tiếp công dân",
}


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What the store counts for a report (``Transaction.report_figures``): aggregates, never cases.

    Moments are counted in ``[start, end)`` (UTC) on the local day of the report's zone; ``day``
    values are those local days.
    """

    #: (kind, channel, day of receipt, cases, persons, crowded delegations)
    received: list[tuple[str, str, date, int, int, int]]
    #: (kind, event, day, acts) of the history's entries
    acts: list[tuple[str, str, date, int]]
    #: (kind, day of first resolution, late, cases)
    resolved: list[tuple[str, date, bool, int]]
    #: kind -> cases received before ``start`` and not resolved before it
    carried_over: dict[str, int]
    #: kind -> time-limit ledgers past due at ``as_of`` and not closed by then
    overdue: dict[str, int]
    #: (case id, kind, event, day, reason) of every extension
    extensions: list[tuple[str, str, str, date, str]]
    #: (type, day of detection, hot spots)
    hot_spots: list[tuple[str, date, int]]
    #: (day, escalation.raised events)
    escalations: list[tuple[date, int]]


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
