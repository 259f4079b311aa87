"""The SOS critical path on the local runtime: how many AWS round trips, one after another, stand between
an SOS arriving and its first alert going out, and how long POST /v1/sos takes through the HTTP gateway.

Everything runs in one spawned process with its own embedded AWS, started as `make run` starts it (moto,
the local API Gateway on a free 127.0.0.1 port, the seeded synthetic Hangzhou demo). The rescue
workflow's waits are set far beyond the bench's length, so no incident wakes up during it.

Sequential AWS calls. Every botocore call made on behalf of one SOS request (boto3's clients and
pynamodb's alike go through ``BaseClient._make_api_call``) is recorded with its service, operation,
start, end and thread. "On behalf of" is a context variable set where the gateway hands the request to
the sos function and carried into the thread pools the request fans out to; the workflow's own calls
(its first step runs as soon as the SOS starts it, in moto's thread) are not the request's and are left
out. A call's depth is 1 + the largest depth among the calls that had *ended* before it *started*, so
calls in flight together add one level, not one each; the figure is the depth of the first SNS Publish,
the worst over the runs. moto answers in-process in pure Python: under one interpreter lock, calls
issued together would mostly run one after another and look sequential, so each recorded call first
sleeps ``SIMULATED_RTT_S`` (as a real round trip waits on the network, the lock free) and garbage
collection is paused during each instrumented SOS (a full collection of moto's heap stalls every thread
for up to a second). As a cross-check, each call also carries the number of calls it waited for, one
after another, followed through ``Future.result``: that count leaves out a call that queued for a free
worker thread, which the depth rightly counts (the wait is as long as a round trip).

Wall time. POST /v1/sos from the client's send to its 202 (which comes after wave 1 is published), each
with a fresh Idempotency-Key, at seeded random points of the demo area (drawn the way the seed places
people: district centres, Gaussian spread, nobody on the lake), without instrumentation. The first
request is a warm-up (the sos function's cold start) and is discarded; nothing else is. Between two SOS
the bench waits until the previous incident's workflow has parked in its first wait, so each SOS meets an
idle platform (locally the workflow shares the process, and the interpreter, with the gateway).
"""

from __future__ import annotations

import contextvars
import gc
import importlib
import math
import multiprocessing
import os
import random
import statistics
import threading
import time
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.section import Section
from shared.routes import ROUTES

# The function that serves POST /v1/sos, as the route table says (so the bench follows renames).
SOS_FUNCTION = next(r.function for r in ROUTES if (r.method, r.path) == ("POST", "/v1/sos"))

WALL_RUNS = 60  # timed SOS, after one warm-up
DEPTH_RUNS = 30  # instrumented SOS (untimed: each recorded call waits SIMULATED_RTT_S first)
# Longer than moto's work for a whole round of parallel calls done one at a time (~10 ms a call): then
# every call issued with others starts before any of them ends. 50 ms still let stalls through.
SIMULATED_RTT_S = 0.15
RNG_SEED = 20261201
TARGET_DEPTH = 4
QUIET_DEADLINE_S = 30.0
# The workflow must not wake during the bench: its waits are set far beyond the bench's length. Each SOS
# stands for another patient and another caller, all sent from this one address within minutes: the
# abuse limits (measured by the "abuse" section) are opened wide here, and no SOS joins another.
WORKER_ENV = {
    "WAVE_WAIT_SECONDS": "3600",
    "INCIDENT_EXPIRE_SECONDS": "7200",
    "SOS_PER_IP": "100000",
    "ALERTS_PER_HOUR": "100000",
    "ALERTS_PER_DAY": "100000",
    "MERGE_WINDOW_SECONDS": "0",
}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    start: float
    end: float
    thread: str
    hops: int  # 1 + the calls this one waited for, one after another (followed through the thread pools)


def depths(calls: Sequence[Call]) -> list[int]:
    """Each call's depth: 1 + the largest depth among the calls that ended before it started."""
    order = sorted(range(len(calls)), key=lambda i: calls[i].start)
    depth = [0] * len(calls)
    for i in order:
        before = [depth[j] for j in order if calls[j].end <= calls[i].start]
        depth[i] = 1 + max(before, default=0)
    return depth


