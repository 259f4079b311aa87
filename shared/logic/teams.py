"""Rescue teams (救护队) and E-stations (救护E站): responders on duty together for an area and hours
(docs/volunteers.md "Teams and E-stations").

A team covers a circle (its centre and a radius up to 5 km) during its opening hours; an E-station is a
site with an AED and trained staff, covering 300 m around it during its hours. When an incident falls in
either's circle while it is open, its members on duty inside the circle are alerted with wave 1, beside the
wave's nearest (``on_duty_members``, called in the SOS's first parallel round); their alerts carry the
team's id, and its leader reads the team's responses (``responses``).

The geo index holds each one's circle as kind ``TEAM_AREA`` at its centre, with what an SOS needs to decide
(kind, radius, hours, members) in the item's attributes: an SOS never reads the teams' table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.geo.distance import haversine_m
from shared.identity import Caller
from shared.logic.hours import is_open, next_change, validate_opening_hours
from shared.logic.ids import new_id
from shared.logic.ports import RESPONDER, Aed, Contact, GeoIndex, Hit

TEAM, ESTATION = "team", "estation"
KINDS = (TEAM, ESTATION)
TEAM_AREA = "team-area"  # the geo index's kind: each team's circle, at its centre
TEAM_ATTRIBUTE = "team_id"  # on a member's hit, and so on their alert
MAX_MEMBERS = 50  # a team is people who know each other; a bigger group is an organisation
TEAM_RADIUS_M = (100.0, 5000.0)
ESTATION_RADIUS_M = 300.0  # the issue's "incidents within 300 m"; a few minutes' walk with the AED
REACH_M = TEAM_RADIUS_M[1]  # no circle is wider: an SOS looks this far for circles that hold it
MAX_BBOX_SIDE_DEG = 1.0
# What only its leader and admins may change of a team, and what its leader may change too.
LEADER_MAY_CHANGE = frozenset({"member_ids", "opening_hours"})


@dataclass
class Team:
    team_id: str
    kind: str  # KINDS
    name: str
    organisation: str
    leader_id: str
    member_ids: list[str]  # responders; the leader is one
    opening_hours: str  # OpenStreetMap opening_hours, in the deployment's time zone
    lat: float  # the circle's centre: an E-station's site
    lng: float
    radius_m: float
    created_at: datetime
    updated_at: datetime
    created_by: str
    address: str | None = None  # an E-station's, as people find it
    aed_id: str | None = None  # an E-station's AED: in the registry like any (mapped, claimed, restocked)


@dataclass(frozen=True)
class TeamFields:
    """What an admin sets (a leader: LEADER_MAY_CHANGE only); ``None`` means "not given" (PATCH)."""

    kind: str | None = None
    name: str | None = None
    organisation: str | None = None
    leader_id: str | None = None
    member_ids: Sequence[str] | None = None
    opening_hours: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_m: float | None = None
    address: str | None = None
    aed_id: str | None = None

    def given(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class TeamPage:
    items: list[Team]
    next_token: str | None


@dataclass(frozen=True)
class Response:
    """A member's alert as the team's leader sees it: the alerts' by-team index."""

    incident_id: str
    responder_id: str
    state: str  # alerted, accepted, declined, stood_down
    alerted_at: datetime
    wave: int
    distance_m: float
    role: str | None = None
    aed_id: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class ResponsePage:
    items: list[Response]
    next_token: str | None


class TeamStore(Protocol):
    def create(self, team: Team) -> None: ...
    def get(self, team_id: str) -> Team | None: ...
    def save(self, team: Team, expected_updated_at: datetime) -> bool:
        """False: changed by someone else since it was read (or deleted)."""
        ...

    def delete(self, team_id: str) -> bool: ...
    def list(self, kind: str, limit: int, next_token: str | None) -> TeamPage: ...
    def responses(self, team_id: str, limit: int, next_token: str | None) -> ResponsePage:
        """The team's members' alerts, newest first (alerts go with their rescue's retention)."""
        ...


class People(Protocol):
    def contacts(self, responder_ids: Sequence[str]) -> dict[str, Contact]: ...


class AedReader(Protocol):
    def get(self, aed_id: str) -> Aed | None: ...


# --- managing teams ----------------------------------------------------------------------------------


