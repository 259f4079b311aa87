"""The seeded demo finds a newcomer an AED at any hour. Every place the README's curls, the `make run`
banner and `make demo` search from has AEDs open 24/7 within 1 km; checked at night, when the seeded metro
stations, malls and offices are closed (a clean clone's suite once failed at 05:28 for lack of them).
It has one demo E-station (救护E站) by 上城区's centre, on the public map, keeping one of those AEDs."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import time_machine

from local_runtime import demo
from local_runtime.seed import DEMO_ESTATION, DEMO_POINTS, ROUND_THE_CLOCK, seed, seed_past
from shared import wiring
from shared.geo.distance import haversine_m
from shared.logic import teams

ROOT = Path(__file__).resolve().parents[2]
RADIUS_M = 1000  # the README's curl and the demo's AED slot
NIGHTS = (
    "2026-12-06T03:00:00+08:00",  # Sunday 03:00: nothing but the 24/7 venues is open
    "2026-12-09T03:00:00+08:00",  # a weekday's 03:00
    "2026-12-05T23:30:00+08:00",  # Saturday 23:30: the metro closed at 23:00
    "2026-12-07T00:00:00+08:00",  # midnight, Sunday into Monday
)


def readme_points() -> list[tuple[float, float]]:
    """Every (lat, lng) the README's examples use, in query strings or JSON bodies."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    pairs = re.findall(r"lat\W{1,3}(-?\d+\.\d+)\W{1,3}lng\W{1,3}(-?\d+\.\d+)", text)
    return [(float(lat), float(lng)) for lat, lng in pairs]


def readme_first_curl() -> tuple[str, dict[str, str]]:
    url = re.search(
        r"curl '(http://127\.0\.0\.1:\d+/v1/aeds/nearby\?[^']+)'", ROOT.joinpath("README.md").read_text()
    )
    assert url, "the README's first curl searches AEDs"
    parts = urlsplit(url.group(1))
    return parts.path, dict(parse_qsl(parts.query))


def test_every_point_the_readme_banner_and_demo_use_has_24_7_aeds_in_the_seed():
    used = [*readme_points(), (demo.LAT, demo.LNG)]  # the banner's curl is built from DEMO_POINTS
    assert len(used) >= 4, used
    for lat, lng in used:
        assert any(haversine_m(lat, lng, *p) < 50 for p in DEMO_POINTS.values()), (
            f"({lat}, {lng}) is used by the README or `make demo` but is not a seed demo point"
        )
    assert demo.AED_RADIUS_M <= RADIUS_M
    for name in DEMO_POINTS:
        by_it = [a for a in ROUND_THE_CLOCK if a[0] == name]
        assert len(by_it) >= 2, f"{name}: one busy or broken AED would leave it with none"
        for _, _, _, north_m, east_m in by_it:
            assert math.hypot(north_m, east_m) < 0.8 * RADIUS_M


def test_the_readme_curl_and_the_demo_find_open_aeds_at_night(api):
    with time_machine.travel(NIGHTS[0], tick=True):
        demo_data = seed()
        assert demo_data.aeds == 220
        # The README's first curl as written: no `at`, so "open now" is Sunday 03:00.
        path, query = readme_first_curl()
        found = api("GET", path, query=query)
        assert found.status == 200
        assert found.body["items"], "the README's first curl finds no AED at 03:00"
    for night in NIGHTS:
        for name, (lat, lng) in DEMO_POINTS.items():
            reply = api(
                "GET",
                "/v1/aeds/nearby",
                query={"lat": lat, "lng": lng, "radius_m": RADIUS_M, "at": night, "limit": 100},
            )
            assert reply.status == 200, reply.body
            open_24h = [i for i in reply.body["items"] if "24h" in i["name"]]
            assert len(open_24h) >= 2, f"{name} at {night}: {reply.body['items']}"


