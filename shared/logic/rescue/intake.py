"""Intake: an SOS becomes a stored incident (once per Idempotency-Key), and wave 1 is alerted inside
the request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import Conflict, TooManyRequests
from shared.identity import Caller
from shared.logic.concurrency import together
from shared.logic.hours import is_open
from shared.logic.ids import new_id
from shared.logic.ports import AED_USABLE, CLAIM, RESPONDER, GeoIndex
from shared.logic.rescue.limits import source_limits
from shared.logic.rescue.notices import deliver
from shared.logic.rescue.policy import Policy, epoch
from shared.logic.rescue.ports import (
    AedOption,
    DuplicateSos,
    Incident,
    IntakeStore,
    Notifier,
    SourceLimit,
    SourceOverLimit,
    Workflow,
)
from shared.logic.rescue.waves import write_alerts


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


@dataclass(frozen=True)
class SosAnswer:
    incident_id: str
    status: str
    alerted: int
    replayed: bool = False  # a retry with the same Idempotency-Key: the first request did the work


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raise_sos(
    store: IntakeStore,
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
    )
    limits = source_limits(request.source_ip, request.device_id, policy, now)
    stored, responders, aeds = together(
        lambda: _store(store, incident, key_hash, body_hash, limits, now),
        lambda: geo.nearby(RESPONDER, request.lat, request.lng, policy.wave1_radius_m, epoch(now)),
        lambda: geo.nearby(AED_USABLE, request.lat, request.lng, policy.aed_radius_m, epoch(now)),
    )
    if stored is not None:  # a retry: the first request did (or is doing) the work
        return SosAnswer(incident_id=stored.incident_id, status=stored.status, alerted=0, replayed=True)
    incident.aed_options = aed_options(aeds, now, policy.time_zone)
    incident.slots_aed = policy.aed_slots if incident.aed_options else 0
    fresh = together(
        lambda: write_alerts(
            store, incident, responders, set(), policy.wave1_size, wave=1, now=now, policy=policy
        ),
        lambda: workflow.start(incident.incident_id, workflow_input(incident.incident_id, policy)),
        # Accepts can only follow the alerts published in the next round, so the AED slot is in place.
        lambda: store.set_aed_options(incident.incident_id, incident.aed_options or [], incident.slots_aed),
    )[0]
    deliver(store, notifier, incident, fresh, "alert")
    return SosAnswer(incident_id=incident.incident_id, status=incident.status, alerted=len(fresh))


def _store(
    store: IntakeStore,
    incident: Incident,
    key_hash: str | None,
    body_hash: str,
    limits: list[SourceLimit],
    now: datetime,
) -> Incident | None:
    try:
        store.create(incident, key_hash, body_hash, limits)
        return None
    except SourceOverLimit as over:
        raise TooManyRequests(
            "too many SOS from here in a short time: if someone needs help, call 120",
            retry_after_s=over.retry_after_s,
        ) from over
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
