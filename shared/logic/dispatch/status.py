"""What a dispatch centre hears of an incident (docs/dispatch.md, "Status webhooks"): its status events,
derived from the incident's records as they stand, each under a key that never changes, in the order
they happened.

Derived, not logged beside each change: nothing on the rescue's path writes anything more for the
centres. A delivery run (shared/logic/dispatch/outbound.py) reads the incident, its alerts and its events
together after the change that woke it, so whatever it sees, it also sees what caused it (an arrival is
never seen without its responder's accept); runs for one incident take turns (one FIFO message group per
incident), so what one run sent, no later run sends anything before.

Responders are opaque here: a reference per (incident, responder), never their id, phone or position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.logic.dispatch.ports import DispatchCentre
from shared.logic.rescue.closure import awards_for
from shared.logic.rescue.console import instant
from shared.logic.rescue.ports import Alert, Incident, IncidentEvent

# A responder's reported steps, as the centre's types name them.
RESPONDER_STEPS = {
    "arrived": "responder.arrived",
    "cpr_started": "responder.cpr_started",
    "aed_attached": "responder.aed_attached",
    "shock_delivered": "responder.shock_delivered",
}
STATUS_TYPES = (
    "incident.created",
    "incident.alerting",
    "incident.unanswered",
    "responder.accepted",
    *RESPONDER_STEPS.values(),
    "incident.closed",
)
# Of events at the very same instant: the incident's opening first, its close last.
_RANK = {"incident.created": 0, "incident.alerting": 1, "responder.accepted": 2, "incident.unanswered": 4}
_CLOSED_RANK = 9
_STEP_RANK = 3


@dataclass(frozen=True)
class StatusEvent:
    key: str  # stable within the incident: the webhook-id is made from it
    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def position(self) -> str:
        """Sorts as the events happened: the instant (UTC, to the microsecond), then the rank of events
        at the same instant, then the key."""
        rank = _CLOSED_RANK if self.type == "incident.closed" else _RANK.get(self.type, _STEP_RANK)
        return f"{self.at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{rank}|{self.key}"


def responder_ref(incident_id: str, responder_id: str) -> str:
    """The responder as the centre knows them in one incident: the same in each of its webhooks, unlinkable
    across incidents, never their id."""
    return "r_" + hashlib.sha256(f"{incident_id}\x00{responder_id}".encode()).hexdigest()[:16]


def webhook_id(incident_id: str, key: str) -> str:
    """The same for every try of one event to one centre (the centre deduplicates by it)."""
    return f"msg_{incident_id}.{key}"


def status_events(
    incident: Incident,
    alerts: Sequence[Alert],
    events: Sequence[IncidentEvent],
    credit_points: Mapping[str, int],
) -> list[StatusEvent]:
    """Every status event the incident has reached, in the order they happened. A merged SOS has none
    (its caller is on the incident it joined, which the centres hear of). ``credit_points``: the
    deployment's points per reason (the rescue Policy's), for the close's ``credits_awarded``."""
    if incident.status == "merged" or incident.merged_into:
        return []
    found: list[StatusEvent] = []
    if incident.source in ("app", "console"):  # a public SOS, or a dispatcher's for a caller
        found.append(
            StatusEvent(
                "created",
                "incident.created",
                incident.created_at,
                {"lat": incident.lat, "lng": incident.lng, "created_at": _iso(incident.created_at)},
            )
        )
    # The incident's count, written once a wave's alerts are out: never a wave's alerts half written.
    alerted = incident.alerted
    if alerted:
        at = max((a.alerted_at for a in alerts), default=incident.created_at)
        found.append(StatusEvent(f"alerting.{alerted}", "incident.alerting", at, {"alerted": alerted}))
    for alert in alerts:
        if alert.role is not None and alert.answered_at is not None:  # set by the accept only
            ref = responder_ref(incident.incident_id, alert.responder_id)
            found.append(
                StatusEvent(
                    f"accepted.{ref}",
                    "responder.accepted",
                    alert.answered_at,
                    {"responder_ref": ref, "role": alert.role, "distance_m": round(alert.distance_m)},
                )
            )
    for event in events:
        if event.type in RESPONDER_STEPS and event.actor_role == "responder" and event.actor:
            ref = responder_ref(incident.incident_id, event.actor)
            found.append(
                StatusEvent(
                    f"ev.{event.event_id}", RESPONDER_STEPS[event.type], event.at, {"responder_ref": ref}
                )
            )
    if incident.unanswered:
        at = next((e.at for e in events if e.type == "unanswered"), None) or max(
            (a.alerted_at for a in alerts), default=incident.created_at
        )
        found.append(StatusEvent("unanswered", "incident.unanswered", at, {"alerted": alerted}))
    if incident.closed:
        # Heard at the close, not at the workflow's finish (which gives the points once the wave under way
        # ends, up to a minute later): nothing can be added to a closed incident, so its records already
        # say what the finish will give; once given, the incident says it.
        points = (
            incident.credits_points
            if incident.credits_awarded and incident.credits_points is not None
            else sum(a.points for a in awards_for(alerts, events, credit_points))
        )
        # Last, whatever the functions' clocks say (nothing is recorded after a close).
        at = max([instant(incident.closed_at) or incident.created_at, *(e.at for e in found)])
        found.append(
            StatusEvent(
                "closed", "incident.closed", at, {"outcome": incident.outcome, "credits_awarded": points}
            )
        )
    return sorted(found, key=lambda e: e.position)


def body(incident: Incident, event: StatusEvent) -> str:
    """The webhook's JSON body, as the contract gives it: ``{"type", "timestamp", "data"}``."""
    data: dict[str, Any] = {"incident_id": incident.incident_id}
    if incident.cad_incident_no:
        data["cad_incident_no"] = incident.cad_incident_no
    payload = {"type": event.type, "timestamp": _iso(event.at), "data": data | event.data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def recipients(incident: Incident, centres: Sequence[DispatchCentre]) -> list[DispatchCentre]:
    """The centres that hear of this incident: the centre that raised it; for a public SOS, each centre
    whose service area holds it. Only a centre registered by the time the incident was raised: one
    registered later is never told of the incidents before it (history such as the demo's seeded week)."""
    if incident.source == "dispatch":
        found = [c for c in centres if c.centre_id == incident.centre_id]
    else:
        found = [c for c in centres if in_area(c.area, incident.lat, incident.lng)]
    return [c for c in found if c.created_at <= incident.created_at]


def in_area(area: Sequence[float], lat: float, lng: float) -> bool:
    min_lng, min_lat, max_lng, max_lat = area
    return min_lng <= lng <= max_lng and min_lat <= lat <= max_lat


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