def create(
    store: TeamStore,
    people: People,
    aeds: AedReader,
    geo: GeoIndex,
    caller: Caller,
    fields: TeamFields,
    now: datetime,
) -> Team:
    """An admin's new team or E-station, indexed at once (an SOS the next moment finds it)."""
    required = ("kind", "name", "organisation", "leader_id", "opening_hours", "lat", "lng")
    missing = [name for name in required if getattr(fields, name) is None]
    if missing:
        raise ValidationFailed(f"{', '.join(missing)}: required")
    draft = Team(
        team_id=new_id(),
        kind=str(fields.kind),
        name=str(fields.name),
        organisation=str(fields.organisation),
        leader_id=str(fields.leader_id),
        member_ids=list(fields.member_ids or []),
        opening_hours=str(fields.opening_hours),
        lat=float(fields.lat or 0.0),
        lng=float(fields.lng or 0.0),
        radius_m=fields.radius_m if fields.radius_m is not None else 0.0,
        created_at=now,
        updated_at=now,
        created_by=caller.sub or "",
        address=fields.address or None,
        aed_id=fields.aed_id or None,
    )
    team = _valid(draft, people, aeds, radius_given=fields.radius_m is not None)
    store.create(team)
    index(geo, team)
    return team


def update(
    store: TeamStore,
    people: People,
    aeds: AedReader,
    geo: GeoIndex,
    caller: Caller,
    team_id: str,
    fields: TeamFields,
    now: datetime,
) -> Team:
    """A change by an admin, or by the team's leader to its members and hours (PATCH semantics)."""
    team = _visible(store, caller, team_id)
    changes = fields.given()
    if "admin" not in caller.roles:
        if caller.sub != team.leader_id:
            raise NotFound("team not found")  # a member sees the team, but may not change it
        barred = sorted(set(changes) - LEADER_MAY_CHANGE)
        if barred:
            raise ValidationFailed(f"{', '.join(barred)}: only an admin may change this; a leader may "
                                   "change member_ids and opening_hours")  # fmt: skip
    if "kind" in changes and changes["kind"] != team.kind:
        raise ValidationFailed("kind: a team cannot become an E-station or back; create another")
    for cleared in ("address", "aed_id"):
        if changes.get(cleared) == "":
            changes[cleared] = None
    if "member_ids" in changes:
        changes["member_ids"] = list(fields.member_ids or [])
    changed = replace(team, **changes, updated_at=now)  # type: ignore[arg-type]
    changed = _valid(changed, people, aeds, radius_given="radius_m" in changes or team.kind == TEAM)
    if not store.save(changed, team.updated_at):
        raise Conflict("the team changed meanwhile: read it again and retry", code="edit_conflict")
    index(geo, changed)
    return changed


def delete(store: TeamStore, geo: GeoIndex, team_id: str) -> None:
    """Off the index first: no SOS finds a team that is going."""
    if store.get(team_id) is None:
        raise NotFound("team not found")
    geo.remove(TEAM_AREA, team_id)
    store.delete(team_id)


def read(store: TeamStore, caller: Caller, team_id: str) -> Team:
    """Admins, the leader and the members see a team; anyone else is told it does not exist."""
    return _visible(store, caller, team_id)


def responses(
    store: TeamStore, caller: Caller, team_id: str, limit: int, next_token: str | None
) -> ResponsePage:
    """The team's responses, newest first: for its leader and admins only."""
    team = _visible(store, caller, team_id)
    if "admin" not in caller.roles and caller.sub != team.leader_id:
        raise NotFound("team not found")
    return store.responses(team_id, limit, next_token)


def _visible(store: TeamStore, caller: Caller, team_id: str) -> Team:
    team = store.get(team_id)
    if team is None or not ("admin" in caller.roles or caller.sub in team.member_ids):
        raise NotFound("team not found")
    return team


def _valid(team: Team, people: People, aeds: AedReader, *, radius_given: bool) -> Team:
    """The team as stored: every rule checked, the leader among the members, the circle's radius set."""
    if team.kind not in KINDS:
        raise ValidationFailed(f"kind: one of {', '.join(KINDS)}")
    members = list(dict.fromkeys([team.leader_id, *team.member_ids]))
    if len(members) > MAX_MEMBERS:
        raise ValidationFailed(f"member_ids: at most {MAX_MEMBERS} members, the leader included")
    found = people.contacts(members)
    unknown = [m for m in members if m not in found]
    if unknown:
        raise ValidationFailed(f"member_ids: no such responder: {', '.join(unknown[:5])}")
    hours = validate_opening_hours(team.opening_hours)
    if team.kind == ESTATION:
        if radius_given and team.radius_m not in (0.0, ESTATION_RADIUS_M):
            raise ValidationFailed(f"radius_m: an E-station covers {ESTATION_RADIUS_M:.0f} m around its site")
        radius = ESTATION_RADIUS_M
        if not team.address:
            raise ValidationFailed("address: an E-station's address is required")
        if not team.aed_id:
            raise ValidationFailed("aed_id: an E-station has an AED: register it, then give its id")
        if aeds.get(team.aed_id) is None:
            raise ValidationFailed(f"aed_id: no such AED: {team.aed_id}")
    else:
        if team.aed_id:
            raise ValidationFailed("aed_id: only an E-station has an AED of its own")
        low, high = TEAM_RADIUS_M
        if not radius_given or not low <= team.radius_m <= high:
            raise ValidationFailed(f"radius_m: a team's area is a circle of {low:.0f} to {high:.0f} m")
        radius = team.radius_m
    return replace(team, member_ids=members, opening_hours=hours, radius_m=radius)


