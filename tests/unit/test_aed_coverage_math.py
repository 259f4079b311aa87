"""Coverage maths, pure: the grid, polygons with holes, the evaluated hour, and the shares against a brute
force over every AED."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from shared.errors import ValidationFailed
from shared.geo.distance import haversine_m
from shared.logic.aed_coverage import (
    MAX_SAMPLE_POINTS,
    area_from_bbox,
    area_from_geojson,
    evaluation_time,
    sample_points,
    shares,
)

TZ = "Asia/Shanghai"
# West Lake district-sized box in Hangzhou
BOX = (120.10, 30.22, 120.20, 30.30)


def test_grid_points_are_cell_centres_grid_m_apart_inside_the_box():
    area = area_from_bbox(*BOX)
    points = sample_points(area, 500)
    lats = sorted({p[0] for p in points})
    lngs = sorted({p[1] for p in points})
    assert len(points) == len(lats) * len(lngs)
    assert haversine_m(lats[0], lngs[0], lats[1], lngs[0]) == pytest.approx(500, rel=1e-3)
    assert haversine_m(lats[0], lngs[0], lats[0], lngs[1]) == pytest.approx(500, rel=1e-2)
    assert all(BOX[1] < lat < BOX[3] and BOX[0] < lng < BOX[2] for lat, lng in points)


def test_a_polygon_keeps_only_points_inside_and_a_hole_is_a_hole():
    outer = [[120.10, 30.22], [120.20, 30.22], [120.20, 30.30], [120.10, 30.30], [120.10, 30.22]]
    hole = [[120.13, 30.25], [120.17, 30.25], [120.17, 30.27], [120.13, 30.27], [120.13, 30.25]]
    triangle = area_from_geojson({"type": "Polygon", "coordinates": [[*outer[:2], outer[3], outer[0]]]})
    holed = area_from_geojson({"type": "Polygon", "coordinates": [outer, hole]})
    full = sample_points(area_from_bbox(*BOX), 200)
    in_triangle = sample_points(triangle, 200)
    in_holed = sample_points(holed, 200)
    # The triangle (SW, SE, NW corners) holds about half the box; every point below its diagonal.
    assert len(in_triangle) == pytest.approx(len(full) / 2, rel=0.05)
    assert all((lng - 120.10) / 0.10 + (lat - 30.22) / 0.08 < 1 for lat, lng in in_triangle)
    assert not any(120.13 < lng < 120.17 and 30.25 < lat < 30.27 for lat, lng in in_holed)
    assert len(in_holed) < len(full)
    multi = area_from_geojson({"type": "MultiPolygon", "coordinates": [[outer, hole], [hole]]})
    assert len(sample_points(multi, 200)) == len(full)  # the hole filled by a second polygon


def test_shares_equal_a_brute_force_over_every_aed():
    rng = random.Random(7)
    area = area_from_bbox(*BOX)
    points = sample_points(area, 150)
    aeds = [(rng.uniform(30.215, 30.305), rng.uniform(120.095, 120.205)) for _ in range(120)]
    nearest = [min(haversine_m(lat, lng, a, b) for a, b in aeds) for lat, lng in points]
    expected = (
        sum(d <= 100 for d in nearest) / len(points),
        sum(d <= 300 for d in nearest) / len(points),
    )
    assert shares(points, aeds) == expected
    assert 0 < expected[0] < expected[1] < 1


def test_no_aed_no_coverage_and_one_aed_covers_its_disc():
    points = sample_points(area_from_bbox(120.150, 30.250, 120.160, 30.260), 20)
    assert shares(points, []) == (0.0, 0.0)
    near, walk = shares(points, [(30.255, 120.155)])
    box_m2 = haversine_m(30.25, 120.15, 30.26, 120.15) * haversine_m(30.255, 120.15, 30.255, 120.16)
    assert near == pytest.approx(3.14159 * 100**2 / box_m2, rel=0.05)
    assert walk == pytest.approx(3.14159 * 300**2 / box_m2, rel=0.05)


def test_evaluated_at_is_the_next_such_weekday_and_hour_local():
    wednesday_10am = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 Hangzhou, a Wednesday
    assert evaluation_time("Su", 3, wednesday_10am, TZ).isoformat() == "2026-12-06T03:00:00+08:00"
    assert evaluation_time("We", 15, wednesday_10am, TZ).isoformat() == "2026-12-02T15:00:00+08:00"
    assert evaluation_time("We", 9, wednesday_10am, TZ).isoformat() == "2026-12-09T09:00:00+08:00"
    assert evaluation_time("We", 10, wednesday_10am, TZ).isoformat() == "2026-12-02T10:00:00+08:00"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: area_from_bbox(120.2, 30.2, 120.1, 30.3), "min < max"),
        (lambda: area_from_bbox(120.0, 30.0, 121.5, 30.3), "at most 1 degree"),
        (lambda: sample_points(area_from_bbox(120.0, 30.0, 120.9, 30.9), 50), "grid cells"),
        (lambda: sample_points(area_from_bbox(*BOX), 5), "grid_m"),
        (
            lambda: area_from_geojson({"type": "Point", "coordinates": [120.1, 30.2]}),
            "Polygon or MultiPolygon",
        ),
        (
            lambda: area_from_geojson({"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2]]]}),
            "at least 4 positions",
        ),
        (
            lambda: area_from_geojson(
                {
                    "type": "Polygon",
                    "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.3]]],
                }
            ),
            "ends where it starts",
        ),
        (
            lambda: area_from_geojson(
                {
                    "type": "Polygon",
                    "coordinates": [[[120.1, 30.2], ["120.2", 30.2], [120.2, 30.3], [120.1, 30.2]]],
                }
            ),
            "numbers",
        ),
        (lambda: evaluation_time("Sunday", 3, datetime.now(UTC), TZ), "day"),
        (lambda: evaluation_time("Su", 24, datetime.now(UTC), TZ), "hour"),
    ],
)
def test_bad_areas_and_times_are_validation_errors(call, message):
    with pytest.raises(ValidationFailed, match=message):
        call()


def test_too_many_points_inside_is_refused_with_the_count_rule():
    # 0.9 x 0.5 degrees at 100 m: about 500 x 560 cells, over the point cap.
    with pytest.raises(ValidationFailed, match=f"more than {MAX_SAMPLE_POINTS} sample points"):
        sample_points(area_from_bbox(120.0, 30.0, 120.6, 30.5), 100)


def test_a_detailed_boundary_a_circle_of_20000_vertices_holds_its_area_in_points():
    import math

    centre_lat, centre_lng, radius_m = 30.25, 120.15, 3000.0
    per_degree = math.pi * 6_371_008.8 / 180
    ring = [
        [
            centre_lng + radius_m * math.cos(a) / (per_degree * math.cos(math.radians(centre_lat))),
            centre_lat + radius_m * math.sin(a) / per_degree,
        ]
        for a in (2 * math.pi * k / 20_000 for k in range(20_000))
    ]
    ring.append(ring[0])
    points = sample_points(area_from_geojson({"type": "Polygon", "coordinates": [ring]}), 50)
    assert len(points) == pytest.approx(math.pi * radius_m**2 / 50**2, rel=0.01)
    assert all(haversine_m(lat, lng, centre_lat, centre_lng) <= radius_m + 1 for lat, lng in points)
