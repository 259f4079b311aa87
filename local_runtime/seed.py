"""A synthetic Hangzhou demo: responders spread over the urban districts, most on duty, some with
lapsed certificates, and AEDs at typical venues with typical opening hours, plus a few open round the
clock by every place the README, the banner and `make demo` send a newcomer to, so that their searches
find an AED at 3 a.m. too, and a demo E-station (救护E站) at one of those by 上城区's centre. Every name
says it is demo data. Seeded through the same logic the API uses, so the data obeys the same rules."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.config import settings
from shared.dal.aed_registry import DynamoAeds
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.responders import DynamoResponders
from shared.identity import Caller
from shared.logic import aed_registry as aed_logic
from shared.logic import responders as responder_logic
from shared.logic.ports import Aed
from shared.logic.teams import Team


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
# The demo's E-station (救护E站, shared/logic/teams.py): at this round-the-clock AED by this demo point,
# staffed by the on-duty demo volunteers nearest it (chosen after every random draw: the seeded city, and
# `make demo`'s rescue by in77 about 1.5 km away, stay as they were). It covers 300 m around its site.
DEMO_ESTATION = {
    "point": "shangcheng",
    "venue": "24小时药房 24-hour pharmacy",
    "name": "演示救护E站 Demo E-station · 上城区",
    "organisation": "演示 Demo 上城区红十字会 Shangcheng Red Cross",
    "address": "上城区 Shangcheng · 24小时药房旁（演示地址 demo address）",
    "opening_hours": "Mo-Su 08:00-20:00",
}
ESTATION_STAFF = 3  # the leader among them


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
    now: datetime
    rng_seed: int
    estation_id: str | None = None


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
    created = [
        aed_logic.create_aed(aed_repo, geo, replace(fields, manager_id=DEMO_AED_MANAGER), now)
        for fields in aeds
    ]
    seed_districts(now)
    station = seed_estation(on_duty, created[drawn:], now)
    return DemoData(
        on_duty=on_duty,
        responders=RESPONDERS,
        lapsed=lapsed,
        aeds=len(aeds),
        now=now,
        rng_seed=rng_seed,
        estation_id=station.team_id,
    )


@dataclass
class DemoPast:
    rescues: int
    sessions: int
    credited: int
    opted_in: int


def seed_past(demo: DemoData) -> DemoPast:
    """What the cockpit shows: a week of rescues, four weeks of training, the credits and leaderboard they
    earned. Written after the city (make run does it in the background, once the API answers: the API and
    the pages work meanwhile; the cockpit's figures fill in as it goes and the banner says when done)."""
    rescues = seed_history(random.Random(demo.rng_seed + 7), demo.on_duty, demo.now)
    sessions = seed_training(random.Random(demo.rng_seed + 11), demo.on_duty, demo.now)
    credited = seed_credits(demo.now)
    opted_in = seed_leaderboard(demo.now)
    return DemoPast(rescues=rescues, sessions=sessions, credited=credited, opted_in=len(opted_in))


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


def seed_estation(on_duty: list[tuple[str, float, float]], round_the_clock: list[Aed], now: datetime) -> Team:
    """The demo's E-station (DEMO_ESTATION), made as an admin's POST /v1/teams makes one (indexed for the
    public map and for an SOS within its 300 m). ``round_the_clock``: the ROUND_THE_CLOCK AEDs as created,
    in order. No random draw: its staff are the on-duty volunteers nearest its site, nearest leading."""
    from shared import wiring
    from shared.geo.distance import haversine_m
    from shared.logic import teams

    at = next(
        n
        for n, (point, venue, *_) in enumerate(ROUND_THE_CLOCK)
        if (point, venue) == (DEMO_ESTATION["point"], DEMO_ESTATION["venue"])
    )
    aed = round_the_clock[at]
    staff = sorted(on_duty, key=lambda r: (haversine_m(aed.lat, aed.lng, r[1], r[2]), r[0]))[:ESTATION_STAFF]
    return teams.create(
        wiring.teams(),
        wiring.contacts(),
        wiring.aeds(),
        wiring.geo_index(),
        Caller(sub="demo-admin", roles=frozenset({"admin"})),
        teams.TeamFields(
            kind=teams.ESTATION,
            name=DEMO_ESTATION["name"],
            organisation=DEMO_ESTATION["organisation"],
            leader_id=staff[0][0],
            member_ids=[rid for rid, _, _ in staff],
            opening_hours=DEMO_ESTATION["opening_hours"],
            lat=aed.lat,
            lng=aed.lng,
            address=DEMO_ESTATION["address"],
            aed_id=aed.aed_id,
        ),
        now,
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
            index_lease_s=config.presence_index_lease_s,
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


# --- the cockpit's demo: districts and a week of rescue history -----------------------------------------

DISTRICT_IDS = ("shangcheng", "gongshu", "west-lake", "binjiang", "xiaoshan", "yuhang", "linping", "qiantang")
DEMO_BOUNDARY_NOTE = "演示用近似边界 (demo approximation, not the official boundary)"
HISTORY_DAYS = 7
HISTORY_INCIDENTS = 30


def _demo_area(district: District) -> dict[str, object]:
    """A square of about 2.2 sigma a side round the district's demo centre: where the demo's volunteers
    and AEDs are drawn, NOT the district's official boundary (the note says so)."""
    half_lat = 2.2 * district.sigma_m / 111_195
    half_lng = 2.2 * district.sigma_m / (111_195 * math.cos(math.radians(district.lat)))
    w, s_, e, n = (
        round(district.lng - half_lng, 5),
        round(district.lat - half_lat, 5),
        round(district.lng + half_lng, 5),
        round(district.lat + half_lat, 5),
    )
    return {"type": "Polygon", "coordinates": [[[w, s_], [e, s_], [e, n], [w, n], [w, s_]]]}


def seed_districts(now: datetime) -> None:
    from shared.dal.cockpit import DynamoDistricts
    from shared.logic.cockpit import districts

    store = DynamoDistricts()
    for district_id, district in zip(DISTRICT_IDS, DISTRICTS, strict=True):
        name, name_en = district.name.split(" ", 1)
        districts.put_district(
            store,
            district_id,
            name=name,
            name_en=name_en,
            area=_demo_area(district),
            note=DEMO_BOUNDARY_NOTE,
            now=now,
        )


def seed_history(rng: random.Random, on_duty: list[tuple[str, float, float]], now: datetime) -> int:
    """A week of closed rescues before ``now`` (so the cockpit has figures at any hour), written through
    the rescue store with past times: alerts to the demo's on-duty volunteers (accepted, declined,
    unanswered), arrivals, CPR, AEDs attached, closes with varied outcomes. The cockpit's summaries of
    them come from the streams (cockpit_changes), as for any rescue. None is heard by a dispatch centre:
    a centre hears only incidents raised after it was registered (shared.logic.dispatch.status)."""
    from shared.dal.rescue import DynamoIncidents
    from shared.geo.distance import haversine_m
    from shared.logic.ids import new_id
    from shared.logic.rescue.ports import Alert, Incident, IncidentEvent

    if not on_duty:
        return 0
    store = DynamoIncidents()
    config = settings()
    outcomes = ("rosc", "transported", "transported", "deceased", "false_alarm", "cancelled", "expired")
    for n in range(HISTORY_INCIDENTS):
        created = now - timedelta(seconds=rng.randint(2 * 3600, HISTORY_DAYS * 86400 - 3600))
        _, lat, lng = _point(rng)
        source = "dispatch" if n % 3 == 0 else "app"
        incident_id = new_id()
        store.create(
            Incident(
                incident_id=incident_id,
                status="dispatching",
                lat=lat,
                lng=lng,
                created_at=created,
                slots_cpr=2,
                slots_aed=1,
                source=source,
                centre_id="demo-hz120-history" if source == "dispatch" else None,
                cad_incident_no=f"DEMO-HIST-{n + 1:03d}" if source == "dispatch" else None,
                nature="cardiac_arrest" if source == "dispatch" else None,
            ),
            None,
            "",
        )
        nearest = sorted(on_duty, key=lambda r: haversine_m(lat, lng, r[1], r[2]))[: rng.randint(3, 8)]
        first_alert = created + timedelta(seconds=rng.uniform(0.8, 3.0))
        unanswered = rng.random() < 0.15
        accepted: list[str] = []
        for rid, r_lat, r_lng in nearest:
            store.add_alert(
                Alert(
                    incident_id=incident_id,
                    responder_id=rid,
                    state="alerted",
                    wave=1,
                    distance_m=round(haversine_m(lat, lng, r_lat, r_lng)),
                    lat=r_lat,
                    lng=r_lng,
                    alerted_at=first_alert,
                )
            )
            answer = rng.random()
            answered = first_alert + timedelta(seconds=rng.uniform(15, 150))
            if not unanswered and answer < 0.45 and len(accepted) < 3:
                role = "aed" if len(accepted) == 2 else "cpr"
                if store.accept(incident_id, rid, role, None, answered):
                    accepted.append(rid)
            elif answer < 0.7:
                store.decline(incident_id, rid, answered)
        if unanswered or not accepted:
            store.mark_unanswered(incident_id)
        at = first_alert + timedelta(seconds=rng.uniform(150, 300))
        for rid in accepted:
            steps = ["arrived", "cpr_started"] + (["aed_attached"] if rng.random() < 0.5 else [])
            for step in steps:
                at += timedelta(seconds=rng.uniform(20, 120))
                store.add_event(IncidentEvent(incident_id, new_id(), step, rid, "responder", at))
        outcome = rng.choice(outcomes)
        closed = max(at, created) + timedelta(minutes=rng.uniform(15, 40))
        store.close(incident_id, outcome, closed)
        if outcome != "expired":  # the workflow's expiry writes no event (shared.logic.rescue.console)
            store.add_event(
                IncidentEvent(
                    incident_id, new_id(), "closed", "demo-dispatcher", "dispatcher", closed, detail=outcome
                )
            )
        # As the rescue's finish does: its alerts and events go after the retention.
        store.expire(incident_id, int((closed + timedelta(days=config.retention_days)).timestamp()))
    return HISTORY_INCIDENTS


# --- the cockpit's demo: four weeks of training, and credits on the leaderboard ---------------------------

TRAINING_DAYS = 28
DEMO_TRAINERS = ("demo-trainer-01", "demo-trainer-02", "demo-trainer-03")
DEMO_EXAMINERS = (
    ("demo-examiner-01", "演示考官 Demo examiner 01"),
    ("demo-examiner-02", "演示考官 Demo examiner 02"),
)
DEMO_COURSES = (
    ("演示 Demo 心肺复苏与AED 初级课程 (CPR & AED basics)", 4.0),
    ("演示 Demo 应急救护员 证书课程 (first aider certificate)", 8.0),
)
TRAINING_SITES = (  # (site, demo district index)
    ("演示 Demo 红十字会培训中心 Red Cross training centre", 0),
    ("演示 Demo 社区服务中心 community centre", 2),
    ("演示 Demo 滨江 培训教室 Binjiang classroom", 3),
)
TRAINING_SESSIONS = 6
TRAINEES_FROM_ON_DUTY = 24  # on-duty demo volunteers among the trainees: certified ones are on duty
LEADERBOARD_OPT_INS = 6
RATINGS = ((5, 0.5), (4, 0.3), (3, 0.15), (2, 0.05))


class _Unsent:
    """The seed tells nobody anything: a waitlisted trainee promoted by a cancel gets no demo SMS."""

    def send(self, phone: str, message: object) -> None:
        return None


def seed_training(rng: random.Random, on_duty: list[tuple[str, float, float]], now: datetime) -> int:
    """Four weeks of practical sessions before ``now`` through the teaching and certification logic the
    handlers use, each step at its own past instant: courses, sessions, registrations (seats, waitlists,
    cancels), theory, check-ins with the session's signed code, evaluations, exams with an independent
    examiner and scores (most pass), and the certificates the passes issue. Some trainees are demo
    volunteers on duty, renewed onto their new certificate (they consented), so the cockpit's funnel
    reaches on duty. Returns the number of sessions."""
    from shared import wiring
    from shared.logic.certification import exams as exam_logic
    from shared.logic.certification.ports import SKILLS
    from shared.logic.teaching import checkin, courses, evaluations, registrations, theory
    from shared.logic.teaching.records import TheoryModule

    config = settings()
    zone = ZoneInfo(config.time_zone)
    teaching, geo = wiring.teaching(), wiring.geo_index()
    records, exam_store, certificates = wiring.training_records(), wiring.exams(), wiring.certificates()
    granted, pool, secret = wiring.responder_certificates(), wiring.examiner_pool(), wiring.checkin_secret()
    rules = exam_logic.CertificationRules(
        pass_marks=dict(config.pass_marks),
        valid_years=config.certificate_valid_years,
        time_zone=config.time_zone,
    )
    responders = DynamoResponders()
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=TRAINING_DAYS), datetime.min.time(), tzinfo=zone)
    admin = Caller(sub="demo-admin", roles=frozenset({"admin"}))
    for examiner_id, name in DEMO_EXAMINERS:
        exam_logic.put_examiner(pool, admin, examiner_id, name, start)
    made = [
        courses.create_course(
            teaching,
            courses.NewCourse(
                title=title,
                description="演示课程 demo course",
                theory_modules=[
                    TheoryModule("m1", "理论 Theory: 识别心脏骤停与使用AED (cardiac arrest, AED)", 45)
                ],
                practical_hours=hours,
            ),
            DEMO_TRAINERS[0],
            start,
        )
        for title, hours in DEMO_COURSES
    ]
    volunteers = [rid for rid, _, _ in rng.sample(on_duty, min(TRAINEES_FROM_ON_DUTY, len(on_duty)))]
    newcomers = 0
    # Days before today the sessions were held: 3 at least, so their exams (the day after) are over.
    days_ago = sorted(rng.sample(range(3, TRAINING_DAYS), TRAINING_SESSIONS), reverse=True)
    for n, ago in enumerate(days_ago):
        course = made[n % len(made)]
        trainer = DEMO_TRAINERS[n % len(DEMO_TRAINERS)]
        site, district = TRAINING_SITES[n % len(TRAINING_SITES)]
        starts = datetime.combine(today - timedelta(days=ago), datetime.min.time(), tzinfo=zone).replace(
            hour=rng.choice((9, 14))
        )
        opened = starts - timedelta(days=10)
        session = courses.create_session(
            teaching,
            geo,
            courses.NewSession(
                course_id=course.course_id,
                site=site,
                lat=DISTRICTS[district].lat,
                lng=DISTRICTS[district].lng,
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=rng.choice((6, 8)),
                instructor_id=trainer,
            ),
            opened,
        )
        people: list[tuple[str, registrations.Registrant]] = []
        for _ in range(session.capacity + rng.randint(2, 3)):  # a few more than the seats: a waitlist
            responder = responders.get(volunteers.pop()) if volunteers and rng.random() < 0.4 else None
            if responder is not None:
                people.append(
                    (responder.responder_id, registrations.Registrant(responder.name, responder.phone, True))
                )
            else:
                newcomers += 1
                people.append(
                    (
                        f"demo-trainee-{newcomers:03d}",
                        registrations.Registrant(
                            f"演示学员 Demo trainee {newcomers:03d}",
                            f"+86139{rng.randint(0, 99_999_999):08d}",
                            False,
                        ),
                    )
                )
        at = opened
        signed_up = []
        for person_id, registrant in people:
            at += timedelta(minutes=rng.uniform(30, 900))
            signed_up.append(registrations.register(teaching, person_id, session.session_id, registrant, at))
            for module in course.theory_modules:
                theory.record(
                    teaching,
                    person_id,
                    course.course_id,
                    module.module_id,
                    completed=True,
                    score=None,
                    now=at,
                )
        for registration in rng.sample(signed_up, 1):  # one changes their mind: the line moves up
            registrations.cancel(
                teaching,
                _Unsent(),
                Caller(sub=registration.person_id, roles=frozenset()),
                registration.registration_id,
                starts - timedelta(hours=rng.uniform(2, 20)),
                config.time_zone,
            )
        seats = [r for r in records.registrations_of_session(session.session_id) if r.status == "confirmed"]
        attended = []
        for registration in seats:
            if rng.random() < 0.12:  # a no-show
                continue
            caller = Caller(sub=registration.person_id, roles=frozenset())
            arrived = starts + timedelta(minutes=rng.uniform(-12, 10))
            code = checkin.sign(secret, session.session_id, checkin.window_of(arrived))
            attended.append(checkin.check_in(teaching, secret, caller, session.session_id, code, arrived))
            if rng.random() < 0.8:
                evaluations.evaluate(
                    teaching,
                    caller,
                    registration.registration_id,
                    rating=rng.choices([r for r, _ in RATINGS], weights=[w for _, w in RATINGS])[0],
                    comment=None,
                    now=starts + timedelta(hours=rng.uniform(3.2, 30)),
                )
        if not attended:
            continue
        exam_at = starts + timedelta(days=1, hours=1)
        exam = exam_logic.create_exam(
            records,
            exam_store,
            pool,
            Caller(sub=trainer, roles=frozenset({"trainer"})),
            exam_logic.NewExam(course.course_id, site, exam_at, [r.person_id for r in attended]),
            starts + timedelta(hours=4),
        )
        examiner = Caller(sub=exam.examiner_id, roles=frozenset({"examiner"}))
        for k, candidate in enumerate(exam.candidate_ids):
            skills = {s: rng.randint(max(mark, 80), 100) for s, mark in config.pass_marks.items()}
            if rng.random() < 0.15:  # a fail: one skill under its mark
                failed = rng.choice(SKILLS)
                skills[failed] = max(0, config.pass_marks[failed] - rng.randint(5, 25))
            exam_logic.score_candidate(
                records,
                exam_store,
                certificates,
                granted,
                examiner,
                exam.exam_id,
                candidate,
                skills,
                rules,
                exam_at + timedelta(minutes=20 + 8 * k),
            )
    return len(days_ago)


