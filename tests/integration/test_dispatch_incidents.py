"""Incidents and updates a 120 centre's CAD system sends, signed, through the real handlers on the embedded
AWS: an incident goes the SOS's way (alerts, roles, the AED, the workflow, credits), once per webhook-id
and once per CAD number even when sent many times at once; an update acts as a dispatcher's event or
close; and a call not proven to be the centre's is a 401 that stores nothing."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

from shared import wiring
from shared.dal.models.rescue import EventModel, IncidentModel, SosKeyModel
from tests.conftest import Api
from tests.integration.dispatch_helpers import Centre, centre
from tests.integration.rescue_helpers import (
    PATIENT,
    aed,
    dispatcher,
    execution,
    finished,
    north_of,
    responder,
    sent,
    sos,
    until,
)


@pytest.fixture
def hz(api: Api) -> Centre:
    return centre(api, "hz120")


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch):
    """Change the deployment's dispatch policy for one test (the handlers read it from wiring.policy())."""
    base = wiring.policy()

    def set_policy(**changes: int) -> None:
        changed = dataclasses.replace(base, **changes)
        monkeypatch.setattr(wiring, "policy", lambda: changed)

    return set_policy


def incidents() -> list[IncidentModel]:
    return list(IncidentModel.scan())


def executions(aws) -> list[dict[str, object]]:
    sfn = boto3.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=aws.state_machine_arn)["executions"])


def view(api: Api, incident_id: str) -> dict[str, object]:
    reply = dispatcher(api, "GET", f"/v1/incidents/{incident_id}")
    assert reply.status == 200, reply.body
    return dict(reply.body)


# --- the SOS's path ------------------------------------------------------------------------------


def test_a_centres_incident_alerts_assigns_and_credits_like_an_sos(api, aws, hz):
    near = [responder(api, at=north_of(*PATIENT, 80 + 60 * i)) for i in range(3)]
    aed_id = aed(api, north_of(*PATIENT, 120))
    reply = hz.incident(
        "HZ-20261206-0001",
        address="上城区湖滨路 1 号 银泰 B 座",
        floor="3F",
        callback_phone="+8657187654321",
        note="患者男，约 60 岁，倒地无呼吸",
        call_received_at="2026-12-06T03:00:05+08:00",
    )
    assert reply.status == 202, reply.body
    incident_id = reply.body["incident_id"]
    assert reply.body["status"] == "dispatching"
    assert execution(aws, incident_id)["name"] == incident_id  # the rescue workflow, named by it

    stored = IncidentModel.get(incident_id)
    assert (stored.source, stored.cad_incident_no, stored.centre_id) == (
        "dispatch",
        "HZ-20261206-0001",
        "hz120",
    )
    assert stored.created_by == "dispatch-centre:hz120"
    assert (stored.nature, stored.address, stored.floor) == (
        "cardiac_arrest",
        "上城区湖滨路 1 号 银泰 B 座",
        "3F",
    )
    assert stored.call_received_at == datetime(2026, 12, 5, 19, 0, 5, tzinfo=UTC)
    alerts = sent(kind="alert")
    assert sorted(a["to"] for a in alerts) == sorted(near)  # wave 1, each once
    assert all(a["incident_id"] == incident_id for a in alerts)

    # Roles as for an SOS: the AED is an option, a runner fetches it, the others do CPR.
    roles = [
        api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid).body
        for rid in near
    ]
    assert sorted(r["role"] for r in roles) == ["aed", "cpr", "cpr"]
    assert next(r for r in roles if r["role"] == "aed")["aed"]["aed_id"] == aed_id
    cpr = next(rid for rid, r in zip(near, roles, strict=True) if r["role"] == "cpr")
    assert api("POST", f"/v1/incidents/{incident_id}/events", {"type": "arrived"}, sub=cpr).status == 200

    seen = view(api, incident_id)  # a dispatcher sees what the centre said
    assert (seen["nature"], seen["address"], seen["floor"]) == (
        "cardiac_arrest",
        "上城区湖滨路 1 号 银泰 B 座",
        "3F",
    )
    assert seen["centre_id"] == "hz120" and seen["caller_phone"] == "+8657187654321"
    assert seen["caller_phone_unverified"] is False  # the centre's own number, not a bystander's typing
    responder_view = api("GET", f"/v1/incidents/{incident_id}", sub=cpr).body
    assert responder_view["address"] == "上城区湖滨路 1 号 银泰 B 座"
    assert responder_view["centre_id"] is None and responder_view["caller_phone"] is None  # staff only

    # The centre closes it: the workflow finishes and the volunteers get their points.
    closed = hz.update("HZ-20261206-0001", "closed", "transported")
    assert closed.status == 200 and closed.body["status"] == "closed"
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    credits = api("GET", f"/v1/responders/{cpr}/credits", sub=cpr).body
    assert {c["reason"] for c in credits["items"]} >= {"accepted", "arrived"}


