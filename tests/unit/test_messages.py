"""Every text the platform sends is a template with variables (shared/logic/messages.py), filed for approval
as docs/sms-templates.md lists it: the page and the catalog are held equal, and the variables the rules
fill in always fit the providers' rules."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.logic.messages import MAX_VARIABLE_LENGTH, TEMPLATES, Text, clip

DOC = Path(__file__).resolve().parents[2] / "docs" / "sms-templates.md"


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 5:
            rows[cells[0].strip("`")] = cells
    return rows


def test_the_approval_page_lists_every_template_exactly_as_the_code_sends_it():
    rows = _rows()
    assert set(rows) == set(TEMPLATES), "a template missing from the page, or a row the code no longer sends"
    for template_id, template in TEMPLATES.items():
        _, filed, tencent, variables, purpose = rows[template_id]
        assert filed == template.filed
        numbered = template.filed
        for n, name in enumerate(template.variables, 1):
            numbered = numbered.replace("${" + name + "}", "{" + str(n) + "}")
        assert tencent == numbered
        assert re.findall(r"`(\w+)`", variables) == list(template.variables)
        assert purpose == template.purpose


def test_no_filed_template_carries_a_link_or_a_stray_placeholder():
    for template in TEMPLATES.values():
        assert "http" not in template.filed and "://" not in template.filed
        rendered = Text(template.template_id, {v: "x" for v in template.variables})
        assert "${" not in rendered.filed
        assert "{" not in rendered.body, f"{template.template_id}: a body field with no variable"


def test_a_text_with_the_wrong_variables_is_refused():
    with pytest.raises(ValueError, match="rescue_alert"):
        Text("rescue_alert", {"distance": "300 m"})
    with pytest.raises(ValueError):
        Text("rescue_alert", {"distance": "300 m", "incident": "i", "extra": "x"})


@given(st.text(min_size=0, max_size=200))
def test_clipped_values_fit_the_providers_variable_rule(value):
    clipped = clip(value)
    assert len(clipped) <= MAX_VARIABLE_LENGTH
    assert clipped == value or clipped.endswith("…")


def test_the_sms_carries_every_variable_within_the_rule_and_the_app_the_whole_of_it():
    from shared.logic.certification.certificates import reminder_message
    from shared.logic.rescue.notices import alert_text, reroute_text, stand_down_text
    from shared.logic.rescue.ports import AedOption, Alert, Incident

    long_name = "西湖文化广场地铁站东南侧出入口服务中心旁边的自动体外除颤器"
    incident = Incident(
        "01KBX3R9Q4W8Z2M6N7P5T1V0CD",
        "alerting",
        30.0,
        120.0,
        datetime.now(UTC),
        slots_cpr=2,
        slots_aed=1,
        aed_options=[AedOption("a1", 30.0, 120.0, long_name, "B出口服务台靠墙")],
    )
    alert = Alert("01KBX3R9Q4W8Z2M6N7P5T1V0CD", "r1", "alerted", 1, 1234.0, 30.0, 120.0, datetime.now(UTC))
    alert.aed_id = "a1"
    texts = [alert_text(incident, alert), reroute_text(incident, alert), stand_down_text(incident)]
    assert texts[0].template == "rescue_alert_aed" and texts[0].params["distance"] == "1.2 km"
    certificate = type("C", (), {"certificate_no": "ZJ-2026-000123", "valid_until": date(2027, 3, 1)})()
    texts.append(reminder_message(certificate, 30))  # type: ignore[arg-type]
    for text in texts:
        assert all(len(v) <= MAX_VARIABLE_LENGTH for v in text.sms_params().values()), text
        assert len(text.ordered()) == len(TEMPLATES[text.template].variables)
    reroute = texts[1]
    assert long_name in reroute.body and "B出口服务台靠墙" in reroute.body, "SNS and the push keep it whole"
    assert reroute.sms_params()["aed"].endswith("…") and "B出口服务台靠墙" not in reroute.sms_params()["aed"]
