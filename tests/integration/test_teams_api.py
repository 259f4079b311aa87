"""Rescue teams (救护队) and E-stations (救护E站) through the API: admins make them, an SOS in a team's area
and hours alerts its members on duty with wave 1 whatever the 10-nearest cut, the leader sees the team's
responses; an E-station is on the public map and its staff are alerted within 300 m (docs/volunteers.md)."""

from __future__ import annotations

from typing import Any

from tests.integration.rescue_helpers import PATIENT, aed, dispatcher, north_of, responder, sos

ADMIN: dict[str, Any] = {"sub": "admin-1", "roles": ("admin",)}
NEVER = "off"  # OpenStreetMap opening_hours for "never open": no wall clock decides these tests
ALWAYS = "24/7"


def team(api: Any, leader: str, members: list[str], **fields: Any) -> dict[str, Any]:
    body = {
        "kind": "team",
        "name": "西湖区救护队",
        "organisation": "杭州市红十字会",
        "leader_id": leader,
        "member_ids": members,
        "opening_hours": ALWAYS,
        "lat": PATIENT[0],
        "lng": PATIENT[1],
        "radius_m": 3000.0,
        **fields,
    }
    made = api("POST", "/v1/teams", body, **ADMIN)
    assert made.status == 201, made.body
    return dict(made.body)


def alerts_of(api: Any, incident_id: str) -> dict[str, dict[str, Any]]:
    view = dispatcher(api, "GET", f"/v1/incidents/{incident_id}").body
    return {a["responder_id"]: a for a in view["alerts"]}


def test_a_team_on_duty_is_alerted_with_wave_1_whatever_the_nearest_cut(api):
    nearest = [responder(api, at=north_of(*PATIENT, 20 + 10 * i)) for i in range(10)]
    behind_the_cut = responder(api, at=north_of(*PATIENT, 800))  # inside wave 1's circle, 11th nearest
    across_town = responder(api, at=north_of(*PATIENT, 2500))  # outside wave 1's 1 km, inside the area
    outside_area = responder(api, at=north_of(*PATIENT, 3500))
    off_duty = responder(api, at=north_of(*PATIENT, 500), on_duty=False)
    # The cut is 10 nearest who are not alerted as members: nearest[0] is one, so the 900 m one fills
    # the tenth place; the 950 m one is past the cut, and no team brings him.
    tenth = responder(api, at=north_of(*PATIENT, 900))
    stranger = responder(api, at=north_of(*PATIENT, 950))
    made = team(api, behind_the_cut, [across_town, outside_area, off_duty, nearest[0]])

    answer = sos(api).body
    alerts = alerts_of(api, answer["incident_id"])
    members = {behind_the_cut, across_town, nearest[0]}
    assert set(alerts) == set(nearest) | members | {tenth}
    assert {r for r, a in alerts.items() if a["team_id"] == made["team_id"]} == members
    assert outside_area not in alerts and off_duty not in alerts and stranger not in alerts

    leader = {"sub": behind_the_cut, "roles": ("responder",)}
    accepted = api(
        "POST", f"/v1/incidents/{answer['incident_id']}/responses", {"action": "accept"}, sub=across_town
    )
    assert accepted.status == 200, accepted.body
    seen = api("GET", f"/v1/teams/{made['team_id']}/responses", **leader)
    assert seen.status == 200, seen.body
    states = {r["responder_id"]: r["state"] for r in seen.body["items"]}
    assert states == {behind_the_cut: "alerted", across_town: "accepted", nearest[0]: "alerted"}
    assert {r["incident_id"] for r in seen.body["items"]} == {answer["incident_id"]}
    assert all(r["name"] == "志愿者" for r in seen.body["items"])
    # A member sees the team, not its responses; a stranger neither.
    member = {"sub": across_town, "roles": ("responder",)}
    assert api("GET", f"/v1/teams/{made['team_id']}", **member).status == 200
    assert api("GET", f"/v1/teams/{made['team_id']}/responses", **member).status == 404
    assert api("GET", f"/v1/teams/{made['team_id']}", sub=stranger, roles=("responder",)).status == 404


