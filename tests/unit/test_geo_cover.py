"""cover_circle against brute force: every point within the radius lies in one of the cover's ranges, and
no cover, anywhere on Earth, has more than MAX_QUERIES ranges (6 for every radius the API allows)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.geo.cover import (
    AXIS_BITS,
    INDEX_LEVELS,
    MAX_QUERIES,
    POLAR_LAT,
    POLAR_LEVEL,
    Cover,
    cover_box,
    cover_circle,
    indexed_levels,
    point_keys,
)
from shared.geo.distance import EARTH_RADIUS_M, haversine_m

MAX_RANGES = 6


def destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lng) along ``bearing_deg`` on the sphere."""
    phi1, lmb1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    lng2 = (math.degrees(lmb2) + 180.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(phi2))), max(-180.0, min(180.0, lng2))


def in_cover(cover: Cover, lat: float, lng: float) -> bool:
    if cover.level not in indexed_levels(lat):  # the sparse polar index holds only points beyond POLAR_LAT
        return False
    keys = point_keys(lat, lng, levels=(cover.level,))
    column = keys.columns[cover.level]
    return any(r.column == column and r.lat_key_lo <= keys.lat_key <= r.lat_key_hi for r in cover.ranges)


def column_edge(level: int, index: int) -> float:
    return -180.0 + (index % (1 << level)) * 360.0 / (1 << level)


def lat_edge(bits: int, index: int) -> float:
    return -90.0 + (index % (1 << bits)) * 180.0 / (1 << bits)


# Centres: anywhere, hugging ±180° or a pole, or exactly on a column edge / a latitude cell edge.
anywhere_lat = st.floats(-90.0, 90.0)
anywhere_lng = st.floats(-180.0, 180.0)
near_pole = st.floats(89.95, 90.0) | st.floats(-90.0, -89.95)
near_antimeridian = st.floats(179.9, 180.0) | st.floats(-180.0, -179.9)
on_column_edge = st.builds(column_edge, st.sampled_from(INDEX_LEVELS), st.integers(0, 1 << 18))
on_lat_edge = st.builds(lat_edge, st.integers(1, AXIS_BITS), st.integers(0, 1 << AXIS_BITS))
lats = anywhere_lat | near_pole | on_lat_edge | st.sampled_from([0.0, 30.25, 25.04, -33.87, 89.99, -90.0])
lngs = anywhere_lng | near_antimeridian | on_column_edge | st.sampled_from([0.0, 120.16, 180.0, -180.0])
radii = st.floats(0.0, 5000.0) | st.sampled_from([0.0, 300.0, 1000.0, 2000.0, 5000.0])
# Points as (bearing, fraction of the radius); fraction 1.0 puts them on the rim.
offsets = st.lists(
    st.tuples(st.floats(0.0, 360.0), st.floats(0.0, 1.0) | st.just(1.0)), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(lat=lats, lng=lngs, radius=radii, points=offsets)
@example(lat=30.25, lng=120.16, radius=2000.0, points=[(90.0, 1.0), (270.0, 1.0), (0.0, 1.0), (180.0, 1.0)])
@example(lat=90.0, lng=0.0, radius=5000.0, points=[(b, 1.0) for b in range(0, 360, 15)])
@example(lat=-89.99, lng=180.0, radius=3000.0, points=[(b, f) for b in range(0, 360, 30) for f in (0.5, 1.0)])
@example(lat=0.0, lng=-180.0, radius=1000.0, points=[(90.0, 1.0), (270.0, 1.0), (45.0, 0.9)])
def test_every_point_within_the_radius_is_covered(
    lat: float, lng: float, radius: float, points: list[tuple[float, float]]
) -> None:
    cover = cover_circle(lat, lng, radius)
    for bearing, fraction in points:
        p_lat, p_lng = destination(lat, lng, bearing, radius * fraction)
        if haversine_m(lat, lng, p_lat, p_lng) <= radius:
            assert in_cover(cover, p_lat, p_lng), (p_lat, p_lng, cover)
    assert in_cover(cover, lat, lng)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lng=anywhere_lng | near_antimeridian,
    radius=radii,
    grid=st.integers(3, 12),
)
def test_brute_force_over_a_grid_around_the_circle(lat: float, lng: float, radius: float, grid: int) -> None:
    """Points on a lat/lng grid over the circle's bounding box (wrapping at ±180°), not only along rays."""
    cover = cover_circle(lat, lng, radius)
    d_lat = math.degrees(radius / EARTH_RADIUS_M) * 1.01
    d_lng = min(180.0, d_lat / max(math.cos(math.radians(abs(lat) + d_lat)), 1e-9))
    for i in range(grid + 1):
        for j in range(grid + 1):
            p_lat = max(-90.0, min(90.0, lat - d_lat + 2 * d_lat * i / grid))
            p_lng = (lng - d_lng + 2 * d_lng * j / grid + 180.0) % 360.0 - 180.0
            if haversine_m(lat, lng, p_lat, p_lng) <= radius:
                assert in_cover(cover, p_lat, p_lng), (p_lat, p_lng)


