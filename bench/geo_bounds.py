"""The geo search's bound, probed where covers used to blow up: on and beside the poles, across ±180°, at
the polar index's edge, next to Hangzhou as the baseline.

Two parts. (1) Every cover: ``cover_circle`` over many seeded centres weighted to those places, at radii
the API allows (0-5,000 m), pure computation: the most ranges (Queries) any of them needs. (2) Real
searches on the embedded AWS, a few dozen points around each probe: Queries counted at the client,
rounds, exactness against brute force, and the median wall clock of a few runs relative to the same
radius in Hangzhou (moto's latency means little in absolute terms; the ratio shows a search that does
far more work than an ordinary one).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from typing import Any

from bench.geo_runs import _CallCounter, _embedded_aws
from shared.geo.distance import EARTH_RADIUS_M, haversine_m

PROBES: dict[str, tuple[float, float]] = {
    "Hangzhou": (30.2590, 120.1605),
    "north pole": (90.0, 0.0),
    "south pole": (-90.0, 0.0),
    "1 km off the pole": (89.991, 45.0),
    "70 km off the pole": (89.37, 10.0),
    "±180° at 89.9°N": (89.9, -180.0),
    "±180° on the equator": (0.0, 180.0),
    "80.05°N (polar edge)": (80.05, 30.0),
}
RADII_M = (300.0, 1000.0, 2000.0, 5000.0)
REPEATS = 5
POINTS_PER_PROBE = 40
SWEEP_CENTRES = 20_000
SEED = 10


def _destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    phi1, lmb1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    return max(-90.0, min(90.0, math.degrees(phi2))), (math.degrees(lmb2) + 180.0) % 360.0 - 180.0


def _sweep_centre(rng: random.Random) -> tuple[float, float]:
    """Anywhere, but mostly where it used to hurt: within 1° of a pole, on ±180°, near the equator."""
    pick = rng.random()
    if pick < 0.4:
        lat = rng.choice((1, -1)) * (90.0 - 10 ** rng.uniform(-7.0, 0.0))
    elif pick < 0.5:
        lat = rng.uniform(-0.01, 0.01)
    else:
        lat = rng.uniform(-90.0, 90.0)
    lng = rng.choice((rng.uniform(-180.0, 180.0), 180.0, -180.0, rng.uniform(179.9, 180.0)))
    return lat, lng


def _cover_sweep() -> tuple[int, tuple[float, float, float]]:
    from shared.geo.cover import cover_circle

    rng = random.Random(SEED)
    worst, where = 0, (0.0, 0.0, 0.0)
    for _ in range(SWEEP_CENTRES):
        lat, lng = _sweep_centre(rng)
        radius = rng.choice((0.0, 300.0, 1000.0, 2000.0, 5000.0, rng.uniform(0.0, 5000.0)))
        ranges = len(cover_circle(lat, lng, radius).ranges)
        if ranges > worst:
            worst, where = ranges, (lat, lng, radius)
    return worst, where


def run() -> tuple[str, dict[str, Any]]:
    from shared.dal.geo_index import DynamoGeoIndex, IndexedPoint
    from shared.dal.models.geo_index import GeoIndexModel

    sweep_worst, sweep_at = _cover_sweep()
    rng = random.Random(SEED)
    points = []
    for name, (lat, lng) in PROBES.items():
        for i in range(POINTS_PER_PROBE):
            p_lat, p_lng = _destination(lat, lng, rng.uniform(0, 360), 6000.0 * math.sqrt(rng.random()))
            points.append(IndexedPoint(f"{name}/{i:02d}", p_lat, p_lng))
    rows: list[tuple[str, float, int, int, bool, float]] = []
    with _embedded_aws():
        GeoIndexModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        geo = DynamoGeoIndex()
        geo.put_many("bench", points)
        counter = _CallCounter(GeoIndexModel._get_connection().connection.client, "Query")
        for name, (lat, lng) in PROBES.items():
            for radius in RADII_M:
                truth = sorted(
                    (d, p.entity_id) for p in points if (d := haversine_m(lat, lng, p.lat, p.lng)) <= radius
                )
                took = []
                for _ in range(REPEATS):
                    counter.reset()
                    started = time.perf_counter()
                    result = geo.search("bench", lat, lng, radius, now_epoch=0)
                    took.append(time.perf_counter() - started)
                if result.stats.queries != counter.calls:
                    raise RuntimeError(f"SearchStats {result.stats} disagree: {counter.calls} Queries sent")
                exact = [(h.distance_m, h.entity_id) for h in result.hits] == truth
                median = statistics.median(took)
                rows.append((name, radius, counter.calls, result.stats.rounds, exact, median))
    baseline = {radius: s for name, radius, _, _, _, s in rows if name == "Hangzhou"}
    ratios = [s / baseline[radius] for _, radius, _, _, _, s in rows]
    worst = max(range(len(rows)), key=lambda i: rows[i][2])
    slowest = max(range(len(rows)), key=lambda i: ratios[i])
    figures = {
        "cover_ranges_max": sweep_worst,
        "queries_max": rows[worst][2],
        "rounds_max": max(r[3] for r in rows),
        "exact": all(r[4] for r in rows),
        "time_vs_hangzhou_max": round(ratios[slowest], 2),
    }
    lines = [
        "Geo search bound: poles, ±180° and the polar index's edge next to Hangzhou (embedded AWS)",
        f"covers: {SWEEP_CENTRES:,} seeded centres (40% within 1° of a pole), radii 0-5,000 m: at most "
        f"{sweep_worst} ranges (at {sweep_at[0]:.6f}, {sweep_at[1]:.6f}, {sweep_at[2]:.0f} m)",
        f"searches: {POINTS_PER_PROBE} points within 6 km of each probe; median of {REPEATS} runs",
        "",
        f"{'probe':<22} {'radius':>7} {'Queries':>8} {'rounds':>7} {'exact':>6} {'ms':>8} {'÷ Hangzhou':>10}",
    ]
    for (name, radius, queries, rounds, exact, seconds), ratio in zip(rows, ratios, strict=True):
        lines.append(
            f"{name:<22} {radius:>5.0f} m {queries:>8} {rounds:>7} {'yes' if exact else 'NO':>6} "
            f"{seconds * 1000:>8.1f} {ratio:>10.2f}"
        )
    lines.append(
        f"worst: {figures['queries_max']} Queries ({rows[worst][0]}, {rows[worst][1]:.0f} m), "
        f"{figures['time_vs_hangzhou_max']}x a Hangzhou search's time ({rows[slowest][0]}, "
        f"{rows[slowest][1]:.0f} m)"
    )
    return "\n".join(lines), figures


if __name__ == "__main__":  # python -m bench.geo_bounds: this part of the geo section alone
    import json

    table, figures = run()
    print(table)
    print(json.dumps(figures, ensure_ascii=False))