def index(geo: GeoIndex, team: Team) -> None:
    attributes = {
        "kind": team.kind,
        "name": team.name,
        "organisation": team.organisation,
        "radius_m": f"{team.radius_m:g}",
        "opening_hours": team.opening_hours,
        "members": " ".join(team.member_ids),
    }
    if team.address:
        attributes["address"] = team.address
    if team.aed_id:
        attributes["aed_id"] = team.aed_id
    geo.put(TEAM_AREA, team.team_id, team.lat, team.lng, attributes=attributes)


# --- at an SOS -------------------------------------------------------------------------------------


def on_duty_members(geo: GeoIndex, lat: float, lng: float, at: datetime, time_zone: str) -> list[Hit]:
    """The members to alert with wave 1 for an incident at (lat, lng): of every team and E-station whose
    circle holds it and which is open ``at``, those on duty now and inside that circle, nearest first;
    each hit carries its team's id (the nearest circle's, for a member of several). Two reads: the
    circles near, then the members' positions by key (only when a circle holds the incident)."""
    now_epoch = int(at.timestamp())
    teams: dict[str, Hit] = {}  # member -> their team's circle (the nearest)
    for circle in geo.nearby(TEAM_AREA, lat, lng, REACH_M, now_epoch):
        attributes = circle.attributes
        if circle.distance_m > float(attributes.get("radius_m", 0)):
            continue
        if not is_open(attributes.get("opening_hours", ""), at, time_zone):
            continue
        for member in attributes.get("members", "").split():
            teams.setdefault(member, circle)
    if not teams:
        return []
    found = []
    for hit in geo.positions(RESPONDER, teams, lat, lng, now_epoch):
        circle = teams[hit.entity_id]
        inside = haversine_m(circle.lat, circle.lng, hit.lat, hit.lng) <= float(circle.attributes["radius_m"])
        if inside:
            found.append(
                Hit(hit.entity_id, hit.lat, hit.lng, hit.distance_m,
                    {**hit.attributes, TEAM_ATTRIBUTE: circle.entity_id})
            )  # fmt: skip
    return sorted(found, key=lambda h: (h.distance_m, h.entity_id))


# --- the public map's E-stations ---------------------------------------------------------------------


@dataclass(frozen=True)
class StationOnMap:
    team_id: str
    lat: float
    lng: float
    name: str
    organisation: str
    address: str
    opening_hours: str
    aed_id: str
    open_now: bool
    next_change_at: datetime | None


def estations_in_box(
    geo: GeoIndex,
    min_lng: float,
    min_lat: float,
    max_lng: float,
    max_lat: float,
    at: datetime,
    time_zone: str,
) -> list[StationOnMap]:
    """Every E-station in the box, with whether it is staffed now: what the public map shows (never
    who its staff are)."""
    if not (min_lng < max_lng and min_lat < max_lat):
        raise ValidationFailed("bbox: must be minLng,minLat,maxLng,maxLat with min < max")
    if max_lng - min_lng > MAX_BBOX_SIDE_DEG or max_lat - min_lat > MAX_BBOX_SIDE_DEG:
        raise ValidationFailed("bbox: at most 1 degree a side")
    stations = []
    for hit in geo.in_box(TEAM_AREA, min_lng, min_lat, max_lng, max_lat):
        attributes: Mapping[str, str] = hit.attributes
        if attributes.get("kind") != ESTATION:
            continue
        hours = attributes.get("opening_hours", "")
        stations.append(
            StationOnMap(
                team_id=hit.entity_id,
                lat=hit.lat,
                lng=hit.lng,
                name=attributes.get("name", ""),
                organisation=attributes.get("organisation", ""),
                address=attributes.get("address", ""),
                opening_hours=hours,
                aed_id=attributes.get("aed_id", ""),
                open_now=is_open(hours, at, time_zone),
                next_change_at=next_change(hours, at, time_zone),
            )
        )
    return stations
