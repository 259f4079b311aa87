"""The dispatchers' console: every incident, open or closed, newest first, and a rescue's timeline as it
goes, from the SOS to the points. An alerted responder may read the timeline too: its own part and what
happened to the incident, with nobody else named."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.errors import NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.rescue.policy import STAFF
from shared.logic.rescue.ports import (
    Alert,
    ConsoleStore,
    Incident,
    IncidentEvent,
    IncidentListing,
    IncidentPage,
    IncidentSummary,
)

LISTS = ("open", "closed")
MAX_PAGE = 100


def list_incidents(
    store: IncidentListing, status: str, since: datetime | None, limit: int, next_token: str | None
) -> IncidentPage:
    """One page of the open (every status but closed; a merged SOS is on no list) or the closed list,
    newest first, created at ``since`` or later."""
    if status not in LISTS:
        raise ValidationFailed("status: open or closed")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit: from 1 to {MAX_PAGE}")
    if since is not None and since.tzinfo is None:
        raise ValidationFailed("since: must carry a UTC offset, e.g. 2026-12-06T03:00:00+08:00")
    return store.list_incidents(status, since, limit, next_token)


def listed(incident: IncidentSummary) -> dict[str, Any]:
    """A row of the list. ``accepted`` is the slots taken (each accept takes one, in the same write);
    a runner sent to CPR when no AED is left still holds the AED slot they took."""
    return {
        "incident_id": incident.incident_id,
        "source": incident.source,
        "cad_incident_no": incident.cad_incident_no,
        "lat": incident.lat,
        "lng": incident.lng,
        "status": incident.status,
        "alerted": incident.alerted,
        "accepted": incident.filled_cpr + incident.filled_aed,
        "roles": {
            "cpr": {"filled": incident.filled_cpr, "slots": incident.slots_cpr},
            "aed": {"filled": incident.filled_aed, "slots": incident.slots_aed},
        },
        "unanswered": incident.unanswered,
        "outcome": incident.outcome,
        "created_at": incident.created_at,
        "closed_at": instant(incident.closed_at),
    }


def instant(text: str | None) -> datetime | None:
    """A stored ISO 8601 time (closed_at: written by the close, or by the workflow's expiry with its
    own clock's format), as an instant; naive ones are UTC; None when absent or unreadable."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


# --- the timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: datetime
    type: str
    responder_id: str | None = None  # whose: a responder's alert, answer, event or points
    fields: dict[str, Any] = field(default_factory=dict)

    def shown(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"at": self.at, "type": self.type}
        if self.responder_id is not None:
            entry["responder_id"] = self.responder_id
        return entry | {k: v for k, v in self.fields.items() if v is not None}


# Of entries at the very same instant, the SOS comes first and the points last.
_RANK = {"created": 0, "merged": 1, "alerted": 2, "closed": 8, "credited": 9}


def timeline(store: ConsoleStore, caller: Caller, incident_id: str) -> list[dict[str, Any]]:
    """Every entry of the rescue in time order: staff see all; an alerted responder sees its own alert,
    answer, events and points and what happened to the incident (no other responder, no caller, no
    dispatcher named); anyone else gets the 404 of an incident that does not exist."""
    incident = store.get(incident_id)
    if incident is None:
        raise NotFound("incident not found")
    staff = caller.has_any(STAFF)
    alerts = store.alerts(incident_id)
    if not staff and not any(a.responder_id == caller.sub for a in alerts):
        raise NotFound("incident not found")
    mine = alerts if staff else [a for a in alerts if a.responder_id == caller.sub]
    events = store.events(incident_id)
    entries = [
        *_opening(incident, staff),
        *(entry for alert in mine for entry in _alert_entries(alert)),
        *(_event_entry(event, staff) for event in events if staff or _shown_to(event, caller)),
        *_expiry(incident, events),
    ]
    if incident.credits_awarded:
        accepted = [a.responder_id for a in mine if a.state == "accepted"]
        for responder_id, credits in store.credits_of(incident_id, accepted).items():
            entries += [
                Entry(c.at, "credited", responder_id, {"reason": c.reason, "points": c.points})
                for c in credits
            ]
    ordered = sorted(enumerate(entries), key=lambda e: (e[1].at, _RANK.get(e[1].type, 5), e[0]))
    return [entry.shown() for _, entry in ordered]


def _opening(incident: Incident, staff: bool) -> Iterable[Entry]:
    created: dict[str, Any] = {"source": incident.source}
    if staff:
        created |= {"cad_incident_no": incident.cad_incident_no, "lat": incident.lat, "lng": incident.lng}
        if incident.source == "console":  # the dispatcher who raised it for a caller
            created["by_id"] = incident.created_by
    yield Entry(incident.created_at, "created", fields=created)
    if incident.merged_into:  # decided as the SOS came in: it joined an incident already under way
        yield Entry(incident.created_at, "merged", fields={"merged_into": incident.merged_into})


def _alert_entries(alert: Alert) -> Iterable[Entry]:
    who = alert.responder_id
    yield Entry(alert.alerted_at, "alerted", who, {"distance_m": alert.distance_m, "wave": alert.wave})
    if alert.answered_at is not None and alert.state in ("accepted", "declined"):
        # The role as it stands: a runner whose AED failed shows "cpr" (an aed_rerouted entry says when).
        fields = {"role": alert.role, "aed_id": alert.aed_id} if alert.state == "accepted" else {}
        yield Entry(alert.answered_at, alert.state, who, fields)
    if alert.stood_down_at is not None:
        yield Entry(alert.stood_down_at, "stood_down", who)


def _shown_to(event: IncidentEvent, caller: Caller) -> bool:
    """A responder's own events and the incident's (the system's, staff's); never another responder's."""
    return event.actor_role != "responder" or (event.actor is not None and event.actor == caller.sub)


def _event_entry(event: IncidentEvent, staff: bool) -> Entry:
    by_responder = event.actor_role == "responder"
    fields: dict[str, Any] = {"by": event.actor_role}
    if staff and event.actor and not by_responder:
        fields["by_id"] = event.actor  # the dispatcher or admin who reported it
    # Never where the reporter was (docs/privacy.md: no route shows an event's position).
    if event.type == "closed":
        fields["outcome"] = event.detail
    elif event.type == "aed_reported" and event.detail and ": " in event.detail:
        aed_id, kind = event.detail.rsplit(": ", 1)
        fields |= {"aed_id": aed_id, "kind": kind}
    elif event.type == "aed_rerouted" and event.detail and " -> " in event.detail:
        old, new = event.detail.split(" -> ", 1)
        fields |= {"from_aed_id": old, "to_aed_id": None if new == "cpr" else new, "to_cpr": new == "cpr"}
    elif staff and event.detail:  # e.g. caller_joined: the joining SOS, where its caller's number is
        fields["detail"] = event.detail
    return Entry(event.at, event.type, event.actor if by_responder else None, fields)


def _expiry(incident: Incident, events: list[IncidentEvent]) -> Iterable[Entry]:
    """An incident the workflow closed itself (expired) has no closed event: its closing is read from
    the incident, which the workflow's own write stamped."""
    at = instant(incident.closed_at)
    if incident.closed and at is not None and not any(e.type == "closed" for e in events):
        yield Entry(at, "closed", fields={"by": "system", "outcome": incident.outcome})
