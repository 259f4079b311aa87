"""`make demo`: one cardiac arrest, from SOS to credits, through the local runtime, printed as a timeline.

The platform starts in-process exactly as `make run` starts it (embedded AWS, the local API Gateway on a
free 127.0.0.1 port, the seeded synthetic Hangzhou demo), with short waits so the workflow's steps come
within seconds. From then on the demo is a client speaking HTTP only: a bystander's SOS, the dispatcher's
view, the responders' answers and reports, the close, and the credits the workflow writes afterwards.

Exit status 0 only if the rescue went through every stage; otherwise a line saying which stage failed.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

# Short waits for a demo (the deployment defaults are 60 s and 3 h). Set before anything imports
# shared.config; a value already in the environment wins.
DEMO_ENV = {"WAVE_WAIT_SECONDS": "3", "INCIDENT_EXPIRE_SECONDS": "120"}

# The scene: the 湖滨银泰 in77 shopping centre by the West Lake (WGS-84).
PLACE = "湖滨银泰 in77, 杭州 上城区 湖滨路/延安路 (Hubin in77 mall by the West Lake, Hangzhou)"
LAT, LNG = 30.2587, 120.1650
AED_RADIUS_M = 1000  # the contract's default: an AED slot exists when a usable AED lies this close
PADS_SHELF_LIFE_DAYS = 2 * 365  # new pads: the expiry printed on their package, about two years out
ACCEPTING = 3  # the nearest alerted responders who say yes: two CPR slots and the AED slot
HTTP_TIMEOUT_S = 30
POLL_EVERY_S = 0.2


class StageFailed(Exception):
    """The rescue did not get through a stage: the demo stops and says which."""


def channel_of(item: dict[str, Any]) -> str:
    """How a message went: "SMS", "PUSH"; in the cn profile with its provider and template."""
    channel = str(item["channel"]).upper()
    if item.get("provider"):
        return f"{channel} {item['provider']} {item.get('template')}"
    return channel


def expect(condition: object, stage: str, detail: str) -> None:
    if not condition:
        raise StageFailed(f"{stage}: {detail}")


def short(responder_id: str) -> str:
    return "…" + responder_id[-5:]


def metres(distance_m: float) -> str:
    return f"{distance_m / 1000:.2f} km" if distance_m >= 1000 else f"{distance_m:.0f} m"


class Timeline:
    """Prints each line with the time elapsed since the SOS was sent."""

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def __call__(self, text: str, at: float | None = None) -> None:
        """One line; ``at`` dates it earlier than now (something known to have happened by then)."""
        print(f"{f'+{self.elapsed if at is None else at:.1f}s':>7}  {text}", flush=True)


@dataclass
class Client:
    """The demo's HTTP side: the same requests an app or the dispatch console sends."""

    url: str
    session: requests.Session = field(default_factory=requests.Session)
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, sub: str, *roles: str) -> dict[str, str]:
        if sub not in self.tokens:
            reply = self.session.post(
                f"{self.url}/dev/token", json={"sub": sub, "roles": list(roles)}, timeout=HTTP_TIMEOUT_S
            )
            expect(reply.status_code == 200, "token", f"/dev/token answered {reply.status_code}")
            self.tokens[sub] = reply.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[sub]}"}

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: tuple[str, ...] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if as_ is not None:
            sent.update(self.token(as_[0], *as_[1:]))
        return self.session.request(
            method, f"{self.url}{path}", json=json, params=params, headers=sent, timeout=HTTP_TIMEOUT_S
        )

    def ok(self, stage: str, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        reply = self.call(method, path, **kwargs)
        expect(
            reply.status_code == status,
            stage,
            f"{method} {path} answered {reply.status_code} (expected {status}): {reply.text[:300]}",
        )
        return reply.json()


def poll(what: str, check: Callable[[], Any], deadline_s: float) -> Any:
    """Ask again until ``check`` returns something truthy or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise StageFailed(f"{what}: nothing after {deadline_s:.0f} s")
        time.sleep(POLL_EVERY_S)


@dataclass
class Responder:
    responder_id: str
    distance_m: float
    name: str = ""
    role: str = ""
    aed: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        name = self.name.split(" ", 1)[-1] if self.name else "responder"  # drop the Chinese half
        return f"{name} ({short(self.responder_id)})"

    @property
    def who(self) -> str:
        return f"{self.label[:-1]}, {self.role})"

    @property
    def caller(self) -> tuple[str, ...]:
        return (self.responder_id, "responder")


DISPATCHER = ("demo-dispatcher-120", "dispatcher")
AED_MANAGER = ("demo-aed-manager", "aed_manager")  # manages every seeded AED (seed.DEMO_AED_MANAGER)


def rescue(api: Client, say: Timeline, wave_wait_s: int) -> None:
    from shared.geo.distance import haversine_m

    # -- before the emergency: what the map shows around the scene right now --------------------
    local_now = datetime.now(ZoneInfo(os.environ.get("TIME_ZONE", "Asia/Shanghai")))
    aeds = api.ok(
        "aed map",
        "GET",
        "/v1/aeds/nearby",
        params={"lat": LAT, "lng": LNG, "radius_m": AED_RADIUS_M, "limit": 100},
    )["items"]
    # The seed keeps AEDs open round the clock by the scene (local_runtime/seed.py): never an empty map.
    expect(aeds, "aed map", f"no usable AED open within {AED_RADIUS_M} m at {local_now:%a %H:%M}")
    nearest = aeds[0]
    print(
        f"  AEDs open within {AED_RADIUS_M} m at {local_now:%a %H:%M} local time: {len(aeds)}; "
        f"nearest {nearest['name']} at {metres(nearest['distance_m'])}",
        flush=True,
    )
    print(flush=True)

    # -- the SOS --------------------------------------------------------------------------------
    say.start()
    say(f"SOS: a bystander calls for help at {PLACE} ({LAT:.4f}, {LNG:.4f})")
    sos = api.ok(
        "sos",
        "POST",
        "/v1/sos",
        status=202,
        json={"lat": LAT, "lng": LNG, "caller_phone": "+8613800000000", "note": "男性，约60岁，倒地无呼吸"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    incident_id, answered = sos["incident_id"], say.elapsed
    say(f"202 Accepted: incident {incident_id} ({sos['status']})", at=answered)

    # -- who was alerted: the dispatcher's view (distances) and the outbox (channels) ------------
    view = api.ok("alerted", "GET", f"/v1/incidents/{incident_id}", as_=DISPATCHER)
    alerts = sorted(view["alerts"], key=lambda a: a["distance_m"])
    outbox = api.ok("alerted", "GET", "/dev/outbox")["items"]
    sent = {
        item["to"]: channel_of(item)
        for item in outbox
        if item["incident_id"] == incident_id and item["kind"] == "alert"
    }
    expect(alerts, "alerted", "nobody was alerted")
    missing = [a["responder_id"] for a in alerts if a["responder_id"] not in sent]
    expect(not missing, "alerted", f"no alert in the outbox for {', '.join(missing)}")
    slots = view.get("slots") or {}
    # Wave 1 is published inside the SOS request: every alert went out before its 202.
    say(
        f"{len(alerts)} responders alerted (wave 1, within 1 km, sent before the 202): "
        + ", ".join(
            f"{short(a['responder_id'])} {metres(a['distance_m'])} ({sent[a['responder_id']]})"
            for a in alerts
        ),
        at=answered,
    )
    say(f"slots to fill: {slots.get('cpr', '?')} CPR, {slots.get('aed', '?')} AED runner", at=answered)
    expect(
        len(alerts) > ACCEPTING,
        "alerted",
        f"{len(alerts)} alerted: too few for {ACCEPTING} to accept and someone to be stood down",
    )
    expect(slots.get("aed") == 1, "alerted", "no AED slot: no usable AED within 1 km")

    # -- the nearest say yes: each gets a role ---------------------------------------------------
    team = [Responder(a["responder_id"], a["distance_m"]) for a in alerts[:ACCEPTING]]
    for member in team:
        member.name = api.ok("accepted", "GET", f"/v1/responders/{member.responder_id}", as_=member.caller)[
            "name"
        ]
        answer = api.ok(
            "accepted",
            "POST",
            f"/v1/incidents/{incident_id}/responses",
            as_=member.caller,
            json={"action": "accept"},
        )
        member.role, member.aed = answer["role"], answer.get("aed")
        filled_at = say.elapsed
        line = f"accepted: {member.label}, {metres(member.distance_m)} away → role {member.role}"
        if member.role == "aed":
            aed = member.aed or {}
            expect(aed.get("name"), "accepted", "the AED runner was not told which AED to fetch")
            to_patient = haversine_m(aed["lat"], aed["lng"], LAT, LNG)
            line += (
                f": fetch {aed['name']}, placement {aed.get('placement') or 'not recorded'}, "
                f"{metres(to_patient)} from the patient"
            )
        say(line, at=filled_at)
    roles = sorted(m.role for m in team)
    expect(roles == ["aed", "cpr", "cpr"], "accepted", f"roles were {roles}, expected two cpr and one aed")

    # -- every slot filled: the others are stood down --------------------------------------------
    # On a slow machine the first wait may end before the last slot is filled: wave 2 then alerts more.
    wave1 = {a["responder_id"] for a in alerts}
    alerts = sorted(
        api.ok("stand-down", "GET", f"/v1/incidents/{incident_id}", as_=DISPATCHER)["alerts"],
        key=lambda a: a["distance_m"],
    )
    wave2 = [a for a in alerts if a["responder_id"] not in wave1]
    if wave2:
        # Sent while a slot was still open, so by the time the last one filled.
        say(
            f"wave 2 (slots still open after {wave_wait_s} s): {len(wave2)} more alerted: "
            + ", ".join(f"{short(a['responder_id'])} {metres(a['distance_m'])}" for a in wave2),
            at=filled_at,
        )
    others = {a["responder_id"] for a in alerts} - {m.responder_id for m in team}

    def stand_downs() -> list[dict[str, Any]]:
        items = api.ok("stand-down", "GET", "/dev/outbox")["items"]
        found = [i for i in items if i["incident_id"] == incident_id and i["kind"] == "stand_down"]
        return found if {i["to"] for i in found} >= others else []

    stood = poll("stand-down", stand_downs, deadline_s=10)
    expect(
        {i["to"] for i in stood} == others,
        "stand-down",
        "stand-downs reached someone who accepted or was never alerted",
    )
    distance = {a["responder_id"]: a["distance_m"] for a in alerts}
    stood.sort(key=lambda i: distance[i["to"]])
    # Stood down inside the request that filled the last slot.
    say(
        f"every slot filled: {len(stood)} stand-downs sent to the others: "
        + ", ".join(f"{short(i['to'])} {metres(distance[i['to']])} ({channel_of(i)})" for i in stood),
        at=filled_at,
    )

    # -- on scene ------------------------------------------------------------------------------
    cpr = [m for m in team if m.role == "cpr"]
    runner = next(m for m in team if m.role == "aed")
    steps: list[tuple[Responder | None, str]] = [
        (cpr[0], "arrived"),
        (cpr[0], "cpr_started"),
        (cpr[1], "arrived"),
        (cpr[1], "cpr_started"),
        (runner, "arrived"),
        (runner, "aed_attached"),
        (runner, "shock_delivered"),
        (None, "ems_arrived"),
    ]
    for actor, kind in steps:
        by = actor.caller if actor else DISPATCHER
        api.ok("events", "POST", f"/v1/incidents/{incident_id}/events", as_=by, json={"type": kind})
        who = actor.who if actor else "dispatcher (120 ambulance crew on scene)"
        if kind == "arrived" and actor is cpr[0]:
            status = api.ok("arrived", "GET", f"/v1/incidents/{incident_id}", as_=DISPATCHER)["status"]
            expect(status == "on_scene", "arrived", f"status {status} after the first arrival")
            say(f"{who}: arrived; incident status {status}")
        else:
            say(f"{who}: {kind.replace('_', ' ')}")

    # -- closed, then the workflow's finish step writes credits -----------------------------------
    closed = api.ok(
        "closed", "POST", f"/v1/incidents/{incident_id}/close", as_=DISPATCHER, json={"outcome": "rosc"}
    )
    expect(closed["status"] == "closed", "closed", f"status {closed['status']} after closing")
    say(f"dispatcher closed the incident: outcome {closed['outcome']} (pulse back)")

    def credits_of(member: Responder) -> Callable[[], list[dict[str, Any]]]:
        def check() -> list[dict[str, Any]]:
            path = f"/v1/responders/{member.responder_id}/credits"
            items = api.ok("points", "GET", path, as_=member.caller)
            return [i for i in items["items"] if i["incident_id"] == incident_id]

        return check

    # The workflow finishes after its first wait at the latest; leave room for a slow machine.
    deadline_s = wave_wait_s + 60
    for member in team:
        items = poll(f"points for {short(member.responder_id)}", credits_of(member), deadline_s)
        total = sum(int(i["points"]) for i in items)
        expect(total > 0, "points", f"{member.who} got no points")
        detail = ", ".join(f"{i['reason']} {i['points']}" for i in sorted(items, key=lambda i: i["reason"]))
        say(f"points awarded to {member.who}: +{total} ({detail})")

    # -- after the points, each who accepted is invited to the debrief (docs/volunteers.md) -------------
    def debrief_invitations() -> list[dict[str, Any]]:
        items = api.ok("debrief", "GET", "/dev/outbox")["items"]
        found = [i for i in items if i["incident_id"] == incident_id and i["kind"] == "debrief"]
        return found if len(found) >= len(team) else []

    invited = poll("debrief invitations", debrief_invitations, deadline_s)
    say(
        f"{len(invited)} debrief invitations sent: "
        + ", ".join(f"…{i['to'][-5:]} ({channel_of(i)})" for i in invited)
    )
    first = team[0]
    debrief = api.ok("debrief", "GET", f"/v1/incidents/{incident_id}/debrief", as_=first.caller)
    shared = debrief.get("shared_outcome") or {}
    expect(bool(shared.get("en")), "debrief", f"{first.who} was not told the outcome after a rosc close")
    say(f"{first.who} opens the debrief ({debrief['scale']['name']}): told “{shared['en']}”")

    final = api.ok("closed", "GET", f"/v1/incidents/{incident_id}", as_=DISPATCHER)
    expect(
        final["status"] == "closed" and final["outcome"] == "rosc",
        "closed",
        f"final status {final['status']}, outcome {final['outcome']}",
    )
    states = Counter(alert["state"] for alert in final["alerts"])
    # The contract: one alert per alerted responder, one stand-down for each who did not accept, and
    # the workflow's finish (after the close) repeats neither.
    notices = Counter(
        (item["to"], item["kind"])
        for item in api.ok("closed", "GET", "/dev/outbox")["items"]
        if item["incident_id"] == incident_id
    )
    expected = (
        {(a["responder_id"], "alert"): 1 for a in final["alerts"]}
        | {(a["responder_id"], "stand_down"): 1 for a in final["alerts"] if a["state"] != "accepted"}
        | {(a["responder_id"], "debrief"): 1 for a in final["alerts"] if a["state"] == "accepted"}
    )
    expect(notices == expected, "closed", f"notices sent {dict(notices)}, expected {expected}")
    say(
        f"incident {final['status']} ({final['outcome']}): "
        + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        + f"; {len(final['events'])} events on record; one alert each, one stand-down each for the others, "
        "one debrief invitation each for those who went"
    )

    # -- the AED's pads were used: out of search until its manager restocks it ---------------------
    used = runner.aed or {}
    box = f"{used['lng'] - 0.001},{used['lat'] - 0.001},{used['lng'] + 0.001},{used['lat'] + 0.001}"

    def aed_status() -> str:
        features = api.ok("restock", "GET", "/v1/aeds", params={"bbox": box})["features"]
        return str(
            next(f["properties"]["status"] for f in features if f["properties"]["aed_id"] == used["aed_id"])
        )

    poll("the used AED to wait for a restock", lambda: aed_status() == "needs_restock", deadline_s)
    pads_expire_on = (date.today() + timedelta(days=PADS_SHELF_LIFE_DAYS)).isoformat()
    say(f"{used['name']}: status needs_restock (pads used), out of search until its manager restocks it")
    restocked = api.ok(
        "restock",
        "POST",
        f"/v1/aeds/{used['aed_id']}/restock",
        as_=AED_MANAGER,
        json={"pads_replaced": True, "pads_expire_on": pads_expire_on},
    )
    expect(restocked["status"] == "ok", "restock", f"status {restocked['status']} after the restock")
    say(f"AED manager fitted new pads (expire {pads_expire_on}): {used['name']} is back in search")


def main() -> int:
    from local_runtime import clock

    try:
        travel = clock.travel_from_environment()  # RESCUE_NEARBY_CLOCK: before anything reads the time
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for key, value in DEMO_ENV.items():
        os.environ.setdefault(key, value)
    started = time.monotonic()

    from local_runtime import aws

    embedded = aws.start()
    from local_runtime.gateway import Gateway
    from local_runtime.seed import DemoApps, seed

    gateway = Gateway("127.0.0.1", 0)  # a free port
    demo = seed()
    # As `make run` does: the on-duty volunteers' apps refresh their presence while the platform runs.
    demo_apps = DemoApps(
        demo.on_duty, every_s=max(30.0, 0.4 * float(os.environ.get("PRESENCE_TTL_SECONDS", 900)))
    )
    demo_apps.start()
    server = threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True)
    server.start()
    url = f"http://127.0.0.1:{gateway.server_address[1]}"
    wave_wait_s = int(os.environ["WAVE_WAIT_SECONDS"])
    print(
        f"Rescue Nearby demo: one cardiac arrest, from SOS to credits, through {url}\n"
        f"  platform: embedded AWS, synthetic Hangzhou demo ({demo.responders} responders, "
        f"{len(demo.on_duty)} on duty, {demo.aeds} AEDs), ready in {time.monotonic() - started:.1f} s\n"
        f"  waits shortened for the demo: wave 2 after {wave_wait_s} s, "
        f"expiry after {os.environ['INCIDENT_EXPIRE_SECONDS']} s",
        flush=True,
    )
    say = Timeline()
    code = 0
    try:
        rescue(Client(url), say, wave_wait_s)
        print(f"\nThe rescue went through every stage in {say.elapsed:.1f} s after the SOS.", flush=True)
    except StageFailed as failure:
        print(f"\ndemo FAILED at stage {failure}", file=sys.stderr, flush=True)
        code = 1
    except requests.RequestException as error:
        print(f"\ndemo FAILED: HTTP to the local runtime: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        demo_apps.stopped.set()
        gateway.shutdown()
        gateway.server_close()
        embedded.stop()
        if travel:
            travel.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
