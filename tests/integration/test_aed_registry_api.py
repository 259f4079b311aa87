"""AEDs through the real handlers on the embedded AWS: managers' writes, the public's searches."""

from __future__ import annotations

import pytest

HUBIN = (30.2590, 120.1650)
MANAGER = {"sub": "manager-1", "roles": ("aed_manager",)}


def add_aed(api, lat, lng, *, hours="24/7", status="ok", name="湖滨银泰 in77", placement="1F 服务台"):
    reply = api(
        "POST",
        "/v1/aeds",
        {
            "lat": lat,
            "lng": lng,
            "name": name,
            "placement": placement,
            "opening_hours": hours,
            "status": status,
        },
        **MANAGER,
    )
    assert reply.status == 201, reply.body
    return reply.body["aed_id"]


def nearby(api, lat, lng, radius_m=1000, **query):
    return api("GET", "/v1/aeds/nearby", query={"lat": lat, "lng": lng, "radius_m": radius_m, **query})


def test_anyone_finds_usable_aeds_nearest_first_with_name_and_placement(api):
    far = add_aed(api, 30.2650, 120.1650, name="far")
    near = add_aed(api, 30.2600, 120.1650, name="near", placement="B口站厅")
    add_aed(api, 30.2595, 120.1650, status="faulty", name="broken")
    add_aed(api, 30.2800, 120.1650, name="outside")  # 2.3 km away
    reply = nearby(api, *HUBIN)
    assert reply.status == 200
    items = reply.body["items"]
    assert [i["aed_id"] for i in items] == [near, far]
    assert items[0]["name"] == "near" and items[0]["placement"] == "B口站厅"
    assert items[0]["distance_m"] == pytest.approx(111.2, abs=0.5)


def test_opening_hours_decide_what_is_found_at_a_given_time(api):
    office = add_aed(api, 30.2600, 120.1650, hours="Mo-Fr 08:00-17:00", name="office")
    always = add_aed(api, 30.2610, 120.1650, hours="24/7", name="police")
    weekday_noon = nearby(api, *HUBIN, at="2026-12-02T12:00:00+08:00").body["items"]
    sunday_3am = nearby(api, *HUBIN, at="2026-12-06T03:00:00+08:00").body["items"]
    assert [i["aed_id"] for i in weekday_noon] == [office, always]
    assert [i["aed_id"] for i in sunday_3am] == [always]
    # The same instant written in UTC: 04:00Z is noon in Hangzhou
    assert len(nearby(api, *HUBIN, at="2026-12-02T04:00:00Z").body["items"]) == 2


def test_at_without_offset_is_422(api):
    reply = nearby(api, *HUBIN, at="2026-12-02T12:00:00")
    assert reply.status == 422 and "offset" in reply.body["error"]["message"]


def test_patch_status_takes_an_aed_out_of_search_and_back(api):
    aed = add_aed(api, 30.2600, 120.1650)
    reply = api("PATCH", f"/v1/aeds/{aed}", {"status": "missing"}, **MANAGER)
    assert reply.status == 200 and reply.body["status"] == "missing"
    assert nearby(api, *HUBIN).body["items"] == []
    api("PATCH", f"/v1/aeds/{aed}", {"status": "ok"}, **MANAGER)
    assert [i["aed_id"] for i in nearby(api, *HUBIN).body["items"]] == [aed]


def test_patch_moves_an_aed(api):
    aed = add_aed(api, 30.2600, 120.1650)
    moved = api("PATCH", f"/v1/aeds/{aed}", {"lat": 30.3000, "lng": 120.2000}, **MANAGER)
    assert moved.status == 200 and moved.body["lat"] == 30.3
    assert nearby(api, *HUBIN).body["items"] == []
    assert [i["aed_id"] for i in nearby(api, 30.3001, 120.2000).body["items"]] == [aed]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "stolen"},
        {"opening_hours": "whenever"},
        {"lat": 30.1},
        {"name": None},
        {"lat": True, "lng": 120.0},
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(api, body):
    aed = add_aed(api, 30.2600, 120.1650)
    reply = api("PATCH", f"/v1/aeds/{aed}", body, **MANAGER)
    assert reply.status == 422, reply.body
    assert [i["aed_id"] for i in nearby(api, *HUBIN).body["items"]] == [aed]


def test_patch_unknown_aed_is_404(api):
    assert api("PATCH", "/v1/aeds/01NOPE", {"status": "ok"}, **MANAGER).status == 404


def test_writes_need_the_manager_or_admin_role(api):
    body = {"lat": 30.26, "lng": 120.16, "name": "x", "opening_hours": "24/7", "status": "ok"}
    assert api("POST", "/v1/aeds", body).status == 401
    assert api("POST", "/v1/aeds", body, sub="r", roles=("responder",)).status == 403
    assert api("POST", "/v1/aeds", body, sub="a", roles=("admin",)).status == 201


