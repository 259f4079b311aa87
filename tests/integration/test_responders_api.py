"""Responders through the real handlers on the embedded AWS: what apps and dispatchers see."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

WEST_LAKE = (30.2590, 120.1500)


def new_responder(api, *, expires_on: date | None = None, name: str = "李四") -> str:
    expires = (expires_on or date.today() + timedelta(days=365)).isoformat()
    reply = api(
        "POST",
        "/v1/responders",
        {
            "name": name,
            "phone": "+8613800000001",
            "certificate_no": "HZ-2026-0001",
            "certificate_expires_on": expires,
        },
        sub="trainer-1",
        roles=("trainer",),
    )
    assert reply.status == 201, reply.body
    return reply.body["responder_id"]


def go_on_duty(api, responder_id: str, lat: float, lng: float, available: bool = True):
    return api(
        "PUT",
        f"/v1/responders/{responder_id}/presence",
        {"lat": lat, "lng": lng, "available": available},
        sub=responder_id,
        roles=("responder",),
    )


def nearby(api, lat: float, lng: float, radius_m: float = 1000, **query):
    return api(
        "GET",
        "/v1/responders/nearby",
        query={"lat": lat, "lng": lng, "radius_m": radius_m, **query},
        sub="dispatcher-1",
        roles=("dispatcher",),
    )


def test_created_responder_reads_back_for_self_and_admin_only(api):
    rid = new_responder(api)
    own = api("GET", f"/v1/responders/{rid}", sub=rid, roles=("responder",))
    assert own.status == 200
    assert own.body["name"] == "李四" and own.body["credits"] == 0 and own.body["available"] is False
    assert api("GET", f"/v1/responders/{rid}", sub="admin-1", roles=("admin",)).status == 200
    stranger = api("GET", f"/v1/responders/{rid}", sub="someone-else", roles=("responder",))
    assert stranger.status == 404 and stranger.body["error"]["code"] == "not_found"


def test_only_admins_and_trainers_create_responders(api):
    body = {
        "name": "x",
        "phone": "+8613800000001",
        "certificate_no": "c",
        "certificate_expires_on": "2030-01-01",
    }
    denied = api("POST", "/v1/responders", body, sub="r1", roles=("responder",))
    assert denied.status == 403 and denied.body["error"]["code"] == "forbidden"
    assert api("POST", "/v1/responders", body).status == 401


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "13800000001"},  # not E.164
        {"name": ""},
        {"certificate_expires_on": "2030-13-01"},
        {"name": 7},
    ],
)
def test_invalid_responder_is_422_with_the_contract_error_shape(api, change):
    body = {
        "name": "x",
        "phone": "+8613800000001",
        "certificate_no": "c",
        "certificate_expires_on": "2030-01-01",
    }
    reply = api("POST", "/v1/responders", {**body, **change}, sub="a", roles=("admin",))
    assert reply.status == 422
    assert reply.body["error"]["code"] == "validation_failed"
    assert "13800000001" not in reply.body["error"]["message"]  # no PII echoed


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", "null"])
def test_malformed_body_is_400(api, raw):
    reply = api("POST", "/v1/responders", raw_body=raw, sub="a", roles=("admin",))
    assert reply.status == 400, reply.body
    assert reply.body["error"]["code"] == "malformed_request"


def test_on_duty_responder_is_found_nearest_first_and_off_duty_is_not(api):
    near, far, off = new_responder(api), new_responder(api), new_responder(api)
    assert go_on_duty(api, near, 30.2600, 120.1500).status == 200
    go_on_duty(api, far, 30.2660, 120.1500)
    go_on_duty(api, off, 30.2595, 120.1500)
    go_on_duty(api, off, 30.2595, 120.1500, available=False)
    reply = nearby(api, *WEST_LAKE)
    assert reply.status == 200
    assert [i["responder_id"] for i in reply.body["items"]] == [near, far]
    assert reply.body["items"][0]["distance_m"] == pytest.approx(111.2, abs=0.5)
    profile = api("GET", f"/v1/responders/{near}", sub=near, roles=("responder",)).body
    assert profile["available"] is True and profile["presence"]["lat"] == 30.26


def test_presence_answer_says_when_it_lapses(api):
    rid = new_responder(api)
    reply = go_on_duty(api, rid, *WEST_LAKE)
    assert reply.status == 200 and reply.body["available"] is True
    assert reply.body["expires_at"] is not None


def test_lapsed_certificate_cannot_go_on_duty_and_is_never_found(api):
    rid = new_responder(api, expires_on=date.today() - timedelta(days=2))
    reply = go_on_duty(api, rid, *WEST_LAKE)
    assert reply.status == 409 and reply.body["error"]["code"] == "certificate_expired"
    assert nearby(api, *WEST_LAKE).body["items"] == []


def test_presence_is_self_only(api):
    rid = new_responder(api)
    body = {"lat": 30.0, "lng": 120.0, "available": True}
    # An admin may know the responder exists (they read it): refused. Anyone else: not found, as for
    # a responder that does not exist.
    assert api("PUT", f"/v1/responders/{rid}/presence", body, sub="x", roles=("admin",)).status == 403
    other = api("PUT", f"/v1/responders/{rid}/presence", body, sub="x", roles=("dispatcher",))
    assert (other.status, other.body) == (404, api("PUT", "/v1/responders/nope/presence", body, sub="x").body)


@pytest.mark.parametrize(
    "body",
    [
        {"lat": "30.1", "lng": 120.1, "available": True},
        {"lat": 30.1, "lng": False, "available": True},
        {"lat": 91, "lng": 120.1, "available": True},
        {"lat": 30.1, "lng": 180.5, "available": True},
        {"lat": 30.1, "lng": 120.1, "available": "yes"},
        {"lat": 30.1, "lng": 120.1},
    ],
)
def test_presence_validation(api, body):
    rid = new_responder(api)
    reply = api("PUT", f"/v1/responders/{rid}/presence", body, sub=rid, roles=("responder",))
    assert reply.status == 422, reply.body


def test_gcj02_presence_is_stored_as_wgs84(api):
    rid = new_responder(api)
    api(
        "PUT",
        f"/v1/responders/{rid}/presence",
        {"lat": 30.25, "lng": 120.16, "available": True, "crs": "gcj02"},
        sub=rid,
        roles=("responder",),
    )
    presence = api("GET", f"/v1/responders/{rid}", sub=rid).body["presence"]
    # GCJ-02 is offset ~500 m from WGS-84 in Hangzhou
    assert presence["lat"] == pytest.approx(30.25233, abs=2e-5)
    assert presence["lng"] == pytest.approx(120.15531, abs=2e-5)


def test_nearby_is_for_dispatchers_and_admins(api):
    query = {"lat": 30.0, "lng": 120.0}
    assert api("GET", "/v1/responders/nearby", query=query, sub="r", roles=("responder",)).status == 403
    assert api("GET", "/v1/responders/nearby", query=query, sub="r", roles=("admin",)).status == 200


@pytest.mark.parametrize(
    "query",
    [
        {"lat": 30.0, "lng": 120.0, "radius_m": 5001},
        {"lat": 30.0, "lng": 120.0, "limit": 101},
        {"lat": 30.0, "lng": 120.0, "limit": 0},
        {"lat": 30.0, "lng": 120.0, "radius_m": -1},
        {"lat": "abc", "lng": 120.0},
        {"lat": 30.0},
        {"lat": 30.0, "lng": 120.0, "next_token": "zzz"},
    ],
)
def test_out_of_range_search_parameters_are_422_not_clamped(api, query):
    reply = api("GET", "/v1/responders/nearby", query=query, sub="d", roles=("dispatcher",))
    assert reply.status == 422, reply.body
    assert reply.body["error"]["code"] == "validation_failed"


def test_nearby_pages_with_next_token(api):
    ids = [new_responder(api) for _ in range(5)]
    for n, rid in enumerate(ids):
        go_on_duty(api, rid, 30.2600 + n * 0.001, 120.1500)
    first = nearby(api, *WEST_LAKE, limit=3)
    assert len(first.body["items"]) == 3 and first.body["next_token"]
    second = nearby(api, *WEST_LAKE, limit=3, next_token=first.body["next_token"])
    assert second.body["next_token"] is None
    found = [i["responder_id"] for i in first.body["items"] + second.body["items"]]
    assert found == ids
