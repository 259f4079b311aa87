"""POST /v1/incidents: a dispatcher raises an incident for a caller through the SOS's own intake (source
"console", the dispatcher its creator), once per Idempotency-Key; the lists, the timeline and the
status webhooks see it as a dispatcher's incident."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.dal.models.rescue import IncidentModel
from shared.logic.dispatch.ports import DispatchCentre
from shared.logic.dispatch.status import recipients, status_events
from shared.logic.rescue.ports import Incident
from tests.conftest import Api
from tests.integration.rescue_helpers import PATIENT, execution, north_of, responder, sent

DISPATCHER = {"sub": "dispatcher-7", "roles": ("dispatcher",)}
BODY = {"lat": PATIENT[0], "lng": PATIENT[1], "caller_phone": "+8613700000001", "note": "男，约60岁，倒地"}


def raise_incident(api: Api, body: Any = BODY, key: str | None = "form-1", **who: Any) -> Any:
    caller = who or DISPATCHER
    return api("POST", "/v1/incidents", body, headers={"Idempotency-Key": key} if key else None, **caller)


def listed(api: Api, incident_id: str) -> dict[str, Any] | None:
    page = api("GET", "/v1/incidents", query={"status": "open"}, **DISPATCHER)
    assert page.status == 200, page.body
    return next((i for i in page.body["items"] if i["incident_id"] == incident_id), None)


def test_a_dispatcher_raises_an_incident_that_alerts_and_is_listed_as_the_consoles(api, aws):
    rid = responder(api, at=north_of(*PATIENT, 150))
    reply = raise_incident(api)
    assert reply.status == 202, reply.body
    incident_id = reply.body["incident_id"]
    assert reply.body["status"] == "dispatching"
    stored = IncidentModel.get(incident_id)
    assert stored.source == "console" and stored.created_by == "dispatcher-7"
    assert stored.caller_phone == "+8613700000001"
    assert execution(aws, incident_id)["name"] == incident_id
    assert [m["incident_id"] for m in sent(rid, "alert")] == [incident_id]  # wave 1, inside the request
    row = listed(api, incident_id)
    assert row is not None and row["source"] == "console" and row["alerted"] == 1
    timeline = api("GET", f"/v1/incidents/{incident_id}/timeline", **DISPATCHER).body["items"]
    assert timeline[0]["type"] == "created"
    assert timeline[0]["source"] == "console" and timeline[0]["by_id"] == "dispatcher-7"
    view = api("GET", f"/v1/incidents/{incident_id}", **DISPATCHER).body
    # Typed by the dispatcher who took the call: not an anonymous caller's unchecked number
    assert view["caller_phone"] == "+8613700000001" and view["caller_phone_unverified"] is False


def test_the_same_key_and_body_again_is_the_same_incident_raised_once(api):
    first = raise_incident(api, key="double-click")
    again = raise_incident(api, key="double-click")
    assert first.status == again.status == 202
    assert again.body["incident_id"] == first.body["incident_id"]
    assert len(list(IncidentModel.scan())) == 1


def test_the_same_key_with_another_body_is_409_and_stores_nothing(api):
    first = raise_incident(api, key="k-409")
    other = raise_incident(api, {**BODY, "lat": PATIENT[0] + 0.01}, key="k-409")
    assert other.status == 409 and other.body["error"]["code"] == "idempotency_key_reused"
    assert [i.incident_id for i in IncidentModel.scan()] == [first.body["incident_id"]]


def test_a_dispatchers_key_is_their_own(api):
    """Another dispatcher (or a public SOS) with the same key text raises its own incident."""
    mine = raise_incident(api, key="shared-text")
    theirs = raise_incident(
        api, {**BODY, "lat": PATIENT[0] + 0.01}, key="shared-text", sub="dispatcher-8", roles=("admin",)
    )
    assert theirs.status == 202 and theirs.body["incident_id"] != mine.body["incident_id"]


def test_the_key_is_required(api):
    missing = raise_incident(api, key=None)
    assert missing.status == 422 and "idempotency-key" in missing.body["error"]["message"].lower()
    assert list(IncidentModel.scan()) == []


def test_a_responder_is_refused_403_and_anonymous_401(api):
    as_responder = raise_incident(api, sub="r-1", roles=("responder",))
    assert as_responder.status == 403
    anonymous = api("POST", "/v1/incidents", BODY, headers={"Idempotency-Key": "anon"})
    assert anonymous.status == 401
    assert list(IncidentModel.scan()) == []


def test_a_latitude_out_of_range_or_a_string_is_422(api):
    for lat in (91, -90.5, "30.25"):
        reply = raise_incident(api, {**BODY, "lat": lat}, key=f"bad-{lat}")
        assert reply.status == 422, reply.body
        assert reply.body["error"]["code"] == "validation_failed" and "lat" in reply.body["error"]["message"]
    assert list(IncidentModel.scan()) == []


def test_centres_hear_of_a_console_incident_in_their_area_as_of_a_public_sos():
    at = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    incident = Incident("i-1", "dispatching", PATIENT[0], PATIENT[1], at, 2, 0, source="console")
    kinds = [e.type for e in status_events(incident, [], [], {})]
    assert kinds == ["incident.created"]
    inside = DispatchCentre("hz", "Hangzhou", "https://x.example", [120.0, 30.0, 120.5, 30.5], at, at)
    outside = DispatchCentre("nb", "Ningbo", "https://y.example", [121.0, 29.5, 121.9, 30.0], at, at)
    assert [c.centre_id for c in recipients(incident, [inside, outside])] == ["hz"]
