"""A responder's position is kept no longer than their presence: it lives only in the geo index, whose
item goes by TTL at the lapse, and their own record never holds it (docs/privacy.md)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.responders import ResponderModel
from tests.integration.rescue_helpers import PATIENT, responder


def stored_attributes(responder_id: str) -> set[str]:
    """What DynamoDB holds for the responder, attribute names as stored (not as the model reads them)."""
    raw = ResponderModel._get_connection().get_item(responder_id, consistent_read=True)
    return set(raw["Item"])


def test_the_record_holds_no_position_and_the_view_shows_it_only_while_on_duty(api):
    rid = responder(api, at=PATIENT)
    assert not {"presence_lat", "presence_lng"} & stored_attributes(rid)
    view = api("GET", f"/v1/responders/{rid}", sub=rid).body
    assert (view["presence"]["lat"], view["presence"]["lng"]) == PATIENT  # from the geo index
    index_item = GeoIndexModel.get(f"responder#{rid}")
    assert index_item.expires_at is not None  # DynamoDB's TTL deletes it after the lapse

    with time_machine.travel(timedelta(minutes=16)):  # lapsed: 15 minutes without a heartbeat
        assert api("GET", f"/v1/responders/{rid}", sub=rid).body["presence"] is None

    off = api(
        "PUT",
        f"/v1/responders/{rid}/presence",
        {"lat": PATIENT[0], "lng": PATIENT[1], "available": False},
        sub=rid,
    )
    assert off.status == 200
    assert api("GET", f"/v1/responders/{rid}", sub=rid).body["presence"] is None
    assert not {"presence_lat", "presence_lng"} & stored_attributes(rid)