def test_a_manager_manages_their_own_aeds_and_only_an_admin_assigns_them_to_another(api):
    body = {"lat": 30.26, "lng": 120.16, "name": "x", "opening_hours": "24/7"}
    created = api("POST", "/v1/aeds", body, **MANAGER)
    assert created.status == 201 and created.body["manager_id"] == MANAGER["sub"]
    aed_id = created.body["aed_id"]
    other = {"sub": "manager-2", "roles": ("aed_manager",)}
    refused = api("PATCH", f"/v1/aeds/{aed_id}", {"name": "y"}, **other)  # on the map: refused, not hidden
    assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"
    assert api("POST", "/v1/aeds", {**body, "manager_id": "manager-2"}, **MANAGER).status == 403
    assert api("PATCH", f"/v1/aeds/{aed_id}", {"manager_id": "manager-2"}, **MANAGER).status == 403
    assert api("PATCH", f"/v1/aeds/{aed_id}", {"manager_id": None}, **MANAGER).status == 403
    admin = {"sub": "admin-1", "roles": ("admin",)}
    assert (
        api("POST", "/v1/aeds", {**body, "manager_id": "manager-2"}, **admin).body["manager_id"]
        == "manager-2"
    )
    assert api("PATCH", f"/v1/aeds/{aed_id}", {"manager_id": "manager-2"}, **admin).status == 200
    assert api("PATCH", f"/v1/aeds/{aed_id}", {"name": "y"}, **other).status == 200
    assert api("PATCH", f"/v1/aeds/{aed_id}", {"name": "z"}, **MANAGER).status == 403


@pytest.mark.parametrize(
    "change",
    [{"opening_hours": "sometimes"}, {"status": "broken"}, {"lat": 100}, {"name": "   "}, {"lng": "120.1"}],
)
def test_invalid_aed_is_422(api, change):
    body = {"lat": 30.26, "lng": 120.16, "name": "x", "opening_hours": "24/7", "status": "ok", **change}
    reply = api("POST", "/v1/aeds", body, **MANAGER)
    assert reply.status == 422, reply.body
    assert reply.body["error"]["code"] == "validation_failed"


def test_bbox_map_shows_every_aed_whatever_its_status_or_hours(api):
    ok = add_aed(api, 30.2600, 120.1650, hours="Mo-Fr 08:00-09:00")
    faulty = add_aed(api, 30.2700, 120.1700, status="faulty")
    add_aed(api, 31.5, 121.5)  # outside the box
    reply = api("GET", "/v1/aeds", query={"bbox": "120.10,30.20,120.30,30.40"})
    assert reply.status == 200
    assert reply.body["type"] == "FeatureCollection"
    by_id = {f["properties"]["aed_id"]: f for f in reply.body["features"]}
    assert set(by_id) == {ok, faulty}
    assert by_id[faulty]["properties"]["status"] == "faulty"
    assert by_id[ok]["properties"]["opening_hours"] == "Mo-Fr 08:00-09:00"
    assert by_id[ok]["geometry"] == {"type": "Point", "coordinates": [120.165, 30.26]}


@pytest.mark.parametrize(
    ("at", "state", "next_change_at"),
    [
        # Wednesday 2026-12-02, Asia/Shanghai: open 08:00-09:00 on weekdays
        ("2026-12-02T08:30:00+08:00", "open", "2026-12-02T09:00:00+08:00"),
        ("2026-12-02T12:00:00+08:00", "closed", "2026-12-03T08:00:00+08:00"),
        ("2026-12-04T21:00:00+08:00", "closed", "2026-12-07T08:00:00+08:00"),  # Friday night: Monday
    ],
)
def test_the_map_marks_each_aed_by_its_state_at_an_instant(api, at, state, next_change_at):
    weekday = add_aed(api, 30.2600, 120.1650, hours="Mo-Fr 08:00-09:00")
    round_the_clock = add_aed(api, 30.2610, 120.1660)
    faulty = add_aed(api, 30.2700, 120.1700, status="faulty")
    reply = api("GET", "/v1/aeds", query={"bbox": "120.10,30.20,120.30,30.40", "at": at})
    props = {f["properties"]["aed_id"]: f["properties"] for f in reply.body["features"]}
    assert (props[weekday]["state"], props[weekday]["next_change_at"]) == (state, next_change_at)
    assert props[weekday]["open_now"] is (state == "open")
    assert (props[round_the_clock]["state"], props[round_the_clock]["next_change_at"]) == ("open", None)
    assert (props[faulty]["state"], props[faulty]["open_now"]) == ("out_of_service", False)


@pytest.mark.parametrize(
    "bbox", ["120,30,121.5,30.5", "120,30,119,30.5", "a,b,c,d", "120,30,120.5", "120,-91,120.5,-90"]
)
def test_bad_bbox_is_422(api, bbox):
    reply = api("GET", "/v1/aeds", query={"bbox": bbox})
    assert reply.status == 422, reply.body