def test_gcj02_coordinates_are_converted_as_for_an_sos(api, hz):
    reply = hz.incident("HZ-GCJ", (30.2566, 120.1652), crs="gcj02")
    stored = IncidentModel.get(reply.body["incident_id"])
    assert abs(stored.lat - 30.2566) > 1e-4 and abs(stored.lat - 30.259) < 0.01  # moved to WGS-84


# --- once per webhook-id, once per CAD number -----------------------------------------------------


def test_the_same_webhook_id_again_is_the_same_incident_and_alerts_nobody_again(api, aws, hz):
    near = responder(api, at=north_of(*PATIENT, 100))
    first = hz.incident("HZ-1", webhook_id="msg_retry")
    again = hz.incident("HZ-1", webhook_id="msg_retry")  # the CAD's retry: same id, same body
    assert again.status == 202 and again.body["incident_id"] == first.body["incident_id"]
    assert len(incidents()) == 1 and len(executions(aws)) == 1
    assert [m["to"] for m in sent(kind="alert")] == [near]


def test_the_same_cad_number_again_is_the_same_incident_whatever_the_webhook_id(api, aws, hz):
    first = hz.incident("HZ-2", note="首次来电")
    second_call = hz.incident("HZ-2", north_of(*PATIENT, 30), note="第二个报警人")  # a new message, same case
    assert second_call.status == 202 and second_call.body["incident_id"] == first.body["incident_id"]
    stored = IncidentModel.get(first.body["incident_id"])
    assert stored.note == "首次来电" and stored.lat == PATIENT[0]  # the first call's record stands
    assert len(incidents()) == 1 and len(executions(aws)) == 1


def test_the_same_cad_number_from_another_centre_is_another_incident(api, hz):
    nb = centre(api, "nb120")
    assert hz.incident("2026-0001").body["incident_id"] != nb.incident("2026-0001").body["incident_id"]


def test_a_webhook_id_reused_for_another_cad_number_is_refused_and_stores_nothing(api, hz):
    hz.incident("HZ-3", webhook_id="msg_reused")
    other = hz.incident("HZ-4", north_of(*PATIENT, 500), webhook_id="msg_reused")
    assert other.status == 409 and other.body["error"]["code"] == "webhook_id_reused"
    assert [i.cad_incident_no for i in incidents()] == ["HZ-3"]
    assert hz.update("HZ-4", "ems_arrived").status == 404  # no incident was made for HZ-4


def test_duplicates_sent_at_once_make_one_incident_one_workflow_and_one_alert_each(api, aws, hz):
    near = [responder(api, at=north_of(*PATIENT, 60 + 40 * i)) for i in range(4)]
    start = threading.Barrier(12)
    replies = []

    def send(n: int) -> None:
        start.wait()
        # Half are the CAD's retries of one message, half other messages for the same case.
        replies.append(hz.incident("HZ-RACE", webhook_id="msg_race" if n % 2 else f"msg_race_{n}"))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [202] * 12, [r.body for r in replies]
    assert len({r.body["incident_id"] for r in replies}) == 1
    assert len(incidents()) == 1 and len(executions(aws)) == 1
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(near)  # each alerted once


# --- a dispatcher's incident: the public SOS's abuse rules do not refuse it ---------------------


