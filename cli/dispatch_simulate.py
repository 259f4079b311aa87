"""`rescue-nearby dispatch simulate`: a 120 dispatch centre's CAD system, on one machine, against the local
runtime (`make run`). It registers a local centre if needed, listens on a loopback port for the status
webhooks, sends a signed cardiac-arrest incident, plays the seeded demo volunteers who accept and act
(as `make demo` does), then the centre's own updates (ambulance on scene, closed), and prints each
webhook as it arrives, its signature checked with the ``standardwebhooks`` package's verifier.

Exit status 0 when every webhook the rescue should produce arrived, signed with the centre's secret, in
the incident's order; 1 otherwise (what is missing is printed); 2 when the API cannot be used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

from cli.api_client import (
    ApiClient,
    ApiError,
    ApiUnreachable,
    AuthRefused,
    add_api_options,
    connect,
    is_local,
)

SCENE = (30.2587, 120.1650)  # 湖滨银泰 in77 by the West Lake: the seeded demo volunteers are about
CENTRE_AREA = [119.9, 30.0, 120.5, 30.5]  # Hangzhou's main districts
ACCEPTING = 3  # two CPR slots and the AED runner, as in `make demo`
_ids = itertools.count(1)


@dataclass
class Received:
    at: float  # time.monotonic() when it arrived
    headers: dict[str, str]
    body: str
    verified: bool
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.payload.get("type", "?"))


class Receiver:
    """The centre's callback URL: an HTTP server on a loopback port taking signed POSTs, each verified
    with the secret it is given (``standardwebhooks.Webhook.verify``: the HMAC, compared in constant time,
    and the timestamp within 5 minutes) and deduplicated by webhook-id as the contract asks. Answers 204,
    or ``fail_with`` while that is set (to watch the platform retry)."""

    def __init__(self, secret: str = "", port: int = 0) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.duplicates = 0
        self.fail_with: int | None = None
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                status = receiver.take({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="centre-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def take(self, headers: dict[str, str], body: str) -> int:
        if self.fail_with is not None:
            return self.fail_with
        try:
            payload = Webhook(self.secret).verify(body, headers)
            verified = True
        except Exception:
            payload, verified = {}, False
        with self.changed:
            if verified and any(
                r.headers.get("webhook-id") == headers.get("webhook-id") for r in self.received
            ):
                self.duplicates += 1
            else:
                self.received.append(Received(time.monotonic(), headers, body, verified, dict(payload)))
            self.changed.notify_all()
        return 204 if verified else 401

    def wait_for(self, done: Callable[[list[Received]], bool], deadline_s: float) -> bool:
        """Until ``done`` holds for what arrived, or the deadline passes (False)."""
        end = time.monotonic() + deadline_s
        with self.changed:
            while not done(self.received):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
            return True


def expected_types(roles: list[str], steps: list[str]) -> list[str]:
    """The webhooks a centre's incident should bring, in order: alerting, each accept, each step a
    volunteer reported, the close."""
    return [
        "incident.alerting",
        *["responder.accepted"] * len(roles),
        *[f"responder.{s}" for s in steps],
        "incident.closed",
    ]


def in_order(received: list[Received]) -> bool:
    """The contract's order: alerting before any accept, a volunteer's accept before their steps, the
    close last."""
    types = [r.type for r in received]
    if "incident.closed" in types and types.index("incident.closed") != len(types) - 1:
        return False
    accepted: set[str] = set()
    alerting = False
    for r in received:
        data = r.payload.get("data", {})
        if r.type == "incident.alerting":
            alerting = True
        elif r.type == "responder.accepted":
            if not alerting:
                return False
            accepted.add(data.get("responder_ref"))
        elif r.type.startswith("responder.") and data.get("responder_ref") not in accepted:
            return False
    return True


class CentreCad:
    """The CAD side: signs what it sends with the centre's secret (Standard Webhooks)."""

    def __init__(self, api_url: str, centre_id: str, secret: str) -> None:
        self.api = ApiClient(api_url)
        self.centre_id, self.secret = centre_id, secret

    def send(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, ensure_ascii=False)
        webhook_id = f"msg_sim_{int(time.time())}_{next(_ids)}"
        now = datetime.now(UTC)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(webhook_id, now, body),
        }
        return self.api.request(
            "POST", f"/v1/dispatch/centres/{self.centre_id}{path}", raw=body, headers=headers
        )


def register_centre(admin: ApiClient, centre_id: str, callback_url: str) -> str:
    """The local centre, registered or pointed at this run's receiver; its secret (a first registration
    shows it; an existing centre's is rotated, since a secret is never shown twice)."""
    body = {"name": "本机 120 模拟 (local 120 stand-in)", "callback_url": callback_url, "area": CENTRE_AREA}
    answer = admin.request("PUT", f"/v1/dispatch/centres/{centre_id}", body)
    if answer.get("secret"):
        return str(answer["secret"])
    rotated = admin.request("PUT", f"/v1/dispatch/centres/{centre_id}?rotate=true", body)
    return str(rotated["secret"])


def show(received: Received, started: float) -> str:
    data = dict(received.payload.get("data", {}))
    data.pop("incident_id", None)
    data.pop("cad_incident_no", None)
    mark = "signature ok" if received.verified else "SIGNATURE BAD"
    details = ", ".join(f"{k}={v}" for k, v in data.items())
    return (
        f"  +{received.at - started:5.1f}s  {received.type:<26} {details}  "
        f"[{received.headers.get('webhook-id')}; {mark}]"
    )


