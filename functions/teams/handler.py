"""Rescue teams and E-stations: admins manage them, a leader their members and hours, the leader reads the
team's responses; the public map reads the E-stations (docs/volunteers.md "Teams and E-stations")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import wiring
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import BboxQ, LimitQ, aware, parse_bbox
from shared.api.teams import (
    Kind,
    MemberOut,
    NewTeamBody,
    ResponseList,
    ResponseOut,
    StationCollection,
    StationFeature,
    TeamList,
    TeamOut,
    TeamPatchBody,
)
from shared.config import settings
from shared.errors import ValidationFailed
from shared.geo.datum import to_wgs84
from shared.logic import teams as logic
from shared.logic.hours import is_open
from shared.logic.ports import Contact

app = create_app()
config = settings()

TeamId = Annotated[str, Path(min_length=1, max_length=128)]
TokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]


def _out(team: logic.Team, now: datetime, names: Mapping[str, Contact] | None = None) -> TeamOut:
    """``names``: the members' contacts when the caller read them for a whole page (one BatchGetItem)."""
    names = wiring.contacts().contacts(team.member_ids) if names is None else names
    return TeamOut(
        team_id=team.team_id,
        kind=team.kind,  # type: ignore[arg-type]
        name=team.name,
        organisation=team.organisation,
        leader_id=team.leader_id,
        members=[
            MemberOut(responder_id=m, name=names[m].name if m in names else None) for m in team.member_ids
        ],
        opening_hours=team.opening_hours,
        open_now=is_open(team.opening_hours, now, config.time_zone),
        lat=team.lat,
        lng=team.lng,
        radius_m=team.radius_m,
        address=team.address,
        aed_id=team.aed_id,
        created_at=team.created_at,
        updated_at=team.updated_at,
        created_by=team.created_by,
    )


def _fields(body: NewTeamBody, given: set[str]) -> logic.TeamFields:
    values = {name: getattr(body, name) for name in given - {"crs"}}
    if "lat" in values or "lng" in values:
        values["lat"], values["lng"] = to_wgs84(body.lat, body.lng, body.crs)
    return logic.TeamFields(**values)


@app.post("/v1/teams", responses=CREATED_RESPONSES)
def create(body: NewTeamBody) -> Response[TeamOut]:
    now = datetime.now(UTC)
    team = logic.create(
        wiring.teams(),
        wiring.contacts(),
        wiring.aeds(),
        wiring.geo_index(),
        current_caller(app),
        _fields(body, set(body.model_fields_set) | {"kind", "lat", "lng"}),
        now,
    )
    return Response(201, content_types.APPLICATION_JSON, _out(team, now))


@app.get("/v1/teams", responses=ERROR_RESPONSES)
def list_teams(
    kind: Annotated[Kind, Query()] = "team", limit: LimitQ = 50, next_token: TokenQ = None
) -> TeamList:
    now = datetime.now(UTC)
    page = wiring.teams().list(kind, limit, next_token)
    names = wiring.contacts().contacts([m for t in page.items for m in t.member_ids])
    return TeamList(items=[_out(t, now, names) for t in page.items], next_token=page.next_token)


@app.get("/v1/teams/<team_id>", responses=ERROR_RESPONSES)
def read(team_id: TeamId) -> TeamOut:
    return _out(logic.read(wiring.teams(), current_caller(app), team_id), datetime.now(UTC))


@app.patch("/v1/teams/<team_id>", responses=ERROR_RESPONSES)
def change(team_id: TeamId, body: TeamPatchBody) -> TeamOut:
    given = {name for name in body.model_fields_set if getattr(body, name) is not None}  # null: not given
    if ("lat" in given) != ("lng" in given):
        raise ValidationFailed("lat and lng: move a team's area by giving both")
    now = datetime.now(UTC)
    team = logic.update(
        wiring.teams(),
        wiring.contacts(),
        wiring.aeds(),
        wiring.geo_index(),
        current_caller(app),
        team_id,
        _fields(body, given),
        now,
    )
    return _out(team, now)


@app.delete("/v1/teams/<team_id>", responses={204: {"description": "Removed"}, **ERROR_RESPONSES})
def remove(team_id: TeamId) -> Response[None]:
    logic.delete(wiring.teams(), wiring.geo_index(), team_id)
    return Response(204, None, None)


@app.get("/v1/teams/<team_id>/responses", responses=ERROR_RESPONSES)
def responses(team_id: TeamId, limit: LimitQ = 50, next_token: TokenQ = None) -> ResponseList:
    page = logic.responses(wiring.teams(), current_caller(app), team_id, limit, next_token)
    names = wiring.contacts().contacts([r.responder_id for r in page.items])
    return ResponseList(
        items=[
            ResponseOut(
                incident_id=r.incident_id,
                responder_id=r.responder_id,
                name=names[r.responder_id].name if r.responder_id in names else None,
                state=r.state,  # type: ignore[arg-type]
                role=r.role,
                aed_id=r.aed_id,
                wave=r.wave,
                distance_m=r.distance_m,
                alerted_at=r.alerted_at,
                answered_at=r.answered_at,
            )
            for r in page.items
        ],
        next_token=page.next_token,
    )


@app.get("/v1/estations", responses=ERROR_RESPONSES)
def estations(
    bbox: BboxQ,
    at: Annotated[
        datetime | None, Query(description="ISO 8601 with offset; the instant open_now is for (default now)")
    ] = None,
) -> StationCollection:
    instant = aware(at, datetime.now(UTC))
    stations = logic.estations_in_box(wiring.geo_index(), *parse_bbox(bbox), instant, config.time_zone)
    return StationCollection(
        features=[
            StationFeature(
                geometry={"type": "Point", "coordinates": [s.lng, s.lat]},
                properties={
                    "team_id": s.team_id,
                    "kind": logic.ESTATION,
                    "name": s.name,
                    "organisation": s.organisation,
                    "address": s.address,
                    "opening_hours": s.opening_hours,
                    "aed_id": s.aed_id,
                    "open_now": s.open_now,
                    "next_change_at": s.next_change_at.isoformat() if s.next_change_at else None,
                },
            )
            for s in stations
        ]
    )


lambda_handler = entry_point(app)