@settings(max_examples=300, deadline=None)
@given(lat=lats, lng=lngs, radius=radii)
def test_ranges_are_one_level_sorted_disjoint_and_merged(lat: float, lng: float, radius: float) -> None:
    cover = cover_circle(lat, lng, radius)
    assert cover.level in (*INDEX_LEVELS, POLAR_LEVEL)
    assert cover.ranges
    for r in cover.ranges:
        assert r.level == cover.level
        assert 0 <= r.column < 1 << cover.level
        assert 0 <= r.lat_key_lo <= r.lat_key_hi < 1 << AXIS_BITS
    ordered = sorted(cover.ranges, key=lambda r: (r.column, r.lat_key_lo))
    assert list(cover.ranges) == ordered
    for before, after in itertools.pairwise(ordered):
        if before.column == after.column:  # a gap of at least one key, else they would be one range
            assert after.lat_key_lo > before.lat_key_hi + 1


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-60.0, 60.0) | st.floats(-88.0, 88.0),
    lng=anywhere_lng | near_antimeridian | on_column_edge,
    radius=radii,
)
def test_at_most_six_ranges_away_from_the_poles(lat: float, lng: float, radius: float) -> None:
    assert len(cover_circle(lat, lng, radius, max_ranges=MAX_RANGES).ranges) <= MAX_RANGES


@settings(max_examples=100, deadline=None)
@given(lat=st.floats(-60.0, 60.0), lng=anywhere_lng, radius=st.floats(300.0, 5000.0))
def test_the_cover_hugs_the_circle(lat: float, lng: float, radius: float) -> None:
    """What the ranges span is at most 1.6x the circle's area (the read ratio on uniform data)."""
    cover = cover_circle(lat, lng, radius)
    width = math.radians(360.0 / (1 << cover.level))
    area = 0.0
    for r in cover.ranges:
        south = math.radians(-90.0 + r.lat_key_lo * 180.0 / (1 << AXIS_BITS))
        north = math.radians(-90.0 + (r.lat_key_hi + 1) * 180.0 / (1 << AXIS_BITS))
        area += width * EARTH_RADIUS_M**2 * (math.sin(north) - math.sin(south))
    assert area <= 1.6 * math.pi * radius**2


@pytest.mark.parametrize(
    ("radius", "level", "ranges"),
    [
        (0.0, 18, 1),  # one ~130 m column
        (300.0, 18, 6),  # 602 m across 132 m columns, off-centre: 6 columns
        (1000.0, 16, 5),  # 2 km across 527 m columns
        (2000.0, 15, 5),  # 4 km across 1,054 m columns
        (5000.0, 14, 5),  # 10 km across 2,108 m columns
    ],
)
def test_hangzhou_west_lake(radius: float, level: int, ranges: int) -> None:
    cover = cover_circle(30.25, 120.16, radius)
    assert (cover.level, len(cover.ranges)) == (level, ranges)


def test_a_circle_around_the_pole_takes_the_four_columns_of_the_polar_level() -> None:
    cover = cover_circle(89.99, 0.0, 2000.0)
    assert (cover.level, len(cover.ranges)) == (POLAR_LEVEL, 4)
    assert all(r.lat_key_hi == (1 << AXIS_BITS) - 1 for r in cover.ranges)


def test_a_circle_across_the_antimeridian_has_columns_on_both_ends() -> None:
    cover = cover_circle(0.0, 179.999, 1000.0)
    columns = {r.column for r in cover.ranges}
    assert 0 in columns and (1 << cover.level) - 1 in columns


@pytest.mark.parametrize(
    ("lat", "lng", "radius"),
    [(91.0, 0.0, 10.0), (0.0, 180.5, 10.0), (0.0, 0.0, -1.0), (math.nan, 0.0, 10.0), (0.0, 0.0, math.inf)],
)
def test_no_circle_no_cover(lat: float, lng: float, radius: float) -> None:
    with pytest.raises(ValueError):
        cover_circle(lat, lng, radius)


# --- the bound: no cover has more than MAX_QUERIES ranges, anywhere ------------------------------------

