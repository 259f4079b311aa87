"""The anonymous SOS under abuse: the burst an attacker sent in the probe of issue 10 (300 anonymous SOS
from one client, one after another, at points spread over the demo city), replayed against the local
platform with the deployment's default limits. What it shows: how many were stored (202) and refused
(429), how many joined an open incident, the most alerts any responder got, and whether the first
incidents kept their alerts (nothing stood them down or moved them).

Runs in its own spawned process with its own embedded AWS and the seeded demo, calling the SOS function
with the events API Gateway builds (one source address, no device id, no Idempotency-Key: what a script
sends). The workflow's waits are set beyond the bench's length, so later waves do not go out during it
(their alerts respect the same caps).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bench.section import Section
from bench.sos import RNG_SEED, SOS_FUNCTION, demo_points

BURST = 300
SOURCE_IP = "203.0.113.66"
FIRST = 5  # the first incidents, watched from their 202 to the end of the burst
WORKER_ENV = {"WAVE_WAIT_SECONDS": "3600", "INCIDENT_EXPIRE_SECONDS": "7200"}


@dataclass
class Burst:
    statuses: dict[int, int]
    incidents: dict[str, int]  # stored incidents by status
    joined: int  # 202s answered with an earlier incident's id
    alerts_per_responder: list[int]
    first_alerted: list[tuple[int, int]]  # the first incidents' alerts: just after their 202, at the end
    alert_cap: tuple[int, int]
    source_cap: tuple[int, int]
    seconds: float


def _job() -> Burst:
    for key, value in WORKER_ENV.items():
        os.environ[key] = value
    from local_runtime import aws, outbox
    from local_runtime.events import match, proxy_event
    from local_runtime.lambdas import Functions
    from local_runtime.seed import seed
    from shared import wiring
    from shared.dal.models.rescue import AlertModel, IncidentModel

    embedded = aws.start()
    try:
        seed()
        functions = Functions()
        route, params, _ = match("POST", "/v1/sos")
        assert route is not None and route.function == SOS_FUNCTION
        statuses: Counter[int] = Counter()
        ids: list[str] = []
        first_after: list[int] = []

        def alerts_of(incident_id: str) -> int:
            return sum(1 for a in AlertModel.query(incident_id) if a.state == "alerted")

        started = time.monotonic()
        for lat, lng in demo_points(BURST, RNG_SEED + 1):
            event = proxy_event(
                route,
                path="/v1/sos",
                path_parameters=params,
                query="",
                headers={"Content-Type": "application/json"},
                body=f'{{"lat": {lat}, "lng": {lng}}}',
                claims=None,
                source_ip=SOURCE_IP,
            )
            reply = functions.invoke(route.function, event)
            statuses[reply["statusCode"]] += 1
            if reply["statusCode"] == 202:
                import json

                incident_id = json.loads(reply["body"])["incident_id"]
                if len(ids) < FIRST and incident_id not in ids:
                    first_after.append(alerts_of(incident_id))
                ids.append(incident_id)
        seconds = time.monotonic() - started
        per_responder = Counter(i["to"] for i in outbox.read() if i.get("kind") == "alert")
        stored = Counter(m.status for m in IncidentModel.scan())
        firsts = list(dict.fromkeys(ids))[:FIRST]
        policy = wiring.policy()
        return Burst(
            statuses=dict(statuses),
            incidents=dict(stored),
            joined=len(ids) - len(set(ids)),
            alerts_per_responder=sorted(per_responder.values(), reverse=True),
            first_alerted=list(zip(first_after, [alerts_of(i) for i in firsts], strict=True)),
            alert_cap=(policy.alerts_per_hour, policy.alerts_per_day),
            source_cap=(policy.sos_per_ip, policy.sos_window_s),
            seconds=seconds,
        )
    finally:
        embedded.stop()


def run() -> Section:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        burst = pool.submit(_job).result()
    most = burst.alerts_per_responder[0] if burst.alerts_per_responder else 0
    figures = {
        "burst_sos": BURST,
        "answered_202": burst.statuses.get(202, 0),
        "answered_429": burst.statuses.get(429, 0),
        "incidents_stored": sum(burst.incidents.values()),
        "joined_an_open_incident": burst.joined,
        "responders_alerted": len(burst.alerts_per_responder),
        "most_alerts_one_responder": most,
        "first_incidents_untouched": all(a == b for a, b in burst.first_alerted),
    }
    lines = [
        f"Abuse: {BURST} anonymous SOS from one address ({SOURCE_IP}), no device id, one after another "
        f"({burst.seconds:.0f} s), at seeded points of the demo city",
        f"  limits: {burst.source_cap[0]} SOS per address per {burst.source_cap[1]} s; alerts of public SOS "
        f"at most {burst.alert_cap[0]} an hour and {burst.alert_cap[1]} a day per responder",
        f"  answers: {dict(sorted(burst.statuses.items()))}; incidents stored by status: {burst.incidents}; "
        f"202s that joined an open incident: {burst.joined}",
        f"  alerts: {sum(burst.alerts_per_responder)} to {len(burst.alerts_per_responder)} responders, "
        f"the most to one: {most} (distribution, most first: {burst.alerts_per_responder[:12]}...)",
        f"  the first {FIRST} incidents' alerts, just after their 202 and at the end: {burst.first_alerted}",
    ]
    return Section("\n".join(lines), figures)
