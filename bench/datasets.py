"""The benchmark's datasets and query centres, all deterministic.

- Taipei: the AEDs of the Taiwan public AED registry (tests/data/taiwan_aed_registry_2018.csv, Open
  Government Data License, Taiwan v1.0; see tests/data/README.md) inside the city.
- Hangzhou: a synthetic, seeded set of on-duty responders clustered over the urban districts the way
  people are: district centres with Gaussian spread, a few very dense spots (a station, hospitals, a
  campus) with hundreds of people within ~100 m, a thin background, and nobody on West Lake.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from cli.registries import taiwan_mohw
from shared.geo.distance import EARTH_RADIUS_M

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TAIPEI_CSV = DATA / "taiwan_aed_registry_2018.csv"
# Taipei City's rough extent (the city limits lie inside it; New Taipei surrounds it).
TAIPEI_BBOX = (24.96, 121.45, 25.21, 121.67)  # south, west, north, east


@dataclass(frozen=True)
class Point:
    entity_id: str
    lat: float
    lng: float


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str
    points: tuple[Point, ...]
    description: str


def taipei_aeds(path: Path = TAIPEI_CSV) -> Dataset:
    """AEDs in Taipei City inside the city's box, as the import command reads the registry
    (cli.registries.taiwan_mohw: one AED per six identity fields, aircraft left out, X is longitude)."""
    south, west, north, east = TAIPEI_BBOX
    points = tuple(
        sorted(
            (
                Point("tp-" + r.source_id[:16], r.lat, r.lng)
                for r in taiwan_mohw.read(path).records
                if r.city == "臺北市" and south <= r.lat <= north and west <= r.lng <= east
            ),
            key=lambda p: p.entity_id,
        )
    )
    return Dataset("Taipei AEDs", "aed", points, f"{len(points):,} AEDs, Taiwan MOHW registry 2018")


# (name, lat, lng, spread sigma in km, share of the population)
HANGZHOU_DISTRICTS = (
    ("West Lake: Wulin-Huanglong", 30.275, 120.135, 2.0, 0.12),
    ("West Lake: Zijingang-Xixi", 30.290, 120.080, 2.5, 0.06),
    ("Shangcheng: Hubin-Nanxing", 30.245, 120.175, 1.5, 0.10),
    ("Shangcheng: Sijiqing-Qianjiang New City", 30.265, 120.205, 2.0, 0.10),
    ("Gongshu", 30.315, 120.150, 2.5, 0.12),
    ("Binjiang", 30.205, 120.210, 2.5, 0.10),
    ("Xiaoshan", 30.165, 120.265, 3.0, 0.10),
    ("Yuhang: Future Sci-Tech City", 30.280, 120.000, 3.0, 0.07),
    ("Linping", 30.420, 120.300, 2.5, 0.05),
    ("Qiantang: Xiasha", 30.310, 120.350, 2.5, 0.05),
)
# Hundreds of people within ~100 m: (name, lat, lng, people)
HANGZHOU_HOTSPOTS = (
    ("Hangzhou East Railway Station", 30.2905, 120.2128, 300),
    ("First Affiliated Hospital, Zhejiang University", 30.2555, 120.1765, 250),
    ("Wulin Square", 30.2720, 120.1630, 250),
    ("Xixi campus", 30.2795, 120.0265, 250),
    ("Olympic Sports Centre, Binjiang", 30.2310, 120.2290, 250),
    ("Sir Run Run Shaw Hospital", 30.2605, 120.2050, 200),
)
HANGZHOU_BBOX = (30.10, 119.95, 30.47, 120.40)  # south, west, north, east
WEST_LAKE = (30.243, 120.146, 1.6, 1.3)  # centre, north-south and east-west semi-axes in km
BACKGROUND_SHARE = 0.03


def _offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    d_lat = math.degrees(north_m / EARTH_RADIUS_M)
    d_lng = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + d_lat, lng + d_lng


def _on_west_lake(lat: float, lng: float) -> bool:
    c_lat, c_lng, a_km, b_km = WEST_LAKE
    north_km = math.radians(lat - c_lat) * EARTH_RADIUS_M / 1000
    east_km = math.radians(lng - c_lng) * EARTH_RADIUS_M * math.cos(math.radians(c_lat)) / 1000
    return (north_km / a_km) ** 2 + (east_km / b_km) ** 2 <= 1.0


def hangzhou_responders(count: int = 20_000, seed: int = 20240917) -> Dataset:
    rng = random.Random(seed)
    south, west, north, east = HANGZHOU_BBOX
    coords: list[tuple[float, float]] = []

    def add(lat: float, lng: float) -> bool:
        if _on_west_lake(lat, lng) or not (south <= lat <= north and west <= lng <= east):
            return False
        coords.append((round(lat, 6), round(lng, 6)))  # a phone's fix: 6 decimals, ~0.1 m
        return True

    for _, lat, lng, people in HANGZHOU_HOTSPOTS:
        placed = 0
        while placed < people:
            placed += add(*_offset(lat, lng, rng.gauss(0, 45), rng.gauss(0, 45)))
    background = int(count * BACKGROUND_SHARE)
    while len(coords) < count - background:
        _, lat, lng, sigma_km, _ = rng.choices(
            HANGZHOU_DISTRICTS, weights=[d[4] for d in HANGZHOU_DISTRICTS]
        )[0]
        add(*_offset(lat, lng, rng.gauss(0, sigma_km * 1000), rng.gauss(0, sigma_km * 1000)))
    while len(coords) < count:
        add(rng.uniform(south, north), rng.uniform(west, east))
    points = tuple(Point(f"hz-{i:05d}", lat, lng) for i, (lat, lng) in enumerate(coords))
    return Dataset(
        "Hangzhou responders",
        "responder",
        points,
        f"{len(points):,} synthetic on-duty responders, {len(HANGZHOU_DISTRICTS)} districts, "
        f"{len(HANGZHOU_HOTSPOTS)} dense spots",
    )


def query_centres(
    dataset: Dataset, count: int, seed: int, spread_m: float = 1000.0
) -> list[tuple[float, float]]:
    """Where emergencies happen: where the people (or AEDs) are. Each centre is a random point of the
    dataset moved up to ``spread_m`` in a random direction, so some centres fall in empty areas."""
    rng = random.Random(seed)
    centres = []
    for _ in range(count):
        anchor = rng.choice(dataset.points)
        distance, bearing = spread_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        centres.append(
            _offset(anchor.lat, anchor.lng, distance * math.cos(bearing), distance * math.sin(bearing))
        )
    return centres
