"""An AED taken out of service stays out when its manager edits it: a rename must not bring back into
search an AED that a runner found locked during a rescue (issue 9, defect 1)."""

from __future__ import annotations

from shared.dal.aed_registry import DynamoAeds
from tests.integration.rescue_helpers import PATIENT, aed, north_of, on_map, responder, searchable, sos

OWNER = {"sub": "m", "roles": ("aed_manager",)}  # rescue_helpers.aed creates the AED as "m": its manager


def test_an_aed_reported_locked_in_a_rescue_stays_out_of_search_when_its_manager_renames_it(api):
    box = aed(api, north_of(*PATIENT, 150), name="龙翔桥 AED")
    runner = responder(api, at=north_of(*PATIENT, 160))
    incident_id = sos(api).body["incident_id"]
    accepted = api(
        "POST",
        f"/v1/incidents/{incident_id}/responses",
        {"action": "accept"},
        sub=runner,
        roles=("responder",),
    )
    assert accepted.status == 200 and accepted.body["role"] == "aed", accepted.body
    reported = api(
        "POST",
        f"/v1/incidents/{incident_id}/aed-reports",
        {"aed_id": box, "kind": "locked", "note": "柜门上锁"},
        sub=runner,
        roles=("responder",),
    )
    assert reported.status == 201, reported.body
    assert not searchable(api, box)

    renamed = api("PATCH", f"/v1/aeds/{box}", {"name": "龙翔桥站 AED (B口)"}, **OWNER)
    assert renamed.status == 200, renamed.body
    assert renamed.body["name"] == "龙翔桥站 AED (B口)"

    # Still out of every search, still marked on the map, still suspended by the runner's report.
    assert not searchable(api, box)
    assert on_map(api, box)["suspended"]
    detail = api("GET", f"/v1/aeds/{box}", **OWNER)
    assert detail.status == 200 and detail.body["name"] == "龙翔桥站 AED (B口)"
    # The AED's public detail does not show a suspension (its shape is the API contract's): the record
    # behind it must still carry the report that suspended it.
    stored = DynamoAeds().get(box)
    assert stored is not None and stored.suspended_by == reported.body["report_id"]