# What sends an alert: SNS Publish (global profile); a mainland provider's API (cn profile), whose channel
# adapters are recorded like AWS calls (shared/messaging: their SDKs do not go through botocore).
PROVIDER_CALLS = (
    ("shared.messaging.alibaba_sms", "AlibabaSms", "send", "sms", "SendSms"),
    ("shared.messaging.tencent_sms", "TencentSms", "send", "sms", "SendSms"),
    ("shared.messaging.jpush", "JpushPush", "push", "push", "Push"),
)


def _sends_alert(call: Call) -> bool:
    return (call.service, call.operation) == ("sns", "Publish") or call.service in ("sms", "push")


def first_publish(calls: Sequence[Call]) -> int | None:
    publishes = [i for i, c in enumerate(calls) if _sends_alert(c)]
    return min(publishes, key=lambda i: calls[i].start) if publishes else None


def chain(calls: Sequence[Call], depth: Sequence[int] | None = None) -> str:
    """The calls up to the first Publish, level by level: parallel ones joined by ∥, levels by →."""
    first = first_publish(calls)
    if first is None:
        return "(no Publish)"
    depth = depths(calls) if depth is None else depth
    levels: dict[int, Counter[str]] = {}
    for i, call in enumerate(calls):
        if call.start <= calls[first].start and depth[i] <= depth[first]:
            levels.setdefault(depth[i], Counter())[call.operation] += 1
    return " → ".join(
        " ∥ ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted(levels[d].items()))
        for d in sorted(levels)
    )


# --- recording -----------------------------------------------------------------------------------

_REQUEST: contextvars.ContextVar[int | None] = contextvars.ContextVar("bench_sos_request", default=None)
_HOPS: contextvars.ContextVar[int] = contextvars.ContextVar("bench_sos_hops", default=0)


