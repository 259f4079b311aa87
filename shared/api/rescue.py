"""Bodies of the rescue loop: the SOS, answers to alerts, events on scene, closure, the incident view."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
    aed: AedAssignment | None = None
    merged_into: str | None = Field(
        None, description='status "merged": this SOS was for a patient an earlier one is rescuing; that one'
    )
