"""Which members a team brings to an SOS: its circle must hold the incident, its hours must be open at the
SOS's instant (passed in: no wall clock), and each member must be on duty inside the circle."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.geo.distance import haversine_m
from shared.logic.ports import RESPONDER, Hit
from shared.logic.teams import TEAM_AREA, TEAM_ATTRIBUTE, on_duty_members

HANGZHOU = ZoneInfo("Asia/Shanghai")
PATIENT = (30.2590, 120.1605)
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=HANGZHOU)
SATURDAY_9 = datetime(2026, 12, 5, 9, 0, tzinfo=HANGZHOU)
MONDAY_19 = datetime(2026, 12, 7, 19, 0, tzinfo=HANGZHOU)


def north(metres: float) -> tuple[float, float]:
    return PATIENT[0] + metres / 111_195.0, PATIENT[1]


class Geo:
    """The two reads on_duty_members makes: circles near, members' positions by id."""

    def __init__(self, circles: list[tuple[str, tuple[float, float], Mapping[str, str]]],
                 people: Mapping[str, tuple[float, float]]) -> None:  # fmt: skip
        self.circles, self.people = circles, people
        self.position_reads = 0

    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        assert kind == TEAM_AREA
        hits = [Hit(i, *at, haversine_m(lat, lng, *at), dict(a)) for i, at, a in self.circles]
        return sorted((h for h in hits if h.distance_m <= radius_m), key=lambda h: h.distance_m)

    def positions(
        self, kind: str, entity_ids: Collection[str], lat: float, lng: float, now_epoch: int
    ) -> list[Hit]:
        assert kind == RESPONDER
        self.position_reads += 1
        return [Hit(i, *self.people[i], haversine_m(lat, lng, *self.people[i]), {"phone": "+86139"})
                for i in entity_ids if i in self.people]  # fmt: skip


def circle(radius_m: float, hours: str, members: str) -> dict[str, str]:
    return {"kind": "team", "radius_m": f"{radius_m:g}", "opening_hours": hours, "members": members}


def found(geo: Geo, at: datetime) -> dict[str, str]:
    return {
        h.entity_id: h.attributes[TEAM_ATTRIBUTE] for h in on_duty_members(geo, *PATIENT, at, "Asia/Shanghai")
    }


def test_a_team_is_on_duty_only_in_its_hours():
    geo = Geo([("t1", PATIENT, circle(1000, "Mo-Fr 08:00-18:00", "a b"))], {"a": north(100), "b": north(900)})
    assert found(geo, MONDAY_9) == {"a": "t1", "b": "t1"}
    assert found(geo, SATURDAY_9) == {}
    assert found(geo, MONDAY_19) == {}


def test_only_members_on_duty_inside_the_circle_come():
    geo = Geo([("t1", PATIENT, circle(1000, "24/7", "in out gone"))], {"in": north(999), "out": north(1001)})
    assert found(geo, MONDAY_9) == {"in": "t1"}


def test_an_incident_outside_a_circle_reads_no_positions():
    centre = north(2000)
    geo = Geo([("t1", centre, circle(1500, "24/7", "a"))], {"a": PATIENT})
    assert found(geo, MONDAY_9) == {}
    assert geo.position_reads == 0


def test_a_member_of_two_teams_comes_once_for_the_nearest():
    geo = Geo(
        [("far", north(300), circle(2000, "24/7", "a")), ("near", PATIENT, circle(2000, "24/7", "a b"))],
        {"a": north(100), "b": north(200)},
    )
    assert found(geo, MONDAY_9) == {"a": "near", "b": "near"}
    assert [h.entity_id for h in on_duty_members(geo, *PATIENT, MONDAY_9, "Asia/Shanghai")] == ["a", "b"]
