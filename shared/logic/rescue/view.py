"""Who may see what of an incident: staff everything, an alerted responder the place, its own alert and
what happened, anyone else nothing (404)."""

from __future__ import annotations

from typing import Any

from shared.errors import NotFound
from shared.identity import Caller
from shared.logic.rescue.policy import STAFF, option_of
from shared.logic.rescue.ports import ViewStore


def view_incident(store: ViewStore, caller: Caller, incident_id: str) -> dict[str, Any]:
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
        "merged_into": incident.merged_into,
        # A centre's call (source "dispatch"): where exactly, for whoever goes there.
        "nature": incident.nature,
        "address": incident.address,
        "floor": incident.floor,
        "alerts": [
            {
                "responder_id": a.responder_id,
                "state": a.state,
                "role": a.role,
                "distance_m": a.distance_m,
                "aed_id": a.aed_id,
                "team_id": a.team_id,
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
            # An anonymous SOS's number is whatever was typed: a dispatcher calls it back with care.
            caller_phone_unverified=(incident.created_by is None) if incident.caller_phone else None,
            note=incident.note,
            centre_id=incident.centre_id,
            call_received_at=incident.call_received_at,
            slots={
                "cpr": incident.slots_cpr,
                "aed": incident.slots_aed,
                "filled_cpr": incident.filled_cpr,
                "filled_aed": incident.filled_aed,
            },
        )
    # The AED being fetched: a responder's own (its runner's role), for staff the accepted runner's.
    runner = own
    if staff and (runner is None or not runner.aed_id):
        runner = next((a for a in alerts if a.state == "accepted" and a.role == "aed" and a.aed_id), None)
    if runner is not None and runner.aed_id:
        option = option_of(incident, runner.aed_id)
        view["aed"] = option.__dict__ if option else None
    return view