@pytest.fixture
def mid_hour():
    """The responders' alert caps count per hour and per day: start a minute into both."""
    with time_machine.travel(datetime(2026, 12, 6, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


def test_a_responder_at_the_public_alert_cap_is_still_alerted_by_the_centre(api, hz, policy, mid_hour):
    policy(alerts_per_hour=2, sos_per_ip=100)
    near = responder(api, at=north_of(*PATIENT, 50))
    for i in range(2):  # two public SOS, 60 m apart (neither joins the other): the cap is reached
        assert sos(api, north_of(*PATIENT, 60 * i)).status == 202
    assert sos(api, north_of(*PATIENT, 120)).status == 202
    assert [m["to"] for m in sent(kind="alert")].count(near) == 2  # capped for public SOS
    incident_id = hz.incident("HZ-CAP", north_of(*PATIENT, 180)).body["incident_id"]
    assert near in {a["responder_id"] for a in view(api, incident_id)["alerts"]}


def test_no_source_limit_and_no_merge_refuses_or_swallows_a_centres_incident(api, hz, policy, mid_hour):
    policy(sos_per_ip=1, sos_per_device=1)
    public = sos(api).body["incident_id"]  # a bystander's SOS for the same patient, just before
    raised = [hz.incident(f"HZ-{n}", north_of(*PATIENT, 10 * n)) for n in range(3)]
    assert [r.status for r in raised] == [202] * 3  # however many, from the one address
    ids = {r.body["incident_id"] for r in raised}
    assert len(ids) == 3 and public not in ids  # never merged into the bystander's: its own incident
    assert all(IncidentModel.get(i).status == "dispatching" for i in ids)


def test_a_bystanders_sos_after_the_centres_incident_joins_it(api, hz):
    raised = hz.incident("HZ-JOIN").body["incident_id"]
    later = sos(api, north_of(*PATIENT, 20))  # the patient's neighbour presses SOS too
    assert later.status == 202 and later.body["incident_id"] == raised
    assert [e["type"] for e in view(api, raised)["events"]] == ["caller_joined"]


# --- updates -------------------------------------------------------------------------------------


def test_ems_arrived_is_a_dispatchers_event_once_and_a_replay_is_harmless(api, hz):
    incident_id = hz.incident("HZ-5").body["incident_id"]
    first = hz.update("HZ-5", "ems_arrived", webhook_id="msg_ems")
    assert first.status == 200
    assert first.body == {
        "incident_id": incident_id,
        "cad_incident_no": "HZ-5",
        "type": "ems_arrived",
        "status": "dispatching",
        "outcome": None,
    }
    assert hz.update("HZ-5", "ems_arrived", webhook_id="msg_ems").status == 200  # the CAD's retry
    assert hz.update("HZ-5", "ems_arrived").status == 200  # another message: the event is once anyway
    events = [e for e in EventModel.query(incident_id) if e.type == "ems_arrived"]
    assert [(e.actor, e.actor_role) for e in events] == [("dispatch-centre:hz120", "dispatcher")]
    assert [e["type"] for e in view(api, incident_id)["events"]] == ["ems_arrived"]


def test_cancelled_closes_as_cancelled_and_the_workflow_finishes(api, aws, hz):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = hz.incident("HZ-6").body["incident_id"]
    reply = hz.update("HZ-6", "cancelled")
    assert reply.status == 200 and (reply.body["status"], reply.body["outcome"]) == ("closed", "cancelled")
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
    until(lambda: [m["kind"] for m in sent(to=rid)] == ["alert", "stand_down"], what="the stand-down")


def test_closed_with_an_outcome_then_a_replay_answers_and_another_close_is_refused(api, aws, hz):
    incident_id = hz.incident("HZ-7").body["incident_id"]
    closed = hz.update("HZ-7", "closed", "rosc", webhook_id="msg_close")
    assert closed.status == 200 and closed.body["outcome"] == "rosc"
    replay = hz.update("HZ-7", "closed", "rosc", webhook_id="msg_close")
    assert (replay.status, replay.body) == (200, closed.body)
    other = hz.update("HZ-7", "closed", "deceased")  # a new message: as a dispatcher's second close
    assert other.status == 409 and other.body["error"]["code"] == "already_closed"
    assert hz.update("HZ-7", "closed", "deceased").status == 409  # refused, so refused again
    late = hz.update("HZ-7", "ems_arrived")
    assert late.status == 409 and late.body["error"]["code"] == "incident_closed"
    assert IncidentModel.get(incident_id).outcome == "rosc"
    assert [e.type for e in EventModel.query(incident_id)].count("closed") == 1
    reused = hz.update("HZ-7", "cancelled", webhook_id="msg_close")
    assert reused.status == 409 and reused.body["error"]["code"] == "webhook_id_reused"
    finished(aws, incident_id)


def test_an_update_for_a_cad_number_the_centre_never_raised_is_404(api, hz):
    hz.incident("HZ-8")
    nb = centre(api, "nb120")
    assert hz.update("HZ-UNKNOWN", "ems_arrived").status == 404
    assert nb.update("HZ-8", "ems_arrived").status == 404  # another centre's number


@pytest.mark.parametrize(
    "body",
    [
        {"type": "closed"},  # closed needs an outcome
        {"type": "ems_arrived", "outcome": "rosc"},  # and only closed takes one
        {"type": "arrived"},
        {"type": "closed", "outcome": "expired"},
    ],
)
def test_an_update_the_contract_does_not_allow_is_422(api, hz, body):
    hz.incident("HZ-9")
    reply = hz.post("/v1/dispatch/centres/hz120/incidents/HZ-9/updates", body)
    assert reply.status == 422, reply.body


# --- not the centre's: 401, nothing stored ----------------------------------------------------------


def nothing_stored(aws) -> bool:
    return incidents() == [] and list(SosKeyModel.scan()) == [] and executions(aws) == [] and sent() == []


def test_a_call_not_proven_to_be_the_centres_is_401_and_stores_nothing(api, aws, hz):
    responder(api, at=north_of(*PATIENT, 100))
    other_secret = centre(api, "nb120").secret
    body = json.dumps(
        {"cad_incident_no": "HZ-X", "nature": "cardiac_arrest", "lat": PATIENT[0], "lng": PATIENT[1]}
    )
    path = "/v1/dispatch/centres/hz120/incidents"
    good = hz.sign(body)
    attempts = {
        "another centre's secret": hz.sign(body, secret=other_secret),
        "a stale timestamp": hz.sign(body, at=datetime.now(UTC) - timedelta(minutes=5, seconds=30)),
        "a timestamp ahead": hz.sign(body, at=datetime.now(UTC) + timedelta(minutes=5, seconds=30)),
        "no signature": {k: v for k, v in good.items() if k != "webhook-signature"},
        "a forged signature": good | {"webhook-signature": "v1,c2lnbmF0dXJlIHRoYXQgaXMgbm90IHRoZSBITUFD"},
    }
    answers = {}
    for what, headers in attempts.items():
        answers[what] = api("POST", path, raw_body=body, headers=headers)
    answers["the body changed after signing"] = api(
        "POST", path, raw_body=body.replace("HZ-X", "HZ-Y"), headers=hz.sign(body)
    )
    answers["an unknown centre"] = api(
        "POST", "/v1/dispatch/centres/sh120/incidents", raw_body=body, headers=good
    )
    answers["an update, badly signed"] = api(
        "POST",
        "/v1/dispatch/centres/hz120/incidents/HZ-X/updates",
        raw_body='{"type": "cancelled"}',
        headers=hz.sign('{"type": "closed"}'),
    )
    refusals = {what: (r.status, r.body) for what, r in answers.items()}
    expected = (
        401,
        {
            "error": {
                "code": "unauthorized",
                "message": "the request is not signed by a registered dispatch centre",
            }
        },
    )
    assert refusals == dict.fromkeys(refusals, expected)  # one answer, no hint which check failed
    assert nothing_stored(aws)


def test_the_signature_is_checked_before_the_body_is_read(api, aws, hz):
    invalid = json.dumps({"cad_incident_no": "HZ-Z", "nature": "fainted", "lat": "30.1", "lng": 120.1})
    path = "/v1/dispatch/centres/hz120/incidents"
    unsigned = api("POST", path, raw_body=invalid, headers={"webhook-id": "m", "webhook-timestamp": "1"})
    assert unsigned.status == 401  # an unproven caller learns nothing of the contract's rules
    signed = api("POST", path, raw_body=invalid, headers=hz.sign(invalid))
    assert signed.status == 422
    assert "nature" in signed.body["error"]["message"] and "lat" in signed.body["error"]["message"]
    assert api("POST", path, raw_body="[1, 2]", headers=hz.sign("[1, 2]")).status == 400
    assert nothing_stored(aws)
