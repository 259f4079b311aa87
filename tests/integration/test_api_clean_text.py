"""Text people send is stored as they meant it, and nothing else: control characters (NUL, escape
sequences, bells) are a 422 naming the field, in every body; notes keep their lines and tabs. The
number in an anonymous SOS reaches dispatchers marked unverified."""

from __future__ import annotations

import pytest

from shared.dal.models.rescue import IncidentModel
from tests.integration.rescue_helpers import PATIENT, aed, dispatcher, sos

ADMIN = {"sub": "admin-1", "roles": ("admin",)}
RESPONDER = {
    "name": "志愿者",
    "phone": "+8613800000001",
    "certificate_no": "C-1",
    "certificate_expires_on": "2030-01-01",
}


@pytest.mark.parametrize("bad", ["张\x00三", "张三\x1b[2J", "\x07张三", "张\x9b三", "张\n三"])
def test_a_name_with_a_control_character_is_refused(api, bad):
    reply = api("POST", "/v1/responders", {**RESPONDER, "name": bad}, **ADMIN)
    assert reply.status == 422, reply.body
    assert reply.body["error"]["message"] == "name: String should not contain control characters"


def test_an_aed_name_with_a_control_character_is_refused_and_a_clean_one_kept(api):
    body = {"lat": 30.25, "lng": 120.16, "name": "湖滨\x00银泰", "opening_hours": "24/7"}
    refused = api("POST", "/v1/aeds", body, sub="m", roles=("aed_manager",))
    assert refused.status == 422
    assert refused.body["error"]["message"].startswith("name: String should not contain control")
    kept = api("POST", "/v1/aeds", {**body, "name": "湖滨银泰 in77"}, sub="m", roles=("aed_manager",))
    assert kept.status == 201


def test_a_fault_note_keeps_its_lines_and_tabs_but_not_a_bell(api):
    aed_id = aed(api, PATIENT)
    ok = api(
        "POST", f"/v1/aeds/{aed_id}/reports", {"kind": "locked", "note": "柜子锁了\n\t钥匙在前台"}, sub="r1"
    )
    assert ok.status in (200, 201), ok.body
    bell = api("POST", f"/v1/aeds/{aed_id}/reports", {"kind": "locked", "note": "锁了\x07"}, sub="r1")
    assert bell.status == 422
    assert bell.body["error"]["message"] == (
        "note: String should not contain control characters other than newline and tab"
    )


def test_an_sos_note_with_nul_is_refused_without_an_incident(api):
    reply = sos(api, note="倒地\x00")
    assert reply.status == 422
    assert reply.body["error"]["message"] == (
        "note: String should not contain control characters other than newline and tab"
    )
    assert list(IncidentModel.scan()) == []


def test_dispatchers_see_an_anonymous_callers_number_as_unverified(api):
    raised = sos(api, caller_phone="+8613900000009", note="老人倒地\n在门口")
    assert raised.status == 202, raised.body
    view = dispatcher(api, "GET", f"/v1/incidents/{raised.body['incident_id']}")
    assert view.status == 200
    assert view.body["caller_phone"] == "+8613900000009"
    assert view.body["caller_phone_unverified"] is True
    assert view.body["note"] == "老人倒地\n在门口"
