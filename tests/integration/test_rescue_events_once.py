"""Events on scene are facts: a responder arrives once, starts CPR once, attaches the AED once, and the
ambulance arrives once, however many times an app sends it (double taps, retries, a flaky network).
Shocks repeat for real; a retry of one shock (its Idempotency-Key) is still one shock."""

from __future__ import annotations

import threading

from tests.integration.rescue_helpers import PATIENT, dispatcher, north_of, responder, sos


def _accepted(api) -> tuple[str, str]:
    rid = responder(api, at=north_of(*PATIENT, 120))
    incident_id = sos(api).body["incident_id"]
    answer = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)
    assert answer.status == 200, answer.body
    return incident_id, rid


def _event(api, incident_id, rid, kind, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return api("POST", f"/v1/incidents/{incident_id}/events", {"type": kind}, sub=rid, headers=headers)


def _events(api, incident_id, kind):
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    return [e for e in view["events"] if e["type"] == kind]


def test_ten_simultaneous_arrivals_from_one_responder_are_one_event(api):
    incident_id, rid = _accepted(api)
    replies = []
    threads = [
        threading.Thread(target=lambda: replies.append(_event(api, incident_id, rid, "arrived")))
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in replies] == [200] * 10
    assert len({r.body["at"] for r in replies}) == 1  # every answer is the one arrival
    assert len(_events(api, incident_id, "arrived")) == 1


def test_each_once_only_event_is_recorded_once_per_responder(api):
    incident_id, rid = _accepted(api)
    for kind in ("arrived", "cpr_started", "aed_attached"):
        first, again = _event(api, incident_id, rid, kind), _event(api, incident_id, rid, kind)
        assert first.status == again.status == 200
        assert first.body["at"] == again.body["at"]
        assert len(_events(api, incident_id, kind)) == 1, kind


def test_the_ambulance_arrives_once_whoever_records_it(api):
    incident_id, _ = _accepted(api)
    assert (
        dispatcher(api, "POST", f"/v1/incidents/{incident_id}/events", {"type": "ems_arrived"}).status == 200
    )
    other = api(
        "POST",
        f"/v1/incidents/{incident_id}/events",
        {"type": "ems_arrived"},
        sub="d2",
        roles=("dispatcher",),
    )
    assert other.status == 200
    assert len(_events(api, incident_id, "ems_arrived")) == 1


def test_shocks_repeat_but_a_retried_shock_is_one(api):
    incident_id, rid = _accepted(api)
    assert _event(api, incident_id, rid, "shock_delivered").status == 200
    assert _event(api, incident_id, rid, "shock_delivered").status == 200
    assert len(_events(api, incident_id, "shock_delivered")) == 2  # two shocks, no key: both real
    first = _event(api, incident_id, rid, "shock_delivered", key="shock-3")
    retry = _event(api, incident_id, rid, "shock_delivered", key="shock-3")
    assert first.status == retry.status == 200 and first.body["at"] == retry.body["at"]
    assert len(_events(api, incident_id, "shock_delivered")) == 3
