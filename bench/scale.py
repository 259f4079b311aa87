"""The bill at Hangzhou scale: what the real code costs per heartbeat, per rescue and per map load, measured
on the embedded AWS with bench/billing.py's meter, times a month of Hangzhou (assumptions below), at
on-demand prices of one region. docs/cost.md reads these figures.

Measured, in one spawned process with its own embedded AWS (moto, the real handlers called with the events
API Gateway would build, the real ASL executed by moto):
- presence: one responder heartbeats (PUT /v1/responders/{id}/presence) every 5 minutes for 3 simulated
  hours, the clock moved between heartbeats (time-machine, from a fixed instant), standing still (fixes
  within 20 m of one spot: any two < 50 m apart), then another one moving ~400 m each time: billed
  DynamoDB units per heartbeat, all tables and indexes, the first heartbeat (going on duty) left out of the
  average and reported on its own;
- one whole rescue (after one unmeasured warm-up rescue): SOS, wave 1, wave 2, two accepts (the CPR
  slots), two events, the close, until the execution ends: billed units, Lambda invocations and handler
  wall times, state transitions (the execution's history: one per state entered, one per task retry),
  SMS and pushes, API requests;
- the AED map: one bounding-box load and one nearby search, read units each.
The hottest partition: per GSI level, the share of Hangzhou's responders in the busiest column (the seeded
demo's distribution), times the busiest hour's heartbeats per second, times the units each heartbeat writes
to that index.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
import re
import statistics
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench.section import Section

# --- assumptions (docs/cost.md states the same) -----------------------------------------------------

CERTIFIED = 120_000  # ~40,000 trained a year, certificates valid 3 years
PEAK_ON_DUTY = 30_000  # on duty at the busiest hour (a quarter of the certified: docs/cockpit.md's figure)
# Share of the peak on duty by hour of day, local time: a daily curve with its peak in the evening.
ON_DUTY_BY_HOUR = (
    0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.40, 0.55, 0.60, 0.55, 0.50, 0.55,
    0.60, 0.55, 0.50, 0.50, 0.55, 0.65, 0.80, 0.95, 1.00, 0.90, 0.65, 0.40,
)  # fmt: skip
HEARTBEAT_S = 300
MOVING_SHARE = 0.2  # heartbeats that find the responder > 50 m from the last one (commuting, walking)
ARRESTS_PER_DAY = 20  # out-of-hospital cardiac arrests, a city of ~12 million
AED_MAP_LOADS_PER_DAY = 10_000  # GET /v1/aeds in a bounding box (the public map)
AED_NEARBY_PER_DAY = 2_000  # GET /v1/aeds/nearby ("near me")
TRAINEES_PER_MONTH = 40_000 / 12
# Estimated, not measured: a trainee's requests from registration to certificate, and their DynamoDB units.
TRAINING_REQUESTS_PER_TRAINEE = 20
TRAINING_WRU_PER_REQUEST, TRAINING_RRU_PER_REQUEST = 1.5, 3.0
TRAINING_LAMBDA_MS = 100.0
DAYS_PER_MONTH = 30
STORAGE_GB = 1.0  # every table and index together, generously

# On-demand prices, us-east-1, as stored pages found with the search tool showed them on 2026-12-02 (see
# docs/cost.md for each source). SMS to mainland numbers: not in USD (below).
PRICES_USD = {
    "dynamodb_per_million_wru": 0.625,
    "dynamodb_per_million_rru": 0.125,
    "dynamodb_storage_per_gb_month": 0.25,  # not re-verified: docs/cockpit.md's figure
    "lambda_arm_per_gb_s": 0.0000133334,
    "lambda_per_million_requests": 0.20,
    "api_gateway_rest_per_million": 3.50,
    "sns_push_per_million": 0.50,
    "step_functions_per_thousand_transitions": 0.025,
}
SMS_CNY = 0.045  # Alibaba Cloud SMS, mainland, per message: a third-party page's figure (unverified)
LAMBDA_MEMORY_GB = 1.0  # infra/constants.py FUNCTION_MEMORY_MB = 1024
PARTITION_WCU_PER_S = 1_000

START = "2026-12-07T18:00:00+08:00"  # the simulated clock of the presence runs (fixed: no wall-clock hour)
SIM_HOURS = 3
PATIENT = (30.2590, 120.1605)
WORKER_ENV = {
    "WAVE_WAIT_SECONDS": "1",
    "INCIDENT_EXPIRE_SECONDS": "600",
    "MERGE_WINDOW_SECONDS": "0",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# --- the measurement (in its own process) ----------------------------------------------------------


@dataclass
class Measured:
    presence_first_wru: float = 0.0
    presence: dict[str, dict[str, float]] = field(default_factory=dict)  # still/moving -> figures
    presence_index_wru: dict[str, dict[str, float]] = field(default_factory=dict)  # per target, per heartbeat
    presence_ms: float = 0.0
    rescue: dict[str, Any] = field(default_factory=dict)
    aed_map_rru: float = 0.0
    aed_nearby_rru: float = 0.0
    aed_ms: float = 0.0
    seconds: float = 0.0


class _Caller:
    """The real handlers with the events API Gateway would build (as tests/conftest.py's Api)."""

    def __init__(self) -> None:
        from local_runtime.lambdas import Functions

        self.functions = Functions()
        self.requests = 0

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        sub: str | None = None,
        roles: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> Any:
        from local_runtime.events import match, proxy_event

        route, params, _ = match(method, path)
        assert route is not None, f"no route {method} {path}"
        claims = None
        if sub is not None:
            claims = {"sub": sub, "token_use": "id", **({"cognito:groups": ",".join(roles)} if roles else {})}
        event = proxy_event(
            route,
            path=path,
            path_parameters=params,
            query=urlencode(query or {}),
            headers={"Content-Type": "application/json", **(headers or {})},
            body=json.dumps(body) if body is not None else None,
            claims=claims,
        )
        self.requests += 1
        result = self.functions.invoke(route.function, event)
        if result["statusCode"] >= 300:
            raise RuntimeError(f"{method} {path}: {result['statusCode']} {result.get('body')}")
        return json.loads(result["body"]) if result.get("body") else None


class _Invocations:
    """Every Lambda invocation (API, workflow, stream pollers alike go through FunctionPool.invoke): its
    function and its handler's wall time."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def install(self) -> None:
        from local_runtime.lambdas import FunctionPool

        original = FunctionPool.invoke
        calls = self.calls

        def timed(pool: Any, event: dict[str, Any]) -> dict[str, Any]:
            started = time.perf_counter()
            try:
                return original(pool, event)
            finally:
                calls.append((pool.name, (time.perf_counter() - started) * 1000))

        FunctionPool.invoke = timed  # type: ignore[method-assign,assignment]


def _north_east(at: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat = at[0] + north_m / 111_195
    return round(lat, 6), round(at[1] + east_m / (111_195 * math.cos(math.radians(lat))), 6)


def _responder(api: _Caller, expires_on: str, phone: int) -> str:
    created = api(
        "POST",
        "/v1/responders",
        {
            "name": "志愿者",
            "phone": f"+86139{phone:08d}",
            "certificate_no": "C",
            "certificate_expires_on": expires_on,
        },
        sub="admin",
        roles=("admin",),
    )
    return str(created["responder_id"])


def _heartbeat(api: _Caller, rid: str, at: tuple[float, float]) -> None:
    api("PUT", f"/v1/responders/{rid}/presence", {"lat": at[0], "lng": at[1], "available": True}, sub=rid)


def _presence(api: _Caller, invocations: _Invocations, m: Measured) -> None:
    import time_machine

    from bench.billing import DynamoDbMeter

    start = datetime.fromisoformat(START)
    expires_on = (start + timedelta(days=3 * 365)).date().isoformat()
    rng = random.Random(20261202)
    beats = SIM_HOURS * 3600 // HEARTBEAT_S
    for n, (kind, step_m) in enumerate((("still", 0.0), ("moving", 400.0))):
        with time_machine.travel(start, tick=False) as clock:
            rid = _responder(api, expires_on, 90_000_000 + n)
            at = _north_east(PATIENT, 300.0 * n, 0.0)
            with DynamoDbMeter() as first:
                _heartbeat(api, rid, at)
            if kind == "still":
                m.presence_first_wru = first.write_units
            with DynamoDbMeter() as meter:
                before = len(invocations.calls)
                for _ in range(beats):
                    clock.shift(HEARTBEAT_S)
                    if step_m:
                        bearing = rng.uniform(0, 2 * math.pi)
                        at = _north_east(at, step_m * math.cos(bearing), step_m * math.sin(bearing))
                        here = at
                    else:  # GPS jitter within 20 m of one spot: any two fixes under 50 m apart
                        radius, bearing = 20 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
                        here = _north_east(at, radius * math.cos(bearing), radius * math.sin(bearing))
                    _heartbeat(api, rid, here)
                timed = [ms for _, ms in invocations.calls[before:]]
        count = beats  # the heartbeats after going on duty: whole lease cycles, not a cut one
        m.presence[kind] = {
            "wru": meter.write_units / count,
            "rru": meter.read_units / count,
            "heartbeats": count,
        }
        m.presence_index_wru[kind] = {
            target: usage.write_units / count
            for target, usage in meter.by_table().items()
            if usage.write_units
        }
        if kind == "still":
            m.presence_ms = statistics.median(timed)


def _rescue(
    api: _Caller, embedded: Any, invocations: _Invocations, patient: tuple[float, float], measure: bool
) -> dict[str, Any]:
    import boto3

    from bench.billing import DynamoDbMeter
    from local_runtime import outbox

    expires_on = (datetime.now().date() + timedelta(days=3 * 365)).isoformat()
    tag = random.Random(time.time_ns()).randrange(10_000_000)
    near = [_north_east(patient, 150 * (i + 1), 60 * i) for i in range(8)]  # wave 1 (within 1 km)
    wider = [_north_east(patient, -1200 - 100 * i, 300) for i in range(6)]  # wave 2 (1-2 km)
    rids = []
    for i, at in enumerate(near + wider):
        rid = _responder(api, expires_on, tag * 10 + i)
        if i % 2 == 0:  # half of them with the app, half by SMS only
            api("PUT", f"/v1/responders/{rid}/device", {"platform": "fcm", "token": f"fcm-{rid}"}, sub=rid)
        _heartbeat(api, rid, at)
        rids.append(rid)
    sfn = boto3.client("stepfunctions")
    api.requests, calls_before = 0, len(invocations.calls)
    with DynamoDbMeter() as meter:
        reply = api(
            "POST",
            "/v1/sos",
            {"lat": patient[0], "lng": patient[1]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        incident = str(reply["incident_id"])

        def alerted() -> list[dict[str, Any]]:
            return [i for i in outbox.read() if i.get("incident_id") == incident and i.get("kind") == "alert"]

        _until(lambda: len({a["to"] for a in alerted()}) > len(near), "wave 2")
        path = f"/v1/incidents/{incident}"
        for rid in rids[:2]:  # the CPR slots (no AED near: no runner slot)
            api("POST", f"{path}/responses", {"action": "accept"}, sub=rid)
        for event in ("arrived", "cpr_started"):
            api("POST", f"{path}/events", {"type": event}, sub=rids[0])
        api("POST", f"{path}/close", {"outcome": "rosc"}, sub="dispatcher-1", roles=("dispatcher",))
        arn = embedded.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{incident}"
        _until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", "the execution's end")
        time.sleep(1.0)  # the stream pollers' last batch (cockpit summaries, webhooks)
    if not measure:
        return {}
    events: list[str] = []
    page = sfn.get_execution_history(executionArn=arn, maxResults=1000)
    events += [e["type"] for e in page["events"]]
    while page.get("nextToken"):
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, nextToken=page["nextToken"])
        events += [e["type"] for e in page["events"]]
    # A transition per state entered, and per retry of a task (Step Functions bills retries too).
    entered = sum(1 for e in events if e.endswith("StateEntered"))
    retries = sum(1 for e in events if e == "TaskScheduled") - sum(
        1 for e in events if e == "TaskStateEntered"
    )
    sent = [i for i in outbox.read() if i.get("incident_id") == incident]
    calls = invocations.calls[calls_before:]
    by_function: dict[str, list[float]] = {}
    for name, ms in calls:
        by_function.setdefault(name, []).append(ms)
    return {
        "wru": meter.write_units,
        "rru": meter.read_units,
        "wru_by_table": {t: u.write_units for t, u in meter.by_table().items() if u.write_units},
        "transitions": entered + max(0, retries),
        "retries": max(0, retries),
        "invocations": {name: len(ms) for name, ms in sorted(by_function.items())},
        "handler_ms_median": {
            name: round(statistics.median(ms), 1) for name, ms in sorted(by_function.items())
        },
        "gb_s": sum(math.ceil(ms) for _, ms in calls) / 1000 * LAMBDA_MEMORY_GB,
        "alerts": sum(1 for i in sent if i.get("kind") == "alert"),
        "sms": sum(1 for i in sent if i["channel"] == "sms"),
        "push": sum(1 for i in sent if i["channel"] == "push"),
        "api_requests": api.requests,
    }


def _aeds(api: _Caller, invocations: _Invocations, m: Measured) -> None:
    from bench.billing import DynamoDbMeter

    rng = random.Random(7)
    for n in range(40):
        at = _north_east(PATIENT, rng.uniform(-2500, 2500), rng.uniform(-2500, 2500))
        body = {"lat": at[0], "lng": at[1], "name": f"AED {n}", "placement": "1F", "opening_hours": "24/7"}
        api("POST", "/v1/aeds", body, sub="m", roles=("aed_manager",))
    lat, lng = PATIENT
    bbox = f"{lng - 0.03},{lat - 0.03},{lng + 0.03},{lat + 0.03}"
    before = len(invocations.calls)
    with DynamoDbMeter() as box:
        api("GET", "/v1/aeds", query={"bbox": bbox})
    with DynamoDbMeter() as nearby:
        api("GET", "/v1/aeds/nearby", query={"lat": lat, "lng": lng, "radius_m": 1000})
    m.aed_map_rru, m.aed_nearby_rru = box.read_units, nearby.read_units
    m.aed_ms = statistics.mean(ms for _, ms in invocations.calls[before:])


def _until(check: Any, what: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _job() -> Measured:
    os.environ.update(WORKER_ENV)
    started = time.monotonic()
    from local_runtime import aws

    embedded = aws.start()
    embedded.start_pollers()  # streams to their functions, as Lambda's event source mappings
    invocations = _Invocations()
    invocations.install()
    api = _Caller()
    m = Measured()
    try:
        # A warm-up (every function imported once), then the measured one 8 km away: its own responders.
        _rescue(api, embedded, invocations, PATIENT, measure=False)
        m.rescue = _rescue(api, embedded, invocations, _north_east(PATIENT, 0, 8000), measure=True)
        _aeds(api, invocations, m)
        _presence(api, invocations, m)
    finally:
        embedded.stop()
    m.seconds = time.monotonic() - started
    return m


# --- the month -------------------------------------------------------------------------------------


def hottest_column_share(level: int, points: int = 5_000) -> float:
    """Of the seeded demo's people (Hangzhou's districts by weight), the share in the busiest column."""
    from bench.sos import demo_points
    from shared.geo.cover import point_keys

    columns = Counter(point_keys(lat, lng).columns[level] for lat, lng in demo_points(points, 20261202))
    return columns.most_common(1)[0][1] / points


def monthly(m: Measured) -> dict[str, Any]:
    """The month at Hangzhou scale from the measured figures and the assumptions above."""
    p = PRICES_USD
    on_duty_hours = sum(PEAK_ON_DUTY * share for share in ON_DUTY_BY_HOUR) * DAYS_PER_MONTH
    heartbeats = on_duty_hours * 3600 / HEARTBEAT_S
    still, moving = m.presence["still"], m.presence["moving"]
    hb_wru = (1 - MOVING_SHARE) * still["wru"] + MOVING_SHARE * moving["wru"]
    hb_rru = (1 - MOVING_SHARE) * still["rru"] + MOVING_SHARE * moving["rru"]
    rescues = ARRESTS_PER_DAY * DAYS_PER_MONTH
    r = m.rescue
    aed_loads = (AED_MAP_LOADS_PER_DAY + AED_NEARBY_PER_DAY) * DAYS_PER_MONTH
    aed_rru = (AED_MAP_LOADS_PER_DAY * m.aed_map_rru + AED_NEARBY_PER_DAY * m.aed_nearby_rru) * DAYS_PER_MONTH
    training = TRAINEES_PER_MONTH * TRAINING_REQUESTS_PER_TRAINEE
    wru = heartbeats * hb_wru + rescues * r["wru"] + training * TRAINING_WRU_PER_REQUEST
    rru = heartbeats * hb_rru + rescues * r["rru"] + aed_rru + training * TRAINING_RRU_PER_REQUEST
    invocations = heartbeats + rescues * sum(r["invocations"].values()) + aed_loads + training
    gb_s = (
        heartbeats * math.ceil(m.presence_ms) / 1000
        + rescues * r["gb_s"]
        + aed_loads * math.ceil(m.aed_ms) / 1000
        + training * TRAINING_LAMBDA_MS / 1000
    ) * LAMBDA_MEMORY_GB
    api_requests = heartbeats + rescues * r["api_requests"] + aed_loads + training
    services = {
        "dynamodb": wru / 1e6 * p["dynamodb_per_million_wru"]
        + rru / 1e6 * p["dynamodb_per_million_rru"]
        + STORAGE_GB * p["dynamodb_storage_per_gb_month"],
        "lambda": gb_s * p["lambda_arm_per_gb_s"] + invocations / 1e6 * p["lambda_per_million_requests"],
        "api_gateway": api_requests / 1e6 * p["api_gateway_rest_per_million"],
        "sns_push": rescues * r["push"] / 1e6 * p["sns_push_per_million"],
        "step_functions": rescues * r["transitions"] / 1000 * p["step_functions_per_thousand_transitions"],
    }
    peak_hb_per_s = PEAK_ON_DUTY / HEARTBEAT_S
    hottest = ("", 0.0)
    for target in set(m.presence_index_wru["still"]) | set(m.presence_index_wru["moving"]):
        per_hb = (1 - MOVING_SHARE) * m.presence_index_wru["still"].get(target, 0.0) + MOVING_SHARE * (
            m.presence_index_wru["moving"].get(target, 0.0)
        )
        level = re.search(r"/column-(\d+)$", target)
        # A table's partition key is one responder's or one item's: one heartbeat per 5 minutes.
        rate = (
            peak_hb_per_s * hottest_column_share(int(level.group(1))) * per_hb
            if level
            else per_hb / HEARTBEAT_S
        )
        if rate > hottest[1]:
            hottest = (target, rate)
    return {
        "heartbeats": heartbeats,
        "heartbeat_wru": hb_wru,
        "wru": wru,
        "rru": rru,
        "invocations": invocations,
        "gb_s": gb_s,
        "api_requests": api_requests,
        "sms": rescues * r["sms"],
        "usd": services,
        "usd_total": sum(services.values()),
        "sms_cny": rescues * r["sms"] * SMS_CNY,
        "peak_heartbeats_per_s": peak_hb_per_s,
        "hottest_partition": hottest[0],
        "hottest_partition_wcu_per_s": hottest[1],
    }


def run() -> Section:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        measured = pool.submit(_job).result()
    return summarize(measured)


def summarize(m: Measured) -> Section:
    month = monthly(m)
    r = m.rescue
    figures: dict[str, Any] = {
        "presence_wcu_per_heartbeat": round(m.presence["still"]["wru"], 2),
        "presence_wcu_per_heartbeat_moving": round(m.presence["moving"]["wru"], 2),
        "presence_rcu_per_heartbeat": round(m.presence["still"]["rru"], 2),
        "presence_wcu_going_on_duty": round(m.presence_first_wru, 2),
        "rescue_wcu": round(r["wru"], 1),
        "rescue_rcu": round(r["rru"], 1),
        "rescue_lambda_invocations": sum(r["invocations"].values()),
        "rescue_lambda_gb_s": round(r["gb_s"], 2),
        "step_functions_transitions_per_rescue": r["transitions"],
        "alerts_per_rescue": r["alerts"],
        "sms_per_rescue": r["sms"],
        "push_per_rescue": r["push"],
        "api_requests_per_rescue": r["api_requests"],
        "aed_map_rcu": m.aed_map_rru,
        "aed_nearby_rcu": m.aed_nearby_rru,
        "monthly_usd_at_hangzhou": round(month["usd_total"], 2),
        "monthly_usd_by_service": {k: round(v, 2) for k, v in month["usd"].items()},
        "monthly_sms_cny": round(month["sms_cny"], 2),
        "hottest_partition": month["hottest_partition"],
        "hottest_partition_wcu_per_s": round(month["hottest_partition_wcu_per_s"], 2),
        "partition_limit_wcu_per_s": PARTITION_WCU_PER_S,
    }
    lines = [
        "Cost at Hangzhou scale (DynamoDB units billed by AWS rules on the embedded DynamoDB; docs/cost.md)",
        "",
        f"presence, one heartbeat every {HEARTBEAT_S // 60} min for {SIM_HOURS} simulated hours "
        f"({m.presence['still']['heartbeats']:.0f} after going on duty):",
        f"  standing still (fixes within 20 m of one spot): {m.presence['still']['wru']:.2f} WRU, "
        f"{m.presence['still']['rru']:.2f} RRU per heartbeat; going on duty {m.presence_first_wru:.0f} WRU",
        f"  moving ~400 m each time: {m.presence['moving']['wru']:.2f} WRU, "
        f"{m.presence['moving']['rru']:.2f} RRU",
        "  where a still heartbeat writes: "
        + ", ".join(f"{t} {u:.2f}" for t, u in sorted(m.presence_index_wru["still"].items())),
        f"  handler wall time (median, this machine, moto: a local proxy): {m.presence_ms:.1f} ms",
        "",
        f"one rescue (SOS, 2 waves, 2 accepts, 2 events, close): {r['wru']:.0f} WRU, {r['rru']:.1f} RRU, "
        f"{r['transitions']} state transitions, {r['alerts']} alerts ({r['sms']} SMS, {r['push']} push), "
        f"{r['api_requests']} API requests",
        f"  Lambda: {sum(r['invocations'].values())} invocations, {r['gb_s']:.2f} GB-s at "
        f"{LAMBDA_MEMORY_GB:g} GB (handler wall times here, a local proxy)",
        "  WRU by table: " + ", ".join(f"{t} {u:g}" for t, u in sorted(r["wru_by_table"].items())),
        "  "
        + ", ".join(f"{n} ×{c} ({r['handler_ms_median'][n]:.0f} ms)" for n, c in r["invocations"].items()),
        f"AED map: a bounding-box load {m.aed_map_rru:g} RRU, a nearby search {m.aed_nearby_rru:g} RRU "
        "(40 AEDs)",
        "",
        f"a month ({PEAK_ON_DUTY:,} on duty at the busiest hour, {ARRESTS_PER_DAY} arrests a day, prices "
        "us-east-1 on-demand 2026-12):",
        f"  {month['heartbeats'] / 1e6:.0f} M heartbeats ({month['heartbeat_wru']:.2f} WRU each, "
        f"{MOVING_SHARE:.0%} moving), {month['wru'] / 1e6:.0f} M WRU, {month['rru'] / 1e6:.0f} M RRU, "
        f"{month['invocations'] / 1e6:.0f} M invocations, {month['gb_s'] / 1e6:.2f} M GB-s, "
        f"{month['api_requests'] / 1e6:.0f} M API requests",
        *(f"  {k:<15} USD {v:10.2f}" for k, v in month["usd"].items()),
        f"  {'total':<15} USD {month['usd_total']:10.2f}   (+ SMS {month['sms']:.0f} a month ≈ CNY "
        f"{month['sms_cny']:.2f} by a mainland provider)",
        f"hottest partition at the busiest hour: {month['hottest_partition']} "
        f"{month['hottest_partition_wcu_per_s']:.1f} WCU/s of {PARTITION_WCU_PER_S:,}",
        f"  scale section: {m.seconds:.0f} s",
    ]
    return Section("\n".join(lines), figures)
