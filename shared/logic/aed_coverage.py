"""AED coverage of an area at an hour of the week: the share of places within 100 m, and within a
4-minute walk (300 m), of an AED that is usable (status ok) and open then.

Sample points are the centres of a regular grid of ``grid_m`` metres laid over the area's bounding box
(north-south steps of grid_m; east-west steps of grid_m at the box's middle latitude), kept when inside
the area (even-odd rule, so holes are holes). Distances are great-circle (haversine). The hour is
evaluated at the next such weekday and hour in the deployment's time zone (HH:00 local), so opening
hours with dates or public holidays are read for a real day. AED claims by running rescues are ignored:
this is for planning.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.errors import ValidationFailed
from shared.geo.distance import haversine_m
from shared.logic.hours import is_open
from shared.logic.ports import AED_USABLE, GeoIndex

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")  # OpenStreetMap's day names, Monday first
NEAR_M = 100.0
WALK_M = 300.0  # about a 4-minute walk
MARGIN_M = WALK_M  # AEDs this far outside the area still cover points inside it
MIN_GRID_M, MAX_GRID_M = 10, 5000
MAX_SAMPLE_POINTS = 100_000  # the work is linear in points: this keeps one request to a few seconds
MAX_GRID_CELLS = 4 * MAX_SAMPLE_POINTS  # the bounding box's grid, inside the area or not
MAX_AREA_SIDE_DEG = 1.0  # as for the map's bbox
MAX_RING_POSITIONS = 50_000
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180  # along a meridian (R as shared.geo.distance)

Position = tuple[float, float]  # (lng, lat), GeoJSON order
Ring = Sequence[Position]


@dataclass(frozen=True)
class Area:
    """Polygons, each a list of rings (the first the outline, the others holes), in (lng, lat)."""

    polygons: tuple[tuple[Ring, ...], ...]
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float


@dataclass(frozen=True)
class Coverage:
    sample_points: int
    within_100m: float
    within_300m: float
    usable_aeds: int
    day: str
    hour: int
    evaluated_at: datetime
    grid_m: float


def _area(polygons: tuple[tuple[Ring, ...], ...]) -> Area:
    lngs = [p[0] for polygon in polygons for p in polygon[0]]
    lats = [p[1] for polygon in polygons for p in polygon[0]]
    area = Area(polygons, min(lngs), min(lats), max(lngs), max(lats))
    if area.max_lng - area.min_lng > MAX_AREA_SIDE_DEG or area.max_lat - area.min_lat > MAX_AREA_SIDE_DEG:
        raise ValidationFailed(f"area: at most {MAX_AREA_SIDE_DEG:g} degree a side")
    if area.max_lng <= area.min_lng or area.max_lat <= area.min_lat:
        raise ValidationFailed("area: has no extent")
    return area


def area_from_bbox(min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> Area:
    if not (-180 <= min_lng < max_lng <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValidationFailed("bbox: minLng,minLat,maxLng,maxLat within range, with min < max")
    ring = (
        (min_lng, min_lat),
        (max_lng, min_lat),
        (max_lng, max_lat),
        (min_lng, max_lat),
        (min_lng, min_lat),
    )
    return _area(((ring,),))


def _ring(raw: object, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise ValidationFailed(f"{where}: a linear ring has at least 4 positions")
    ring: list[Position] = []
    for position in raw:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(type(x) in (int, float) and math.isfinite(x) for x in position[:2])
        ):
            raise ValidationFailed(f"{where}: each position is [lng, lat] in numbers")
        lng, lat = float(position[0]), float(position[1])
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise ValidationFailed(f"{where}: position out of range")
        ring.append((lng, lat))
    if ring[0] != ring[-1]:
        raise ValidationFailed(f"{where}: a linear ring ends where it starts")
    return tuple(ring)


def area_from_geojson(geometry: Mapping[str, object]) -> Area:
    """A GeoJSON Polygon or MultiPolygon geometry (WGS-84, as RFC 7946 requires)."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        raw_polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        raw_polygons = coordinates
    else:
        raise ValidationFailed("area: a GeoJSON Polygon or MultiPolygon")
    polygons = []
    total = 0
    for p, raw in enumerate(raw_polygons):
        if not isinstance(raw, list) or not raw:
            raise ValidationFailed(f"area.polygon[{p}]: a list of linear rings")
        rings = tuple(_ring(r, f"area.polygon[{p}].ring[{i}]") for i, r in enumerate(raw))
        total += sum(len(r) for r in rings)
        polygons.append(rings)
    if not polygons:
        raise ValidationFailed("area: no polygon")
    if total > MAX_RING_POSITIONS:
        raise ValidationFailed(f"area: at most {MAX_RING_POSITIONS} positions; simplify the boundary")
    return _area(tuple(polygons))