class Recorder:
    """Records every botocore call made on behalf of an SOS request (see the module's docstring)."""

    def __init__(self, function: str = SOS_FUNCTION) -> None:
        self.function = function  # whose requests are recorded: the SOS's, or a centre's incidents'
        self.calls: dict[int, list[Call]] = {}
        self.arrived: dict[int, float] = {}
        self._lock = threading.Lock()
        self._next = 0

    @contextmanager
    def installed(self, functions: Any) -> Iterator[None]:
        from botocore.client import BaseClient

        recorder = self
        client_class: Any = BaseClient  # stubs do not declare the private method every call goes through
        make_api_call = client_class._make_api_call
        submit = ThreadPoolExecutor.submit
        result = Future.result
        invoke = functions.invoke
        # The context each pooled task of a request ran in: its waiter reads the task's hops from it.
        tasks: weakref.WeakKeyDictionary[Future[Any], contextvars.Context] = weakref.WeakKeyDictionary()

        def recorded(service: str, operation: str, send: Callable[[], Any]) -> Any:
            request = _REQUEST.get()
            if request is None:
                return send()
            hops = _HOPS.get() + 1
            start = time.perf_counter()
            try:
                time.sleep(SIMULATED_RTT_S)  # the network's share of a round trip: the GIL is free
                return send()
            finally:
                call = Call(
                    service, operation, start, time.perf_counter(), threading.current_thread().name, hops
                )
                _HOPS.set(hops)
                with recorder._lock:
                    recorder.calls.setdefault(request, []).append(call)

        def recorded_call(client: Any, operation_name: str, api_params: Any) -> Any:
            return recorded(
                client.meta.service_model.service_name,
                operation_name,
                lambda: make_api_call(client, operation_name, api_params),
            )

        providers = []
        for module_name, class_name, method, service, operation in PROVIDER_CALLS:
            cls = getattr(importlib.import_module(module_name), class_name)
            original = getattr(cls, method)

            def recorded_send(
                channel: Any, *args: Any, _o: Any = original, _s: str = service, _op: str = operation
            ) -> Any:
                return recorded(_s, _op, lambda: _o(channel, *args))

            providers.append((cls, method, original))
            setattr(cls, method, recorded_send)

        def carrying_context(pool: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            if _REQUEST.get() is None:
                return submit(pool, fn, *args, **kwargs)
            context = contextvars.copy_context()
            future = submit(pool, context.run, fn, *args, **kwargs)
            tasks[future] = context
            return future

        def joining_result(future: Future[Any], timeout: float | None = None) -> Any:
            try:
                return result(future, timeout)
            finally:
                context = tasks.get(future)
                if context is not None and future.done():
                    _HOPS.set(max(_HOPS.get(), context.get(_HOPS, 0)))

        def tagged_invoke(name: str, event: dict[str, Any]) -> dict[str, Any]:
            if name != recorder.function:
                return invoke(name, event)
            with recorder._lock:
                request = recorder._next
                recorder._next += 1
            recorder.arrived[request] = time.perf_counter()
            token, hops = _REQUEST.set(request), _HOPS.set(0)
            try:
                return invoke(name, event)
            finally:
                _HOPS.reset(hops)
                _REQUEST.reset(token)

        client_class._make_api_call = recorded_call
        ThreadPoolExecutor.submit = carrying_context  # type: ignore[method-assign,assignment]
        Future.result = joining_result  # type: ignore[method-assign,assignment]
        functions.invoke = tagged_invoke
        try:
            yield
        finally:
            client_class._make_api_call = make_api_call
            for cls, method, original in providers:
                setattr(cls, method, original)
            ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
            Future.result = result  # type: ignore[method-assign]
            functions.invoke = invoke


# --- the run (in its own process) ------------------------------------------------------------------


def demo_points(count: int, seed: int) -> list[tuple[float, float]]:
    """Where the seeded demo puts people: a district by weight, a Gaussian offset, never on the lake."""
    from local_runtime.seed import DISTRICTS, WEST_LAKE_WATER

    rng = random.Random(seed)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        district = rng.choices(DISTRICTS, weights=[d.weight for d in DISTRICTS])[0]
        north, east = rng.gauss(0, district.sigma_m), rng.gauss(0, district.sigma_m)
        lat = district.lat + north / 111_195
        lng = district.lng + east / (111_195 * math.cos(math.radians(district.lat)))
        wlat, wlng, wr = WEST_LAKE_WATER
        if math.hypot((lat - wlat) * 111_195, (lng - wlng) * 96_000) > wr:
            points.append((round(lat, 6), round(lng, 6)))
    return points


@dataclass
class Measured:
    wall_ms: list[float]  # timed SOS, warm-up excluded
    gc_ms: list[float]  # of each, the time the process spent in garbage collections
    warmup_ms: float
    alerted: list[int]  # alerts published per timed SOS
    runs: list[list[Call]]  # instrumented SOS: the request's calls
    setup_s: float
    seconds: float
    webhooks: int = 0  # status webhooks the registered centre took meanwhile


def start_seeded_runtime(profile: str = "global") -> tuple[Any, Any, str]:
    """In this (spawned) process, the platform as `make run` starts it: the embedded AWS, the seeded demo,
    the gateway on a free loopback port, the stream and queue pollers. (embedded AWS, gateway, base URL)."""
    for key, value in {**WORKER_ENV, "DEPLOYMENT_PROFILE": profile}.items():
        os.environ[key] = value
    from local_runtime import aws

    embedded = aws.start()
    from local_runtime.gateway import Gateway
    from local_runtime.seed import seed

    gateway = Gateway("127.0.0.1", 0)
    seed()
    server = threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True)
    server.start()
    embedded.start_pollers()
    return embedded, gateway, f"http://127.0.0.1:{gateway.server_address[1]}"


