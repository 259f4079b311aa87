"""The deployment's dispatch rules, and the few small rules every stage of the rescue loop shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.errors import NotFound
from shared.logic.rescue.ports import AedOption, Incident, IncidentReader

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
