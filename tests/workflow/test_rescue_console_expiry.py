"""An incident nobody closes closes itself (the workflow's own DynamoDB write, rescue.asl.json's
ExpireIfStillOpen): the dispatchers' list moves it to the closed list in that same write, and its
timeline ends with the expiry and the stand-down that followed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared import wiring
from tests.integration.rescue_helpers import PATIENT, dispatcher, finished, north_of, responder, sos


def test_an_expired_incident_is_on_the_closed_list_and_its_timeline_says_so(api, aws, monkeypatch):
    policy = replace(wiring.policy(), incident_expire_s=2)
    monkeypatch.setattr(wiring, "policy", lambda: policy)
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"

    def listed(status: str) -> list[dict[str, Any]]:
        reply = api("GET", "/v1/incidents", query={"status": status}, sub="d-1", roles=("dispatcher",))
        assert reply.status == 200, reply.body
        return list(reply.body["items"])

    assert listed("open") == []
    closed = listed("closed")
    assert [(i["incident_id"], i["outcome"], i["alerted"]) for i in closed] == [(incident_id, "expired", 1)]
    assert datetime.fromisoformat(closed[0]["closed_at"]) >= datetime.fromisoformat(closed[0]["created_at"])

    items = dispatcher(api, "GET", f"/v1/incidents/{incident_id}/timeline").body["items"]
    seen = [(i["type"], i.get("responder_id"), i.get("outcome")) for i in items]
    assert seen[0] == ("created", None, None)
    assert ("alerted", rid, None) in seen
    assert ("unanswered", None, None) in seen
    assert seen[-2:] == [("closed", None, "expired"), ("stood_down", rid, None)]
