"""Request and response bodies of the public API (the OpenAPI document is generated from these).

JSON numbers must be numbers and booleans booleans: fields are strict where pydantic's lax mode would
turn "30.1" or false into a coordinate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

Lat = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False, description="WGS-84 latitude")]
Lng = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False, description="WGS-84 longitude")]
Crs = Annotated[
    Literal["wgs84", "gcj02"] | None,
    Field(description="Datum of lat/lng; gcj02 (AMap/Tencent) is converted, WGS-84 is stored"),
]
Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=500)] | None
Phone = Annotated[
    str, Strict(), StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$"), Field(description="E.164")
]
Status = Literal["ok", "faulty", "missing", "in_use", "needs_restock", "expired"]
OpeningHoursText = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="OpenStreetMap opening_hours, e.g. 24/7 or Mo-Fr 08:00-17:00"),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NewResponderBody(_Body):
    name: Text
    phone: Phone
    certificate_no: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    certificate_expires_on: date


class PresenceOut(BaseModel):
    lat: float
    lng: float
    expires_at: datetime


class ResponderOut(BaseModel):
    responder_id: str
    name: str
    phone: str
    certificate_no: str
    certificate_expires_on: date
    certificate_valid: bool
    created_at: datetime
    credits: int
    available: bool
    presence: PresenceOut | None = None


class PresenceBody(_Body):
    lat: Lat
    lng: Lng
    available: Annotated[bool, Strict()]
    crs: Crs = None


class PresenceAnswer(BaseModel):
    available: bool
    expires_at: datetime | None


class NearbyResponder(BaseModel):
    responder_id: str
    distance_m: float


class NearbyResponders(BaseModel):
    items: list[NearbyResponder]
    next_token: str | None = None


Floor = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, max_length=20),
    Field(description='The floor as people say it: "1", "5", "B1" ("" clears it)'),
]
Access = Literal["yes", "customers", "permissive", "private", "no"]
ContactPhone = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, max_length=40),
    Field(description="The venue's emergency number as published"),
]
ManagerId = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    Field(description="The aed_manager (user sub) who answers for its upkeep; default the creator"),
]


class _AedUpkeepFields(_Body):
    floor: Floor | None = None
    indoor: Annotated[bool, Strict()] | None = None
    access: Access | None = None
    contact_phone: ContactPhone | None = None
    manager_id: ManagerId | None = None
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None


class NewAedBody(_AedUpkeepFields):
    lat: Lat
    lng: Lng
    name: Text
    address: OptionalText = None
    placement: OptionalText = None
    opening_hours: OpeningHoursText
    status: Status = "ok"
    crs: Crs = None


class AedPatchBody(_AedUpkeepFields):
    lat: Lat | None = None
    lng: Lng | None = None
    name: Text | None = None
    address: OptionalText = None
    placement: OptionalText = None
    opening_hours: OpeningHoursText | None = None
    status: Status | None = None
    crs: Crs = None


class AedOut(BaseModel):
    aed_id: str
    lat: float
    lng: float
    name: str
    address: str | None
    placement: str | None
    opening_hours: str
    status: str
    created_at: datetime
    updated_at: datetime
    floor: str | None = None
    indoor: bool | None = None
    access: str | None = None
    contact_phone: str | None = None
    manager_id: str | None = None
    source: str | None = None
    source_id: str | None = None
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    last_inspected_on: date | None = None
    fault: str | None = Field(None, description="Why it is faulty or missing: locked, broken...")


class NearbyAed(BaseModel):
    aed_id: str
    lat: float
    lng: float
    distance_m: float
    name: str
    placement: str | None


class NearbyAeds(BaseModel):
    items: list[NearbyAed]
    next_token: str | None = None


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class Health(BaseModel):
    status: Literal["ok"]


class SosBody(_Body):
    lat: Lat
    lng: Lng
    caller_phone: Phone | None = None
    note: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    crs: Crs = None


class SosAccepted(BaseModel):
    incident_id: str
    status: str


class ResponseBody(_Body):
    action: Literal["accept", "decline"]


class AedAssignment(BaseModel):
    aed_id: str
    lat: float
    lng: float
    name: str
    placement: str | None


class ResponseAnswer(BaseModel):
    role: Literal["cpr", "aed"] | None
    aed: AedAssignment | None = None


class EventBody(_Body):
    type: Literal["arrived", "cpr_started", "aed_attached", "shock_delivered", "ems_arrived"]
    lat: Lat | None = None
    lng: Lng | None = None
    crs: Crs = None


class EventAnswer(BaseModel):
    incident_id: str
    type: str
    at: datetime


class CloseBody(_Body):
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
    note: str | None = None
    slots: dict[str, int] | None = None
    aed: AedAssignment | None = None


class CreditItem(BaseModel):
    incident_id: str
    reason: str
    points: int
    at: datetime


class Credits(BaseModel):
    balance: int
    items: list[CreditItem]


class DeviceBody(_Body):
    platform: Literal["fcm", "apns"]
    token: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class DeviceAnswer(BaseModel):
    push: bool
