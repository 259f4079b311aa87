"""What a 120 centre's CAD system sends, signed (docs/dispatch.md): an incident, raised through the SOS's
own path, and updates on it, acted on as a dispatcher's event and close are.

Every call is authenticated first, before anything is read or written: an unknown centre, a centre
without a secret, a bad or stale signature all get the same 401 (``Unauthorized(REFUSED)``), and nothing
is stored. Then:

- an incident is stored once per (centre, CAD number) and once per webhook-id, both guard keys written in
  the incident's own transaction: the same webhook-id or the same CAD number again (a retry, a second
  call-taker, two deliveries at once) answers the same incident and alerts nobody again;
- an update's webhook-id is claimed before it acts, so a replay acts on nothing twice (the event is once
  per incident anyway, a close happens once) and answers 200 with the incident as it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from shared.identity import Caller
from shared.logic.dispatch.ports import UPDATE_TYPES, CentreKeys, CentreReader, CentreSecrets, DispatchCentre
from shared.logic.dispatch.signatures import BadSignature, keys_at, verify
from shared.logic.ids import new_id
from shared.logic.ports import GeoIndex
from shared.logic.rescue import assignment, closure, intake
from shared.logic.rescue.policy import OUTCOMES, Policy, epoch, hashed, incident_or_404
from shared.logic.rescue.ports import (
    AssignmentStore,
    ClosureStore,
    GuardKey,
    Incident,
    IntakeStore,
    Notifier,
    Workflow,
)

# The one answer to every call not proven to come from the centre: no hint of which check failed.
REFUSED = "the request is not signed by a registered dispatch centre"
ACTOR_PREFIX = "dispatch-centre:"


class NotSigned(Unauthorized):
    """A 401: ``reason`` is for the logs, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED)
        self.reason = reason


def centre_actor(centre_id: str) -> str:
    """Who a centre is in the incident's record and timeline (its ``created_by``, its events' actor)."""
    return ACTOR_PREFIX + centre_id


def centre_caller(centre_id: str) -> Caller:
    """The centre acting on its incident: as a dispatcher does (assignment.py, closure.py)."""
    return Caller(sub=centre_actor(centre_id), roles=frozenset({"dispatcher"}))


def authenticate(
    centres: CentreReader,
    secrets: CentreSecrets,
    centre_id: str,
    body: str,
    headers: Mapping[str, str],
    now: datetime,
) -> tuple[DispatchCentre, str]:
    """The centre and the call's webhook-id, when the call is signed with one of the centre's secrets in
    force at ``now``; else NotSigned.

    The centre is first taken as read in the last minute (one round trip less before the first alert of
    a centre's incident); a call it refuses is checked again against the centre read now, so a secret
    issued in that minute (a rotation) verifies at once."""
    recent = centres.get_recent(centre_id)
    try:
        return _signed_by(recent, secrets, centre_id, body, headers, now)
    except NotSigned:
        fresh = centres.get(centre_id)
        if fresh == recent:
            raise
        return _signed_by(fresh, secrets, centre_id, body, headers, now)


def _signed_by(
    centre: DispatchCentre | None,
    secrets: CentreSecrets,
    centre_id: str,
    body: str,
    headers: Mapping[str, str],
    now: datetime,
) -> tuple[DispatchCentre, str]:
    if centre is None or centre.secret_version is None:
        raise NotSigned("no such centre, or no secret issued to it")
    held = secrets.read(centre_id, centre.secret_version)
    if held is None:
        raise NotSigned("the centre's secret is not in the secret store")
    try:
        return centre, verify(keys_at(held, now), body, headers, now)
    except BadSignature as refused:
        raise NotSigned(str(refused)) from None


# --- incidents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CentreCall:
    """An incident as the centre sends it (shared/api/dispatch.py checked its fields); WGS-84."""

    cad_incident_no: str
    nature: str
    lat: float
    lng: float
    address: str | None = None
    floor: str | None = None
    callback_phone: str | None = None
    note: str | None = None
    call_received_at: datetime | None = None


