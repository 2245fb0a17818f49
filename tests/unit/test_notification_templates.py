"""Notification templates: what an officer reads, and the templates refused before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.notify.templates import (
    Renderer,
    TemplateText,
    merged,
    render_context,
    shipped_templates,
    template_problems,
)
from engine import election_letters, phase_policy
from engine.errors import ConfigError, DeliveryError
from engine.model import OutboxMessage

ORG = "Sở Khoa học và Công nghệ"
TO = {"id": "tp01", "name": "Lê Thị Trưởng", "role": "head_of_unit", "unit": "thanh_tra",
      "email": "tp01@so.gov.vn"}
CASE = {"id": "c-123", "kind": "complaint", "kind_label": "Khiếu nại", "state": "verifying",
        "state_label": "Đang xác minh", "priority": "urgent", "channel": "post", "received_on": "02/03/2026",
        "flags": ["crowded"], "deadlines": [{"name": "resolution", "due_on": "01/04/2026", "status": "running"}]}

#: A sample of each shipped kind's data, as its producer queues it (the router adds to and case).
SAMPLES: dict[str, dict[str, Any]] = {
    "default": {"event": "case.opened", "case_id": "c-123"},
    "hot_spot_at_once": {"rule": "hot_spot_in_election", "event": "hotspot.detected", "case_id": "c-123",
                         "role": "head_of_unit", "hot_spot": "hs-7", "type": "crowded", "case_ids": ["c-123"]},
    phase_policy.KIND: {"policy": "notify_at_once", "event": "hotspot.detected", "role": "head_of_unit",
                        "hot_spot": "hs-7", "type": "skip_level", "case_ids": ["c-123", "c-124"], "case_id": "c-123",
                        "period": "bau_cu_2026", "phase": "before",
                        "phases": [{"period": "bau_cu_2026", "phase": "before"}]},
    "complaint_overdue": {"rule": "overdue_first_instance_complaint", "event": "deadline.overdue",
                          "case_id": "c-123", "role": "head_of_unit", "deadline": "resolution"},
    "roster_gap": {"event": "roster.gap", "day": "15/03/2026", "reason": "ngày làm việc không có người trực",
                   "role": "head_of_unit", "unit": "thanh_tra"},
    election_letters.KIND: {"topic": "voter_list", "label": "Khiếu nại về danh sách cử tri",
                            "route_to": "Ủy ban nhân dân cấp xã đã lập danh sách cử tri",
                            "legal_basis": "Luật Bầu cử ĐBQH và ĐBHĐND 2015 Điều 33", "resolve_days": 5,
                            "phrases": ["danh sach cu tri"], "period": "bau_cu_2026", "phase": "before",
                            "case_id": "c-123", "role": "clerk"},
}
#: Kinds that concern no case.
CASELESS = {"roster_gap"}


def message(kind: str, data: dict[str, Any], *, case: dict[str, Any] | None = CASE,
            to: dict[str, Any] | None = None) -> OutboxMessage:
    return OutboxMessage(id=1, channel="email", kind=kind, case_id=None if case is None else case["id"],
                         data={**data, "to": dict(to or TO), "case": case}, status="pending", attempts=0,
                         last_error=None, next_attempt_at=None, created_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


def renderer(**overrides: TemplateText) -> Renderer:
    return Renderer(merged(overrides), org=ORG)


def test_a_crowded_hot_spot_reads_in_vietnamese() -> None:
    rendered = renderer().render(message("hot_spot_at_once", SAMPLES["hot_spot_at_once"]))
    assert rendered.subject == "[KNTC] Phát hiện vụ việc đông người: hồ sơ c-123"
    assert rendered.template == "hot_spot_at_once"
    assert rendered.body.startswith("Kính gửi: Lê Thị Trưởng,\n")
    assert f"Hệ thống quản lý khiếu nại, tố cáo của {ORG}" in rendered.body
    assert "Hồ sơ: c-123 (Khiếu nại), nhận ngày 02/03/2026, trạng thái: Đang xác minh." in rendered.body
    assert "Thời hạn giải quyết: đến ngày 01/04/2026." in rendered.body


@pytest.mark.parametrize(("hot_spot_type", "words"), [
    ("crowded", "đông người"), ("early_crowded", "có dấu hiệu đông người"), ("complex", "phức tạp"),
    ("prolonged", "kéo dài"), ("skip_level", "vượt cấp"), ("circular_forwarding", "chuyển vòng")])
def test_hot_spot_types_are_translated(hot_spot_type: str, words: str) -> None:
    data = {**SAMPLES["hot_spot_at_once"], "type": hot_spot_type}
    assert renderer().render(message("hot_spot_at_once", data)).subject == \
        f"[KNTC] Phát hiện vụ việc {words}: hồ sơ c-123"
    policy = {**SAMPLES[phase_policy.KIND], "type": hot_spot_type}
    assert renderer().render(message(phase_policy.KIND, policy)).subject == \
        f"[KNTC] Điểm nóng {words} trong thời gian bầu cử: hồ sơ c-123"


def test_the_shipped_templates_cover_every_kind_the_engine_queues() -> None:
    shipped = shipped_templates()
    assert set(SAMPLES) <= set(shipped), "a kind the engine queues has no shipped template"
    assert {phase_policy.KIND, election_letters.KIND, "hot_spot_at_once", "complaint_overdue", "roster_gap"} <= \
        set(shipped)
    assert template_problems(shipped) == []


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_shipped_template_renders_its_sample(kind: str) -> None:
    shipped = shipped_templates()
    assert kind in shipped
    cases = [None] if kind in CASELESS else [CASE, None]
    for case in cases:
        rendered = renderer().render(message(kind, SAMPLES[kind], case=case))
        assert rendered.template == kind
        assert rendered.subject.startswith("[KNTC] ") and "\n" not in rendered.subject
        assert rendered.body.startswith("Kính gửi: Lê Thị Trưởng,")
        assert "tp01@so.gov.vn" not in rendered.body + rendered.subject
        assert "None" not in rendered.body + rendered.subject


def test_shipped_subjects_of_the_other_kinds() -> None:
    render = renderer().render
    assert render(message("complaint_overdue", SAMPLES["complaint_overdue"])).subject == \
        "[KNTC] Khiếu nại quá hạn giải quyết: hồ sơ c-123"
    assert render(message("roster_gap", SAMPLES["roster_gap"], case=None)).subject == \
        "[KNTC] Chưa bố trí cán bộ trực tiếp công dân ngày 15/03/2026"
    letter = render(message(election_letters.KIND, SAMPLES[election_letters.KIND]))
    assert letter.subject == \
        "[KNTC] Đơn liên quan đến bầu cử, chuyển Ủy ban nhân dân cấp xã đã lập danh sách cử tri: hồ sơ c-123"
    assert "Thời hạn giải quyết của cơ quan có thẩm quyền: 5 ngày." in letter.body


def test_a_kind_without_a_template_uses_the_default() -> None:
    rendered = renderer().render(message("something_new", {"event": "case.opened"}))
    assert rendered.template == "default"
    assert rendered.subject == "[KNTC] Thông báo: hồ sơ c-123"
    assert rendered.body.startswith("Kính gửi: Lê Thị Trưởng,")


def test_a_config_template_overrides_the_shipped_one_and_its_subject_is_one_line() -> None:
    own = TemplateText(subject="Điểm nóng\n  {{ case.id }}\n", body="{{ to.name }}: {{ data.type }}\n")
    rendered = renderer(hot_spot_at_once=own).render(message("hot_spot_at_once", SAMPLES["hot_spot_at_once"]))
    assert rendered.subject == "Điểm nóng c-123"
    assert rendered.body == "Lê Thị Trưởng: crowded\n"
    assert merged({"hot_spot_at_once": own})["roster_gap"] == shipped_templates()["roster_gap"]


# ----------------------------------------------------------------------------- refused templates


def problems_of(subject: str = "x", body: str = "x") -> list[tuple[tuple[str, ...], str]]:
    return template_problems({"mine": TemplateText(subject=subject, body=body)})


def test_a_template_that_does_not_compile_is_refused_with_its_line() -> None:
    (loc, why), = problems_of(body="Kính gửi\n{% if case %}{{ case.id }}\n")
    assert loc == ("mine", "body")
    assert why.startswith("does not compile (line 2 of the template): ")
    assert "templates." not in why  # the config loader adds the location
    (loc, why), = problems_of(subject="{{ case.id | no_such_filter }}")
    assert loc == ("mine", "subject") and "no_such_filter" in why


def test_an_unknown_name_is_refused() -> None:
    (loc, why), = problems_of(body="{{ petitioner }} {{ to.name }}")
    assert loc == ("mine", "body")
    assert why == "uses 'petitioner': a template knows only to, case, data, kind, org"


def test_an_unknown_case_field_is_refused() -> None:
    (loc, why), = problems_of(subject="{{ case.petitioners }}")
    assert loc == ("mine", "subject")
    assert why.startswith("uses unknown field case.petitioners (line 1 of the template): known are case.id,")
    (_, why), = problems_of(body="{% if case %}\n{{ case['content'] }}{% endif %}")
    assert why.startswith("uses unknown field case.content (line 2 of the template)")


@pytest.mark.parametrize("text", ["{{ to.email }}", "{{ to['email'] }}", "{{ data.to.email }}"])
def test_the_officers_address_is_not_a_templates(text: str) -> None:
    (_, why), = problems_of(body=text)
    assert why.startswith("uses to.email (line 1 of the template)")


def test_methods_and_local_names_are_not_fields() -> None:
    assert problems_of(body="{% set t = {'a': 1} %}{{ t.a }}{{ case.get('state_label') }}"
                            "{% for d in case.deadlines %}{{ d.name }}{{ loop.index }}{% endfor %}") == []


def test_a_refused_template_stops_the_renderer() -> None:
    with pytest.raises(ConfigError, match=r"^templates\.mine\.body: uses 'secret'"):
        Renderer(merged({"mine": TemplateText(subject="x", body="{{ secret }}")}), org=ORG)
    with pytest.raises(ConfigError, match=r"^templates\.default: missing"):
        Renderer({"mine": TemplateText(subject="x", body="y")}, org=ORG)


def test_a_template_may_not_reach_the_address_or_other_keys_at_run_time_either() -> None:
    """A key built at run time passes the static check; the context simply does not have it."""
    sneaky = TemplateText(subject="x", body="{% set k = 'em' ~ 'ail' %}{{ to[k] }}")
    with pytest.raises(DeliveryError):
        renderer(sneaky=sneaky).render(message("sneaky", {}))
    context = render_context(message("x", {}, case={**CASE, "petitioners": ["Nguyễn Văn Tố"]}), ORG)
    assert "email" not in context["to"] and "email" not in context["data"]["to"]
    assert "petitioners" not in context["case"] and "petitioners" not in context["data"]["case"]


def test_a_failure_at_run_time_is_a_delivery_error_without_data() -> None:
    own = TemplateText(subject="{{ data.deadline }}", body="x")
    with pytest.raises(DeliveryError) as raised:
        renderer(mine=own).render(message("mine", {"event": "deadline.overdue", "note": "Trần Thị Bí Mật"}))
    text = str(raised.value)
    assert text.startswith("template 'mine' for kind 'mine' could not be rendered: UndefinedError: ")
    assert "deadline" in text and "\n" not in text
    assert "Bí Mật" not in text and "Lê Thị Trưởng" not in text
    divide = TemplateText(subject="x", body="{{ data.count + 'x' }}")
    with pytest.raises(DeliveryError, match=r"^template 'mine' for kind 'mine' could not be rendered: TypeError"):
        renderer(mine=divide).render(message("mine", {"count": 12345}))
