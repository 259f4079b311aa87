"""The 120 link on the local runtime: a dispatch centre's signed incident, from its arrival to the first
alert, in sequential AWS round trips (recorded as the sos section records an SOS: bench/sos.py), and
one centre's incident played to its close, counting the status webhooks its receiver took, each
verified with the ``standardwebhooks`` package, against those the rescue should bring.

One spawned process with its own embedded AWS as `make run` starts it (moto, the HTTP gateway on a free
port, the seeded Hangzhou demo, the streams and the webhooks' queue polled as Lambda's event sources
poll them), a receiver on a loopback port as the centre's callback URL (cli/dispatch_simulate.py)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.section import Section
from bench.sos import TARGET_DEPTH, Call, Recorder, chain, demo_points, depths, first_publish
from cli.dispatch_simulate import missing_types

INSTRUMENTED = 10  # centre incidents whose calls are recorded
RNG_SEED = 20261202
WEBHOOKS_DEADLINE_S = 120.0
# Short waves, as `make demo`'s; every incident stands for another patient (no joining), the demo
# volunteers may be alerted to each.
WORKER_ENV = {
    "WAVE_WAIT_SECONDS": "2",
    "INCIDENT_EXPIRE_SECONDS": "600",
    "ALERTS_PER_HOUR": "100000",
    "ALERTS_PER_DAY": "100000",
    "MERGE_WINDOW_SECONDS": "0",
}


@dataclass(frozen=True)
class Measured:
    runs: list[list[Call]]
    expected: list[str]
    delivered: list[str]  # types, in the order the centre took them (verified, deduplicated)
    all_verified: bool
    in_order: bool
    seconds_to_close_webhook: float
    seconds: float


def _job() -> Measured:
    os.environ.update(WORKER_ENV)
    started = time.monotonic()
    from local_runtime import aws

    embedded = aws.start()
    embedded.start_pollers()
    from cli.api_client import ApiClient
    from cli.dispatch_simulate import (
        CentreCad,
        Receiver,
        expected_types,
        in_order,
        register_centre,
        volunteers_act,
    )
    from local_runtime.gateway import Gateway
    from local_runtime.seed import seed

    gateway = Gateway("127.0.0.1", 0)
    seed()
    threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True).start()
    url = f"http://127.0.0.1:{gateway.server_address[1]}"

    def client(sub: str, role: str) -> ApiClient:
        return ApiClient(url, ApiClient(url).post("/dev/token", {"sub": sub, "roles": [role]})["token"])

    receiver = Receiver().start()
    try:
        receiver.secret = register_centre(client("bench-admin", "admin"), "bench120", receiver.url)
        cad = CentreCad(url, "bench120", receiver.secret)
        points = demo_points(INSTRUMENTED, RNG_SEED)

        def incident(n: int, lat: float, lng: float) -> str:
            body = {"cad_incident_no": f"BENCH-{n}", "nature": "cardiac_arrest", "lat": lat, "lng": lng}
            return str(cad.send("/incidents", body)["incident_id"])

        recorder = Recorder("dispatch_inbound")
        with recorder.installed(gateway.functions):
            for n, (lat, lng) in enumerate(points):
                # a collection's stall inside one round would make parallel calls look sequential
                gc.disable()
                try:
                    incident(n, lat, lng)
                finally:
                    gc.enable()
        runs = [recorder.calls.get(r, []) for r in sorted(recorder.arrived)]

        # One incident played to its close: the volunteers as in `make demo`, then the centre's updates.
        cad_no = f"BENCH-PLAYED-{datetime.now(UTC):%H%M%S}"
        played = str(
            cad.send(
                "/incidents",
                {"cad_incident_no": cad_no, "nature": "cardiac_arrest", "lat": 30.2587, "lng": 120.1650},
            )["incident_id"]
        )
        roles, steps = volunteers_act(url, client("bench-dispatcher", "dispatcher"), played)
        cad.send(f"/incidents/{cad_no}/updates", {"type": "ems_arrived"})
        closed_at = time.monotonic()
        cad.send(f"/incidents/{cad_no}/updates", {"type": "closed", "outcome": "transported"})
        expected = expected_types(roles, steps)

        def of_played(received: list[Any]) -> list[Any]:
            return [r for r in received if r.payload.get("data", {}).get("incident_id") == played]

        receiver.wait_for(lambda received: len(of_played(received)) >= len(expected), WEBHOOKS_DEADLINE_S)
        took = of_played(receiver.received)
        closed = [r for r in took if r.type == "incident.closed"]
        return Measured(
            runs,
            expected,
            [r.type for r in took if r.verified],
            all(r.verified for r in receiver.received),
            in_order(took),
            (closed[0].at - closed_at) if closed else float("nan"),
            time.monotonic() - started,
        )
    finally:
        receiver.stop()
        gateway.shutdown()
        gateway.server_close()
        embedded.stop()


def run() -> Section:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        m = pool.submit(_job).result()
    per_run = [depths(c)[first] for c in m.runs if (first := first_publish(c)) is not None]
    if not per_run:
        raise RuntimeError("no instrumented centre incident alerted anyone: nothing to measure")
    worst = max(per_run)
    worst_run = next(c for c in m.runs if (f := first_publish(c)) is not None and depths(c)[f] == worst)
    missing = missing_types(m.expected, m.delivered)
    figures = {
        "webhook_to_first_alert_sequential_aws_calls": worst,
        "status_events_delivered": len(m.expected) - len(missing),
        "status_events_expected": len(m.expected),
    }
    lines = [
        "The 120 link on the local runtime (moto in-process, the HTTP gateway, seeded Hangzhou demo, the",
        "streams and the webhooks' FIFO queue polled as Lambda's event sources poll them)",
        "",
        f"a centre's signed incident → its first alert: sequential AWS round trips, {len(m.runs)} "
        "instrumented incidents (recorded as the sos section records an SOS):",
        f"  worst {worst} (target ≤ {TARGET_DEPTH}: {'met' if worst <= TARGET_DEPTH else 'NOT met'}); "
        f"runs at each: {dict(sorted((d, per_run.count(d)) for d in set(per_run)))}",
        f"  the worst, level by level: {chain(worst_run)}",
        "",
        "one centre incident played to its close (3 volunteers accept and report, the centre closes it):",
        f"  status webhooks delivered {len(m.expected) - len(missing)} of {len(m.expected)} expected "
        f"({len(m.delivered)} in all); signatures "
        f"{'all verified' if m.all_verified else 'NOT all verified'} (standardwebhooks); order "
        f"{'kept' if m.in_order else 'BROKEN'}" + (f"; missing {missing}" if missing else ""),
        f"  incident.closed reached the centre {m.seconds_to_close_webhook:.1f} s after the centre's close",
        f"  dispatch section: {m.seconds:.0f} s in all",
    ]
    return Section("\n".join(lines), figures)
