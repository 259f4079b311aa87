"""Bodies of the rescue loop: the SOS, answers to alerts, events on scene, closure, the incident view."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body, Crs, Lat, Lng, Phone
from shared.api.plain import NOTE_MAX_LENGTH


class SosBody(Body):
    lat: Lat
    lng: Lng
    caller_phone: Phone | None = None
    note: (
        Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=NOTE_MAX_LENGTH)] | None
    ) = None
    crs: Crs = None


class ConsoleIncidentBody(SosBody):
    """A dispatcher raising an incident for a caller (POST /v1/incidents): the SOS's fields."""


class SosAccepted(BaseModel):
    incident_id: str
    status: str


class ResponseBody(Body):
    action: Literal["accept", "decline"]


# Kept: the incident's AedOption as answered (taken from the geo index at the SOS: answering reads no AED).
class AedAssignment(BaseModel):
    aed_id: str
    lat: float
    lng: float
    name: str
    placement: str | None


class ResponseAnswer(BaseModel):
    role: Literal["cpr", "aed"] | None
    aed: AedAssignment | None = None


class EventBody(Body):
    type: Literal["arrived", "cpr_started", "aed_attached", "shock_delivered", "ems_arrived"]
    lat: Lat | None = None
    lng: Lng | None = None
    crs: Crs = None


class EventAnswer(BaseModel):
    incident_id: str
    type: str
    at: datetime


class CloseBody(Body):
    outcome: Literal["rosc", "transported", "deceased", "false_alarm", "cancelled"]


class CloseAnswer(BaseModel):
    incident_id: str
    status: str
    outcome: str


class AlertView(BaseModel):
    responder_id: str
    state: str
    role: str | None = None
    distance_m: float
    aed_id: str | None = None
    team_id: str | None = Field(
        default=None, description="Alerted with wave 1 as a member of this team or E-station (/v1/teams/{id})"
    )


class EventView(BaseModel):
    type: str
    at: datetime
    by: str
    detail: str | None = None


class IncidentView(BaseModel):
    incident_id: str
    status: str
    lat: float
    lng: float
    created_at: datetime
    unanswered: bool
    outcome: str | None = None
    alerts: list[AlertView]
    events: list[EventView]
    caller_phone: str | None = None
    caller_phone_unverified: bool | None = Field(
        None, description="True: typed by an anonymous caller in the SOS, and nothing checked it"
    )
    note: str | None = None
    slots: dict[str, int] | None = None
    aed: AedAssignment | None = Field(
        None, description="the AED being fetched: a runner's own; to staff, the accepted runner's"
    )
    merged_into: str | None = Field(
        None, description='status "merged": this SOS was for a patient an earlier one is rescuing; that one'
    )
    # Raised by a 120 dispatch centre (docs/dispatch.md): what its call-taker recorded. The place helps an
    # alerted responder find the patient; which centre and when the call came in, staff only.
    nature: str | None = Field(
        None, description="the centre's: cardiac_arrest, suspected_cardiac_arrest, unconscious, other"
    )
    address: str | None = None
    floor: str | None = None
    centre_id: str | None = Field(None, description="the dispatch centre that raised it (staff only)")
    call_received_at: datetime | None = Field(None, description="when the 120 call came in (staff only)")


# --- the dispatchers' console: the list of incidents, a rescue's timeline ---------------------------


class RoleFill(BaseModel):
    filled: int = Field(description="slots taken: each accept takes one")
    slots: int


class IncidentListItem(BaseModel):
    incident_id: str
    source: str = Field(
        description='"app" (an SOS), "dispatch" (the 120 centre\'s CAD system) or "console" (a dispatcher '
        "raising it for a caller)"
    )
    cad_incident_no: str | None = Field(None, description="the dispatch centre's number for it")
    lat: float
    lng: float
    status: str = Field(description="dispatching, responding, on_scene (the open list) or closed")
    alerted: int = Field(description="responders alerted so far")
    accepted: int = Field(description="responders who accepted (the slots taken)")
    roles: dict[str, RoleFill] = Field(description='"cpr" and "aed": slots taken of those there are')
    unanswered: bool
    outcome: str | None = None
    created_at: datetime
    closed_at: datetime | None = None


class IncidentList(BaseModel):
    items: list[IncidentListItem]
    next_token: str | None = Field(None, description="the next page's token; none on the last page")


def _absent(value: object) -> bool:
    return value is None


def _optional(description: str) -> Any:
    """A timeline entry's field that only some entries have: left out of those that have none."""
    return Field(None, description=description, exclude_if=_absent)


class TimelineEntry(BaseModel):
    at: datetime
    type: str = Field(
        description="created, merged, alerted, accepted, declined, stood_down, arrived, cpr_started, "
        "aed_attached, shock_delivered, ems_arrived, aed_reported, aed_rerouted, caller_joined, "
        "unanswered, closed, credited"
    )
    responder_id: str | None = _optional("whose alert, answer, event or points (to a responder: only theirs)")
    role: str | None = _optional('accepted: "cpr" or "aed", as it stands now')
    aed_id: str | None = _optional("accepted: the AED the runner fetches; aed_reported: the AED")
    distance_m: float | None = _optional("alerted: metres from the patient when alerted")
    wave: int | None = _optional("alerted: the wave that alerted them")
    source: str | None = _optional('created: "app", "dispatch" or "console"')
    cad_incident_no: str | None = _optional("created: the dispatch centre's number (staff only)")
    merged_into: str | None = _optional("merged: the incident this SOS joined")
    by: str | None = _optional("events: who reported it: responder, dispatcher, admin or system")
    by_id: str | None = _optional(
        "events reported by staff, and created by a dispatcher (source console): who (staff only)"
    )
    lat: float | None = _optional("created: the patient (staff only)")
    lng: float | None = _optional("created: the patient (staff only)")
    outcome: str | None = _optional("closed: rosc, transported, deceased, false_alarm, cancelled, expired")
    kind: str | None = _optional("aed_reported: locked, missing, broken or wrong_location")
    from_aed_id: str | None = _optional("aed_rerouted: the AED that could not be used")
    to_aed_id: str | None = _optional("aed_rerouted: the next AED the runner was sent to")
    to_cpr: bool | None = _optional("aed_rerouted: no usable AED was left, the runner does CPR")
    reason: str | None = _optional("credited: what the points are for")
    points: int | None = _optional("credited")
    detail: str | None = _optional("caller_joined: the joining SOS's incident id (staff only)")


class Timeline(BaseModel):
    items: list[TimelineEntry]
