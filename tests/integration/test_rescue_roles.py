"""Roles and slots, tracking, closure, credits and who may see what, through the real handlers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from shared import wiring
from shared.logic.rescue import closure
from shared.logic.rescue.ports import Alert
from tests.integration.rescue_helpers import (
    PATIENT,
    aed,
    dispatcher,
    finished,
    north_of,
    on_duty_records,
    responder,
    sent,
    sos,
    until,
)


def accept(api, incident_id, rid):
    return api(
        "POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid, roles=("responder",)
    )


def event(api, incident_id, rid, kind):
    return api("POST", f"/v1/incidents/{incident_id}/events", {"type": kind}, sub=rid, roles=("responder",))


def test_roles_aed_runner_gets_the_aed_and_the_last_slot_stands_the_rest_down(api, aws):
    box = aed(api, north_of(*PATIENT, 150), name="地铁龙翔桥站 AED")
    rids = [responder(api, at=north_of(*PATIENT, 100 + 40 * i)) for i in range(5)]
    incident_id = sos(api).body["incident_id"]
    roles = [accept(api, incident_id, rid) for rid in rids[:3]]
    assert [r.status for r in roles] == [200, 200, 200]
    assert sorted(r.body["role"] for r in roles) == ["aed", "cpr", "cpr"]
    runner = next(r for r in roles if r.body["role"] == "aed")
    assert runner.body["aed"]["aed_id"] == box and runner.body["aed"]["name"] == "地铁龙翔桥站 AED"
    late = accept(api, incident_id, rids[3])
    assert late.status == 409 and late.body["error"]["code"] == "no_longer_needed"
    stood_down = sorted(m["to"] for m in sent(kind="stand_down"))
    assert stood_down == sorted(rids[3:])  # exactly one each, nobody who accepted
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    assert view["status"] == "responding"
    assert {a["responder_id"]: a["state"] for a in view["alerts"]} == {
        **{rid: "accepted" for rid in rids[:3]},
        **{rid: "stood_down" for rid in rids[3:]},
    }


def test_a_claimed_aed_is_not_offered_to_the_next_rescue(api):
    aed(api, north_of(*PATIENT, 150))
    first_runner = responder(api, at=north_of(*PATIENT, 140))
    first = sos(api).body["incident_id"]
    assert accept(api, first, first_runner).body["role"] == "aed"
    second_runner = responder(api, at=north_of(*PATIENT, 160))
    second = sos(api, at=north_of(*PATIENT, 70)).body["incident_id"]  # another patient, 70 m away
    assert accept(api, second, second_runner).body == {"role": "cpr", "aed": None}
    assert dispatcher(api, "GET", f"/v1/incidents/{second}").body["slots"]["aed"] == 0


def test_fifty_simultaneous_accepts_for_three_slots(api):
    aed(api, north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    store = wiring.incidents()
    rids = [f"r{n:02d}" for n in range(50)]
    on_duty_records(*rids)
    for n, rid in enumerate(rids):  # 50 alerted responders (alerts written as wave 1 would)
        store.add_alert(
            Alert(
                incident_id,
                rid,
                "alerted",
                1,
                100.0 + n,
                *north_of(*PATIENT, 100 + n),
                datetime.now(UTC),
                phone="+8613900000000",
            )
        )
    replies: list = []
    start = threading.Barrier(50)

    def go(rid: str) -> None:
        start.wait()
        replies.append(accept(api, incident_id, rid))

    threads = [threading.Thread(target=go, args=(rid,)) for rid in rids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in replies if r.status == 200]
    unexpected = [(r.status, r.body) for r in replies if r.status not in (200, 409)]
    assert not unexpected
    assert len(ok) == 3 and sorted(r.body["role"] for r in ok) == ["aed", "cpr", "cpr"]
    assert [r.body["error"]["code"] for r in replies if r.status != 200] == ["no_longer_needed"] * 47
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    assert view["slots"] == {"cpr": 2, "aed": 1, "filled_cpr": 2, "filled_aed": 1}


def test_tracking_moves_the_status_and_closing_twice_is_409_with_one_set_of_credits(api, aws):
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(2)]
    incident_id = sos(api).body["incident_id"]
    accept(api, incident_id, rids[0])
    assert dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body["status"] == "responding"
    assert event(api, incident_id, rids[0], "arrived").status == 200
    assert event(api, incident_id, rids[0], "cpr_started").status == 200
    assert dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body["status"] == "on_scene"
    assert event(api, incident_id, rids[1], "arrived").status == 409  # alerted, but has no role
    replies: list = []
    start = threading.Barrier(2)

    def close() -> None:
        start.wait()
        replies.append(dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}))

    threads = [threading.Thread(target=close) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [200, 409]
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"  # the execution ends with the close
    credits = api("GET", f"/v1/responders/{rids[0]}/credits", sub=rids[0]).body
    assert credits["balance"] == 35
    assert sorted((c["reason"], c["points"]) for c in credits["items"]) == [
        ("accepted", 5),
        ("arrived", 10),
        ("cpr_started", 20),
    ]
    assert event(api, incident_id, rids[0], "ems_arrived").status == 409
    assert sent(to=rids[1], kind="stand_down"), "closing stands down whoever was still only alerted"


def test_replayed_finish_never_adds_points(api, aws):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    accept(api, incident_id, rid)
    event(api, incident_id, rid, "arrived")
    dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "transported"})
    finished(aws, incident_id)
    for _ in range(3):  # a retried or replayed workflow step
        closure.finish(
            wiring.incidents(),
            wiring.notifier(),
            wiring.aed_claims(),
            wiring.aed_faults(),
            incident_id,
            wiring.policy(),
            datetime.now(UTC),
        )
    assert api("GET", f"/v1/responders/{rid}/credits", sub=rid).body["balance"] == 15


def test_who_may_see_what(api):
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(2)]
    stranger = responder(api, at=north_of(*PATIENT, 3000))
    incident_id = sos(api, caller_phone="+8613700000001").body["incident_id"]
    accept(api, incident_id, rids[0])
    full = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    assert full["caller_phone"] == "+8613700000001" and len(full["alerts"]) == 2
    own = api("GET", f"/v1/incidents/{incident_id}", sub=rids[1], roles=("responder",))
    assert own.status == 200
    text = str(own.body)
    assert "+8613700000001" not in text and rids[0] not in text
    assert [a["responder_id"] for a in own.body["alerts"]] == [rids[1]]
    assert (own.body["lat"], own.body["lng"]) == PATIENT
    assert api("GET", f"/v1/incidents/{incident_id}", sub=stranger, roles=("responder",)).status == 404
    assert api("GET", f"/v1/incidents/{incident_id}").status == 401
    assert (
        api(
            "POST",
            f"/v1/incidents/{incident_id}/close",
            {"outcome": "rosc"},
            sub=rids[0],
            roles=("responder",),
        ).status
        == 403
    )


@pytest.mark.parametrize("outcome", ["expired", "fixed", ""])
def test_only_contract_outcomes_close(api, outcome):
    incident_id = sos(api).body["incident_id"]
    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": outcome}).status == 422


def test_decline_then_accept_is_409(api):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    declined = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "decline"}, sub=rid)
    assert declined.status == 200 and declined.body["role"] is None
    assert accept(api, incident_id, rid).status == 409
    until(lambda: sent(to=rid, kind="alert"), what="the alert")


def test_a_responder_with_the_app_is_alerted_by_push_and_others_by_sms(api):
    with_app = responder(api, at=north_of(*PATIENT, 100))
    without = responder(api, at=north_of(*PATIENT, 200))
    device = api(
        "PUT", f"/v1/responders/{with_app}/device", {"platform": "fcm", "token": "fcm-token-1"}, sub=with_app
    )
    assert device.status == 200, device.body
    incident_id = sos(api).body["incident_id"]
    channels = {m["to"]: (m["channel"], m["kind"], m["incident_id"]) for m in sent(kind="alert")}
    assert channels == {with_app: ("push", "alert", incident_id), without: ("sms", "alert", incident_id)}


def test_a_phone_handed_on_to_another_volunteer_alerts_only_its_new_owner(api):
    """The same app install (token) registered by a second responder: no error, the phone now alerts
    the second, and the first, who no longer has it, is alerted by SMS."""
    first = responder(api, at=north_of(*PATIENT, 100))
    second = responder(api, at=north_of(*PATIENT, 200))
    body = {"platform": "fcm", "token": "shared-phone-token"}
    assert api("PUT", f"/v1/responders/{first}/device", body, sub=first).status == 200
    handed_on = api("PUT", f"/v1/responders/{second}/device", body, sub=second)
    assert handed_on.status == 200, handed_on.body
    # The first's presence is refreshed by their app's heartbeat: the alert reads what it then says.
    again = api(
        "PUT",
        f"/v1/responders/{first}/presence",
        {"lat": north_of(*PATIENT, 100)[0], "lng": PATIENT[1], "available": True},
        sub=first,
    )
    assert again.status == 200
    incident_id = sos(api).body["incident_id"]
    channels = {m["to"]: (m["channel"], m["incident_id"]) for m in sent(kind="alert")}
    assert channels == {first: ("sms", incident_id), second: ("push", incident_id)}


def test_device_registration_is_self_only_and_validated(api):
    rid = responder(api, at=north_of(*PATIENT, 100))
    body = {"platform": "fcm", "token": "t"}
    assert api("PUT", f"/v1/responders/{rid}/device", body, sub="someone-else").status == 404
    assert (
        api("PUT", f"/v1/responders/{rid}/device", {"platform": "sms", "token": "t"}, sub=rid).status == 422
    )
    assert api("PUT", f"/v1/responders/{rid}/device", {"platform": "fcm", "token": ""}, sub=rid).status == 422
