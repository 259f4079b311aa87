"""The simulation: arrests raise SOS through the real intake, the real workflow definition sequences the
real waves, and alerted responders answer through the real assignment rules; the simulation only decides
who accepts, when, and how long the way to the patient (or via the AED) takes."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from cli.simulation.city import Arrest, City, Responder
from cli.simulation.workflow import WorkflowWalker
from cli.simulation.world import MemoryIncidents, QueuedWorkflow, RecordingNotifier, SimulatedGeo
from shared.errors import Conflict
from shared.geo.distance import haversine_m
from shared.identity import ANONYMOUS, Caller
from shared.logic.rescue import assignment, intake, waves
from shared.logic.rescue.policy import Policy

RESPONDER_CALLER_ROLES = frozenset({"responder"})
# The simulated week starts on a Monday at local midnight (day 0 of city.py's calendar).
START = datetime(2025, 6, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
FIRST_RESPONDER_TARGET_S = 4 * 60
AED_TARGET_S = 6 * 60


@dataclass(frozen=True)
class Behaviour:
    """How alerted responders act (docs/simulation.md gives each figure's source or says it is assumed)."""

    acceptance: float = 0.29
    reaction_median_s: float = 40.0  # alert to setting off, lognormal; spread 0 makes it exactly this
    reaction_spread: float = 0.6
    walking_mps: float = 1.4
    cycling_mps: float = 4.0
    detour: float = 1.3  # street distance over straight-line distance
    aed_retrieval_s: float = 60.0  # finding the AED inside its venue and taking it out
    close_after_s: float = 40 * 60  # the rescue closes (EMS took over): its responders and AED are free


@dataclass
class ArrestOutcome:
    number: int
    at_s: float
    incident_id: str = ""
    alerted: int = 0
    accepted: int = 0
    too_late: int = 0  # accepted after every slot was filled or they were stood down
    first_on_scene_s: float | None = None
    aed_on_scene_s: float | None = None
    flagged_unanswered: bool = False  # the rules' mark: slots still open after the last wave
    merged: bool = False  # the rules joined this SOS to an open incident close by
    aed_offered: bool = False


@dataclass
class RunResult:
    policy_name: str
    policy: Policy
    outcomes: list[ArrestOutcome]
    alerts_by_responder: Counter[str]
    pool: int
    days: int
    events: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


def simulate(city: City, policy: Policy, behaviour: Behaviour, seed: int, name: str = "") -> RunResult:
    """One policy over the city's arrests; deterministic for a given city, behaviour and seed."""
    return _Run(city, policy, behaviour, seed).run(name)


class _Run:
    def __init__(self, city: City, policy: Policy, behaviour: Behaviour, seed: int) -> None:
        self.city, self.policy, self.behaviour, self.seed = city, policy, behaviour, seed
        self.geo = SimulatedGeo(city, int(START.timestamp()))
        self.store = MemoryIncidents(self.geo)
        self.notifier = RecordingNotifier()
        self.workflow = QueuedWorkflow()
        self.queue: list[tuple[float, int, Callable[[float], None]]] = []
        self.order = itertools.count()
        self.people: dict[str, Responder] = {r.responder_id: r for r in city.responders}
        self.outcomes: dict[str, ArrestOutcome] = {}
        self.arrest_of: dict[str, Arrest] = {}
        self.alerts: Counter[str] = Counter()
        steps = {
            "redeliver": lambda e, at: waves.redeliver(
                self.store, self.notifier, e["incident_id"], policy, self.moment(at)
            ),
            "assess": lambda e, at: waves.assess(self.store, e["incident_id"]),
            "wave": lambda e, at: waves.dispatch_wave(
                self.store, self.geo, self.notifier, e["incident_id"], int(e["wave"]), policy, self.moment(at)
            ),
            "unanswered": lambda e, at: waves.declare_unanswered(
                self.store, self.notifier, e["incident_id"], self.moment(at)
            ),
        }
        self.walker = WorkflowWalker(steps, self.schedule, self.dispatch_ended)

    @staticmethod
    def moment(at: float) -> datetime:
        return START + timedelta(seconds=at)

    def schedule(self, at: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self.queue, (at, next(self.order), action))

    def run(self, name: str) -> RunResult:
        ordered = sorted(self.city.arrests, key=lambda a: a.at_s)
        for arrest in ordered:
            self.schedule(arrest.at_s, partial(self.sos, arrest))
        handled = 0
        while self.queue:
            at, _, action = heapq.heappop(self.queue)
            action(at)
            self.follow_up(at)
            handled += 1
        outcomes = sorted([o for o in self.outcomes.values()], key=lambda o: o.number)
        return RunResult(
            name, self.policy, outcomes, self.alerts, len(self.city.responders), self.city.days, handled
        )

    # -- what happens -----------------------------------------------------------------------------
    def sos(self, arrest: Arrest, at: float) -> None:
        request = intake.SosRequest(
            lat=arrest.place.lat,
            lng=arrest.place.lng,
            caller_phone=None,
            note=None,
            caller=ANONYMOUS,
            idempotency_key=None,
            body={"lat": arrest.place.lat, "lng": arrest.place.lng, "arrest": arrest.number},
        )
        answer = intake.raise_sos(
            self.store, self.geo, self.notifier, self.workflow, request, self.policy, self.moment(at)
        )
        outcome = ArrestOutcome(arrest.number, arrest.at_s, answer.incident_id, merged=answer.merged)
        if answer.merged:
            self.outcomes[f"merged-{arrest.number}"] = outcome
            return
        self.outcomes[answer.incident_id] = outcome
        self.arrest_of[answer.incident_id] = arrest
        incident = self.store.get(answer.incident_id)
        outcome.aed_offered = bool(incident and incident.slots_aed)

    def follow_up(self, at: float) -> None:
        """Act on what the last call published: start workflows, and let alerted responders decide."""
        for _, payload in self.workflow.drain():
            self.walker.start(payload, at)
            self.follow_up(at)
        for notice in self.notifier.drain():
            if notice.kind != "alert":
                continue
            self.alerts[notice.responder_id] += 1
            outcome = self.outcomes[notice.incident_id]
            outcome.alerted += 1
            accepts, delay = self.decision(self.arrest_of[notice.incident_id], notice.responder_id)
            if accepts:
                self.schedule(at + delay, partial(self.answer, notice.incident_id, notice.responder_id))

    def decision(self, arrest: Arrest, responder_id: str) -> tuple[bool, float]:
        """Whether this responder accepts this arrest's alert, and after how long. Drawn from the seed,
        the arrest and the responder alone, so every policy meets the same people making the same
        choices (common random numbers: differences between policies are the policies')."""
        rng = random.Random(f"{self.seed}:{arrest.number}:{responder_id}")
        accepts = rng.random() < self.behaviour.acceptance
        delay = self.behaviour.reaction_median_s * math.exp(self.behaviour.reaction_spread * rng.gauss(0, 1))
        return accepts, delay

    def answer(self, incident_id: str, responder_id: str, at: float) -> None:
        caller = Caller(sub=responder_id, roles=RESPONDER_CALLER_ROLES)
        outcome = self.outcomes[incident_id]
        try:
            role = assignment.respond(
                self.store, self.notifier, caller, incident_id, "accept", self.policy, self.moment(at)
            )
        except Conflict:
            outcome.too_late += 1
            return
        alert = self.store.get_alert(incident_id, responder_id)
        arrest = self.arrest_of[incident_id]
        if role is None or alert is None:
            return
        outcome.accepted += 1
        person = self.people[responder_id]
        speed = self.behaviour.cycling_mps if person.cycles else self.behaviour.walking_mps
        patient = (arrest.place.lat, arrest.place.lng)
        if role.role == "aed" and role.aed is not None:
            via = haversine_m(alert.lat, alert.lng, role.aed.lat, role.aed.lng) + haversine_m(
                role.aed.lat, role.aed.lng, *patient
            )
            arrival = at + via * self.behaviour.detour / speed + self.behaviour.aed_retrieval_s - arrest.at_s
            outcome.aed_on_scene_s = _earliest(outcome.aed_on_scene_s, arrival)
        else:
            straight = haversine_m(alert.lat, alert.lng, *patient)
            arrival = at + straight * self.behaviour.detour / speed - arrest.at_s
        outcome.first_on_scene_s = _earliest(outcome.first_on_scene_s, arrival)

    def dispatch_ended(self, incident_id: str, at: float) -> None:
        incident = self.store.get(incident_id)
        if incident is not None:
            self.outcomes[incident_id].flagged_unanswered = incident.unanswered
        arrest = self.arrest_of[incident_id]
        self.schedule(max(at, arrest.at_s + self.behaviour.close_after_s), partial(self.close, incident_id))

    def close(self, incident_id: str, at: float) -> None:
        """EMS has taken over: the incident closes and its responders and AED are free again (what the
        workflow's finish does through closure.finish, which needs ports the simulation does not model)."""
        self.store.close(incident_id, "transported", self.moment(at))
        accepted = [a for a in self.store.alerts(incident_id) if a.state == "accepted"]
        self.store.release(incident_id, [a.responder_id for a in accepted])
        for alert in accepted:
            if alert.aed_id:
                self.geo.set_claim(alert.aed_id, None)


def _earliest(current: float | None, candidate: float) -> float:
    return candidate if current is None else min(current, candidate)


# --- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(result: RunResult) -> dict[str, Any]:
    outcomes = result.outcomes
    n = len(outcomes) or 1
    first = [o.first_on_scene_s for o in outcomes if o.first_on_scene_s is not None]
    aed = [o.aed_on_scene_s for o in outcomes if o.aed_on_scene_s is not None]
    total_alerts = sum(result.alerts_by_responder.values())
    return {
        "policy": result.policy_name,
        "arrests": len(outcomes),
        "first_responder_median_s": percentile(first, 0.5),
        "first_responder_p90_s": percentile(first, 0.9),
        "aed_median_s": percentile(aed, 0.5),
        "aed_p90_s": percentile(aed, 0.9),
        "responder_within_4_min": sum(1 for t in first if t <= FIRST_RESPONDER_TARGET_S) / n,
        "aed_within_6_min": sum(1 for t in aed if t <= AED_TARGET_S) / n,
        "responder_reached": len(first) / n,
        "aed_reached": len(aed) / n,
        "unanswered": sum(1 for o in outcomes if o.accepted == 0) / n,
        "flagged_unanswered": sum(1 for o in outcomes if o.flagged_unanswered) / n,
        "merged": sum(1 for o in outcomes if o.merged),
        "alerts_per_arrest": total_alerts / n,
        "alerts_per_responder_month": total_alerts / max(1, result.pool) * 30 / max(1, result.days),
        "most_alerts_one_responder": max(result.alerts_by_responder.values(), default=0),
        "responders_alerted": len(result.alerts_by_responder),
        "accepted_too_late_per_arrest": sum(o.too_late for o in outcomes) / n,
    }


# --- policies ------------------------------------------------------------------------------------

# Named policies, each a change to the deployment's (shared/config.py through shared.wiring.policy).
PRESETS: dict[str, dict[str, Any]] = {
    "today": {},
    # Alert the 10 nearest within wave 1's radius, no later wave, everyone who accepts goes straight to
    # the patient: every acceptor a CPR slot (the most the configuration allows), no AED runner.
    "nearest10-direct": {"wave2_size": 0, "cpr_slots": 10, "aed_slots": 0},
    "cpr-4": {"cpr_slots": 4},
    "wave1-20": {"wave1_size": 20},
    "wait-30s": {"wave_wait_s": 30},
    "wave1-20-wait-30s": {"wave1_size": 20, "wave_wait_s": 30},
}


def policy_from(spec: str, base: Policy) -> tuple[str, Policy]:
    """A preset's name, or ``label:field=value,field=value`` (Policy's fields)."""
    if spec in PRESETS:
        return spec, replace(base, **PRESETS[spec])
    label, _, changes = spec.partition(":")
    if not changes:
        raise ValueError(f"unknown policy {spec!r}: one of {', '.join(PRESETS)}, or label:field=value,...")
    fields: dict[str, Any] = {}
    for change in changes.split(","):
        key, _, value = change.partition("=")
        current = getattr(base, key.strip(), None)
        if current is None or isinstance(current, (str, dict)):
            raise ValueError(f"{key!r} is not a numeric Policy field")
        fields[key.strip()] = type(current)(value)
    return label, replace(base, **fields)
