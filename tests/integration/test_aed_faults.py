"""AEDs out of service and back: fault reports inside and outside a rescue, re-routing the AED runner,
the manager's decision, in_use → needs_restock → restock, through the real handlers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests

from shared.config import settings
from shared.dal.models.geo_index import GeoIndexModel
from shared.logic.ports import AED_USABLE, CLAIM
from tests.integration.rescue_helpers import (
    PATIENT,
    aed,
    dispatcher,
    north_of,
    on_map,
    responder,
    searchable,
    sent,
    sos,
    until,
)

MANAGER = {"sub": "m", "roles": ("aed_manager",)}  # rescue_helpers.aed creates the AEDs as "m": their manager


def new_pads() -> str:
    """The expiry printed on a new pads package: about two years from whatever day the test runs."""
    return (datetime.now(UTC) + timedelta(days=730)).date().isoformat()


def accept(api: Any, incident_id: str, rid: str) -> Any:
    return api(
        "POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid, roles=("responder",)
    )


def rescue_report(
    api: Any, incident_id: str, rid: str, aed_id: str, kind: str = "locked", **extra: Any
) -> Any:
    return api(
        "POST",
        f"/v1/incidents/{incident_id}/aed-reports",
        {"aed_id": aed_id, "kind": kind, **extra},
        sub=rid,
        roles=("responder",),
    )


def claimed_by(aed_id: str) -> str | None:
    try:
        item = GeoIndexModel.get(f"{AED_USABLE}#{aed_id}", consistent_read=True)
    except GeoIndexModel.DoesNotExist:
        return None
    return (item.attrs.as_dict() if item.attrs else {}).get(CLAIM)


def runner_and_cpr(api: Any, near: tuple[float, float]) -> tuple[str, str, str]:
    """An SOS at PATIENT; the first acceptor (nearest the AED) runs for it, the second does CPR."""
    runner = responder(api, at=near)
    helper = responder(api, at=north_of(*PATIENT, -60))
    incident_id = sos(api).body["incident_id"]
    assert accept(api, incident_id, runner).body["role"] == "aed"
    assert accept(api, incident_id, helper).body["role"] == "cpr"
    return incident_id, runner, helper


def test_a_runner_who_finds_the_aed_locked_is_sent_to_the_next_one_at_once(api):
    locked = aed(api, north_of(*PATIENT, 150), name="龙翔桥 AED")
    spare = aed(api, north_of(*PATIENT, -250), name="延安路 AED")
    incident_id, runner, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    assert claimed_by(locked) == incident_id

    reply = rescue_report(api, incident_id, runner, locked, note="柜门上锁")
    assert reply.status == 201, reply.body
    assert reply.body["role"] == "aed" and reply.body["aed"]["aed_id"] == spare
    assert reply.body["aed"]["name"] == "延安路 AED" and reply.body["rerouted"] == 1
    # Out of every search at once, still on the map (marked), the spare claimed for this rescue.
    assert not searchable(api, locked)
    assert on_map(api, locked)["suspended"]
    assert claimed_by(spare) == incident_id and claimed_by(locked) is None
    view = api("GET", f"/v1/incidents/{incident_id}", sub=runner, roles=("responder",)).body
    assert view["aed"]["aed_id"] == spare
    assert [e["type"] for e in view["events"]][-2:] == ["aed_reported", "aed_rerouted"]
    # The reporter read the new plan in the answer: no extra message to them.
    assert sent(to=runner, kind="reroute") == []


def test_a_dispatcher_report_reroutes_the_runner_by_message(api):
    locked = aed(api, north_of(*PATIENT, 150))
    aed(api, north_of(*PATIENT, -250), name="延安路 AED")
    incident_id, runner, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    reply = dispatcher(
        api, "POST", f"/v1/incidents/{incident_id}/aed-reports", {"aed_id": locked, "kind": "missing"}
    )
    assert reply.status == 201 and reply.body["rerouted"] == 1 and reply.body["role"] is None
    notices = sent(to=runner, kind="reroute")
    assert len(notices) == 1 and "延安路 AED" in notices[0]["message"]


def test_with_no_other_aed_the_runner_is_told_to_do_cpr(api):
    only = aed(api, north_of(*PATIENT, 150))
    incident_id, runner, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    reply = rescue_report(api, incident_id, runner, only, kind="broken")
    assert reply.status == 201
    assert reply.body["role"] == "cpr" and reply.body["aed"] is None
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    assert {a["responder_id"]: a["role"] for a in view["alerts"]}[runner] == "cpr"


def test_only_people_in_the_rescue_report_from_it(api):
    box = aed(api, north_of(*PATIENT, 150))
    near = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    outsider = rescue_report(api, incident_id, "someone-else", box)
    assert outsider.status == 404
    not_yet = rescue_report(api, incident_id, near, box)  # alerted, not accepted
    assert not_yet.status == 409 and not_yet.body["error"]["code"] == "not_assigned"
    bad = rescue_report(api, incident_id, near, box, kind="stolen")
    assert bad.status == 422
    assert searchable(api, box)


def test_a_public_report_waits_for_the_manager_and_the_photo_uploads(api):
    box = aed(api, north_of(*PATIENT, 150))
    reply = api(
        "POST",
        f"/v1/aeds/{box}/reports",
        {"kind": "locked", "note": "cabinet locked at night", "photo_content_type": "image/jpeg"},
        sub="passer-by",  # a member of the public: signed in, no role
    )
    assert reply.status == 201, reply.body
    upload = reply.body["upload"]
    assert upload["max_bytes"] == 10 * 1024 * 1024 and upload["fields"]["Content-Type"] == "image/jpeg"
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("p.jpg", b"\xff\xd8\xff photo", "image/jpeg")}
    )
    assert posted.status_code in (200, 204), posted.text
    stored = boto3.client("s3").list_objects_v2(Bucket=settings().photo_bucket)["Contents"]
    assert [o["Key"] for o in stored] == [f"aed-reports/{box}/{reply.body['report_id']}.jpg"]
    # One anonymous report does not switch an AED off.
    assert searchable(api, box)
    listed = api("GET", f"/v1/aeds/{box}/reports", query={"state": "open"}, **MANAGER)
    assert listed.status == 200
    [item] = listed.body["items"]
    assert item["kind"] == "locked" and item["reporter_role"] == "public" and item["photo_url"]
    assert item["reporter"] == "passer-by"
    assert api("GET", f"/v1/aeds/{box}/reports").status == 401
    assert api("GET", f"/v1/aeds/{box}/reports", sub="r", roles=("responder",)).status == 403
    assert api("POST", "/v1/aeds/nope/reports", {"kind": "locked"}, sub="passer-by").status == 404
    assert api("POST", f"/v1/aeds/{box}/reports", {"kind": "locked"}).status == 401


def test_the_manager_confirms_or_clears_a_rescue_report(api):
    first = aed(api, north_of(*PATIENT, 150))
    second = aed(api, north_of(*PATIENT, -250))
    incident_id, runner, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    report_id = rescue_report(api, incident_id, runner, first).body["report_id"]
    confirmed = api(
        "POST", f"/v1/aeds/{first}/reports/{report_id}/resolution", {"decision": "confirmed"}, **MANAGER
    )
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["aed_status"] == "faulty" and confirmed.body["aed_searchable"] is False
    assert on_map(api, first)["status"] == "faulty"
    again = api(
        "POST", f"/v1/aeds/{first}/reports/{report_id}/resolution", {"decision": "cleared"}, **MANAGER
    )
    assert again.status == 409 and again.body["error"]["code"] == "already_resolved"

    # The runner now holds the second AED; a false alarm on it is cleared and it returns to search.
    false_alarm = rescue_report(api, incident_id, runner, second, kind="wrong_location").body["report_id"]
    assert not searchable(api, second)
    cleared = api(
        "POST", f"/v1/aeds/{second}/reports/{false_alarm}/resolution", {"decision": "cleared"}, **MANAGER
    )
    assert cleared.status == 200 and cleared.body["aed_searchable"] is True
    assert searchable(api, second)


def test_an_aed_used_on_a_patient_waits_for_restock(api, aws):
    box = aed(api, north_of(*PATIENT, 150))
    incident_id, runner, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    attached = api(
        "POST",
        f"/v1/incidents/{incident_id}/events",
        {"type": "aed_attached"},
        sub=runner,
        roles=("responder",),
    )
    assert attached.status == 200
    assert on_map(api, box)["status"] == "in_use" and not searchable(api, box)
    early = api(
        "POST", f"/v1/aeds/{box}/restock", {"pads_replaced": True, "pads_expire_on": new_pads()}, **MANAGER
    )
    assert early.status == 409 and early.body["error"]["code"] == "not_awaiting_restock"

    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}).status == 200
    until(lambda: on_map(api, box)["status"] == "needs_restock", what="the close to send the AED to restock")
    assert not searchable(api, box)

    stale = api(
        "POST", f"/v1/aeds/{box}/restock", {"pads_replaced": True, "pads_expire_on": "2020-01-01"}, **MANAGER
    )
    assert stale.status == 422
    pads = new_pads()
    restocked = api(
        "POST", f"/v1/aeds/{box}/restock", {"pads_replaced": True, "pads_expire_on": pads}, **MANAGER
    )
    assert restocked.status == 200, restocked.body
    assert restocked.body["status"] == "ok" and restocked.body["pads_expire_on"] == pads
    assert searchable(api, box)


def test_an_aed_fetched_but_never_attached_returns_to_service_at_the_close(api, aws):
    box = aed(api, north_of(*PATIENT, 150))
    incident_id, _, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    assert (
        dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "false_alarm"}).status
        == 200
    )
    until(lambda: claimed_by(box) is None, what="the close to free the AED")
    assert on_map(api, box)["status"] == "ok" and searchable(api, box)


def test_a_manager_editing_a_claimed_aed_does_not_free_it_for_another_runner(api):
    box = aed(api, north_of(*PATIENT, 150))
    incident_id, _, _ = runner_and_cpr(api, north_of(*PATIENT, 160))
    renamed = api("PATCH", f"/v1/aeds/{box}", {"name": "龙翔桥站 AED (B口)"}, **MANAGER)
    assert renamed.status == 200
    assert claimed_by(box) == incident_id
    other_runner = responder(api, at=north_of(*PATIENT, 140))
    second = sos(api, at=north_of(*PATIENT, 80)).body["incident_id"]  # another patient: 80 m away
    assert accept(api, second, other_runner).body["role"] == "cpr"  # the AED is taken
