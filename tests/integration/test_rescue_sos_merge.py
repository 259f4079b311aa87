"""Two callers, one patient: a second SOS within 50 m and 10 minutes of an open incident joins it. The
second caller gets the first incident's id, dispatchers see both callers, nobody is alerted twice."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.integration.rescue_helpers import PATIENT, dispatcher, north_of, responder, sent, sos


def test_a_second_caller_close_by_joins_the_first_incident(api):
    rid = responder(api, at=north_of(*PATIENT, 200))
    first = sos(api, caller_phone="+8613900000001")
    assert first.status == 202
    second = sos(api, north_of(*PATIENT, 30), caller_phone="+8613900000002", note="我也看到了")
    assert second.status == 202
    assert second.body["incident_id"] == first.body["incident_id"]
    assert [m["to"] for m in sent(kind="alert")] == [rid]  # one alert, from the first SOS only
    view = dispatcher(api, "GET", f"/v1/incidents/{first.body['incident_id']}").body
    joined = [e for e in view["events"] if e["type"] == "caller_joined"]
    assert len(joined) == 1
    other = dispatcher(api, "GET", f"/v1/incidents/{joined[0]['detail']}").body  # the second caller
    assert (other["status"], other["merged_into"]) == ("merged", first.body["incident_id"])
    assert other["caller_phone"] == "+8613900000002" and other["note"] == "我也看到了"


def test_a_retry_of_the_joining_sos_answers_the_same_incident(api):
    first = sos(api).body["incident_id"]
    joining = sos(api, north_of(*PATIENT, 20), key="second-phone-1")
    retry = sos(api, north_of(*PATIENT, 20), key="second-phone-1")
    assert joining.body["incident_id"] == retry.body["incident_id"] == first


def test_farther_than_50_m_or_later_than_10_minutes_is_a_new_incident(api):
    first = sos(api).body["incident_id"]
    assert sos(api, north_of(*PATIENT, 80)).body["incident_id"] != first
    with time_machine.travel(timedelta(minutes=11)):
        assert sos(api, north_of(*PATIENT, 10)).body["incident_id"] != first


def test_a_closed_incident_is_not_joined(api):
    first = sos(api).body["incident_id"]
    closed = dispatcher(api, "POST", f"/v1/incidents/{first}/close", {"outcome": "false_alarm"})
    assert closed.status == 200
    assert sos(api, north_of(*PATIENT, 10)).body["incident_id"] != first
