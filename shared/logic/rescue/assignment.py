"""Assignment: responders answer (accept claims a slot, CPR or AED runner, and for the runner the AED
with the smallest detour; decline frees them), report what happens on scene, and report an AED found
unusable, which sends its runner to the next usable AED or to CPR."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.geo.distance import haversine_m
from shared.identity import Caller
from shared.logic.aed_faults import AedFaults, FaultReport, PhotoUpload
from shared.logic.ids import new_id
from shared.logic.rescue.notices import NoticesPending, deliver, stand_down_the_rest
from shared.logic.rescue.policy import EVENT_TYPES, STAFF, Policy, epoch, once_key, option_of
from shared.logic.rescue.ports import (
    AedOption,
    AedReroutes,
    AedUse,
    Alert,
    AssignmentStore,
    Incident,
    IncidentEvent,
    Notifier,
)


@dataclass(frozen=True)
class Assignment:
    role: str
    aed: AedOption | None = None
    # False: the responder had accepted before (a repeated tap answers the same assignment)
    fresh: bool = field(default=True, compare=False)


def respond(
    store: AssignmentStore,
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
        # An acceptor keeps their role: the runner the patient waits for cannot vanish by a stray tap
        # (the store's condition refuses it too; this guard does not rely on it).
        if alert.state == "accepted":
            raise Conflict("you already answered", code="already_answered")
        if not store.decline(incident_id, alert.responder_id, now) and alert.state != "declined":
            raise Conflict("you already answered", code="already_answered")
        return None
    if alert.state == "accepted":
        return Assignment(role=alert.role or "cpr", aed=option_of(incident, alert.aed_id), fresh=False)
    if incident.closed or incident.slots_open == 0 or alert.state != "alerted":
        raise Conflict("thank you: enough helpers are on the way", code="no_longer_needed")
    for role, aed in _role_preferences(incident, alert):
        # Busy in this rescue (alerted to no other) until it closes, or at the latest until it expires.
        busy_until = epoch(incident.created_at) + policy.incident_expire_s
        if store.accept(incident_id, alert.responder_id, role, aed.aed_id if aed else None, now, busy_until):
            store.advance_status(incident_id, "responding", ("dispatching",))
            after = store.get(incident_id)
            if after is not None and after.slots_open == 0:
                # The accept stands whatever SNS does: a stand-down that fails keeps its notice
                # pending and the workflow's finish delivers it.
                with contextlib.suppress(NoticesPending):
                    stand_down_the_rest(store, notifier, after, policy, now)
            return Assignment(role=role, aed=aed)
    raise Conflict("thank you: enough helpers are on the way", code="no_longer_needed")


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
    store: AssignmentStore,
    aed_use: AedUse,
    caller: Caller,
    incident_id: str,
    event_type: str,
    lat: float | None,
    lng: float | None,
    now: datetime,
    idempotency_key: str | None = None,
) -> IncidentEvent:
    _, actor_role = _open_incident_actor(
        store, caller, incident_id, "report events", "the incident is closed"
    )
    if event_type not in EVENT_TYPES:
        raise ValidationFailed(f"type: one of {', '.join(EVENT_TYPES)}")
    event = IncidentEvent(incident_id, new_id(), event_type, caller.sub, actor_role, now, lat, lng)
    key = once_key(incident_id, caller.sub, event_type, idempotency_key)
    if key is None:
        store.add_event(event)
    else:
        stored = store.add_event_once(event, key)
        if stored.event_id != event.event_id:  # recorded before: nothing more to do
            return stored
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
    store: AssignmentStore,
    notifier: Notifier,
    aeds: AedFaults,
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
            incident_id, new_id(), "aed_reported", caller.sub, role, now, detail=f"{aed_id}: {kind}"
        )
    )
    faulty = option_of(incident, aed_id)
    incident = store.drop_aed_option(incident_id, aed_id) or incident
    rerouted = 0
    for runner in [a for a in store.alerts(incident_id) if a.state == "accepted" and a.aed_id == aed_id]:
        notify = runner.responder_id != caller.sub  # the reporter reads the new plan in the answer
        lease = epoch(now) + policy.notice_lease_s if notify else None
        start = (faulty.lat, faulty.lng) if faulty else (runner.lat, runner.lng)
        new_aed = _reroute(store, incident, runner, aed_id, start, lease)
        if new_aed is False:
            continue  # someone else re-routed this runner meanwhile
        rerouted += 1
        store.add_event(
            IncidentEvent(
                incident_id,
                new_id(),
                "aed_rerouted",
                None,
                "system",
                now,
                detail=f"{aed_id} -> {new_aed or 'cpr'}",
            )
        )
        fresh = store.get_alert(incident_id, runner.responder_id)
        if notify and fresh is not None:
            deliver(store, notifier, incident, [fresh], "reroute")  # a failure stays queued for the workflow
    own = store.get_alert(incident_id, caller.sub) if caller.sub else None
    assignment = (
        Assignment(role=own.role or "cpr", aed=option_of(incident, own.aed_id))
        if own is not None and own.state == "accepted"
        else None
    )
    return RescueAedReport(report=report, upload=upload, assignment=assignment, rerouted=rerouted)


def _reroute(
    store: AedReroutes,
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
    store: AssignmentStore, caller: Caller, incident_id: str, acting: str, closed_message: str
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