def grid_steps(area: Area, grid_m: float) -> tuple[float, float, int, int]:
    """(degrees of latitude per step, degrees of longitude per step, rows, columns)."""
    middle = math.radians((area.min_lat + area.max_lat) / 2)
    dlat = grid_m / METRES_PER_DEGREE
    dlng = grid_m / (METRES_PER_DEGREE * max(math.cos(middle), 1e-6))
    rows = max(1, math.ceil((area.max_lat - area.min_lat) / dlat))
    cols = max(1, math.ceil((area.max_lng - area.min_lng) / dlng))
    return dlat, dlng, rows, cols


Edge = tuple[float, float, float, float, float, float]  # (lat_lo, lat_hi, lng1, lat1, lng2, lat2)


def _edges(area: Area) -> list[Edge]:
    """Every ring's edges that cross some parallel, by their southern end (horizontal ones never do)."""
    edges = [
        (min(y1, y2), max(y1, y2), x1, y1, x2, y2)
        for polygon in area.polygons
        for ring in polygon
        for (x1, y1), (x2, y2) in itertools.pairwise(ring)
        if y1 != y2
    ]
    edges.sort()
    return edges


def _rows_crossings(area: Area, lats: Sequence[float]) -> Iterable[list[float]]:
    """For each parallel of ``lats`` (ascending), the sorted longitudes where the rings cross it. An edge
    counts on [its southern end, its northern end): a vertex is crossed once. A sweep keeps only the
    edges spanning the current parallel, so the work is rows x (edges there), not rows x all edges."""
    edges = _edges(area)
    active: list[Edge] = []
    next_edge = 0
    for lat in lats:
        while next_edge < len(edges) and edges[next_edge][0] <= lat:
            active.append(edges[next_edge])
            next_edge += 1
        active = [e for e in active if e[1] > lat]
        yield sorted(x1 + (lat - y1) * (x2 - x1) / (y2 - y1) for _, _, x1, y1, x2, y2 in active)


def sample_points(area: Area, grid_m: float) -> list[tuple[float, float]]:
    """(lat, lng) of the grid's cell centres inside the area, south to north, west to east."""
    if not MIN_GRID_M <= grid_m <= MAX_GRID_M:
        raise ValidationFailed(f"grid_m: between {MIN_GRID_M} and {MAX_GRID_M}")
    dlat, dlng, rows, cols = grid_steps(area, grid_m)
    if rows * cols > MAX_GRID_CELLS:
        raise ValidationFailed(
            f"area: {rows * cols} grid cells at grid_m={grid_m:g} (at most {MAX_GRID_CELLS}); "
            "use a larger grid_m or a smaller area"
        )
    lngs = [area.min_lng + (i + 0.5) * dlng for i in range(cols)]
    lats = [area.min_lat + (j + 0.5) * dlat for j in range(rows)]
    points: list[tuple[float, float]] = []
    for lat, crossings in zip(lats, _rows_crossings(area, lats), strict=True):
        # Even-odd: inside between the 1st and 2nd crossing, the 3rd and 4th...
        for start, end in zip(crossings[::2], crossings[1::2], strict=False):
            first = bisect_left(lngs, start)
            for i in range(first, cols):
                if lngs[i] > end:
                    break
                points.append((lat, lngs[i]))
        if len(points) > MAX_SAMPLE_POINTS:
            raise ValidationFailed(
                f"area: more than {MAX_SAMPLE_POINTS} sample points at grid_m={grid_m:g}; "
                "use a larger grid_m or a smaller area"
            )
    return points


