"""Bodies of rescue teams and E-stations (shared/logic/teams.py, docs/volunteers.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, StringConstraints

from shared.api.aed_registry import OpeningHoursText
from shared.api.fields import Body, Crs, Lat, Lng, OptionalText, Text, all_optional
from shared.logic import teams as logic

Kind = Literal["team", "estation"]
ResponderId = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


# What an admin sets, declared once: TeamPatchBody is made from it (no docstring here).
class NewTeamBody(Body):
    kind: Kind = Field(description="team (救护队): an area and hours; estation (救护E站): a site with an AED")
    name: Text
    organisation: Text
    leader_id: Annotated[ResponderId, Field(description="A responder: the leader is always a member")]
    member_ids: Annotated[
        list[ResponderId],
        Field(max_length=logic.MAX_MEMBERS, description=f"At most {logic.MAX_MEMBERS}, the leader included"),
    ] = Field(default_factory=list)
    opening_hours: Annotated[OpeningHoursText, Field(description="When it is on duty (OpenStreetMap syntax)")]
    lat: Annotated[Lat, Field(description="The area's centre: an E-station's site")]
    lng: Lng
    radius_m: (
        Annotated[
            float,
            Strict(),
            Field(
                ge=0,
                le=logic.TEAM_RADIUS_M[1],
                allow_inf_nan=False,
                description="A team's area: 100 to 5000 m (required). An E-station always covers 300 m",
            ),
        ]
        | None
    ) = None
    address: OptionalText = Field(default=None, description="Required for an E-station")
    aed_id: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, max_length=128),
        Field(description="An E-station's AED, registered first (POST /v1/aeds); required for one"),
    ] | None = None  # fmt: skip
    crs: Crs = None


if TYPE_CHECKING:  # mypy cannot read a class made at run time: it checks a PATCH body as a POST body
    TeamPatchBody = NewTeamBody
else:
    TeamPatchBody = all_optional(NewTeamBody, "TeamPatchBody")


class MemberOut(BaseModel):
    responder_id: str
    name: str | None = Field(description="null: the responder's record is gone")


class TeamOut(BaseModel):
    team_id: str
    kind: Kind
    name: str
    organisation: str
    leader_id: str
    members: list[MemberOut]
    opening_hours: str
    open_now: bool = Field(description="On duty now, by its hours")
    lat: float
    lng: float
    radius_m: float
    address: str | None
    aed_id: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str


class TeamList(BaseModel):
    items: list[TeamOut]
    next_token: str | None


class ResponseOut(BaseModel):
    incident_id: str
    responder_id: str
    name: str | None = Field(description="The member's name; null: the record is gone")
    state: Literal["alerted", "accepted", "declined", "stood_down"]
    role: str | None = Field(description="cpr or aed, once accepted")
    aed_id: str | None
    wave: int
    distance_m: float = Field(description="From the patient, when alerted")
    alerted_at: datetime
    answered_at: datetime | None


class ResponseList(BaseModel):
    items: list[ResponseOut]
    next_token: str | None


class StationFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any] = Field(
        description="team_id, kind (estation), name, organisation, address, opening_hours, aed_id, open_now, "
        "next_change_at (when it next opens or closes; null for 24/7). Never who its staff are"
    )


class StationCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[StationFeature]