def _job(profile: str = "global") -> Measured:
    started = time.monotonic()
    # As `make run`: the status webhooks flow beside the SOS, to a 120 centre whose area holds the demo
    # (each SOS is an incident.created and more to it): they must not slow the SOS's path.
    embedded, gateway, api = start_seeded_runtime(profile)
    import boto3
    import requests

    from local_runtime import outbox

    url = f"{api}/v1/sos"
    centre = _listening_centre(api)
    sfn = boto3.client("stepfunctions")
    executions = embedded.state_machine_arn.replace(":stateMachine:", ":execution:")
    session = requests.Session()
    setup_s = time.monotonic() - started

    # The embedded AWS holds every item as Python objects: a full collection can stall the process for
    # a large part of a second. Wall times keep those stalls (counted); instrumented runs avoid them.
    collections: list[tuple[float, float]] = []
    collecting: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collecting[:] = [time.perf_counter()]
        elif collecting:
            collections.append((collecting[0], time.perf_counter()))

    def sos(lat: float, lng: float) -> tuple[str, float, float]:
        """POST /v1/sos: (incident id, wall ms, ms of it spent in garbage collections)."""
        sent = time.perf_counter()
        reply = session.post(
            url, json={"lat": lat, "lng": lng}, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=60
        )
        received = time.perf_counter()
        if reply.status_code != 202:
            raise RuntimeError(f"POST /v1/sos answered {reply.status_code}: {reply.text[:300]}")
        in_gc = sum(max(0.0, min(end, received) - max(start, sent)) for start, end in collections)
        return str(reply.json()["incident_id"]), (received - sent) * 1000, in_gc * 1000

    def quiet(incident_id: str) -> None:
        """Wait until the incident's workflow sits in its first wait: nothing else runs in the process."""
        deadline = time.monotonic() + QUIET_DEADLINE_S
        while time.monotonic() < deadline:
            history = sfn.get_execution_history(executionArn=f"{executions}:{incident_id}", maxResults=1000)
            if any(e["type"] == "WaitStateEntered" for e in history["events"]):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the workflow of {incident_id} did not reach its first wait")

    points = demo_points(1 + WALL_RUNS + DEPTH_RUNS, RNG_SEED)
    gc.callbacks.append(on_gc)
    try:
        incident_id, warmup_ms, _ = sos(*points[0])
        quiet(incident_id)
        wall_ms, gc_ms, incidents = [], [], []
        for lat, lng in points[1 : 1 + WALL_RUNS]:
            incident_id, elapsed, in_gc = sos(lat, lng)
            wall_ms.append(elapsed)
            gc_ms.append(in_gc)
            incidents.append(incident_id)
            quiet(incident_id)
        sent: Counter[str] = Counter(
            item["incident_id"] for item in outbox.read() if item.get("kind") == "alert"
        )
        alerted = [sent[i] for i in incidents]

        recorder = Recorder()
        with recorder.installed(gateway.functions):
            for lat, lng in points[1 + WALL_RUNS :]:
                # A collection's stall inside one round would make the calls after it look sequential.
                gc.disable()
                try:
                    incident_id, _, _ = sos(lat, lng)
                finally:
                    gc.enable()
                quiet(incident_id)
        runs = [recorder.calls.get(r, []) for r in sorted(recorder.arrived)]
    finally:
        gc.callbacks.remove(on_gc)
        webhooks = len(centre.received)
        centre.stop()
        gateway.shutdown()
        gateway.server_close()
        embedded.stop()
    return Measured(wall_ms, gc_ms, warmup_ms, alerted, runs, setup_s, time.monotonic() - started, webhooks)


def _listening_centre(api_url: str) -> Any:
    """A 120 centre's receiver on a loopback port, registered for Hangzhou (cli/dispatch_simulate.py)."""
    from cli.api_client import ApiClient
    from cli.dispatch_simulate import Receiver, register_centre

    admin = ApiClient(
        api_url, ApiClient(api_url).post("/dev/token", {"sub": "bench", "roles": ["admin"]})["token"]
    )
    receiver = Receiver().start()
    receiver.secret = register_centre(admin, "bench120", receiver.url)
    return receiver


# --- the section ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run(profile: str = "global") -> Section:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        measured = pool.submit(_job, profile).result()
    return summarize(measured, profile)