def evaluation_time(day: str, hour: int, now: datetime, time_zone: str) -> datetime:
    """The next ``day`` at ``hour``:00 in the deployment's zone, from ``now`` (now itself if it is that)."""
    if day not in WEEKDAYS:
        raise ValidationFailed(f"day: one of {', '.join(WEEKDAYS)}")
    if not 0 <= hour <= 23:
        raise ValidationFailed("hour: 0 to 23")
    local_now = now.astimezone(ZoneInfo(time_zone))
    days_ahead = (WEEKDAYS.index(day) - local_now.weekday()) % 7
    candidate = (local_now + timedelta(days=days_ahead)).replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate < local_now.replace(microsecond=0):
        candidate += timedelta(days=7)
    # Rebuilt from the wall clock, so the offset is the one in force that day.
    return datetime(candidate.year, candidate.month, candidate.day, hour, tzinfo=ZoneInfo(time_zone))


class _Buckets:
    """AEDs in square cells of about ``size_m`` on a local projection: a point's AEDs within ``size_m``
    lie in its own cell or the 8 around it."""

    def __init__(self, aeds: Iterable[tuple[float, float]], origin_lat: float, size_m: float) -> None:
        self.lng_scale = METRES_PER_DEGREE * math.cos(math.radians(origin_lat))
        self.size_m = size_m
        self.cells: dict[tuple[int, int], list[tuple[int, float, float]]] = defaultdict(list)
        for index, (lat, lng) in enumerate(aeds):
            self.cells[self._cell(lat, lng)].append((index, lat, lng))

    def _cell(self, lat: float, lng: float) -> tuple[int, int]:
        return (
            math.floor(lat * METRES_PER_DEGREE / self.size_m),
            math.floor(lng * self.lng_scale / self.size_m),
        )

    def around(self, lat: float, lng: float) -> Iterable[tuple[int, float]]:
        """(index, distance in metres) of the AEDs in the point's cell and the 8 around it."""
        row, col = self._cell(lat, lng)
        for r in (row - 1, row, row + 1):
            for c in (col - 1, col, col + 1):
                for index, a_lat, a_lng in self.cells.get((r, c), ()):
                    yield index, haversine_m(lat, lng, a_lat, a_lng)


class Reach:
    """Which AEDs each sample point has within NEAR_M and within WALK_M, computed once; the shares for any
    set of AEDs usable at some hour are then read from it. Points with the same AEDs in reach are counted
    together, so an hour costs (distinct reaches x AEDs in reach), not a pass over every point: the
    168 hours of a week (``coverage_week``) cost little more than one."""

    def __init__(self, points: Sequence[tuple[float, float]], aeds: Sequence[tuple[float, float]]) -> None:
        self.points = len(points)
        groups: dict[tuple[frozenset[int], frozenset[int]], int] = defaultdict(int)
        if points:
            # Cells a little over WALK_M: the local projection may stretch a 300 m distance by a fraction
            # of a percent across a 1-degree area, and a neighbour cell must still hold every AED within
            # 300 m.
            buckets = _Buckets(aeds, sum(p[0] for p in points) / len(points), WALK_M * 1.05)
            for lat, lng in points:
                near: set[int] = set()
                walk: set[int] = set()
                for index, distance in buckets.around(lat, lng):
                    if distance <= WALK_M:
                        walk.add(index)
                        if distance <= NEAR_M:
                            near.add(index)
                groups[(frozenset(near), frozenset(walk))] += 1
        self.groups = list(groups.items())

    def shares(self, usable: Iterable[int]) -> tuple[float, float]:
        """(share within NEAR_M, share within WALK_M) of an AED whose index is in ``usable``."""
        if not self.points:
            return 0.0, 0.0
        open_now = set(usable)
        near = walk = 0
        for (near_set, walk_set), count in self.groups:
            if not walk_set.isdisjoint(open_now):
                walk += count
                if not near_set.isdisjoint(open_now):
                    near += count
        return near / self.points, walk / self.points