def test_outside_its_hours_or_area_a_team_adds_nobody(api):
    far_member = responder(api, at=north_of(*PATIENT, 2500))
    near = responder(api, at=north_of(*PATIENT, 50))
    closed = team(api, far_member, [], opening_hours=NEVER)
    elsewhere = north_of(*PATIENT, 20_000)
    team(api, far_member, [], lat=elsewhere[0], lng=elsewhere[1])
    alerts = alerts_of(api, sos(api).body["incident_id"])
    assert set(alerts) == {near}
    assert api("GET", f"/v1/teams/{closed['team_id']}", **ADMIN).body["open_now"] is False


def test_a_deleted_team_is_no_longer_alerted(api):
    far_member = responder(api, at=north_of(*PATIENT, 2500))
    made = team(api, far_member, [])
    assert api("DELETE", f"/v1/teams/{made['team_id']}", **ADMIN).status == 204
    assert alerts_of(api, sos(api).body["incident_id"]) == {}
    assert api("GET", f"/v1/teams/{made['team_id']}", **ADMIN).status == 404
    assert api("DELETE", f"/v1/teams/{made['team_id']}", **ADMIN).status == 404


def test_an_estation_is_on_the_map_and_its_staff_answer_within_300_m(api):
    site = north_of(*PATIENT, 1500)
    aed_id = aed(api, site, name="地铁龙翔桥站 AED")
    staff = responder(api, at=north_of(*site, 100))  # at the desk, 1.4 km from the first patient
    made = api(
        "POST",
        "/v1/teams",
        {
            "kind": "estation",
            "name": "龙翔桥站救护E站",
            "organisation": "杭州地铁",
            "leader_id": staff,
            "opening_hours": ALWAYS,
            "lat": site[0],
            "lng": site[1],
            "address": "延安路龙翔桥站 B1 服务台",
            "aed_id": aed_id,
        },
        **ADMIN,
    )
    assert made.status == 201, made.body
    assert made.body["radius_m"] == 300.0

    bbox = f"{PATIENT[1] - 0.05},{PATIENT[0] - 0.05},{PATIENT[1] + 0.05},{PATIENT[0] + 0.05}"
    mapped = api("GET", "/v1/estations", query={"bbox": bbox})  # anonymous: the public map
    assert mapped.status == 200, mapped.body
    (feature,) = mapped.body["features"]
    assert feature["properties"]["name"] == "龙翔桥站救护E站"
    assert feature["properties"]["aed_id"] == aed_id and feature["properties"]["open_now"] is True
    assert feature["geometry"]["coordinates"] == [site[1], site[0]]
    assert staff not in str(mapped.body)  # never who its staff are

    far = alerts_of(api, sos(api).body["incident_id"])  # 1.5 km away: not the E-station's
    assert staff not in far
    close = alerts_of(api, sos(api, at=north_of(*site, -250)).body["incident_id"])
    assert close[staff]["team_id"] == made.body["team_id"]


def test_who_may_change_a_team_and_what_is_refused(api):
    leader = responder(api, at=north_of(*PATIENT, 100))
    member = responder(api, at=north_of(*PATIENT, 200))
    newcomer = responder(api, at=north_of(*PATIENT, 300))
    made = team(api, leader, [member])
    path = f"/v1/teams/{made['team_id']}"
    as_leader = {"sub": leader, "roles": ("responder",)}

    changed = api(
        "PATCH", path, {"member_ids": [member, newcomer], "opening_hours": "Mo-Fr 08:00-18:00"}, **as_leader
    )
    assert changed.status == 200, changed.body
    assert [m["responder_id"] for m in changed.body["members"]] == [leader, member, newcomer]
    assert api("PATCH", path, {"name": "改名"}, **as_leader).status == 422
    assert api("PATCH", path, {"member_ids": []}, sub=member, roles=("responder",)).status == 404
    assert api("PATCH", path, {"kind": "estation"}, **ADMIN).status == 422
    assert api("PATCH", path, {"lat": 30.0}, **ADMIN).status == 422
    renamed = api("PATCH", path, {"name": "上城区救护队", "radius_m": 1200.0}, **ADMIN)
    assert renamed.status == 200 and renamed.body["name"] == "上城区救护队"
    assert renamed.body["radius_m"] == 1200.0

    def refused(body: dict[str, Any], expected: str) -> None:
        reply = api("POST", "/v1/teams", {**TEAM_BODY, "leader_id": leader, **body}, **ADMIN)
        assert reply.status == 422, reply.body
        assert expected in str(reply.body), reply.body

    refused({"member_ids": ["nobody-like-this"]}, "nobody-like-this")
    refused({"radius_m": 50.0}, "radius_m")
    refused({"radius_m": 6000.0}, "radius_m")
    refused({"opening_hours": "whenever"}, "opening_hours")
    refused({"member_ids": [f"r{i}" for i in range(60)]}, "member_ids")
    refused({"kind": "estation", "radius_m": None, "address": "某地"}, "aed_id")
    refused({"kind": "estation", "radius_m": None, "aed_id": "no-such-aed", "address": "某地"}, "no-such-aed")
    refused({"kind": "estation", "radius_m": None, "aed_id": "x"}, "address")
    refused({"aed_id": "x"}, "aed_id")
    assert api("POST", "/v1/teams", {**TEAM_BODY, "leader_id": leader}, **as_leader).status == 403
    assert api("GET", "/v1/teams", **as_leader).status == 403


