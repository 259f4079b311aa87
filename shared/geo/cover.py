"""Cover a search circle with geohash cells laid out column-major, for DynamoDB range Queries.

Why not plain geohash prefixes: a geohash orders cells along a Z curve, so a circle needs either many
small cells (many Queries) or a few big ones (reading 2.5-3x what it returns, as dynamodb-geo does).
We keep the geohash but de-interleave its bits: the first ``level`` longitude bits name a *column*
(the partition key of one GSI per level) and the 30 latitude bits are the sort key. Every geohash cell
of that column width stacks north-south inside one partition, so all cells of the cover that lie in one
column merge into a single contiguous range: one Query per column. Choosing, per search, the finest
level whose cover needs at most ``max_ranges`` columns keeps the columns 0.4-0.8 radius wide, which
bounds the over-read to ~1.2-1.5x. See docs/geo.md for the measurements.

Every cover has at most ``MAX_QUERIES`` ranges, whatever the centre and radius: near a pole the meridians
converge, so a circle there spans many (or all) columns of every level above; the sparse ``POLAR_LEVEL``
index (four 90-degree columns, holding only the points at or beyond ``POLAR_LAT``) covers such a circle in
at most 5 ranges. A circle no level can cover within the bound is refused (``ValueError``), never searched
with more Queries: that takes a radius over ~180 km (the API allows 5 km).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pygeohash

from shared.geo.distance import EARTH_RADIUS_M

GEOHASH_PRECISION = 12  # 60 bits: 30 of longitude, 30 of latitude
AXIS_BITS = 30
# Column widths (in longitude bits) that have an index. 13-18 serve radii of 100 m-5 km between the
# equator and ~65°; 8 and 11 serve high latitudes (beyond ~89°, the polar level below).
INDEX_LEVELS: tuple[int, ...] = (8, 11, 13, 14, 15, 16, 17, 18)
# Polar caps: at or beyond POLAR_LAT a point is also indexed at POLAR_LEVEL (2 longitude bits: four
# 90-degree columns). A circle around a pole spans all 256 columns of level 8, or all 4 of this one. The
# index is sparse (nothing lives up there, so its few wide partitions are never hot) and a search may use it
# only when its whole circle lies beyond POLAR_LAT. At 80 degrees every circle up to ~180 km in radius
# that reaches below it is still covered by level 8 in at most 16 columns.
POLAR_LEVEL = 2
POLAR_LAT = 80.0
# The hard bound: no cover (so no search) has more ranges than this, one Query each (only a range holding
# more than DynamoDB's 1 MB page, thousands of items, is read in further pages). Every circle the
# API allows (radius <= 5 km) takes at most 6 (``max_ranges``); any circle up to 150 km, at most 16.
MAX_QUERIES = 16
# Never miss a point on the rim to float rounding: the cover is this much wider than the circle and the
# exact haversine cut afterwards removes what lies outside.
COVER_MARGIN_M = 1.0


def geohash_axes(geohash: str) -> tuple[int, int]:
    """Split a geohash into its (longitude bits, latitude bits): even bits are longitude."""
    value = 0
    for char in geohash:
        value = (value << 5) | _BASE32_INDEX[char]
    total = 5 * len(geohash)
    lng_bits = lat_bits = 0
    for position in range(total):
        bit = (value >> (total - 1 - position)) & 1
        if position % 2 == 0:
            lng_bits = (lng_bits << 1) | bit
        else:
            lat_bits = (lat_bits << 1) | bit
    return lng_bits, lat_bits


_BASE32_INDEX = {c: i for i, c in enumerate("0123456789bcdefghjkmnpqrstuvwxyz")}


@dataclass(frozen=True)
class PointKeys:
    """Where a point lives in the index: its column at every level and its latitude sort key."""

    lat_key: int
    columns: dict[int, int]


def indexed_levels(lat: float) -> tuple[int, ...]:
    """The levels a point at this latitude is indexed at: every level, and the polar one near a pole."""
    return (*INDEX_LEVELS, POLAR_LEVEL) if abs(lat) >= POLAR_LAT else INDEX_LEVELS


def point_keys(lat: float, lng: float, levels: Iterable[int] | None = None) -> PointKeys:
    """A point's keys at ``levels`` (default: the levels it is indexed at, ``indexed_levels``)."""
    lng_bits, lat_bits = geohash_axes(pygeohash.encode(lat, lng, GEOHASH_PRECISION))
    wanted = indexed_levels(lat) if levels is None else levels
    return PointKeys(lat_key=lat_bits, columns={lvl: lng_bits >> (AXIS_BITS - lvl) for lvl in wanted})


