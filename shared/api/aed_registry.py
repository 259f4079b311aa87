"""Bodies of the AED registry: create, update, search near a point, the map's GeoJSON, one AED.

One AED shape where one will do: the PATCH body and the import item are made from NewAedBody's
declarations, AedDetail from AedOut. A shape kept apart says why in one line next to it, and
tests/unit/test_aed_shapes.py keeps its fields in step with the shape it mirrors. Small views are written
out rather than made at run time because other models hold them as types, which mypy must read."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.aed_upkeep import UpkeepOut
from shared.api.fields import Body, Crs, Lat, Lng, OptionalText, Text, all_optional

Status = Literal["ok", "faulty", "missing", "in_use", "needs_restock", "expired"]


OpeningHoursText = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="OpenStreetMap opening_hours, e.g. 24/7 or Mo-Fr 08:00-17:00"),
]


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


# What a manager sets, declared once: AedPatchBody and ImportItem are made from it (no docstring here).
class NewAedBody(Body):
    lat: Lat
    lng: Lng
    name: Text
    address: OptionalText = None
    placement: OptionalText = None
    opening_hours: OpeningHoursText
    status: Status = "ok"
    floor: Floor | None = None
    indoor: Annotated[bool, Strict()] | None = None
    access: Access | None = None
    contact_phone: ContactPhone | None = None
    manager_id: ManagerId | None = None
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    crs: Crs = None


if TYPE_CHECKING:  # mypy cannot read a class made at run time: it checks a PATCH body as a POST body
    AedPatchBody = NewAedBody
else:
    AedPatchBody = all_optional(NewAedBody, "AedPatchBody")


# Kept, not made from Aed: address, placement required here (null allowed); suspended_by, in_use_by absent.
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


# Kept: what a search answers from the geo index without reading the table (AedOut's fields + distance).
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
    properties: dict[str, Any] = Field(
        description="aed_id, name, status, opening_hours, placement?, floor?; and for the map: state "
        "(open | closed | out_of_service at `at`), open_now, next_change_at (when it next opens or closes; "
        "null for 24/7 and out of service)"
    )


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


# Made from AedOut: one AED's page adds its upkeep state, computed when read.
class AedDetail(AedOut):
    upkeep: UpkeepOut