def seed_credits(now: datetime) -> int:
    """The points the closes of the seeded rescue history earn, as the rescue's finish awards them
    (shared.logic.rescue.closure: awards_for, then the store's award, at the close). Returns how many
    incidents were settled."""
    from shared import wiring
    from shared.logic.rescue.closure import awards_for

    store, points = wiring.incidents(), dict(settings().credit_points)
    since = now - timedelta(days=HISTORY_DAYS + 1)
    settled, token = 0, None
    while True:
        page = store.list_incidents("closed", since, 100, token)
        for summary in page.items:
            if summary.closed_at is None:
                continue
            awards = awards_for(store.alerts(summary.incident_id), store.events(summary.incident_id), points)
            settled += store.award(summary.incident_id, awards, datetime.fromisoformat(summary.closed_at))
        token = page.next_token
        if token is None:
            return settled


def seed_leaderboard(now: datetime) -> list[str]:
    """Some of this month's credit holders opt in to the leaderboard themselves (as their app's PUT does),
    every other one by points, so the board ranks them and those who did not choose stay off it. Half keep
    the masked name, half choose a demo name. Returns the opted-in responder ids."""
    from shared import wiring
    from shared.logic import credits

    store = wiring.leaderboard()
    scores = credits.totals(store.credits_in_month(credits.local_month(now, settings().time_zone)))
    order = sorted(scores, key=lambda r: (-scores[r][0], -scores[r][1], r))
    chosen = order[::2][:LEADERBOARD_OPT_INS]
    for n, responder_id in enumerate(chosen, start=1):
        name = f"演示 Demo 志愿者 {chr(64 + n)}" if n % 2 else None
        credits.set_entry(
            store, Caller(sub=responder_id, roles=frozenset({"responder"})), responder_id, True, name
        )
    return chosen
