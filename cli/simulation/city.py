"""A synthetic Hangzhou: where people live and work, the certified responders among them, the AEDs, and
when and where cardiac arrests happen. Every figure below is either cited in docs/simulation.md or an
assumption named there; the city is synthetic, none of it is real Hangzhou data."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from local_runtime.seed import DISTRICTS, STATUS_MIX, VENUES, WEST_LAKE_WATER, District

# Permanent residents by district, 7th national census (1 Nov 2020), on today's district boundaries. Only
# the eight urban districts the demo city has (local_runtime/seed.py); Fuyang, Lin'an and the counties are
# left out, and the city-wide rates below are scaled to this share of Hangzhou's 11,936,010.
CENSUS_2020 = {
    "上城区 Shangcheng": 1_323_467,
    "拱墅区 Gongshu": 1_120_985,
    "西湖区 West Lake": 1_089_229,
    "滨江区 Binjiang": 503_859,
    "萧山区 Xiaoshan": 2_011_699,
    "余杭区 Yuhang": 1_226_673,
    "临平区 Linping": 1_175_841,
    "钱塘区 Qiantang": 769_150,
}
HANGZHOU_2020 = 11_936_010
# Assumption: jobs lean to the core and the tech districts; a daytime weight is population × this.
DAYTIME_PULL = {
    "上城区 Shangcheng": 1.4,
    "拱墅区 Gongshu": 1.1,
    "西湖区 West Lake": 1.3,
    "滨江区 Binjiang": 1.6,
    "萧山区 Xiaoshan": 0.8,
    "余杭区 Yuhang": 1.1,
    "临平区 Linping": 0.7,
    "钱塘区 Qiantang": 0.9,
}
# Assumption: the demo's spreads are drawn for a 320-volunteer demo; real districts are wider (Shangcheng
# is 122 km²), so each Gaussian is widened by this factor.
SPREAD_SCALE = 1.6

# The figures: ~40,000 certified a year, certificates valid 3 years; ~20 arrests a day per 12 million.
CERTIFIED_CITYWIDE = 40_000 * 3
ARRESTS_PER_DAY_CITYWIDE = 20.0
CITY_POPULATION_FOR_RATE = 12_000_000
# Assumptions: the share of certified responders registered in the app, the share of those on duty by
# local hour, the share who commute on weekdays (08:00-18:00) and the share who cycle.
REGISTERED_SHARE = 0.5
ON_DUTY_BY_HOUR = (0.15,) * 6 + (0.2, 0.25) + (0.25,) * 10 + (0.3,) * 4 + (0.25, 0.2)
COMMUTER_SHARE = 0.6
WORK_HOURS = (8, 18)
CYCLING_SHARE = 0.3  # shared bikes stand on most Hangzhou streets
# Synthetic AEDs per 100,000 people (assumption, near the >7,000 public AEDs Hangzhou reported for 2023).
AEDS_PER_100K = 55.0
# Arrests: BASIC-OHCA found 76.85% at home; the rest in public, placed by daytime density in the day.
AT_HOME_SHARE = 0.77
# Assumption: relative arrest rate by local hour, a morning peak and a night low.
ARRESTS_BY_HOUR = (0.5,) * 5 + (0.7, 1.1, 1.5, 1.6, 1.6, 1.5, 1.3) + (1.1,) * 6 + (1.0,) * 4 + (0.8, 0.6)

METRES_PER_DEG_LAT = 111_195.0
CELL_M = 500.0  # the grid the responder index buckets by


@dataclass(frozen=True)
class Place:
    lat: float
    lng: float


@dataclass(frozen=True)
class Responder:
    responder_id: str
    home: Place
    work: Place
    commuter: bool
    cycles: bool
    duty_draw: float  # on duty at hour h of day d when (duty_draw + d·φ) mod 1 < ON_DUTY_BY_HOUR[h]

    def on_duty(self, day: int, hour: int) -> bool:
        # A golden-ratio rotation per day: each day a different, equally large set is on duty.
        return (self.duty_draw + day * 0.6180339887) % 1.0 < ON_DUTY_BY_HOUR[hour]

    def at(self, day: int, hour: int) -> Place:
        weekday = day % 7 < 5  # day 0 is a Monday
        at_work = self.commuter and weekday and WORK_HOURS[0] <= hour < WORK_HOURS[1]
        return self.work if at_work else self.home


@dataclass(frozen=True)
class AedSite:
    aed_id: str
    place: Place
    name: str
    opening_hours: str
    placement: str


@dataclass(frozen=True)
class Arrest:
    number: int
    at_s: float  # seconds since the simulation's start (a Monday, 00:00 local)
    place: Place
    at_home: bool


@dataclass
class City:
    population: int
    responders: list[Responder]
    aeds: list[AedSite]
    arrests: list[Arrest]
    days: int
    certified: int = field(default=0)

    def __post_init__(self) -> None:
        self.certified = self.certified or len(self.responders)


def _weights(daytime: bool) -> list[float]:
    return [CENSUS_2020[d.name] * (DAYTIME_PULL[d.name] if daytime else 1.0) for d in DISTRICTS]


def place_in(rng: random.Random, district: District) -> Place:
    """A point around the district's centre (Gaussian, widened), never in the West Lake."""
    sigma = district.sigma_m * SPREAD_SCALE
    wlat, wlng, wr = WEST_LAKE_WATER
    while True:
        north, east = rng.gauss(0, sigma), rng.gauss(0, sigma)
        lat = district.lat + north / METRES_PER_DEG_LAT
        lng = district.lng + east / (METRES_PER_DEG_LAT * math.cos(math.radians(district.lat)))
        if math.hypot((lat - wlat) * METRES_PER_DEG_LAT, (lng - wlng) * 96_000) > wr:
            return Place(lat, lng)


