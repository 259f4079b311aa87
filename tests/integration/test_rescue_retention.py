"""A finished rescue keeps responders' phones and positions (its alerts and events) for the retention
after its close, then DynamoDB's TTL deletes them (docs/privacy.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import wiring
from shared.dal.models.rescue import AlertModel, EventModel
from tests.integration.rescue_helpers import PATIENT, dispatcher, finished, north_of, responder, sos


def test_alerts_and_events_expire_the_retention_after_the_close(api, aws):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    assert api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid).status == 200
    arrived = {"type": "arrived", "lat": PATIENT[0], "lng": PATIENT[1]}
    assert api("POST", f"/v1/incidents/{incident_id}/events", arrived, sub=rid).status == 200
    closed_at = datetime.now(UTC).timestamp()
    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}).status == 200
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"

    retention_s = wiring.policy().retention_days * 86400
    items = [*AlertModel.query(incident_id), *EventModel.query(incident_id)]
    assert len(items) >= 3  # the alert, the arrival, the close
    for item in items:
        assert item.expires_at is not None, item
        assert closed_at + retention_s - 5 <= item.expires_at <= closed_at + retention_s + 120
