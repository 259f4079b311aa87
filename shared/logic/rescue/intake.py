"""Intake: an SOS becomes a stored incident (once per Idempotency-Key), and wave 1 is alerted inside
the request."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import Conflict, TooManyRequests
from shared.identity import Caller
from shared.logic.concurrency import settled, together
from shared.logic.hours import is_open
from shared.logic.ids import new_id
from shared.logic.ports import AED_USABLE, CLAIM, RESPONDER, GeoIndex
from shared.logic.rescue.limits import retry_after_s, source_limits
from shared.logic.rescue.notices import deliver, deliver_pending
from shared.logic.rescue.policy import Policy, epoch, hashed
from shared.logic.rescue.ports import (
    INCIDENT,
    AedOption,
    DuplicateSos,
    GuardKey,
    Incident,
    IncidentEvent,
    IntakeStore,
    Notifier,
    SourceLimit,
    SourceOverLimit,
    Workflow,
)
from shared.logic.rescue.waves import write_alerts
from shared.logic.teams import on_duty_members


@dataclass(frozen=True)
class SosRequest:
    lat: float
    lng: float
    caller_phone: str | None
    note: str | None
    caller: Caller
    idempotency_key: str | None
    body: Mapping[str, Any]
    source_ip: str | None = None  # as API Gateway saw it
    device_id: str | None = None  # the app's, when it sends one
    # "app" (a bystander's SOS) or "console" (a dispatcher raising it for a caller: POST /v1/incidents,
    # its creator the dispatcher, its Idempotency-Key that dispatcher's own)
    source: str = "app"


@dataclass(frozen=True)
class SosAnswer:
    incident_id: str
    status: str
    alerted: int
    replayed: bool = False  # a retry with the same Idempotency-Key: the first request did the work
    merged: bool = False  # joined an open incident close by: nobody alerted again


def raise_sos(
    store: IntakeStore,
    geo: GeoIndex,
    notifier: Notifier,
    workflow: Workflow,
    request: SosRequest,
    policy: Policy,
    now: datetime,
) -> SosAnswer:
    """Store the incident (with its idempotency key and its source's count, atomically), then alert
    wave 1 at once, unless it joins an open incident close by (``Policy.merge_radius_m`` and
    ``merge_window_s``): a second caller for the same patient alerts nobody again.

    Critical path, in sequential round trips: [store incident ∥ find responders ∥ find AEDs ∥ find
    open incidents near ∥ find teams' areas, then (when one holds the SOS) their members' positions] →
    [write alerts ∥ start the workflow ∥ index the incident] → [publish alerts]. The workflow's first
    state re-delivers anything this request could not (a crash, an SNS failure), so the SOS never
    depends on this Lambda finishing.
    """
    body_hash = hashed(json.dumps(request.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    key_hash = None
    if request.idempotency_key:
        key_hash = (
            hashed(request.idempotency_key)
            if request.source == "app"
            else hashed(request.source, request.caller.sub, request.idempotency_key)
        )
    incident = Incident(
        incident_id=new_id(),
        status="dispatching",
        lat=request.lat,
        lng=request.lng,
        created_at=now,
        slots_cpr=policy.cpr_slots,
        slots_aed=0,
        created_by=request.caller.sub,
        caller_phone=request.caller_phone,
        note=request.note,
        source=request.source,
    )
    limits = source_limits(request.source_ip, request.device_id, policy, now)
    stored, responders, aeds, near, found = together(
        lambda: _store(store, incident, key_hash, body_hash, limits, now),
        lambda: geo.nearby(RESPONDER, request.lat, request.lng, policy.wave1_radius_m, epoch(now)),
        lambda: geo.nearby(AED_USABLE, request.lat, request.lng, policy.aed_radius_m, epoch(now)),
        lambda: geo.nearby(INCIDENT, request.lat, request.lng, policy.merge_radius_m, epoch(now)),
        lambda: _team_members(geo, request.lat, request.lng, now, policy),
    )
    members = [] if isinstance(found, Exception) else found
    if stored is not None:  # a retry with the same key: the first request did (some of) the work
        if stored.merged_into:
            joined = store.get(stored.merged_into) or stored
            return SosAnswer(joined.incident_id, joined.status, alerted=0, replayed=True)
        alerted = 0
        if stored.status == "dispatching":  # the first may have failed half-way: finish its work
            alerted = _wave1(
                store, geo, notifier, workflow, stored, responders, members, aeds, policy, now, resume=True
            )
            _raise_if_failed(found)
        return SosAnswer(stored.incident_id, stored.status, alerted=alerted, replayed=True)
    joined = _join(store, incident, near, request, now)
    if joined is not None:
        return SosAnswer(incident_id=joined.incident_id, status=joined.status, alerted=0, merged=True)
    alerted = _wave1(
        store, geo, notifier, workflow, incident, responders, members, aeds, policy, now, resume=False
    )
    _raise_if_failed(found)
    return SosAnswer(incident_id=incident.incident_id, status=incident.status, alerted=alerted)


def raise_dispatched(
    store: IntakeStore,
    geo: GeoIndex,
    notifier: Notifier,
    workflow: Workflow,
    incident: Incident,
    keys: Sequence[GuardKey],
    reused: Conflict,
    policy: Policy,
    now: datetime,
) -> SosAnswer:
    """An incident a 120 dispatch centre raised (shared/logic/dispatch/inbound.py): the SOS's path, stored
    with ``keys`` in its transaction (any of them written before: that incident, finished if it was left
    half-way, or ``reused`` when a key was written for another), then wave 1 alerted at once.

    Unlike a public SOS, it counts against no source's limit (the centre signed it, and triaged the call)
    and joins no open incident near: the centre's updates must land on the incident it raised. It is
    indexed for the merge window all the same, so a bystander's SOS for the same patient joins it. Its
    alerts pass the responders' hourly and daily caps, as every incident with a creator does
    (shared/logic/rescue/limits.py), and count towards them."""
    stored, responders, aeds, found = together(
        lambda: _store(store, incident, None, "", [], now, keys, reused),
        lambda: geo.nearby(RESPONDER, incident.lat, incident.lng, policy.wave1_radius_m, epoch(now)),
        lambda: geo.nearby(AED_USABLE, incident.lat, incident.lng, policy.aed_radius_m, epoch(now)),
        lambda: _team_members(geo, incident.lat, incident.lng, now, policy),
    )
    members = [] if isinstance(found, Exception) else found
    if stored is not None:  # raised before (a retry, or the same CAD number again)
        alerted = 0
        if stored.status == "dispatching":  # the first may have failed half-way: finish its work
            alerted = _wave1(
                store, geo, notifier, workflow, stored, responders, members, aeds, policy, now, resume=True
            )
            _raise_if_failed(found)
        return SosAnswer(stored.incident_id, stored.status, alerted=alerted, replayed=True)
    alerted = _wave1(
        store, geo, notifier, workflow, incident, responders, members, aeds, policy, now, resume=False
    )
    _raise_if_failed(found)
    return SosAnswer(incident_id=incident.incident_id, status=incident.status, alerted=alerted)


def _wave1(
    store: IntakeStore,
    geo: GeoIndex,
    notifier: Notifier,
    workflow: Workflow,
    incident: Incident,
    responders: list[Any],
    members: list[Any],
    aeds: list[Any],
    policy: Policy,
    now: datetime,
    *,
    resume: bool,
) -> int:
    """Wave 1's alerts, the workflow, the AED slot and the merge index entry, then the alerts published;
    how many were published. Alerts are published even when a call beside them failed (the error is
    raised after: the app retries with its key). ``resume``: a retry finishing what its first request
    left (each step is idempotent: nobody alerted twice, one execution, AED options set once), and
    publishing what it left pending.

    Wave 1 is the ``wave1_size`` nearest, and beside them every on-duty member of a team or E-station
    whose area and hours hold the incident (``members``: shared/logic/teams.py), whatever the cut; a
    member among the nearest is alerted once, as a member (the alert carries the team)."""
    already = {a.responder_id for a in store.alerts(incident.incident_id)} if resume else set()
    team_members = {h.entity_id for h in members}
    nearest = [h for h in responders if h.entity_id not in team_members]
    options_unset = incident.aed_options is None  # else the first request set them: a runner may hold one
    if options_unset:
        incident.aed_options = aed_options(aeds, now, policy.time_zone)
        incident.slots_aed = policy.aed_slots if incident.aed_options else 0

    def set_options() -> None:
        if options_unset:
            store.set_aed_options(incident.incident_id, incident.aed_options or [], incident.slots_aed)

    written, written_members, *others = settled(
        lambda: write_alerts(
            store,
            incident,
            nearest,
            already,
            policy.wave1_size - len(already - team_members),
            wave=1,
            now=now,
            policy=policy,
        ),
        lambda: write_alerts(store, incident, members, already, len(members), wave=1, now=now, policy=policy),
        lambda: workflow.start(incident.incident_id, workflow_input(incident.incident_id, policy)),
        # Accepts can only follow the alerts published in the next round, so the AED slot is in place.
        set_options,
        # Findable by the next caller for this patient, for the merge window.
        lambda: geo.put(
            INCIDENT,
            incident.incident_id,
            incident.lat,
            incident.lng,
            epoch(incident.created_at) + policy.merge_window_s,
        ),
    )
    fresh = [a for part in (written, written_members) if not isinstance(part, BaseException) for a in part]
    known = len(already) + len(fresh)
    failed, _ = settled(
        lambda: deliver(store, notifier, incident, fresh, "alert"),
        # The dispatchers' count, beside the publishing (never before the first alert). Its failure is
        # let go: the workflow's steps set the true count (waves.redeliver, each wave, the finish).
        lambda: store.count_alerted(incident.incident_id, known) if known > incident.alerted else None,
    )
    if isinstance(failed, BaseException):
        raise failed
    published = len(fresh) - failed
    if resume:
        published += deliver_pending(store, notifier, incident, policy, now)
    for failure in (written, written_members, *others):
        if isinstance(failure, BaseException):
            raise failure
    return published


def _team_members(geo: GeoIndex, lat: float, lng: float, now: datetime, policy: Policy) -> Any:
    """The team members wave 1 alerts beside the nearest (shared/logic/teams.py), or the error that kept
    them from being found: the nearest are alerted all the same, and the error is raised after them (the
    app retries with its key, and that retry alerts the members)."""
    try:
        return on_duty_members(geo, lat, lng, now, policy.time_zone)
    except Exception as error:
        return error


def _raise_if_failed(found: Any) -> None:
    if isinstance(found, Exception):
        raise found


def _join(
    store: IntakeStore, incident: Incident, near: list[Any], request: SosRequest, now: datetime
) -> Incident | None:
    """The earliest open incident near this SOS and made before it (ids sort by time), which this SOS
    then joins; None: this SOS is the first for its patient. Two SOS at the same moment may both go
    out: neither sees the other yet, and each alerts (nobody twice, the alert caps hold)."""
    for hit in sorted(h for h in (h.entity_id for h in near) if h < incident.incident_id):
        earlier = store.get(hit)
        if earlier is None or earlier.closed or earlier.merged_into:
            continue
        joined = IncidentEvent(
            earlier.incident_id, new_id(), "caller_joined", None, "system", now, request.lat, request.lng,
            detail=incident.incident_id,  # the joining SOS: its caller's number and note, for dispatchers
        )  # fmt: skip
        if store.merge(incident.incident_id, earlier.incident_id, joined):
            return earlier
    return None


def _store(
    store: IntakeStore,
    incident: Incident,
    key_hash: str | None,
    body_hash: str,
    limits: list[SourceLimit],
    now: datetime,
    keys: Sequence[GuardKey] = (),
    reused: Conflict | None = None,
) -> Incident | None:
    try:
        store.create(incident, key_hash, body_hash, limits, keys)
        return None
    except SourceOverLimit as over:
        raise TooManyRequests(
            "too many SOS from here in a short time: if someone needs help, call 120",
            retry_after_s=retry_after_s(over.limit, now),
        ) from over
    except DuplicateSos as duplicate:
        if not duplicate.same_body:
            raise reused or Conflict(
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