def _lat_key(lat: float) -> int:
    return geohash_axes(pygeohash.encode(max(-90.0, min(90.0, lat)), 0.0, GEOHASH_PRECISION))[1]


def _column(lng: float, level: int) -> int:
    lng_bits = geohash_axes(pygeohash.encode(0.0, max(-180.0, min(180.0, lng)), GEOHASH_PRECISION))[0]
    return lng_bits >> (AXIS_BITS - level)


@dataclass(frozen=True)
class KeyRange:
    """One Query: a column at a level and an inclusive range of latitude keys."""

    level: int
    column: int
    lat_key_lo: int
    lat_key_hi: int


@dataclass(frozen=True)
class Cover:
    level: int
    ranges: tuple[KeyRange, ...]


class _Cap:
    """A spherical cap (the search circle) with the latitude extent it has on any meridian."""

    def __init__(self, lat: float, lng: float, radius_m: float) -> None:
        self.lat, self.lng = lat, lng
        self.delta = (radius_m + COVER_MARGIN_M) / EARTH_RADIUS_M  # angular radius
        self.phi0 = math.radians(lat)
        self.contains_north = math.radians(90.0 - lat) <= self.delta
        self.contains_south = math.radians(90.0 + lat) <= self.delta
        # Wholly at or beyond POLAR_LAT (north or south): every point in it is in the polar index.
        reach = math.degrees(self.delta)
        self.polar = lat - reach >= POLAR_LAT or lat + reach <= -POLAR_LAT

    def lng_intervals(self) -> list[tuple[float, float]]:
        """Longitude intervals (degrees, within [-180, 180]) that the cap touches."""
        cos_phi0 = math.cos(self.phi0)
        if self.contains_north or self.contains_south or self.delta >= math.pi / 2:
            return [(-180.0, 180.0)]
        ratio = math.sin(self.delta) / cos_phi0
        if ratio >= 1.0:
            return [(-180.0, 180.0)]
        half = math.degrees(math.asin(ratio))
        lo, hi = self.lng - half, self.lng + half
        if lo < -180.0:
            return [(-180.0, hi), (lo + 360.0, 180.0)]
        if hi > 180.0:
            return [(lo, 180.0), (-180.0, hi - 360.0)]
        return [(lo, hi)]

    def lat_extent_on_meridian(self, lng: float) -> tuple[float, float] | None:
        """Latitudes of the cap along one meridian: solve A sin(phi) + B cos(phi) >= cos(delta)."""
        a = math.sin(self.phi0)
        b = math.cos(self.phi0) * math.cos(math.radians(lng - self.lng))
        norm = math.hypot(a, b)
        if norm == 0.0 or math.cos(self.delta) / norm > 1.0:
            return None
        alpha = math.atan2(a, b)
        spread = math.acos(max(-1.0, math.cos(self.delta) / norm))
        lo, hi = math.degrees(alpha - spread), math.degrees(alpha + spread)
        # Beyond a pole the solution wraps onto the opposite meridian: the cap then reaches the pole.
        lo, hi = max(-90.0, lo), min(90.0, hi)
        # An arc wholly beyond the pole lies on the opposite meridian, not this one (float edge cases).
        return (lo, hi) if lo <= hi else None

    def lat_extent_on_slab(self, west: float, east: float) -> tuple[float, float] | None:
        """Latitude extent of the cap over longitudes [west, east]. Away from the centre meridian
        the cap's extent shrinks monotonically, so the slab edges bound it."""
        if self.contains_north or self.contains_south or west <= self.lng <= east:
            lo = -90.0 if self.contains_south else math.degrees(self.phi0 - self.delta)
            hi = 90.0 if self.contains_north else math.degrees(self.phi0 + self.delta)
            if not (west <= self.lng <= east):
                edges = [
                    e for e in (self.lat_extent_on_meridian(west), self.lat_extent_on_meridian(east)) if e
                ]
                if not edges:
                    return None
                if not self.contains_south:
                    lo = min(e[0] for e in edges)
                if not self.contains_north:
                    hi = max(e[1] for e in edges)
            return max(-90.0, lo), min(90.0, hi)
        extents = [e for e in (self.lat_extent_on_meridian(west), self.lat_extent_on_meridian(east)) if e]
        if not extents:
            return None
        return min(e[0] for e in extents), max(e[1] for e in extents)


