"""The rescue loop: SOS → waves of alerts → roles → tracking → closure → credits.

Every side effect is guarded by its own conditional write, so retries and replays repeat nothing:
an alert exists once per (incident, responder); a notice (alert, stand-down) is published only while
its lease is held and is cleared once SNS took it; a slot, an AED and a closure are each claimed once;
credits are written once per (incident, responder, reason) in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ulid import ULID

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.geo.distance import haversine_m
from shared.identity import Caller
from shared.logic.aed_service import AedService, FaultReport, PhotoUpload
from shared.logic.concurrency import each, together
from shared.logic.hours import is_open
from shared.logic.ports import (
    AED_USABLE,
    CLAIM,
    RESPONDER,
    AedOption,
    AedUse,
    Alert,
    Award,
    DuplicateSos,
    GeoIndex,
    Incident,
    IncidentEvent,
    IncidentStore,
    Notice,
    Notifier,
    Workflow,
)

EVENT_TYPES = ("arrived", "cpr_started", "aed_attached", "shock_delivered", "ems_arrived")
OUTCOMES = ("rosc", "transported", "deceased", "false_alarm", "cancelled")
STAFF = frozenset({"dispatcher", "admin"})


@dataclass(frozen=True)
class Policy:
    """Dispatch rules (the contract's defaults come from shared/config.py)."""

    wave1_radius_m: float
    wave1_size: int
    wave2_radius_m: float
    wave2_size: int
    wave_wait_s: int
    cpr_slots: int
    aed_slots: int
    aed_radius_m: float
    incident_expire_s: int
    notice_lease_s: int
    time_zone: str
    credit_points: Mapping[str, int]


@dataclass(frozen=True)
class SosRequest:
    lat: float
    lng: float
    caller_phone: str | None
    note: str | None
    caller: Caller
    idempotency_key: str | None
    body: Mapping[str, Any]


@dataclass(frozen=True)
class SosAnswer:
    incident_id: str
    status: str
    alerted: int


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def alert_text(incident: Incident, alert: Alert) -> str:
    distance = (
        f"{alert.distance_m / 1000:.1f} km" if alert.distance_m >= 1000 else f"{alert.distance_m:.0f} m"
    )
    aed = " An AED is nearby: you may be asked to fetch it." if incident.slots_aed else ""
    return (
        f"救在身边 Rescue Nearby: suspected cardiac arrest {distance} from you. "
        f"Open the app to accept; if you go, start CPR at once.{aed} "
        f"疑似心脏骤停，距您{distance}，请立即响应。"
    )


STAND_DOWN_TEXT = (
    "救在身边 Rescue Nearby: thank you, enough helpers are on the way; no need to go. "
    "已有足够救助者，无需前往。"
)


def reroute_text(incident: Incident, alert: Alert) -> str:
    option = _option(incident, alert.aed_id)
    if option is None:
        return (
            "救在身边 Rescue Nearby: the AED you were fetching cannot be used and no other is near: go to "
            "the patient and start CPR. 该AED无法使用，附近无其他AED：请直接前往患者处实施心肺复苏。"
        )
    where = f"{option.name}" + (f", {option.placement}" if option.placement else "")
    return (
        f"救在身边 Rescue Nearby: the AED you were fetching cannot be used: fetch this one instead: {where}. "
        f"原AED无法使用，请改取：{where}。"
    )


# --- SOS -----------------------------------------------------------------------------------------


def raise_sos(
    store: IncidentStore,
    geo: GeoIndex,
    notifier: Notifier,
    workflow: Workflow,
    request: SosRequest,
    policy: Policy,
    now: datetime,
) -> SosAnswer:
    """Store the incident (with its idempotency key, atomically), then alert wave 1 at once.

    Critical path, in sequential round trips: [store incident ∥ find responders ∥ find AEDs] →
    [write alerts ∥ start the workflow] → [publish alerts]. The workflow's first state re-delivers
    anything this request could not (a crash, an SNS failure), so the SOS never depends on this
    Lambda finishing.
    """
    body_hash = _sha256(json.dumps(request.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    key_hash = _sha256(request.idempotency_key) if request.idempotency_key else None
    incident = Incident(
        incident_id=str(ULID()),
        status="dispatching",
        lat=request.lat,
        lng=request.lng,
        created_at=now,
        slots_cpr=policy.cpr_slots,
        slots_aed=0,
        created_by=request.caller.sub,
        caller_phone=request.caller_phone,
        note=request.note,
    )
    stored, responders, aeds = together(
        lambda: _store(store, incident, key_hash, body_hash),
        lambda: geo.nearby(RESPONDER, request.lat, request.lng, policy.wave1_radius_m, _epoch(now)),
        lambda: geo.nearby(AED_USABLE, request.lat, request.lng, policy.aed_radius_m, _epoch(now)),
    )
    if stored is not None:  # a retry: the first request did (or is doing) the work
        return SosAnswer(incident_id=stored.incident_id, status=stored.status, alerted=0)
    incident.aed_options = aed_options(aeds, now, policy.time_zone)
    incident.slots_aed = policy.aed_slots if incident.aed_options else 0
    alerts = _new_alerts(incident, responders, set(), policy.wave1_size, wave=1, now=now, policy=policy)
    written = together(
        lambda: each(store.add_alert, alerts),
        lambda: workflow.start(incident.incident_id, workflow_input(incident.incident_id, policy)),
        # Accepts can only follow the alerts published in the next round, so the AED slot is in place.
        lambda: store.set_aed_options(incident.incident_id, incident.aed_options or [], incident.slots_aed),
    )[0]
    fresh = [a for a, ok in zip(alerts, written, strict=True) if ok is True]
    _deliver(store, notifier, incident, fresh, "alert")
    return SosAnswer(incident_id=incident.incident_id, status=incident.status, alerted=len(fresh))


def _store(store: IncidentStore, incident: Incident, key_hash: str | None, body_hash: str) -> Incident | None:
    try:
        store.create(incident, key_hash, body_hash)
        return None
    except DuplicateSos as duplicate:
        if not duplicate.same_body:
            raise Conflict(
                "this Idempotency-Key was used for another SOS", code="idempotency_key_reused"
            ) from duplicate
        existing = store.get(duplicate.incident_id)
        if existing is None:  # the key's incident is written in the same transaction: cannot happen
            raise
        return existing


def workflow_input(incident_id: str, policy: Policy) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "wave_wait_seconds": policy.wave_wait_s,
        "expire_after_seconds": policy.incident_expire_s,
    }


def aed_options(hits: list[Any], at: datetime, time_zone: str) -> list[AedOption]:
    """Usable AEDs for a rescue: status ok (the index), open now, and not claimed by another rescue."""
    return [
        AedOption(h.entity_id, h.lat, h.lng, h.attributes.get("name", ""), h.attributes.get("placement"))
        for h in hits
        if not h.attributes.get(CLAIM) and is_open(h.attributes.get("opening_hours", ""), at, time_zone)
    ]


def _new_alerts(
    incident: Incident,
    responders: list[Any],
    already: set[str],
    size: int,
    *,
    wave: int,
    now: datetime,
    policy: Policy,
) -> list[Alert]:
    lease = _epoch(now) + policy.notice_lease_s
    chosen = [h for h in responders if h.entity_id not in already][:size]
    return [
        Alert(
            incident_id=incident.incident_id,
            responder_id=h.entity_id,
            state="alerted",
            wave=wave,
            distance_m=round(h.distance_m, 1),
            lat=h.lat,
            lng=h.lng,
            alerted_at=now,
            phone=h.attributes.get("phone"),
            push_endpoint_arn=h.attributes.get("push_endpoint_arn"),
            notice="alert",
            notice_lease_until=lease,
        )
        for h in chosen
    ]


def _deliver(
    store: IncidentStore, notifier: Notifier, incident: Incident, alerts: list[Alert], kind: str
) -> int:
    """Publish one notice per alert, each on its own (one failure never stops the others); a failed
    one gives its lease back so the workflow's next step retries it. Returns how many failed."""

    def one(alert: Alert) -> None:
        text = (
            alert_text(incident, alert)
            if kind == "alert"
            else reroute_text(incident, alert)
            if kind == "reroute"
            else STAND_DOWN_TEXT
        )
        try:
            notifier.notify(alert, Notice(kind=kind, incident_id=incident.incident_id, message=text))
        except Exception:
            store.release_notice(alert.incident_id, alert.responder_id, kind)
            raise
        store.notice_sent(alert.incident_id, alert.responder_id, kind)

    return sum(1 for result in each(one, alerts) if isinstance(result, Exception))


class NoticesPending(Exception):
    """Some notices could not be published yet: the workflow retries the step."""


def deliver_pending(
    store: IncidentStore, notifier: Notifier, incident: Incident, policy: Policy, now: datetime
) -> int:
    """Take over every notice whose lease lapsed (its publisher died or failed) and publish it."""
    taken: dict[str, list[Alert]] = {}
    for alert in store.alerts(incident.incident_id):
        if (
            alert.notice
            and (alert.notice_lease_until or 0) <= _epoch(now)
            and store.take_notice(
                alert.incident_id,
                alert.responder_id,
                alert.notice,
                _epoch(now),
                _epoch(now) + policy.notice_lease_s,
            )
        ):
            taken.setdefault(alert.notice, []).append(alert)
    failed = sum(_deliver(store, notifier, incident, alerts, kind) for kind, alerts in taken.items())
    return sum(len(a) for a in taken.values()) - failed


# --- workflow steps ------------------------------------------------------------------------------


def _incident(store: IncidentStore, incident_id: str) -> Incident:
    incident = store.get(incident_id)
    if incident is None:
        raise NotFound("incident not found")
    return incident


def redeliver(
    store: IncidentStore, notifier: Notifier, incident_id: str, policy: Policy, now: datetime
) -> dict[str, Any]:
    """The workflow's first state (and every later one): finish what the SOS request could not."""
    incident = _incident(store, incident_id)
    delivered = deliver_pending(store, notifier, incident, policy, now)
    if any(a.notice for a in store.alerts(incident_id)):
        raise NoticesPending(f"{incident_id}: notices still pending")
    return {"delivered": delivered}


def assess(store: IncidentStore, incident_id: str) -> dict[str, Any]:
    incident = _incident(store, incident_id)
    return {
        "closed": incident.closed,
        "slots_open": incident.slots_open,
        "needs_more": incident.slots_open > 0,
    }


def dispatch_wave(
    store: IncidentStore,
    geo: GeoIndex,
    notifier: Notifier,
    incident_id: str,
    wave: int,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """A later wave: wider radius, the next responders nobody alerted yet."""
    incident = _incident(store, incident_id)
    if incident.closed or incident.slots_open == 0:
        return {"alerted": 0}
    already = {a.responder_id for a in store.alerts(incident_id)}
    responders = geo.nearby(RESPONDER, incident.lat, incident.lng, policy.wave2_radius_m, _epoch(now))
    alerts = _new_alerts(incident, responders, already, policy.wave2_size, wave=wave, now=now, policy=policy)
    written = each(store.add_alert, alerts)
    fresh = [a for a, ok in zip(alerts, written, strict=True) if ok is True]
    store.set_wave(incident_id, wave)
    failed = _deliver(store, notifier, incident, fresh, "alert")
    # The last slot may have filled while this wave went out, after that accept stood the others
    # down: stand down the newcomers too (the conditional write keeps it to one each).
    after = store.get(incident_id)
    if after is not None and (after.closed or after.slots_open == 0):
        stand_down_the_rest(store, notifier, after, policy, now)
    if failed:
        raise NoticesPending(f"{incident_id}: {failed} alerts of wave {wave} not yet delivered")
    return {"alerted": len(fresh)}


def declare_unanswered(
    store: IncidentStore, notifier: Notifier, incident_id: str, now: datetime
) -> dict[str, Any]:
    """The last wave ended with open slots: mark it, record it, tell the dispatch centre (once)."""
    incident = _incident(store, incident_id)
    if incident.closed:
        return {"unanswered": False}
    if store.mark_unanswered(incident_id):
        store.add_event(IncidentEvent(incident_id, str(ULID()), "unanswered", None, "system", now))
        notifier.tell_dispatch_centre(
            incident_id,
            f"Incident {incident_id} at {incident.lat:.5f},{incident.lng:.5f}: "
            f"{incident.slots_open} responder slots still open after the last wave. "
            "Send help by other means.",
        )
    return {"unanswered": True}


def park_closure_token(store: IncidentStore, workflow: Workflow, incident_id: str, token: str) -> None:
    """The workflow waits for the close with this token; if the incident closed already, go on now."""
    if not store.store_closure_token(incident_id, token):
        workflow.resume(token)


def finish(
    store: IncidentStore,
    notifier: Notifier,
    claims: Any,
    aed_use: AedUse,
    incident_id: str,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """After closure: stand down whoever is still only alerted, send a used AED to restock and free the
    others, award credits once."""
    incident = _incident(store, incident_id)
    if not incident.closed:
        raise Conflict("incident is still open")
    deliver_pending(store, notifier, incident, policy, now)  # anything a failed step left behind
    stood = stand_down_the_rest(store, notifier, incident, policy, now)
    runners_aeds = {a.aed_id for a in store.alerts(incident_id) if a.aed_id}
    attached = any(e.type == "aed_attached" for e in store.events(incident_id))
    for aed_id in sorted(runners_aeds):
        if attached:  # its pads are used: out of search until a manager restocks it
            aed_use.end_use(aed_id, incident_id, now)
        claims.release(aed_id, incident_id)
    awards = credits_for(store, incident_id, policy)
    awarded = store.award(incident_id, awards, now) if awards else False
    return {"stood_down": stood, "credits": len(awards) if awarded else 0}


def stand_down_the_rest(
    store: IncidentStore, notifier: Notifier, incident: Incident, policy: Policy, now: datetime
) -> int:
    lease = _epoch(now) + policy.notice_lease_s
    waiting = [a for a in store.alerts(incident.incident_id) if a.state == "alerted"]
    flipped = [
        a
        for a, ok in zip(
            waiting,
            each(lambda a: store.stand_down(a.incident_id, a.responder_id, lease), waiting),
            strict=True,
        )
        if ok is True
    ]
    failed = _deliver(store, notifier, incident, flipped, "stand_down")
    if failed:
        raise NoticesPending(f"{incident.incident_id}: {failed} stand-downs not yet delivered")
    return len(flipped)


def credits_for(store: IncidentStore, incident_id: str, policy: Policy) -> list[Award]:
    """Points per (responder, reason): accepting, and each rescue step the responder reported."""
    awards: dict[tuple[str, str], Award] = {}
    for alert in store.alerts(incident_id):
        if alert.state == "accepted" and "accepted" in policy.credit_points:
            awards[(alert.responder_id, "accepted")] = Award(
                alert.responder_id, "accepted", policy.credit_points["accepted"]
            )
    for event in store.events(incident_id):
        if event.actor_role == "responder" and event.actor and event.type in policy.credit_points:
            key = (event.actor, event.type)
            awards.setdefault(key, Award(event.actor, event.type, policy.credit_points[event.type]))
    return [a for a in awards.values() if a.points > 0]


# --- responders answer, report, close ----------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    role: str
    aed: AedOption | None = None


def respond(
    store: IncidentStore,
    notifier: Notifier,
    caller: Caller,
    incident_id: str,
    action: str,
    policy: Policy,
    now: datetime,
) -> Assignment | None:
    """Accept claims a slot (aed when the detour via a free AED is the cheaper way to help); decline
    frees the responder. Filling the last slot stands everyone else down."""
    incident = store.get(incident_id)
    alert = store.get_alert(incident_id, caller.sub) if caller.sub and incident else None
    if incident is None or alert is None:
        raise NotFound("incident not found")
    if action == "decline":
        if not store.decline(incident_id, alert.responder_id, now) and alert.state != "declined":
            raise Conflict("you already answered", code="already_answered")
        return None
    if alert.state == "accepted":
        return Assignment(role=alert.role or "cpr", aed=_option(incident, alert.aed_id))
    if incident.closed or incident.slots_open == 0 or alert.state != "alerted":
        raise Conflict("thank you: enough helpers are on the way", code="no_longer_needed")
    for role, aed in _role_preferences(incident, alert):
        if store.accept(incident_id, alert.responder_id, role, aed.aed_id if aed else None, now):
            store.advance_status(incident_id, "responding", ("dispatching",))
            after = store.get(incident_id)
            if after is not None and after.slots_open == 0:
                # The accept stands whatever SNS does: a stand-down that fails keeps its notice
                # pending and the workflow's finish delivers it.
                with contextlib.suppress(NoticesPending):
                    stand_down_the_rest(store, notifier, after, policy, now)
            return Assignment(role=role, aed=aed)
    raise Conflict("thank you: enough helpers are on the way", code="no_longer_needed")


def _option(incident: Incident, aed_id: str | None) -> AedOption | None:
    return next((o for o in incident.aed_options or [] if o.aed_id == aed_id), None)


def _role_preferences(incident: Incident, alert: Alert) -> list[tuple[str, AedOption | None]]:
    """The AED slot goes to an acceptor whose detour via an AED is small next to running straight to
    the patient (or when CPR is full); the others start CPR. AEDs are tried smallest detour first."""
    direct = haversine_m(alert.lat, alert.lng, incident.lat, incident.lng)

    def detour(option: AedOption) -> float:
        via = haversine_m(alert.lat, alert.lng, option.lat, option.lng)
        return via + haversine_m(option.lat, option.lng, incident.lat, incident.lng) - direct

    options = sorted(incident.aed_options or [], key=detour)
    aed_open = bool(options) and incident.filled_aed < incident.slots_aed
    cpr_open = incident.filled_cpr < incident.slots_cpr
    aed_first = aed_open and (not cpr_open or detour(options[0]) <= max(200.0, 0.5 * direct))
    aed_choices: list[tuple[str, AedOption | None]] = [("aed", o) for o in options] if aed_open else []
    cpr_choices: list[tuple[str, AedOption | None]] = [("cpr", None)] if cpr_open else []
    return aed_choices + cpr_choices if aed_first else cpr_choices + aed_choices


def record_event(
    store: IncidentStore,
    aed_use: AedUse,
    caller: Caller,
    incident_id: str,
    event_type: str,
    lat: float | None,
    lng: float | None,
    now: datetime,
) -> IncidentEvent:
    _, actor_role = _open_incident_actor(
        store, caller, incident_id, "report events", "the incident is closed"
    )
    if event_type not in EVENT_TYPES:
        raise ValidationFailed(f"type: one of {', '.join(EVENT_TYPES)}")
    event = IncidentEvent(incident_id, str(ULID()), event_type, caller.sub, actor_role, now, lat, lng)
    store.add_event(event)
    if event_type == "arrived":
        store.advance_status(incident_id, "on_scene", ("dispatching", "responding"))
    if event_type == "aed_attached":  # the runner's AED (one at most): out of search from now on
        for aed_id in sorted(
            {a.aed_id for a in store.alerts(incident_id) if a.aed_id and a.state == "accepted"}
        ):
            aed_use.start_use(aed_id, incident_id, now)
    return event


@dataclass(frozen=True)
class RescueAedReport:
    report: FaultReport
    upload: PhotoUpload | None
    assignment: Assignment | None  # the reporter's own role after any re-route
    rerouted: int  # AED runners sent elsewhere (or to CPR)


def report_aed_in_rescue(
    store: IncidentStore,
    notifier: Notifier,
    aeds: AedService,
    caller: Caller,
    incident_id: str,
    aed_id: str,
    kind: str,
    note: str | None,
    photo_type: str | None,
    policy: Policy,
    now: datetime,
) -> RescueAedReport:
    """Someone in the rescue found its AED locked, missing, broken or elsewhere: at once the AED leaves
    every search (suspended until its manager decides), this rescue's options lose it, and whoever was
    sent to fetch it is given the next usable AED, by the shortest way from where they stand (the
    faulty AED) to the patient, or told to go and do CPR when there is none."""
    incident, role = _open_incident_actor(
        store,
        caller,
        incident_id,
        "report from a rescue",
        "the incident is closed: report through the AED's own page",
    )
    report, upload = aeds.report(
        aed_id,
        kind,
        note=note,
        reporter=caller.sub,
        reporter_role=role,
        incident_id=incident_id,
        photo_type=photo_type,
        suspend=True,
        now=now,
    )
    store.add_event(
        IncidentEvent(
            incident_id, str(ULID()), "aed_reported", caller.sub, role, now, detail=f"{aed_id}: {kind}"
        )
    )
    faulty = _option(incident, aed_id)
    incident = store.drop_aed_option(incident_id, aed_id) or incident
    rerouted = 0
    for runner in [a for a in store.alerts(incident_id) if a.state == "accepted" and a.aed_id == aed_id]:
        notify = runner.responder_id != caller.sub  # the reporter reads the new plan in the answer
        lease = _epoch(now) + policy.notice_lease_s if notify else None
        start = (faulty.lat, faulty.lng) if faulty else (runner.lat, runner.lng)
        new_aed = _reroute(store, incident, runner, aed_id, start, lease)
        if new_aed is False:
            continue  # someone else re-routed this runner meanwhile
        rerouted += 1
        store.add_event(
            IncidentEvent(
                incident_id,
                str(ULID()),
                "aed_rerouted",
                None,
                "system",
                now,
                detail=f"{aed_id} -> {new_aed or 'cpr'}",
            )
        )
        fresh = store.get_alert(incident_id, runner.responder_id)
        if notify and fresh is not None:
            _deliver(store, notifier, incident, [fresh], "reroute")  # a failure stays queued for the workflow
    own = store.get_alert(incident_id, caller.sub) if caller.sub else None
    assignment = (
        Assignment(role=own.role or "cpr", aed=_option(incident, own.aed_id))
        if own is not None and own.state == "accepted"
        else None
    )
    return RescueAedReport(report=report, upload=upload, assignment=assignment, rerouted=rerouted)


def _reroute(
    store: IncidentStore,
    incident: Incident,
    runner: Alert,
    old_aed_id: str,
    start: tuple[float, float],
    lease_until: int | None,
) -> str | bool | None:
    """The new AED's id, None when the runner was turned to CPR, False when the alert had changed."""

    def path(option: AedOption) -> float:
        return haversine_m(*start, option.lat, option.lng) + haversine_m(
            option.lat, option.lng, incident.lat, incident.lng
        )

    for option in sorted(incident.aed_options or [], key=path):
        if store.reassign_aed(
            incident.incident_id, runner.responder_id, old_aed_id, option.aed_id, lease_until
        ):
            return option.aed_id
    if store.reassign_aed(incident.incident_id, runner.responder_id, old_aed_id, None, lease_until):
        return None
    return False


def _open_incident_actor(
    store: IncidentStore, caller: Caller, incident_id: str, acting: str, closed_message: str
) -> tuple[Incident, str]:
    """Who may act on an open incident: a responder who accepted it, or staff. Returns the incident and
    the actor's role as events record it; others see 404 (never alerted) or 409 (no role)."""
    incident = store.get(incident_id)
    if incident is None:
        raise NotFound("incident not found")
    staff = caller.has_any(STAFF)
    alert = store.get_alert(incident_id, caller.sub) if caller.sub else None
    if not staff and (alert is None or alert.state != "accepted"):
        if alert is None:
            raise NotFound("incident not found")
        raise Conflict(f"only responders with a role {acting}", code="not_assigned")
    if incident.closed:
        raise Conflict(closed_message, code="incident_closed")
    return (
        incident,
        "responder" if alert is not None and alert.state == "accepted" and not staff else _staff_role(caller),
    )


def _staff_role(caller: Caller) -> str:
    return next(iter(sorted(caller.roles & STAFF)))


def close_incident(
    store: IncidentStore, workflow: Workflow, incident_id: str, outcome: str, now: datetime
) -> Incident:
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"outcome: one of {', '.join(OUTCOMES)}")
    if store.get(incident_id) is None:
        raise NotFound("incident not found")
    closed = store.close(incident_id, outcome, now)
    if closed is None:
        raise Conflict("the incident is already closed", code="already_closed")
    store.add_event(IncidentEvent(incident_id, str(ULID()), "closed", None, "system", now, detail=outcome))
    if closed.closure_token:
        workflow.resume(closed.closure_token)
    return closed


# --- who may see what ---------------------------------------------------------------------------


def view_incident(store: IncidentStore, caller: Caller, incident_id: str) -> dict[str, Any]:
    """Staff see everything; an alerted responder sees the place, its own alert and role, and what
    happened, but never the caller's phone nor who the other responders are; anyone else: 404."""
    incident = store.get(incident_id)
    if incident is None:
        raise NotFound("incident not found")
    staff = caller.has_any(STAFF)
    alerts = store.alerts(incident_id)
    own = next((a for a in alerts if a.responder_id == caller.sub), None)
    if not staff and own is None:
        raise NotFound("incident not found")
    visible = alerts if staff else [own] if own else []
    view: dict[str, Any] = {
        "incident_id": incident.incident_id,
        "status": incident.status,
        "lat": incident.lat,
        "lng": incident.lng,
        "created_at": incident.created_at,
        "unanswered": incident.unanswered,
        "outcome": incident.outcome,
        "alerts": [
            {
                "responder_id": a.responder_id,
                "state": a.state,
                "role": a.role,
                "distance_m": a.distance_m,
                "aed_id": a.aed_id,
            }
            for a in visible
        ],
        "events": [
            {
                "type": e.type,
                "at": e.at,
                "by": e.actor_role if not staff and e.actor != caller.sub else (e.actor or e.actor_role),
                **({"detail": e.detail} if e.detail else {}),
            }
            for e in store.events(incident_id)
        ],
    }
    if staff:
        view.update(
            caller_phone=incident.caller_phone,
            note=incident.note,
            slots={
                "cpr": incident.slots_cpr,
                "aed": incident.slots_aed,
                "filled_cpr": incident.filled_cpr,
                "filled_aed": incident.filled_aed,
            },
        )
    if own is not None and own.aed_id:
        option = _option(incident, own.aed_id)
        view["aed"] = option.__dict__ if option else None
    return view
