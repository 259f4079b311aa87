"""The cockpit's rescue figures, districts and responders on duty, through the real handlers on the
embedded AWS, the summaries kept by cockpit_changes from the tables' streams (the local pollers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api
from tests.e2e.cockpit_expected import expected_from
from tests.integration.rescue_helpers import PATIENT, dispatcher, north_of, responder, sos, until

ADMIN = {"sub": "admin-1", "roles": ("admin",)}


def box(lng0: float, lat0: float, lng1: float, lat1: float) -> dict[str, Any]:
    ring = [[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


LAKESIDE = box(120.15, 30.25, 120.17, 30.27)  # holds PATIENT
ELSEWHERE = (30.2050, 120.2080)  # 滨江, outside it


@pytest.fixture
def pollers(aws) -> None:
    aws.start_pollers()


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def figures(api: Api, district: str | None = None, **who: Any) -> Any:
    query = {"from": today(), "to": today()} | ({"district": district} if district else {})
    return api("GET", "/v1/cockpit/rescues", query=query, **(who or {"sub": "d", "roles": ("dispatcher",)}))


def expected(api: Api, area: dict[str, Any] | None) -> dict[str, Any]:
    def get(path: str, query: Any) -> Any:
        reply = (
            dispatcher(api, "GET", path)
            if not query
            else api("GET", path, query=query, sub="d", roles=("dispatcher",))
        )
        assert reply.status == 200, reply.body
        return reply.body

    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return expected_from(get, day, day, area)


def without_period(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("from", "to", "district")}


def test_rescue_figures_equal_the_ones_computed_from_the_raw_records(api, aws, pollers):
    put = api(
        "PUT", "/v1/districts/lakeside", {"name": "湖滨", "name_en": "Lakeside", "area": LAKESIDE}, **ADMIN
    )
    assert put.status == 200, put.body
    near = [responder(api, at=north_of(*PATIENT, 60 + 50 * i)) for i in range(4)]
    far = [responder(api, at=north_of(*ELSEWHERE, 100))]
    first = sos(api).body["incident_id"]
    second = sos(api, at=ELSEWHERE).body["incident_id"]
    for rid, action in ((near[0], "accept"), (near[1], "decline"), (near[2], "accept")):
        reply = api("POST", f"/v1/incidents/{first}/responses", {"action": action}, sub=rid)
        assert reply.status == 200, reply.body
    for rid, step in ((near[0], "arrived"), (near[2], "arrived"), (near[0], "aed_attached")):
        assert api("POST", f"/v1/incidents/{first}/events", {"type": step}, sub=rid).status == 200
    assert dispatcher(api, "POST", f"/v1/incidents/{first}/close", {"outcome": "rosc"}).status == 200
    assert api("POST", f"/v1/incidents/{second}/responses", {"action": "accept"}, sub=far[0]).status == 200

    city, lake = expected(api, None), expected(api, LAKESIDE)
    assert city["incidents"] == 2 and lake["incidents"] == 1
    assert lake["outcomes"]["rosc"] == 1 and lake["measured"] == {
        "first_accept": 1,
        "first_arrival": 1,
        "aed_attached": 1,
    }

    def settled() -> Any:
        got = figures(api)
        return got if got.status == 200 and without_period(got.body) == city else None

    until(settled, what="the summaries to catch up with the records")
    assert without_period(figures(api, "lakeside").body) == lake
    assert figures(api, "lakeside").body["district"] == "lakeside"
    whole = figures(api).body
    assert whole["from"] == whole["to"] == today()
    assert whole["open"] == 1 and whole["by_source"] == {"app": 2, "dispatch": 0, "console": 0}
    assert whole["accepted"] == 3 and whole["alerted"] >= 5
    assert whole["acceptance_rate"] == round(3 / whole["alerted"], 4)


def test_a_replayed_stream_batch_changes_nothing(api, aws):
    def lambda_handler(event: dict[str, Any], _: Any) -> Any:
        return api.functions.invoke("cockpit_changes", event)

    near = responder(api, at=north_of(*PATIENT, 80))
    incident = sos(api).body["incident_id"]
    api("POST", f"/v1/incidents/{incident}/responses", {"action": "accept"}, sub=near)
    keys = {"Keys": {"incident_id": {"S": incident}}, "SequenceNumber": "1"}
    batch = {"Records": [{"eventName": "MODIFY", "dynamodb": keys}]}
    lambda_handler(batch, None)
    once = figures(api).body
    lambda_handler(batch, None)
    lambda_handler({"Records": [{"eventName": "REMOVE", "dynamodb": keys}]}, None)  # TTL's removal
    assert figures(api).body == once
    assert once["incidents"] == 1 and once["accepted"] == 1


def test_the_period_is_checked_and_an_unknown_district_is_404(api, aws):
    day = datetime.now(UTC).date()
    ask = {"sub": "d", "roles": ("dispatcher",)}
    long = api(
        "GET",
        "/v1/cockpit/rescues",
        query={"from": day.isoformat(), "to": (day + timedelta(days=366)).isoformat()},
        **ask,
    )
    assert long.status == 422 and long.body["error"]["code"] == "validation_failed"
    backwards = api(
        "GET",
        "/v1/cockpit/rescues",
        query={"from": day.isoformat(), "to": (day - timedelta(days=1)).isoformat()},
        **ask,
    )
    assert backwards.status == 422
    year = api(
        "GET",
        "/v1/cockpit/rescues",
        query={"from": day.isoformat(), "to": (day + timedelta(days=365)).isoformat()},
        **ask,
    )
    assert year.status == 200 and year.body["incidents"] == 0 and year.body["acceptance_rate"] is None
    assert (
        api("GET", "/v1/cockpit/rescues", query={"from": "2026-13-01", "to": "2026-12-01"}, **ask).status
        == 422
    )
    unknown = figures(api, "atlantis")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "not_found"
    assert api("GET", "/v1/cockpit/on-duty", query={"district": "atlantis"}, **ask).status == 404


def test_only_admins_draw_districts_and_only_staff_read_the_cockpit(api, aws):
    body = {"name": "湖滨", "area": LAKESIDE}
    assert api("PUT", "/v1/districts/lakeside", body, sub="d", roles=("dispatcher",)).status == 403
    assert api("PUT", "/v1/districts/lakeside", body).status == 401
    bad = api(
        "PUT",
        "/v1/districts/lakeside",
        {"name": "x", "area": {"type": "Point", "coordinates": [1, 2]}},
        **ADMIN,
    )
    assert bad.status == 422
    assert api("PUT", "/v1/districts/lakeside", body, **ADMIN).status == 200
    listed = api("GET", "/v1/districts", sub="d", roles=("dispatcher",))
    assert listed.status == 200 and listed.body["items"][0]["area"] == LAKESIDE
    for path, query in (
        ("/v1/cockpit/rescues", {"from": today(), "to": today()}),
        ("/v1/cockpit/on-duty", {}),
    ):
        assert api("GET", path, query=query, sub="r", roles=("responder",)).status == 403
        assert api("GET", path, query=query).status == 401
    assert api("GET", "/v1/districts", sub="r", roles=("responder",)).status == 403


def test_on_duty_shows_only_cells_of_five_and_never_anyone(api, aws):
    wide = box(120.13, 30.22, 120.20, 30.27)  # across two cells of geohash precision 5
    assert api("PUT", "/v1/districts/lakeside", {"name": "湖滨", "area": wide}, **ADMIN).status == 200
    # Two cells inside the district (wtm7y, wtmkn): 4 responders in one, 6 in the other.
    four = [responder(api, at=(30.2300 + 0.0002 * i, 120.1600)) for i in range(4)]
    six = [responder(api, at=(30.2640 + 0.0002 * i, 120.1650)) for i in range(6)]
    responder(api, at=(30.2640, 120.1651), on_duty=False)  # off duty: not counted
    responder(api, at=ELSEWHERE)  # outside the district
    reply = api("GET", "/v1/cockpit/on-duty", query={"district": "lakeside"}, sub="d", roles=("dispatcher",))
    assert reply.status == 200, reply.body
    body = reply.body
    assert [c["count"] for c in body["cells"]] == [6]
    assert body["cells_hidden"] == 1 and body["total"] == 10 and body["min_count"] == 5
    min_lng, min_lat, max_lng, max_lat = body["cells"][0]["bounds"]
    assert min_lng <= 120.1650 <= max_lng and min_lat <= 30.2640 <= max_lat
    text = str(body)
    assert not any(rid in text for rid in four + six)
    assert "30.264" not in text.replace(str(min_lat), "").replace(str(max_lat), "")
    # Two go off duty in the big cell: 4 are left in each cell, so neither shows; 8 are still on duty in
    # the district, so the total does.
    for rid in six[:2]:
        api(
            "PUT",
            f"/v1/responders/{rid}/presence",
            {"lat": 30.2640, "lng": 120.1650, "available": False},
            sub=rid,
        )
    after = api("GET", "/v1/cockpit/on-duty", query={"district": "lakeside"}, **ADMIN).body
    assert after["cells"] == [] and after["cells_hidden"] == 2 and after["total"] == 8
    for rid in four:
        api(
            "PUT",
            f"/v1/responders/{rid}/presence",
            {"lat": 30.2535, "lng": 120.1535, "available": False},
            sub=rid,
        )
    alone = api("GET", "/v1/cockpit/on-duty", query={"district": "lakeside"}, **ADMIN).body
    assert alone["cells"] == [] and alone["total"] is None and alone["cells_hidden"] == 1
