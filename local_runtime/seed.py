"""A synthetic Hangzhou demo: responders spread over the urban districts, most on duty, some with
lapsed certificates, and AEDs at typical venues with typical opening hours, plus a few open round the
clock by every place the README, the banner and `make demo` send a newcomer to, so that their searches
find an AED at 3 a.m. too. Every name says it is demo data. Seeded through the same logic the API uses,
so the data obeys the same rules."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shared.config import settings
from shared.dal.aed_registry import DynamoAeds
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.responders import DynamoResponders
from shared.identity import Caller
from shared.logic import aed_registry as aed_logic
from shared.logic import responders as responder_logic


@dataclass(frozen=True)
class District:
    name: str
    lat: float
    lng: float
    sigma_m: float
    weight: float


# Centres and spreads of Hangzhou's urban districts (WGS-84), weighted roughly by population.
DISTRICTS = (
    District("上城区 Shangcheng", 30.2460, 120.1710, 1800, 0.17),
    District("拱墅区 Gongshu", 30.3190, 120.1500, 2200, 0.17),
    District("西湖区 West Lake", 30.2720, 120.1150, 2500, 0.17),
    District("滨江区 Binjiang", 30.2050, 120.2080, 1800, 0.13),
    District("萧山区 Xiaoshan", 30.1700, 120.2700, 3000, 0.15),
    District("余杭区 Yuhang", 30.2900, 120.0100, 3000, 0.10),
    District("临平区 Linping", 30.4200, 120.3000, 2000, 0.06),
    District("钱塘区 Qiantang", 30.3100, 120.3500, 2200, 0.05),
)
WEST_LAKE_WATER = (30.2450, 120.1450, 1200.0)  # nobody stands in the lake

VENUES = (  # (kind, opening hours, placement, weight)
    ("地铁站 metro station", "Mo-Su 06:00-23:00", "站厅层 B口安检旁 concourse, exit B", 0.22),
    ("商场 mall", "Mo-Su 10:00-22:00", "一楼服务台旁 1F information desk", 0.14),
    ("写字楼 office tower", "Mo-Fr 08:30-18:00", "一楼大堂 1F lobby", 0.14),
    ("医院 hospital", "24/7", "急诊大厅 emergency hall", 0.06),
    ("派出所 police station", "24/7", "值班室 duty room", 0.06),
    ("学校 school", "Mo-Fr 07:30-17:30", "体育馆入口 gym entrance", 0.10),
    ("公园 park", "Mo-Su 05:30-22:00", "游客中心 visitor centre", 0.10),
    ("体育馆 stadium", "Tu-Su 09:00-21:00", "二楼电梯口 2F lifts", 0.05),
    ("酒店 hotel", "24/7", "前台 front desk", 0.07),
    ("社区卫生服务中心 clinic", "Mo-Sa 08:00-17:00; Su 08:00-12:00", "一楼候诊区 1F waiting area", 0.06),
)
# Who manages the demo's AEDs (a manager acts only on the AEDs they manage): `make demo` restocks as them.
DEMO_AED_MANAGER = "demo-aed-manager"
STATUS_MIX = (("ok", 0.92), ("faulty", 0.03), ("needs_restock", 0.03), ("expired", 0.02))
# The places the README's curls, the `make run` banner and `make demo` use (WGS-84); a test reads the
# README, the banner and the demo and checks that every point they use is one of these.
DEMO_POINTS = {
    "in77": (30.2587, 120.1650),  # 湖滨银泰 in77 by the West Lake: AED search, SOS, `make demo`
    "shangcheng": (30.2460, 120.1710),  # 上城区's centre: the README's responder search
}
# AEDs open 24/7 and in working order by each demo point: (point, venue, placement, metres north, east).
# Hospitals, police stations, hotels and 24-hour pharmacies keep their doors open at night; the venues
# drawn at random near a point may all be closed then (metro stations, malls, offices).
ROUND_THE_CLOCK = (
    ("in77", "24小时药房 24-hour pharmacy", "收银台旁 by the till", 120, 160),
    ("in77", "酒店 hotel", "前台 front desk", -250, 300),
    ("in77", "派出所 police station", "值班室 duty room", 380, 420),
    ("shangcheng", "医院 hospital", "急诊大厅 emergency hall", 150, -200),
    ("shangcheng", "24小时药房 24-hour pharmacy", "收银台旁 by the till", -300, 120),
    ("shangcheng", "酒店 hotel", "前台 front desk", 330, 260),
)


RESPONDERS = 320
AEDS = 220  # of which len(ROUND_THE_CLOCK) stand by the demo points, the others drawn at random
ON_DUTY_SHARE = 0.8
LAPSED_CERTIFICATE_SHARE = 0.12


def _point(rng: random.Random) -> tuple[str, float, float]:
    district = rng.choices(DISTRICTS, weights=[d.weight for d in DISTRICTS])[0]
    while True:
        north, east = rng.gauss(0, district.sigma_m), rng.gauss(0, district.sigma_m)
        lat = district.lat + north / 111_195
        lng = district.lng + east / (111_195 * math.cos(math.radians(district.lat)))
        wlat, wlng, wr = WEST_LAKE_WATER
        if math.hypot((lat - wlat) * 111_195, (lng - wlng) * 96_000) > wr:
            return district.name, round(lat, 6), round(lng, 6)


@dataclass
class DemoData:
    on_duty: list[tuple[str, float, float]]
    responders: int
    lapsed: int
    aeds: int


def seed(rng_seed: int = 20261130) -> DemoData:
    rng = random.Random(rng_seed)
    config = settings()
    now = datetime.now(UTC)
    repo, aed_repo = DynamoResponders(), DynamoAeds()
    geo = DynamoGeoIndex(max_queries=config.geo_max_queries)
    today = now.date()
    on_duty: list[tuple[str, float, float]] = []
    lapsed = 0
    for n in range(1, RESPONDERS + 1):
        expired = rng.random() < LAPSED_CERTIFICATE_SHARE
        lapsed += expired
        expires_on = (
            today - timedelta(days=rng.randint(1, 400))
            if expired
            else today + timedelta(days=rng.randint(20, 1095))
        )
        responder = responder_logic.create_responder(
            repo,
            responder_logic.NewResponder(
                name=f"演示志愿者 Demo volunteer {n:03d}",
                phone=f"+86138{rng.randint(0, 99_999_999):08d}",
                certificate_no=f"DEMO-HZ-{expires_on.year - 3}-{n:05d}",
                certificate_expires_on=expires_on,
            ),
            now,
        )
        if not expired and rng.random() < ON_DUTY_SHARE:
            _, lat, lng = _point(rng)
            on_duty.append((responder.responder_id, lat, lng))
    if config.profile == "cn":  # before the heartbeat: presence carries how each one is reached
        _install_apps(repo, rng, on_duty[::2])
    heartbeat(on_duty)
    drawn = AEDS - len(ROUND_THE_CLOCK)
    aeds = [_drawn_aed(rng, n) for n in range(1, drawn + 1)]
    aeds += [_round_the_clock_aed(n, *aed) for n, aed in enumerate(ROUND_THE_CLOCK, start=drawn + 1)]
    for fields in aeds:
        aed_logic.create_aed(aed_repo, geo, replace(fields, manager_id=DEMO_AED_MANAGER), now)
    return DemoData(on_duty=on_duty, responders=RESPONDERS, lapsed=lapsed, aeds=len(aeds))


def _install_apps(repo: DynamoResponders, rng: random.Random, who: list[tuple[str, float, float]]) -> None:
    """cn profile: half the on-duty volunteers have the app, registered with JPush (its stand-in) through
    the real push registry, so alerts go out by push to them and by SMS to the others."""
    from shared import wiring

    registry = wiring.push_registry()
    for responder_id, _, _ in who:
        address, _ = registry.endpoint("jpush", f"{rng.getrandbits(80):020x}", responder_id)
        repo.save_push_endpoint(responder_id, address)


def _drawn_aed(rng: random.Random, n: int) -> aed_logic.AedFields:
    district, lat, lng = _point(rng)
    kind, hours, placement, _ = rng.choices(VENUES, weights=[v[3] for v in VENUES])[0]
    status = rng.choices([s for s, _ in STATUS_MIX], weights=[w for _, w in STATUS_MIX])[0]
    return aed_logic.AedFields(
        lat=lat,
        lng=lng,
        name=f"演示 Demo AED {n:03d} · {district} · {kind}",
        address=f"{district}（演示地址 demo address）",
        placement=placement,
        opening_hours=hours,
        status=status,
    )


def _round_the_clock_aed(
    n: int, point: str, kind: str, placement: str, north_m: float, east_m: float
) -> aed_logic.AedFields:
    lat, lng = DEMO_POINTS[point]
    lat, lng = lat + north_m / 111_195, lng + east_m / (111_195 * math.cos(math.radians(lat)))
    district = DISTRICTS[0].name  # both demo points lie in 上城区 Shangcheng
    return aed_logic.AedFields(
        lat=round(lat, 6),
        lng=round(lng, 6),
        name=f"演示 Demo AED {n:03d} · {district} · {kind} · 24h",
        address=f"{district}（演示地址 demo address）",
        placement=placement,
        opening_hours="24/7",
        status="ok",
    )


def heartbeat(on_duty: list[tuple[str, float, float]]) -> None:
    """What the on-duty volunteers' apps do: refresh presence before it lapses."""
    config = settings()
    repo, geo = DynamoResponders(), DynamoGeoIndex(max_queries=config.geo_max_queries)
    now = datetime.now(UTC)
    for responder_id, lat, lng in on_duty:
        responder_logic.update_presence(
            repo,
            geo,
            Caller(sub=responder_id, roles=frozenset({"responder"})),
            responder_id,
            lat=lat,
            lng=lng,
            available=True,
            now=now,
            time_zone=config.time_zone,
            ttl_s=config.presence_ttl_s,
        )


class DemoApps(threading.Thread):
    """Keeps the demo's on-duty volunteers on duty while the platform runs (presence lapses in 15 min)."""

    def __init__(self, on_duty: list[tuple[str, float, float]], every_s: float) -> None:
        super().__init__(name="demo-apps", daemon=True)
        self.on_duty, self.every_s = on_duty, every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every_s):
            heartbeat(self.on_duty)