def raise_incident(
    store: IntakeStore,
    geo: GeoIndex,
    notifier: Notifier,
    workflow: Workflow,
    centre_id: str,
    webhook_id: str,
    call: CentreCall,
    policy: Policy,
    now: datetime,
) -> intake.SosAnswer:
    """The centre's incident, through the SOS's path (intake.raise_dispatched: waves, roles, the AED,
    the workflow, credits), once per CAD number and once per webhook-id."""
    incident = Incident(
        incident_id=new_id(),
        status="dispatching",
        lat=call.lat,
        lng=call.lng,
        created_at=now,
        slots_cpr=policy.cpr_slots,
        slots_aed=0,
        created_by=centre_actor(centre_id),
        caller_phone=call.callback_phone,
        note=call.note,
        source="dispatch",
        cad_incident_no=call.cad_incident_no,
        centre_id=centre_id,
        nature=call.nature,
        address=call.address,
        floor=call.floor,
        call_received_at=call.call_received_at,
    )
    cad = cad_key(centre_id, call.cad_incident_no)
    expires_at = keys_expire_at(now, policy)
    keys = [
        GuardKey(cad, cad, expires_at),  # first: the same CAD number again is that incident, whatever the id
        GuardKey(hashed("dispatch-incident-webhook", centre_id, webhook_id), cad, expires_at),
    ]
    reused = Conflict(
        "this webhook-id raised an incident with another cad_incident_no", code="webhook_id_reused"
    )
    return intake.raise_dispatched(store, geo, notifier, workflow, incident, keys, reused, policy, now)


def cad_key(centre_id: str, cad_incident_no: str) -> str:
    return hashed("dispatch-cad", centre_id, cad_incident_no)


def keys_expire_at(now: datetime, policy: Policy) -> int:
    """A centre's keys outlive its incident's records: the longest an incident stays open, then the
    retention of its records (updates for a CAD number older than that find nothing: 404)."""
    return epoch(now) + policy.incident_expire_s + policy.retention_days * 86400


# --- updates --------------------------------------------------------------------------------------


class UpdateStore(AssignmentStore, ClosureStore, Protocol):
    """What a centre's update acts on: a dispatcher's event (assignment.py) or close (closure.py)."""


@dataclass(frozen=True)
class UpdateAnswer:
    incident_id: str
    type: str
    status: str
    outcome: str | None
    replayed: bool  # the same webhook-id came before: nothing was done twice


def apply_update(
    store: UpdateStore,
    keys: CentreKeys,
    workflow: Workflow,
    centre_id: str,
    cad_incident_no: str,
    webhook_id: str,
    update_type: str,
    outcome: str | None,
    policy: Policy,
    now: datetime,
) -> UpdateAnswer:
    """``ems_arrived``: the dispatcher's event of that type (once per incident); ``cancelled``: the
    dispatcher's close with outcome cancelled; ``closed``: the close with ``outcome``. A CAD number this
    centre never raised: 404. What a dispatcher would be refused (an event on a closed incident, a second
    close) is refused the same (409), except for a replay of a webhook-id, which answers the incident."""
    if update_type not in UPDATE_TYPES:
        raise ValidationFailed(f"type: one of {', '.join(UPDATE_TYPES)}")
    if (update_type == "closed") != (outcome is not None) or (outcome and outcome not in OUTCOMES):
        raise ValidationFailed(f"outcome: with type closed only, one of {', '.join(OUTCOMES)}")
    incident_id = keys.incident_of(cad_key(centre_id, cad_incident_no))
    if incident_id is None:
        raise NotFound("no incident with this cad_incident_no from this centre")
    claim = GuardKey(
        hashed("dispatch-update-webhook", centre_id, webhook_id),
        hashed(cad_incident_no, update_type, outcome or ""),
        keys_expire_at(now, policy),
    )
    earlier = keys.claim(claim, incident_id)
    if earlier is not None and earlier.body_hash != claim.body_hash:
        raise Conflict("this webhook-id was sent before with another update", code="webhook_id_reused")
    replayed = earlier is not None
    try:
        if update_type == "ems_arrived":
            assignment.record_event(
                store, _NO_AED_USE, centre_caller(centre_id), incident_id, "ems_arrived", None, None, now
            )
        else:
            closure.close_incident(store, workflow, incident_id, outcome or "cancelled", now)
    except Conflict:
        if not replayed:
            keys.release(claim)  # refused, so not done: the same message again is refused again
            raise
    incident = incident_or_404(store, incident_id)
    return UpdateAnswer(incident_id, update_type, incident.status, incident.outcome, replayed)


class _NoAedUse:
    """A centre's events never touch an AED (ems_arrived is the only one): nothing to start or end."""

    def start_use(self, aed_id: str, incident_id: str, now: datetime) -> object:
        raise AssertionError("a dispatch centre reports no AED use")

    def end_use(self, aed_id: str, incident_id: str, now: datetime) -> object:
        raise AssertionError("a dispatch centre reports no AED use")


_NO_AED_USE = _NoAedUse()
