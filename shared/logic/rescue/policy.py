"""The deployment's dispatch rules, and the few small rules every stage of the rescue loop shares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.errors import NotFound
from shared.logic.rescue.ports import AedOption, Alert, AlertCounts, Incident, IncidentReader

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
    # Abuse limits (shared/logic/rescue/limits.py): SOS per source and window, alerts per responder.
    sos_per_ip: int = 30
    sos_per_device: int = 5
    sos_window_s: int = 600
    alerts_per_hour: int = 3
    alerts_per_day: int = 8
    # A second SOS this close to an open incident, this soon after it, joins it (intake.py).
    merge_radius_m: float = 50.0
    merge_window_s: int = 600
    # How long a finished rescue's alerts and events (responders' phones and positions) are kept.
    retention_days: int = 30


# Facts that happen once: a responder arrives, starts CPR, attaches the AED once; the ambulance arrives
# once. A repeat (a retry, a double tap, an app re-sending) answers the first record and stores nothing.
# Shocks repeat for real, so only a retry of the same request (its Idempotency-Key) is one.
ONCE_PER_RESPONDER = frozenset({"arrived", "cpr_started", "aed_attached"})
ONCE_PER_INCIDENT = frozenset({"ems_arrived", "unanswered"})


def once_key(incident_id: str, actor: str | None, event_type: str, idempotency_key: str | None) -> str | None:
    """The key that makes an event once-only, hashed (never stored as sent); None: every one is new."""
    if event_type in ONCE_PER_INCIDENT:
        parts = ["event", incident_id, event_type]
    elif event_type in ONCE_PER_RESPONDER:
        parts = ["event", incident_id, event_type, actor or ""]
    elif idempotency_key:
        parts = ["event-request", incident_id, actor or "", idempotency_key]
    else:
        return None
    return hashed(*parts)


def hashed(*parts: object) -> str:
    """A key kept instead of what it names (an Idempotency-Key, an IP address, a responder's alert
    count): SHA-256 of the parts joined by NUL. One part hashes as itself."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def option_of(incident: Incident, aed_id: str | None) -> AedOption | None:
    """The incident's AED option with this id (an AED runner's AED), if it is still one."""
    return next((o for o in incident.aed_options or [] if o.aed_id == aed_id), None)


def incident_or_404(store: IncidentReader, incident_id: str) -> Incident:
    incident = store.get(incident_id)
    if incident is None:
        raise NotFound("incident not found")
    return incident


def recount(store: AlertCounts, incident: Incident, alerts: list[Alert]) -> None:
    """The incident's ``alerted`` count made true where a request that wrote alerts could not count
    them (it failed, or died, first): from the alerts a workflow step reads anyway."""
    if len(alerts) > incident.alerted:
        store.count_alerted(incident.incident_id, len(alerts))