def simulate(args: argparse.Namespace) -> int:
    if not is_local(args.api_url):
        print("dispatch simulate runs against the local runtime (make run): its receiver listens on loopback")
        return 2
    # A local runtime started at another instant (RESCUE_NEARBY_CLOCK) refuses calls signed more than 5
    # minutes from its clock, and signs its webhooks by it: this stand-in keeps the same clock, as a real
    # centre keeps NTP time.
    from local_runtime import clock

    travel = clock.travel_from_environment()
    try:
        return _simulate(args)
    finally:
        if travel is not None:
            travel.stop()


def _simulate(args: argparse.Namespace) -> int:
    try:
        admin = connect(args, sub="sim-admin", roles=["admin"])
        dispatcher = connect(args, sub="sim-dispatcher-120", roles=["dispatcher"])
    except (AuthRefused, ApiUnreachable) as error:
        print(error, file=sys.stderr)
        return 2
    receiver = Receiver(port=args.port).start()
    started = time.monotonic()
    printed = 0

    def print_new(received: list[Received]) -> None:
        nonlocal printed
        for item in received[printed:]:
            print(show(item, started), flush=True)
        printed = len(received)

    try:
        receiver.secret = register_centre(admin, args.centre_id, receiver.url)
        print(f"centre {args.centre_id}: webhooks to {receiver.url}", flush=True)
        cad = CentreCad(args.api_url, args.centre_id, receiver.secret)
        cad_no = f"SIM-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        raised = cad.send(
            "/incidents",
            {
                "cad_incident_no": cad_no,
                "nature": "cardiac_arrest",
                "lat": SCENE[0],
                "lng": SCENE[1],
                "address": "上城区湖滨路 湖滨银泰 in77 B 区",
                "floor": "1F",
            },
        )
        incident_id = raised["incident_id"]
        print(f"sent incident {cad_no} → {incident_id} ({raised['status']})", flush=True)
        roles, steps = volunteers_act(args.api_url, dispatcher, incident_id)
        cad.send(f"/incidents/{cad_no}/updates", {"type": "ems_arrived"})
        print("sent update ems_arrived (the ambulance is on scene)", flush=True)
        cad.send(f"/incidents/{cad_no}/updates", {"type": "closed", "outcome": "transported"})
        print("sent update closed (transported)", flush=True)
        wanted = expected_types(roles, steps)

        def complete(received: list[Received]) -> bool:
            print_new(received)
            return not missing_types(wanted, [r.type for r in received])

        arrived = receiver.wait_for(complete, args.wait)
        print_new(receiver.received)
    except (ApiError, ApiUnreachable, AuthRefused) as error:
        print(f"the API refused: {error}", file=sys.stderr)
        return 2
    finally:
        receiver.stop()
    got = [r.type for r in receiver.received]
    bad = [r for r in receiver.received if not r.verified]
    ordered = in_order(receiver.received)
    missing = missing_types(wanted, got)
    print(
        f"{len(got)} webhooks received, {len(wanted)} expected, {len(missing)} missing"
        f"{': ' + ', '.join(missing) if missing else ''}; signatures "
        f"{'all valid' if not bad else f'{len(bad)} BAD'}; order {'kept' if ordered else 'BROKEN'}; "
        f"duplicates dropped {receiver.duplicates}",
        flush=True,
    )
    return 0 if arrived and not bad and ordered else 1


def missing_types(wanted: list[str], got: list[str]) -> list[str]:
    """The expected types not received (each as often as expected; a later wave's extra
    incident.alerting is not a fault)."""
    left = list(got)
    missing = []
    for kind in wanted:
        if kind in left:
            left.remove(kind)
        else:
            missing.append(kind)
    return missing


def volunteers_act(api_url: str, dispatcher: ApiClient, incident_id: str) -> tuple[list[str], list[str]]:
    """The nearest alerted demo volunteers accept; CPR volunteers arrive and start CPR, the runner
    arrives, attaches the AED and shocks (each through the API, with a local token for them)."""
    view = dispatcher.get(f"/v1/incidents/{incident_id}")
    alerts = sorted(view["alerts"], key=lambda a: a["distance_m"])[:ACCEPTING]
    if not alerts:
        raise ApiError(409, "nobody_alerted", "no demo volunteer was alerted: is `make run` seeded?")
    roles: list[str] = []
    steps: list[str] = []
    actors: list[tuple[ApiClient, str]] = []
    for alert in alerts:
        volunteer = ApiClient(api_url, _token(api_url, alert["responder_id"]))
        answer = volunteer.post(f"/v1/incidents/{incident_id}/responses", {"action": "accept"})
        roles.append(answer["role"])
        actors.append((volunteer, answer["role"]))
        print(f"a volunteer accepted, {alert['distance_m']:.0f} m away: role {answer['role']}", flush=True)
    for volunteer, role in actors:
        for step in (
            ("arrived", "aed_attached", "shock_delivered") if role == "aed" else ("arrived", "cpr_started")
        ):
            volunteer.post(f"/v1/incidents/{incident_id}/events", {"type": step})
            steps.append(step)
    print(f"the volunteers reported: {', '.join(steps)}", flush=True)
    return roles, steps


def _token(api_url: str, sub: str) -> str:
    return str(ApiClient(api_url).post("/dev/token", {"sub": sub, "roles": ["responder"]})["token"])


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="a 120 centre on this machine: raise a signed incident, print the status webhooks it receives",
    )
    add_api_options(parser)
    parser.add_argument("--centre-id", default="local120", help="the local centre's id (default local120)")
    parser.add_argument(
        "--port", type=int, default=0, help="the receiver's loopback port (default: a free one)"
    )
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for every webhook (60)")
    parser.set_defaults(run=simulate)
