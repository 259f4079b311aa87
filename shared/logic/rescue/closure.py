"""Closure: one close per incident, the workflow's wait for it, and the finish after it: whoever is
still only alerted stood down, the AEDs used sent to restock and the others freed, points awarded once
per (incident, responder, reason)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.logic.ids import new_id
from shared.logic.rescue.notices import deliver_pending, stand_down_the_rest
from shared.logic.rescue.policy import OUTCOMES, Policy, epoch, incident_or_404, recount
from shared.logic.rescue.ports import (
    AedClaims,
    AedUse,
    Alert,
    Award,
    Closures,
    ClosureStore,
    Incident,
    IncidentEvent,
    Notifier,
    Workflow,
)


def close_incident(
    store: ClosureStore, workflow: Workflow, incident_id: str, outcome: str, now: datetime
) -> Incident:
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"outcome: one of {', '.join(OUTCOMES)}")
    if store.get(incident_id) is None:
        raise NotFound("incident not found")
    closed = store.close(incident_id, outcome, now)
    if closed is None:
        raise Conflict("the incident is already closed", code="already_closed")
    store.add_event(IncidentEvent(incident_id, new_id(), "closed", None, "system", now, detail=outcome))
    if closed.closure_token:
        workflow.resume(closed.closure_token)
    return closed


def park_closure_token(store: Closures, workflow: Workflow, incident_id: str, token: str) -> None:
    """The workflow waits for the close with this token; if the incident closed already, go on now."""
    if not store.store_closure_token(incident_id, token):
        workflow.resume(token)


def finish(
    store: ClosureStore,
    notifier: Notifier,
    claims: AedClaims,
    aed_use: AedUse,
    incident_id: str,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """After closure: stand down whoever is still only alerted, send a used AED to restock and free the
    others, award credits once."""
    incident = incident_or_404(store, incident_id)
    if not incident.closed:
        raise Conflict("incident is still open")
    deliver_pending(store, notifier, incident, policy, now)  # anything a failed step left behind
    stood = stand_down_the_rest(store, notifier, incident, policy, now)
    alerts = store.alerts(incident_id)
    recount(store, incident, alerts)
    runners_aeds = {a.aed_id for a in alerts if a.aed_id}
    attached = any(e.type == "aed_attached" for e in store.events(incident_id))
    for aed_id in sorted(runners_aeds):
        if attached:  # its pads are used: out of search until a manager restocks it
            aed_use.end_use(aed_id, incident_id, now)
        claims.release(aed_id, incident_id)
    store.release(incident_id, [a.responder_id for a in store.alerts(incident_id) if a.state == "accepted"])
    # Kept for the retention after the close, then gone (docs/privacy.md).
    store.expire(incident_id, epoch(now) + policy.retention_days * 86400)
    awards = credits_for(store, incident_id, policy)
    # Given even when nobody earned any: the incident then says its points are settled (0).
    awarded = store.award(incident_id, awards, now)
    return {"stood_down": stood, "credits": len(awards) if awarded else 0}


def credits_for(store: ClosureStore, incident_id: str, policy: Policy) -> list[Award]:
    """Points per (responder, reason): accepting, and each rescue step the responder reported."""
    return awards_for(store.alerts(incident_id), store.events(incident_id), policy.credit_points)


def awards_for(
    alerts: Sequence[Alert], events: Sequence[IncidentEvent], credit_points: Mapping[str, int]
) -> list[Award]:
    """The points a closed incident's records earn: once per (responder, reason). Nothing can be added
    to a closed incident, so these are the points its finish gives (the centre hears them at the close:
    shared/logic/dispatch/status.py)."""
    awards: dict[tuple[str, str], Award] = {}
    for alert in alerts:
        if alert.state == "accepted" and "accepted" in credit_points:
            awards[(alert.responder_id, "accepted")] = Award(
                alert.responder_id, "accepted", credit_points["accepted"]
            )
    for event in events:
        if event.actor_role == "responder" and event.actor and event.type in credit_points:
            key = (event.actor, event.type)
            awards.setdefault(key, Award(event.actor, event.type, credit_points[event.type]))
    return [a for a in awards.values() if a.points > 0]
