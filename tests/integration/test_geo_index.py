"""DynamoGeoIndex on the embedded AWS against brute force: recall 1.0, exact nearest-first order (ties by
id), lapsed and removed items never returned, at most 6 Queries in one round, the poles included (the bound
itself, MAX_QUERIES, and the SOS at a pole: test_geo_bounded.py).

Each example indexes a few dozen points under its own kind and deletes them afterwards: moto answers a
Query by walking the whole table, so small tables keep the module fast.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.dal.geo_index import DynamoGeoIndex, IndexedPoint, SearchResult
from shared.dal.models.geo_index import GeoIndexModel
from shared.geo.cover import INDEX_LEVELS, cover_circle
from shared.geo.datum import storable
from shared.geo.distance import EARTH_RADIUS_M, haversine_m

NOW = 1_800_000_000
# expires_at equal to now has lapsed: presence counts only while expires_at > now.
EXPIRES_AT: dict[str, int | None] = {
    "never": None,
    "later": NOW + 1,
    "lapsed": NOW,
    "long-lapsed": NOW - 86_400,
}
_kinds = itertools.count()


@dataclass(frozen=True)
class Spot:
    """A point to index, placed relative to the search centre, and what happens to it."""

    bearing: float
    fraction: float  # of the radius (at least 1 m): 1.0 is on the rim, above 1 outside
    expires: str  # a key of EXPIRES_AT
    removed: bool


def destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    phi1, lmb1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    lng2 = (math.degrees(lmb2) + 180.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(phi2))), max(-180.0, min(180.0, lng2))


@contextmanager
def indexed(geo: DynamoGeoIndex, points: list[IndexedPoint]) -> Iterator[str]:
    """The points under a fresh kind, deleted again afterwards."""
    kind = f"k{next(_kinds)}"
    geo.put_many(kind, points)
    try:
        yield kind
    finally:
        with GeoIndexModel.batch_write() as batch:
            for point in points:
                batch.delete(GeoIndexModel(entity_key=f"{kind}#{point.entity_id}"))


def brute_force(points: list[IndexedPoint], lat: float, lng: float, radius: float) -> list[tuple[float, str]]:
    found = []
    for p in points:
        distance = haversine_m(lat, lng, p.lat, p.lng)
        if distance <= radius and (p.expires_at is None or p.expires_at > NOW):
            found.append((distance, p.entity_id))
    return sorted(found)


def assert_exact(result: SearchResult, expected: list[tuple[float, str]]) -> None:
    assert [(h.distance_m, h.entity_id) for h in result.hits] == expected
    assert result.stats.items_read >= len(expected)


spots = st.builds(
    Spot,
    bearing=st.floats(0.0, 360.0),
    fraction=st.floats(0.0, 1.5) | st.floats(0.95, 1.0) | st.sampled_from([0.0, 1.0]),  # the rim, often
    expires=st.sampled_from(["never", "never", "later", "lapsed", "long-lapsed"]),
    removed=st.sampled_from([False, False, False, True]),
)
column_edges = st.builds(
    lambda level, i: -180.0 + (i % (1 << level)) * 360.0 / (1 << level),
    st.sampled_from(INDEX_LEVELS),
    st.integers(0, 1 << 18),
)
lats = st.floats(-60.0, 60.0) | st.floats(-89.9, 89.9) | st.sampled_from([30.25, 25.04, 0.0, 89.9, -89.9])
# Within a few km of a pole the cover takes the sparse polar index (up to 4 wide columns).
polar_lats = st.floats(89.97, 90.0) | st.floats(-90.0, -89.97)
lngs = st.floats(-180.0, 180.0) | st.floats(179.95, 180.0) | st.floats(-180.0, -179.95) | column_edges
radii = st.floats(0.0, 5000.0) | st.sampled_from([0.0, 300.0, 1000.0, 2000.0, 5000.0])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=lats, lng=lngs, radius=radii, layout=st.lists(spots, max_size=40), twins=st.integers(0, 3))
@example(lat=30.25, lng=120.16, radius=300.0, layout=[], twins=0)  # an empty area
@example(
    lat=0.0,
    lng=180.0,
    radius=2000.0,
    layout=[Spot(b, f, "never", False) for b in (80, 100, 260, 280) for f in (0.99, 1.0, 1.001)],
    twins=1,
)
@example(
    lat=89.99,
    lng=-45.0,
    radius=2000.0,
    layout=[Spot(b, 0.9, "later", False) for b in range(0, 360, 40)],
    twins=0,
)
def test_search_is_brute_force(
    aws: Any, lat: float, lng: float, radius: float, layout: list[Spot], twins: int
) -> None:
    check_against_brute_force(lat, lng, radius, layout, twins)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=polar_lats, lng=lngs, radius=radii, layout=st.lists(spots, max_size=30), twins=st.integers(0, 2))
def test_search_is_brute_force_within_a_few_km_of_a_pole(
    aws: Any, lat: float, lng: float, radius: float, layout: list[Spot], twins: int
) -> None:
    check_against_brute_force(lat, lng, radius, layout, twins)


def check_against_brute_force(lat: float, lng: float, radius: float, layout: list[Spot], twins: int) -> None:
    geo = DynamoGeoIndex()
    points = []
    for i, spot in enumerate(layout):
        p_lat, p_lng = destination(lat, lng, spot.bearing, max(radius, 1.0) * spot.fraction)
        for twin in range(1 + (twins if i == 0 else 0)):  # same place, different ids: ties go by id
            stored = IndexedPoint(
                f"e{i:02d}-{twin}", storable(p_lat), storable(p_lng), EXPIRES_AT[spot.expires]
            )
            points.append(stored)
    with indexed(geo, points) as kind:
        removed = {f"e{i:02d}-0" for i, spot in enumerate(layout) if spot.removed}
        for entity_id in removed:
            geo.remove(kind, entity_id)
        result = geo.search(kind, lat, lng, radius, now_epoch=NOW)
    kept = [p for p in points if p.entity_id not in removed]
    assert_exact(result, brute_force(kept, lat, lng, radius))
    assert result.stats.queries <= 6
    assert result.stats.rounds == 1


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(-60.0, 60.0),
    lng=st.floats(-180.0, 180.0) | st.floats(179.999, 180.0),
    seed=st.integers(0, 2**32 - 1),
    radius=st.floats(0.0, 150.0),
)
def test_a_dense_cluster_comes_back_whole_and_in_order(
    aws: Any, lat: float, lng: float, seed: int, radius: float
) -> None:
    """Hundreds of points within 100 m (a hospital, a station), some of them in the very same place."""
    rng = random.Random(seed)
    points: list[IndexedPoint] = []
    for i in range(300):
        p_lat, p_lng = destination(lat, lng, rng.uniform(0, 360), 100.0 * math.sqrt(rng.random()))
        if i % 10 == 9:
            p_lat, p_lng = points[-1].lat, points[-1].lng
        points.append(IndexedPoint(f"r{i:03d}", p_lat, p_lng))
    geo = DynamoGeoIndex()
    with indexed(geo, points) as kind:
        for r in (radius, 100.0):
            result = geo.search(kind, lat, lng, r, now_epoch=NOW)
            assert_exact(result, brute_force(points, lat, lng, r))
            assert result.stats.queries <= 6 and result.stats.rounds == 1
        assert len(result.hits) == 300


def test_lapsed_presence_is_never_returned_even_without_a_clock(aws: Any) -> None:
    geo = DynamoGeoIndex()
    now = int(time.time())
    geo.put("responder", "lapsed", 30.25, 120.16, expires_at=now - 1)
    geo.put("responder", "on-duty", 30.2501, 120.16, expires_at=now + 600)
    geo.put("responder", "no-ttl", 30.2502, 120.16)
    assert [h.entity_id for h in geo.search("responder", 30.25, 120.16, 300).hits] == ["on-duty", "no-ttl"]
    later = geo.search("responder", 30.25, 120.16, 300, now_epoch=now + 600)
    assert [h.entity_id for h in later.hits] == ["no-ttl"]
    assert later.stats.items_read == 3  # read, then filtered: what DynamoDB bills


def test_removed_and_moved_things_are_found_only_where_they_are(aws: Any) -> None:
    geo = DynamoGeoIndex()
    geo.put("aed", "a1", 25.0330, 121.5654)
    geo.put("aed", "a2", 25.0331, 121.5655)
    geo.remove("aed", "a1")
    geo.put("aed", "a2", 25.0478, 121.5170)  # moved: one item per thing, the old place is gone
    assert geo.search("aed", 25.0330, 121.5654, 500, now_epoch=NOW).hits == []
    assert [h.entity_id for h in geo.search("aed", 25.0478, 121.5170, 10, now_epoch=NOW).hits] == ["a2"]
    assert geo.search("responder", 25.0478, 121.5170, 10, now_epoch=NOW).hits == []  # kinds apart


def test_a_range_bigger_than_a_page_takes_a_second_round(aws: Any) -> None:
    """DynamoDB pages at 1 MB: a range holding more is read in further rounds, and nothing is lost."""
    bulky = {"note": "x" * 4000}
    points = [
        IndexedPoint(f"b{i:03d}", 30.25 + i * 1e-6, 120.16, None, bulky) for i in range(300)
    ]  # ~1.2 MB in one column
    geo = DynamoGeoIndex()
    with indexed(geo, points) as kind:
        result = geo.search(kind, 30.25, 120.16, 100, now_epoch=NOW)
    assert_exact(result, brute_force(points, 30.25, 120.16, 100))
    assert result.stats.rounds == 2
    assert result.stats.queries == len(cover_circle(30.25, 120.16, 100).ranges) + 1  # one range, two pages


def test_coordinates_too_small_for_dynamodb_are_stored_as_zero(aws: Any) -> None:
    geo = DynamoGeoIndex()
    geo.put("aed", "null-island", 1e-200, -5e-324)
    (hit,) = geo.search("aed", 0.0, 0.0, 1.0, now_epoch=NOW).hits
    assert (hit.entity_id, hit.lat, hit.lng, hit.distance_m) == ("null-island", 0.0, 0.0, 0.0)


@pytest.mark.parametrize("radius", [-1.0, math.nan])
def test_a_radius_that_is_no_radius_is_refused(aws: Any, radius: float) -> None:
    with pytest.raises(ValueError):
        DynamoGeoIndex().search("aed", 30.25, 120.16, radius, now_epoch=NOW)
