"""Coverage on the real Taipei registry rows, through the real handler on the embedded AWS, checked
against an independent brute force: the same documented grid, opening hours read by opening-hours-py
directly, and distances by haversine to every AED in a latitude/longitude window wide enough to hold
every AED within 300 m."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opening_hours import OpeningHours  # type: ignore[attr-defined]

from bench.datasets import TAIPEI_BBOX

REGISTRY = Path(__file__).resolve().parents[1] / "data" / "taiwan_aed_registry_2018.csv"
SOUTH, WEST, NORTH, EAST = TAIPEI_BBOX
BBOX = f"{WEST},{SOUTH},{EAST},{NORTH}"
GRID_M = 100
PLANNER = {"sub": "planner-1", "roles": ("dispatcher",)}
R = 6_371_008.8


def taipei_records():
    from cli.registries import taiwan_mohw

    return [r for r in taiwan_mohw.read(REGISTRY).records if r.city in ("臺北市", "台北市")]


@pytest.fixture
def taipei(api):
    """The Taipei rows as AEDs (repository + index, as the API writes them); a few taken out of service."""
    from shared.dal.aed_registry import DynamoAeds
    from shared.dal.geo_index import DynamoGeoIndex
    from shared.logic.aed_registry import AedFields, create_aed

    repo, geo, now = DynamoAeds(), DynamoGeoIndex(), datetime.now(UTC)
    records = taipei_records()
    loaded = []
    for i, record in enumerate(records):
        status = "faulty" if i % 50 == 0 else "ok"  # out of search: must not count
        fields = AedFields(
            lat=record.lat,
            lng=record.lng,
            name=record.name,
            opening_hours=record.opening_hours,
            status=status,
        )
        create_aed(repo, geo, fields, now)
        loaded.append((record, status))
    return loaded


def _haversine(lat1, lng1, lat2, lng2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * R * math.asin(math.sqrt(a))


def brute_force(loaded, evaluated_at: datetime):
    """Shares within 100 m and 300 m, and the open usable AEDs, computed without the coverage module."""
    local = evaluated_at.replace(tzinfo=None)  # the answer's evaluated_at is local time with offset
    per_degree = math.pi * R / 180
    dlat = GRID_M / per_degree
    dlng = GRID_M / (per_degree * math.cos(math.radians((SOUTH + NORTH) / 2)))
    rows, cols = math.ceil((NORTH - SOUTH) / dlat), math.ceil((EAST - WEST) / dlng)
    margin_lat = 300 / per_degree
    margin_lng = 300 / (per_degree * math.cos(math.radians(NORTH)))
    open_aeds = sorted(
        (r.lat, r.lng)
        for r, status in loaded
        if status == "ok"
        and OpeningHours(r.opening_hours).is_open(local)
        and SOUTH - margin_lat <= r.lat <= NORTH + margin_lat
        and WEST - margin_lng <= r.lng <= EAST + margin_lng
    )
    lats = [a[0] for a in open_aeds]
    window_lat, window_lng = 301 / per_degree, 301 / (per_degree * math.cos(math.radians(26)))
    near = walk = 0
    for j in range(rows):
        lat = SOUTH + (j + 0.5) * dlat
        band = open_aeds[bisect_left(lats, lat - window_lat) : bisect_right(lats, lat + window_lat)]
        for i in range(cols):
            lng = WEST + (i + 0.5) * dlng
            best = min(
                (_haversine(lat, lng, a, b) for a, b in band if abs(b - lng) <= window_lng), default=math.inf
            )
            walk += best <= 300
            near += best <= 100
    points = rows * cols
    return points, near / points, walk / points, len(open_aeds)


def coverage(api, day, hour):
    query = {"bbox": BBOX, "day": day, "hour": hour, "grid_m": GRID_M}
    reply = api("GET", "/v1/aeds/coverage", query=query, **PLANNER)
    assert reply.status == 200, reply.body
    return reply.body


def test_taipei_coverage_sunday_3am_below_wednesday_3pm_as_the_hours_say_and_by_district(api, taipei, capsys):
    night = coverage(api, "Su", 3)
    afternoon = coverage(api, "We", 15)
    assert night["evaluated_at"].endswith("T03:00:00+08:00")
    assert datetime.fromisoformat(night["evaluated_at"]).weekday() == 6
    assert datetime.fromisoformat(afternoon["evaluated_at"]).weekday() == 2
    for answer in (night, afternoon):
        points, near, walk, usable = brute_force(taipei, datetime.fromisoformat(answer["evaluated_at"]))
        assert answer["sample_points"] == points
        assert answer["usable_aeds"] == usable
        assert answer["within_100m"] == round(near, 4)
        assert answer["within_300m"] == round(walk, 4)
    assert night["usable_aeds"] < afternoon["usable_aeds"]
    assert night["within_100m"] < afternoon["within_100m"]
    assert night["within_300m"] < afternoon["within_300m"]
    with capsys.disabled():
        for answer in (night, afternoon):
            print(
                f"\nTaipei {answer['day']} {answer['hour']:02d}:00 grid_m={GRID_M}: "
                f"{answer['sample_points']} points, {answer['usable_aeds']} usable open AEDs, "
                f"within 100 m {answer['within_100m']:.2%}, within 300 m {answer['within_300m']:.2%}"
            )

    # A district: a diamond inside the box holds about half its points, and its own share.
    mid_lat, mid_lng = (SOUTH + NORTH) / 2, (WEST + EAST) / 2
    diamond = [[WEST, mid_lat], [mid_lng, SOUTH], [EAST, mid_lat], [mid_lng, NORTH], [WEST, mid_lat]]
    body = {"area": {"type": "Polygon", "coordinates": [diamond]}, "day": "We", "hour": 15, "grid_m": GRID_M}
    district = api("POST", "/v1/aeds/coverage", body, **PLANNER)
    assert district.status == 200, district.body
    assert district.body["sample_points"] == pytest.approx(afternoon["sample_points"] / 2, rel=0.02)
    assert district.body["evaluated_at"] == afternoon["evaluated_at"]
    assert 0 < district.body["within_300m"] < 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"bbox": BBOX, "day": "Sunday", "hour": 3}, "day"),
        ({"bbox": BBOX, "day": "Su", "hour": 24}, "hour"),
        ({"bbox": BBOX, "day": "Su", "hour": 3, "grid_m": 20}, "use a larger grid_m"),
        ({"bbox": "121,24,123,25", "day": "Su", "hour": 3}, "1 degree"),
        ({"bbox": "121.6,25.0,121.5,25.1", "day": "Su", "hour": 3}, "min < max"),
    ],
)
def test_bad_coverage_requests_are_422(api, query, field):
    reply = api("GET", "/v1/aeds/coverage", query=query, **PLANNER)
    assert reply.status == 422 and field in reply.body["error"]["message"], reply.body


def test_bad_district_bodies_are_422_and_roles_are_planners(api):
    point = {"area": {"type": "Point", "coordinates": [121.5, 25.0]}, "day": "Su", "hour": 3}
    assert api("POST", "/v1/aeds/coverage", point, **PLANNER).status == 422
    query = {"bbox": BBOX, "day": "Su", "hour": 3}
    assert api("GET", "/v1/aeds/coverage", query=query).status == 401
    assert api("GET", "/v1/aeds/coverage", query=query, sub="r1", roles=("responder",)).status == 403