def test_the_seed_makes_one_e_station_by_shangcheng_keeping_a_24_7_aed(api):
    """Found as the public map finds it (GET /v1/estations, anonymous) round the shangcheng point; its AED
    is in the registry where the station is; its staff are on-duty demo volunteers; `make demo`'s SOS by
    in77 lies outside its 300 m, so it alerts none of them as the station's."""
    with time_machine.travel("2026-12-09T10:00:00+08:00", tick=True):  # a weekday morning: staffed
        demo_data = seed()
    admin = {"sub": "demo-admin", "roles": ("admin",)}
    listed = api("GET", "/v1/teams", query={"kind": "estation"}, **admin)
    assert listed.status == 200, listed.body
    assert [t["team_id"] for t in listed.body["items"]] == [demo_data.estation_id], listed.body
    station = listed.body["items"][0]
    assert "演示" in station["name"] and "Demo" in station["name"], station
    assert "演示" in station["address"] and "demo" in station["address"], station
    on_duty = {rid for rid, _, _ in demo_data.on_duty}
    members = [m["responder_id"] for m in station["members"]]
    assert 2 <= len(members) <= 4 and set(members) <= on_duty and station["leader_id"] in members, station

    lat, lng = DEMO_POINTS["shangcheng"]
    box = ",".join(str(round(v, 6)) for v in (lng - 0.01, lat - 0.01, lng + 0.01, lat + 0.01))
    found = api("GET", "/v1/estations", query={"bbox": box, "at": "2026-12-09T10:00:00+08:00"})
    assert found.status == 200, found.body
    assert len(found.body["features"]) == 1, f"one E-station round shangcheng: {found.body}"
    [feature] = found.body["features"]
    props = feature["properties"]
    assert props["team_id"] == demo_data.estation_id
    assert props["name"] == DEMO_ESTATION["name"] and props["open_now"] is True, props
    assert not {"members", "member_ids", "leader_id"} & set(props), "the public map never names staff"
    s_lng, s_lat = feature["geometry"]["coordinates"]
    assert haversine_m(lat, lng, s_lat, s_lng) < 500

    aed = api("GET", f"/v1/aeds/{props['aed_id']}", sub="demo-viewer")
    assert aed.status == 200, aed.body
    assert aed.body["opening_hours"] == "24/7" and aed.body["status"] == "ok", aed.body
    assert haversine_m(aed.body["lat"], aed.body["lng"], s_lat, s_lng) < 1, (aed.body, feature)
    assert haversine_m(demo.LAT, demo.LNG, s_lat, s_lng) > station["radius_m"] + 500
    # While it is staffed, an SOS at the station alerts those of its staff within its 300 m; `make demo`'s
    # by in77 alerts none of them as the station's.
    staffed = datetime.fromisoformat("2026-12-09T10:01:00+08:00")
    at_station = teams.on_duty_members(wiring.geo_index(), s_lat, s_lng, staffed, "Asia/Shanghai")
    assert at_station and {h.attributes[teams.TEAM_ATTRIBUTE] for h in at_station} == {props["team_id"]}
    assert {h.entity_id for h in at_station} <= set(members)
    assert teams.on_duty_members(wiring.geo_index(), demo.LAT, demo.LNG, staffed, "Asia/Shanghai") == []


MID_MONTH = "2026-12-16T10:00:00+08:00"  # the week of rescue history lies within the month
COCKPIT = {"sub": "demo-admin", "roles": ("admin",)}


def test_the_cockpit_shows_training_and_a_leaderboard(api):
    """Four weeks of training reach on duty through every stage of the funnel, sessions are rated, and
    this month's board ranks only the responders who opted in (the others with credits stay off it)."""
    from shared import wiring
    from shared.logic import credits

    with time_machine.travel(MID_MONTH, tick=True):
        seed_past(seed())
        training = api(
            "GET", "/v1/cockpit/training", query={"from": "2026-11-19", "to": "2026-12-16"}, **COCKPIT
        )
        assert training.status == 200, training.body
        funnel = training.body["funnel"]
        assert (
            funnel["registered"]
            >= funnel["attended"]
            >= funnel["passed"]
            >= funnel["certified"]
            >= funnel["on_duty"]
            > 0
        ), funnel
        assert funnel["passed"] < funnel["attended"] < funnel["registered"], funnel  # no-shows, fails
        sessions = training.body["sessions"]
        assert any(s["ratings"] > 0 for s in sessions), sessions
        assert any(s["waitlisted"] > 0 for s in sessions), sessions
        assert all("演示 Demo" in s["title"] for s in sessions), sessions
        assert len({s["trainer_id"] for s in sessions}) > 1, sessions

        board = api("GET", "/v1/credits/leaderboard", query={"period": "2026-12"}, sub="demo-viewer")
        assert board.status == 200, board.body
        rows = board.body["items"]
        assert len(rows) >= 3, rows
        assert [r["points"] for r in rows] == sorted((r["points"] for r in rows), reverse=True)
        assert rows[0]["points"] > rows[-1]["points"], rows  # a ranking, not a tie
        store = wiring.leaderboard()
        holders = credits.totals(store.credits_in_month("2026-12"))
        members = store.members(list(holders))
        opted = {r for r, m in members.items() if m.entry is not None and m.entry.opt_in}
        assert len(rows) == len(opted) < len(holders), (rows, opted, holders)  # some did not opt in
        assert {r["display_name"] for r in rows} == {members[r].shown_as for r in opted}
