"""SOS intake: stored before the 202, never lost, never duplicated; wave 1 alerted at once."""

from __future__ import annotations

import threading

import boto3

from shared.dal.models.rescue import IncidentModel
from tests.integration.rescue_helpers import PATIENT, execution, north_of, responder, sent, sos


def incidents() -> list[IncidentModel]:
    return list(IncidentModel.scan())


def test_sos_is_stored_before_the_202_and_starts_one_execution_named_by_it(api, aws):
    reply = sos(api, key="k-1", caller_phone="+8613700000000", note="倒地 collapsed")
    assert reply.status == 202
    incident_id = reply.body["incident_id"]
    stored = IncidentModel.get(incident_id)
    assert stored.status == "dispatching" and stored.caller_phone == "+8613700000000"
    assert execution(aws, incident_id)["name"] == incident_id


def test_same_key_and_body_is_the_same_incident_other_body_is_409(api):
    first = sos(api, key="retry-me")
    again = sos(api, key="retry-me")
    assert again.status == 202 and again.body["incident_id"] == first.body["incident_id"]
    other = sos(api, at=(30.3, 120.2), key="retry-me")
    assert other.status == 409 and other.body["error"]["code"] == "idempotency_key_reused"
    assert len(incidents()) == 1


def test_without_a_key_every_sos_for_another_patient_is_a_new_incident(api):
    # (Within 50 m and 10 minutes of an open one, an SOS joins it: test_rescue_sos_merge.py.)
    assert sos(api).body["incident_id"] != sos(api, at=north_of(*PATIENT, 300)).body["incident_id"]
    assert len(incidents()) == 2


def test_twenty_simultaneous_identical_sos_give_one_incident(api, aws):
    replies = []
    start = threading.Barrier(20)

    def send() -> None:
        start.wait()
        replies.append(sos(api, key="same-tap-20-times"))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in replies} == {202}
    assert len({r.body["incident_id"] for r in replies}) == 1
    assert len(incidents()) == 1
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=aws.state_machine_arn)[
        "executions"
    ]
    assert len(executions) == 1


def test_a_double_tap_with_responders_near_alerts_the_ten_nearest_once(api):
    near = [responder(api, at=north_of(*PATIENT, 50 + 40 * i)) for i in range(14)]
    replies = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        replies.append(sos(api, key="double-tap"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in replies} == {202}
    alerted = [m["to"] for m in sent(kind="alert")]
    assert sorted(alerted) == sorted(near[:10])  # the ten nearest, each once: no retry widened the wave


def test_wave_one_alerts_the_ten_nearest_eligible_within_1000_m_once_each(api):
    near = [responder(api, at=north_of(*PATIENT, 50 + 60 * i)) for i in range(12)]  # 50 m ... 710 m
    lapsed = responder(api, at=north_of(*PATIENT, 20), expires_on="2020-01-01", on_duty=False)
    off_duty = responder(api, at=north_of(*PATIENT, 30), on_duty=False)
    far = responder(api, at=north_of(*PATIENT, 1500))
    incident_id = sos(api).body["incident_id"]
    alerts = sent(kind="alert")
    assert sorted(a["to"] for a in alerts) == sorted(near[:10])
    assert all(a["incident_id"] == incident_id and a["channel"] == "sms" for a in alerts)
    assert not {lapsed, off_duty, far} & {a["to"] for a in alerts}
    first = next(a for a in alerts if a["to"] == near[0])
    assert "50 m" in first["message"]


def test_invalid_sos_is_rejected_without_an_incident(api):
    assert api("POST", "/v1/sos", {"lat": "30.1", "lng": 120.1}).status == 422
    assert api("POST", "/v1/sos", raw_body="{").status == 400
    assert api("POST", "/v1/sos", {"lat": 30.1, "lng": 120.1, "caller_phone": "110"}).status == 422
    assert incidents() == []


def test_a_json_body_sent_as_a_form_still_raises_the_sos(api):
    reply = api(
        "POST",
        "/v1/sos",
        raw_body='{"lat": 30.2587, "lng": 120.1650}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # what curl -d sends
    )
    assert reply.status == 202, reply.body