def _places(rng: random.Random, count: int, daytime: bool) -> list[Place]:
    districts = rng.choices(DISTRICTS, weights=_weights(daytime), k=count)
    return [place_in(rng, d) for d in districts]


def build(seed: int, days: int, responders: int | None = None, arrests_per_day: float | None = None) -> City:
    """The city for ``days`` days from seed ``seed``: the same seed, the same city."""
    rng = random.Random(seed)
    population = sum(CENSUS_2020.values())
    share = population / HANGZHOU_2020
    pool = responders if responders is not None else round(CERTIFIED_CITYWIDE * share * REGISTERED_SHARE)
    homes, works = _places(rng, pool, daytime=False), _places(rng, pool, daytime=True)
    people = [
        Responder(
            responder_id=f"sim-{n:06d}",
            home=homes[n],
            work=works[n],
            commuter=rng.random() < COMMUTER_SHARE,
            cycles=rng.random() < CYCLING_SHARE,
            duty_draw=rng.random(),
        )
        for n in range(pool)
    ]
    aeds = _aeds(rng, round(population / 100_000 * AEDS_PER_100K))
    rate = (
        arrests_per_day
        if arrests_per_day is not None
        else (ARRESTS_PER_DAY_CITYWIDE * population / CITY_POPULATION_FOR_RATE)
    )
    return City(population, people, aeds, _arrests(rng, days, rate), days)


def _aeds(rng: random.Random, count: int) -> list[AedSite]:
    """Usable AEDs only (status ok): the demo's venue mix and opening hours, placed by daytime density."""
    sites: list[AedSite] = []
    statuses = rng.choices([s for s, _ in STATUS_MIX], weights=[w for _, w in STATUS_MIX], k=count)
    venues = rng.choices(VENUES, weights=[v[3] for v in VENUES], k=count)
    for n, (place, status, venue) in enumerate(zip(_places(rng, count, True), statuses, venues, strict=True)):
        if status == "ok":
            kind, hours, placement, _ = venue
            sites.append(AedSite(f"aed-{n:05d}", place, f"Synthetic AED {n} · {kind}", hours, placement))
    return sites


def _arrests(rng: random.Random, days: int, per_day: float) -> list[Arrest]:
    """A Poisson process by hour, its rate following ARRESTS_BY_HOUR; placed by where people are."""
    mean_weight = sum(ARRESTS_BY_HOUR) / 24
    found: list[Arrest] = []
    for hour_index in range(days * 24):
        hour = hour_index % 24
        expected = per_day / 24 * ARRESTS_BY_HOUR[hour] / mean_weight
        for _ in range(_poisson(rng, expected)):
            at_home = rng.random() < AT_HOME_SHARE
            daytime = not at_home and WORK_HOURS[0] <= hour < WORK_HOURS[1]
            place = _places(rng, 1, daytime)[0]
            found.append(Arrest(0, hour_index * 3600 + rng.random() * 3600, place, at_home))
    found.sort(key=lambda a: a.at_s)
    return [Arrest(n, a.at_s, a.place, a.at_home) for n, a in enumerate(found, start=1)]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def local_xy(place: Place) -> tuple[float, float]:
    """Metres east and north of a fixed origin: good enough for bucketing, never for distances."""
    return (
        (place.lng - 120.0) * METRES_PER_DEG_LAT * math.cos(math.radians(30.25)),
        (place.lat - 30.0) * METRES_PER_DEG_LAT,
    )


def cells_around(place: Place, radius_m: float) -> Iterable[tuple[int, int]]:
    x, y = local_xy(place)
    reach = radius_m * 1.01 + 1  # the flat projection is within 1% of haversine over a few km
    for cx in range(math.floor((x - reach) / CELL_M), math.floor((x + reach) / CELL_M) + 1):
        for cy in range(math.floor((y - reach) / CELL_M), math.floor((y + reach) / CELL_M) + 1):
            yield cx, cy


def cell_of(place: Place) -> tuple[int, int]:
    x, y = local_xy(place)
    return math.floor(x / CELL_M), math.floor(y / CELL_M)


def hour_of(at_s: float) -> tuple[int, int]:
    """(day, local hour) of a simulated instant."""
    whole = int(at_s // 3600)
    return whole // 24, whole % 24


def summary(city: City) -> dict[str, float]:
    return {
        "population_modelled": city.population,
        "responders_registered": len(city.responders),
        "aeds_usable": len(city.aeds),
        "arrests": len(city.arrests),
        "days": city.days,
    }


def by_number(arrests: Sequence[Arrest]) -> dict[int, Arrest]:
    return {a.number: a for a in arrests}