def _columns_at(level: int, intervals: Sequence[tuple[float, float]]) -> list[tuple[int, float, float]]:
    """(column, west, east) for every column meeting the intervals, clipped to them."""
    width = 360.0 / (1 << level)
    found: list[tuple[int, float, float]] = []
    for west, east in intervals:
        for col in range(_column(west, level), _column(east, level) + 1):
            col_west = -180.0 + col * width
            found.append((col, max(west, col_west), min(east, col_west + width)))
    return found


def _count_columns(level: int, intervals: Sequence[tuple[float, float]]) -> int:
    """The columns the intervals meet at ``level``: at least as many as the ranges of the cover."""
    return sum(_column(east, level) - _column(west, level) + 1 for west, east in intervals)


def _choose_level(
    intervals: Sequence[tuple[float, float]], levels: Sequence[int], max_ranges: int, what: str
) -> int:
    """The finest level needing at most ``max_ranges`` Queries (least over-read); else the finest within
    MAX_QUERIES; else none: the search is refused rather than run with more Queries."""
    ordered = sorted(set(levels), reverse=True)
    for limit in (min(max_ranges, MAX_QUERIES), MAX_QUERIES):
        for level in ordered:
            if _count_columns(level, intervals) <= limit:
                return level
    raise ValueError(f"{what}: no index level covers it in at most {MAX_QUERIES} Queries")


def _search_levels(levels: Sequence[int], polar: bool) -> list[int]:
    """The levels a search may use: the polar level only when all it covers lies in the polar index."""
    return [lvl for lvl in levels if lvl != POLAR_LEVEL or polar] + ([POLAR_LEVEL] if polar else [])


def cover_circle(
    lat: float,
    lng: float,
    radius_m: float,
    *,
    levels: Sequence[int] = INDEX_LEVELS,
    max_ranges: int = 6,
) -> Cover:
    """The Query ranges whose union holds every point within ``radius_m`` of (lat, lng).

    Picks the finest of ``levels`` (plus ``POLAR_LEVEL`` when the whole circle lies beyond
    ``POLAR_LAT``) whose cover needs at most ``max_ranges`` Queries (least over-read); if none does, the
    finest within ``MAX_QUERIES``. Never more than ``MAX_QUERIES`` ranges: a circle that would need more
    (a radius far beyond the API's) is a ``ValueError``.
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0 and 0.0 <= radius_m < math.inf):
        raise ValueError(f"no search circle at ({lat}, {lng}) with radius {radius_m} m")
    cap = _Cap(lat, lng, radius_m)
    intervals = cap.lng_intervals()
    level = _choose_level(
        intervals, _search_levels(levels, cap.polar), max_ranges, f"circle at ({lat}, {lng}), {radius_m} m"
    )
    per_column: dict[int, list[tuple[int, int]]] = {}
    for col, west, east in _columns_at(level, intervals):
        extent = cap.lat_extent_on_slab(west, east)
        if extent is None:
            continue
        per_column.setdefault(col, []).append((_lat_key(extent[0]), _lat_key(extent[1])))
    ranges: list[KeyRange] = []
    for col in sorted(per_column):
        for lo, hi in _merge(per_column[col]):
            ranges.append(KeyRange(level, col, lo, hi))
    return Cover(level=level, ranges=tuple(ranges))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or adjacent key ranges: adjacent cells are one range, so one Query."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def cover_box(
    min_lng: float,
    min_lat: float,
    max_lng: float,
    max_lat: float,
    *,
    levels: Sequence[int] = INDEX_LEVELS,
    max_ranges: int = 6,
) -> Cover:
    """The Query ranges whose union holds every point of a lng/lat box (min < max, no wrap); as for a
    circle, at most ``MAX_QUERIES`` of them (the polar level serves a box wholly beyond ``POLAR_LAT``)."""
    intervals = [(min_lng, max_lng)]
    polar = min_lat >= POLAR_LAT or max_lat <= -POLAR_LAT
    level = _choose_level(
        intervals,
        _search_levels(levels, polar),
        max_ranges,
        f"box {min_lng},{min_lat},{max_lng},{max_lat}",
    )
    lo, hi = _lat_key(min_lat), _lat_key(max_lat)
    columns = range(_column(min_lng, level), _column(max_lng, level) + 1)
    return Cover(level=level, ranges=tuple(KeyRange(level, col, lo, hi) for col in columns))