def run_cn() -> Section:
    """The same in the cn profile: alerts through the SMS and push providers' stand-ins (their SDKs)."""
    return run("cn")


def summarize(m: Measured, profile: str = "global") -> Section:
    per_run = [
        (c, depths(c)[first], c[first].hops) for c in m.runs if (first := first_publish(c)) is not None
    ]
    if not per_run:
        raise RuntimeError("no instrumented SOS alerted anyone: nothing to measure")
    by_depth = Counter(d for _, d, _ in per_run)
    worst = max(by_depth)
    worst_run, _, worst_hops = next(r for r in per_run if r[1] == worst)
    typical = by_depth.most_common(1)[0][0]
    typical_run = next(c for c, d, _ in per_run if d == typical)
    figures = {
        "sequential_aws_calls": worst,
        "wall_ms_p50": round(percentile(m.wall_ms, 50), 1),
        "wall_ms_p95": round(percentile(m.wall_ms, 95), 1),
    }
    silent = len(m.runs) - len(per_run)
    calls_per_sos = statistics.median(len(c) for c, _, _ in per_run)
    sender = "SNS Publish" if profile == "global" else "the SMS or push provider's API, counted as a call"
    lines = [
        f"SOS critical path on the local runtime, {profile} profile (moto in-process, the HTTP gateway, "
        "seeded Hangzhou demo)",
        "",
        f"sequential AWS round trips from an SOS's arrival to its first alert ({sender}), "
        f"{len(m.runs)} instrumented SOS",
        f"(each recorded call waits {SIMULATED_RTT_S * 1000:.0f} ms first, as on a network, so that calls "
        "in flight together overlap;",
        " garbage collection paused during each):",
        f"  worst {worst}  (target ≤ {TARGET_DEPTH}: {'met' if worst <= TARGET_DEPTH else 'NOT met'}); "
        + ", ".join(f"{n} run{'s' if n > 1 else ''} at {d}" for d, n in sorted(by_depth.items()))
        + (f"; {silent} alerted nobody (no Publish)" if silent else ""),
        f"  the worst run, level by level:  {chain(worst_run)}",
    ]
    if typical != worst:
        lines.append(f"  a typical run ({typical}):  {chain(typical_run)}")
    lines += [
        f"  the same run counting only the calls each one waited for ({worst_hops}; a call queued for a free "
        "worker thread",
        f"  waited too, for no result):  {chain(worst_run, [c.hops for c in worst_run])}",
        f"  AWS calls in all per alerting SOS request: median {calls_per_sos:g}",
        "",
        f"POST /v1/sos wall time (sent → 202, after wave 1 is published), {len(m.wall_ms)} SOS at seeded "
        "random points",
        " of the demo area, each with a fresh Idempotency-Key:",
        f"  p50 {figures['wall_ms_p50']:.1f} ms   p95 {figures['wall_ms_p95']:.1f} ms   "
        f"min {min(m.wall_ms):.1f}   max {max(m.wall_ms):.1f}   "
        f"(discarded: only the first request, a warm-up: {m.warmup_ms:.0f} ms)",
        f"  {sum(1 for g in m.gc_ms if g >= 10)} of them spent ≥ 10 ms stalled in garbage collection, up to "
        f"{max(m.gc_ms):.0f} ms (the embedded AWS's items are Python objects)",
        f"  alerts per SOS: median {statistics.median(m.alerted):.0f}, max {max(m.alerted)}; "
        f"{sum(1 for a in m.alerted if a == 0)} of {len(m.alerted)} alerted nobody",
        "  each SOS met an idle platform (the previous incident's workflow parked in its first wait).",
        f"  the status webhooks ran beside them, as with `make run`: a 120 centre covering the demo took "
        f"{m.webhooks} (incident.created, incident.alerting...) during the section",
        "  moto's latency is not DynamoDB's or SNS's: these times compare versions of this code, not clouds.",
        f"  sos section: {m.setup_s:.0f} s to start and seed, {m.seconds:.0f} s in all",
    ]
    return Section("\n".join(lines), figures)