TEAM_BODY: dict[str, Any] = {
    "kind": "team",
    "name": "拱墅区救护队",
    "organisation": "杭州市红十字会",
    "opening_hours": ALWAYS,
    "lat": PATIENT[0],
    "lng": PATIENT[1],
    "radius_m": 1000.0,
}


def test_admins_list_teams_and_estations_apart_in_pages(api):
    leader = responder(api, at=north_of(*PATIENT, 100))
    made = [team(api, leader, [], name=f"队{i}") for i in range(3)]
    seen, token = [], None
    while True:
        page = api(
            "GET",
            "/v1/teams",
            query={"kind": "team", "limit": 2, **({"next_token": token} if token else {})},
            **ADMIN,
        )
        assert page.status == 200, page.body
        seen += [t["team_id"] for t in page.body["items"]]
        token = page.body["next_token"]
        if token is None:
            break
    assert seen == [t["team_id"] for t in made]
    assert api("GET", "/v1/teams", query={"kind": "estation"}, **ADMIN).body["items"] == []


def test_a_team_lookup_that_fails_still_alerts_the_nearest_and_the_retry_brings_the_team(api, monkeypatch):
    from shared.dal.geo_index import DynamoGeoIndex
    from shared.logic.teams import TEAM_AREA

    near = responder(api, at=north_of(*PATIENT, 50))
    far_member = responder(api, at=north_of(*PATIENT, 2500))
    team(api, far_member, [])
    search = DynamoGeoIndex.nearby

    def throttled(self: DynamoGeoIndex, kind: str, *args: Any) -> Any:
        if kind == TEAM_AREA:
            raise RuntimeError("ProvisionedThroughputExceededException, after botocore's retries")
        return search(self, kind, *args)

    monkeypatch.setattr(DynamoGeoIndex, "nearby", throttled)
    first = sos(api, key="team-lookup-fails")
    assert first.status == 500, first.body  # the app retries with its key
    (listed,) = dispatcher(api, "GET", "/v1/incidents").body["items"]
    assert set(alerts_of(api, listed["incident_id"])) == {near}  # the nearest did not wait

    monkeypatch.setattr(DynamoGeoIndex, "nearby", search)
    again = sos(api, key="team-lookup-fails")
    assert again.status == 202 and again.body["incident_id"] == listed["incident_id"], again.body
    assert set(alerts_of(api, listed["incident_id"])) == {near, far_member}


def test_a_patch_with_nulls_changes_only_what_it_gives(api):
    leader = responder(api, at=north_of(*PATIENT, 100))
    made = team(api, leader, [])
    # Found by the fuzzer: "lng": null beside a lat was a 500. null means "not given", as for AEDs.
    reply = api("PATCH", f"/v1/teams/{made['team_id']}", {"lat": 30.0, "lng": None}, **ADMIN)
    assert reply.status == 422 and "lat and lng" in reply.body["error"]["message"], reply.body
    kept = api("PATCH", f"/v1/teams/{made['team_id']}", {"name": "新名", "address": None}, **ADMIN)
    assert kept.status == 200 and kept.body["name"] == "新名" and kept.body["lat"] == made["lat"], kept.body