# Centres weighted to where covers used to blow up: the poles (and just off them, where a circle spans
# most meridians without holding the pole), ±180°, the equator and the polar index's edge.
bound_lats = (
    st.floats(-90.0, 90.0)
    | st.floats(89.0, 90.0)
    | st.floats(-90.0, -89.0)
    | st.floats(89.999, 90.0)
    | st.floats(-90.0, -89.999)
    | st.floats(-0.01, 0.01)
    | st.floats(POLAR_LAT - 0.1, POLAR_LAT + 0.1)
    | st.sampled_from([90.0, -90.0, 0.0, POLAR_LAT, -POLAR_LAT, 89.39, -89.4])
)
bound_lngs = lngs | st.builds(column_edge, st.just(POLAR_LEVEL), st.integers(0, 3))
api_radii = st.floats(0.0, 5000.0) | st.sampled_from([0.0, 1.0, 300.0, 1000.0, 2000.0, 5000.0])


@settings(max_examples=600, deadline=None)
@given(lat=bound_lats, lng=bound_lngs, radius=api_radii)
@example(lat=90.0, lng=0.0, radius=5000.0)  # was 256 ranges
@example(lat=-90.0, lng=180.0, radius=0.0)
@example(lat=89.99, lng=0.0, radius=2000.0)
@example(lat=89.39, lng=-180.0, radius=5000.0)  # spans ~9 level-8 columns without holding the pole
@example(lat=89.9999, lng=0.0, radius=0.0)  # 11 m from the pole: the 1 m margin spans ~10 degrees
@example(lat=0.0, lng=180.0, radius=5000.0)
def test_every_circle_the_api_allows_takes_at_most_six_queries_anywhere(
    lat: float, lng: float, radius: float
) -> None:
    cover = cover_circle(lat, lng, radius)
    assert len(cover.ranges) <= MAX_RANGES <= MAX_QUERIES


@settings(max_examples=300, deadline=None)
@given(
    lat=bound_lats,
    lng=bound_lngs,
    radius=st.floats(0.0, 150_000.0) | st.floats(0.0, 21_000_000.0),
    max_ranges=st.integers(1, 1000),
)
@example(lat=0.0, lng=0.0, radius=5_000_000.0, max_ranges=1000)  # the old fallback: every level-8 column
def test_no_cover_has_more_than_max_queries_ranges(
    lat: float, lng: float, radius: float, max_ranges: int
) -> None:
    """Whatever the radius and the configured target (GEO_MAX_QUERIES): at most MAX_QUERIES ranges; up
    to 150 km (30 times the API's limit) every circle is covered, beyond that one may be refused."""
    try:
        cover = cover_circle(lat, lng, radius, max_ranges=max_ranges)
    except ValueError:
        assert radius > 150_000.0
        return
    assert len(cover.ranges) <= MAX_QUERIES


@settings(max_examples=300, deadline=None)
@given(lat=bound_lats, lng=bound_lngs, radius=api_radii | st.floats(0.0, 150_000.0))
def test_the_polar_level_serves_only_circles_wholly_beyond_polar_lat(
    lat: float, lng: float, radius: float
) -> None:
    """The polar index holds only points at |lat| >= POLAR_LAT: a circle reaching below it must not use it."""
    cover = cover_circle(lat, lng, radius)
    if cover.level == POLAR_LEVEL:
        for bearing in (0.0, 180.0):  # the circle's nearest and farthest latitudes from the equator
            rim_lat, _ = destination(lat, lng, bearing, radius)
            assert abs(rim_lat) >= POLAR_LAT and rim_lat * lat > 0


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-90.0, 90.0) | st.floats(89.0, 90.0) | st.floats(-90.0, -89.0),
    lng=bound_lngs,
    size=st.floats(0.0, 1.0),
    wide=st.booleans(),
)
@example(lat=89.5, lng=-180.0, size=1.0, wide=True)  # the AED coverage box at a pole: 360 degrees
def test_every_box_the_api_allows_takes_at_most_six_queries(
    lat: float, lng: float, size: float, wide: bool
) -> None:
    """A map box is at most 1 degree a side; the coverage report widens it by its margin, up to every
    longitude at a pole (where it lies wholly beyond POLAR_LAT)."""
    min_lat, max_lat = max(-90.0, lat - size), min(90.0, lat + size)
    if wide:
        if abs(lat) < 85.0:
            return
        min_lng, max_lng = -180.0, 180.0
        min_lat, max_lat = (max(min_lat, 86.0), 90.0) if lat > 0 else (-90.0, min(max_lat, -86.0))
    else:
        min_lng, max_lng = max(-180.0, lng - size), min(180.0, lng + size)
    cover = cover_box(min_lng, min_lat, max_lng, max_lat)
    assert len(cover.ranges) <= MAX_RANGES
    if cover.level == POLAR_LEVEL:
        assert min(abs(min_lat), abs(max_lat)) >= POLAR_LAT


def test_a_box_no_level_covers_within_the_bound_is_refused() -> None:
    with pytest.raises(ValueError):
        cover_box(-180.0, 0.0, 180.0, 10.0)  # 256 columns at level 8 and not in the polar index
    assert len(cover_box(-180.0, POLAR_LAT, 180.0, 90.0).ranges) == 4