def shares(points: Sequence[tuple[float, float]], aeds: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(share within NEAR_M, share within WALK_M) of ``points`` from the nearest of ``aeds``."""
    return Reach(points, aeds).shares(range(len(aeds)))


@dataclass(frozen=True)
class _Candidate:
    lat: float
    lng: float
    opening_hours: str


def _candidates(geo: GeoIndex, area: Area) -> list[_Candidate]:
    """The usable AEDs in the area and MARGIN_M around it (open or not: the hour decides), one read."""
    margin_lat = MARGIN_M / METRES_PER_DEGREE
    margin_lng = MARGIN_M / (
        METRES_PER_DEGREE * max(math.cos(math.radians(max(abs(area.min_lat), abs(area.max_lat)))), 1e-6)
    )
    hits = geo.in_box(
        AED_USABLE,
        max(-180.0, area.min_lng - margin_lng),
        max(-90.0, area.min_lat - margin_lat),
        min(180.0, area.max_lng + margin_lng),
        min(90.0, area.max_lat + margin_lat),
    )
    return [_Candidate(h.lat, h.lng, str(h.attributes.get("opening_hours", ""))) for h in hits]


def _open_at(candidates: Sequence[_Candidate], at: datetime, time_zone: str) -> list[int]:
    return [i for i, c in enumerate(candidates) if is_open(c.opening_hours, at, time_zone)]


def coverage(
    geo: GeoIndex, area: Area, *, day: str, hour: int, grid_m: float, now: datetime, time_zone: str
) -> Coverage:
    at = evaluation_time(day, hour, now, time_zone)
    points = sample_points(area, grid_m)
    candidates = _candidates(geo, area)
    usable = _open_at(candidates, at, time_zone)
    within_100m, within_300m = Reach(points, [(c.lat, c.lng) for c in candidates]).shares(usable)
    return Coverage(
        sample_points=len(points),
        within_100m=within_100m,
        within_300m=within_300m,
        usable_aeds=len(usable),
        day=day,
        hour=hour,
        evaluated_at=at,
        grid_m=grid_m,
    )


@dataclass(frozen=True)
class WeekCoverage:
    """``coverage`` at each hour of the week: [day Mo..Su][hour 0..23], each hour evaluated as
    ``coverage`` evaluates it (the next such weekday and hour from ``now``), so the week starts today."""

    sample_points: int
    within_100m: list[list[float]]
    within_300m: list[list[float]]
    usable_aeds: list[list[int]]
    week_of: date  # the local day the 168 hours are counted from (today)
    grid_m: float


def coverage_week(geo: GeoIndex, area: Area, *, grid_m: float, now: datetime, time_zone: str) -> WeekCoverage:
    """The heat map's 168 cells in one request: the AEDs read once, the points' reach computed once."""
    points = sample_points(area, grid_m)
    candidates = _candidates(geo, area)
    reach = Reach(points, [(c.lat, c.lng) for c in candidates])
    near: list[list[float]] = []
    walk: list[list[float]] = []
    counts: list[list[int]] = []
    for day in WEEKDAYS:
        near.append([])
        walk.append([])
        counts.append([])
        for hour in range(24):
            usable = _open_at(candidates, evaluation_time(day, hour, now, time_zone), time_zone)
            within_100m, within_300m = reach.shares(usable)
            near[-1].append(within_100m)
            walk[-1].append(within_300m)
            counts[-1].append(len(usable))
    return WeekCoverage(
        sample_points=len(points),
        within_100m=near,
        within_300m=walk,
        usable_aeds=counts,
        week_of=now.astimezone(ZoneInfo(time_zone)).date(),
        grid_m=grid_m,
    )
