"""The heat map's week of coverage through the real handler: each (day, hour) cell equals what
POST /v1/aeds/coverage answers for that day and hour, on AEDs whose hours make the week uneven."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

MANAGER = {"sub": "manager-1", "roles": ("aed_manager",)}
PLANNER = {"sub": "planner-1", "roles": ("dispatcher",)}
# A block of 湖滨 (West Lake district), about 1.1 km by 1.1 km
AREA = {
    "type": "Polygon",
    "coordinates": [
        [[120.158, 30.252], [120.170, 30.252], [120.170, 30.262], [120.158, 30.262], [120.158, 30.252]]
    ],
}
AEDS = (
    (30.2550, 120.1610, "24/7"),
    (30.2590, 120.1650, "Mo-Fr 09:00-18:00"),
    (30.2570, 120.1680, "Sa,Su 10:00-22:00"),
    (30.2610, 120.1600, "Mo-Su 07:00-23:00"),
    (30.2530, 120.1690, "Mo-Fr 08:00-17:00"),
)
# A Wednesday, 10:30 in Hangzhou: the week is evaluated from here
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CELLS = (("Mo", 3), ("We", 10), ("We", 9), ("Fr", 12), ("Sa", 12), ("Su", 23), ("Tu", 18))
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def test_each_hour_of_the_week_equals_the_coverage_of_that_hour(api):
    for lat, lng, hours in AEDS:
        reply = api(
            "POST", "/v1/aeds", {"lat": lat, "lng": lng, "name": "AED", "opening_hours": hours}, **MANAGER
        )
        assert reply.status == 201, reply.body
    with time_machine.travel(NOW, tick=False):
        week = api("POST", "/v1/aeds/coverage/week", {"area": AREA, "grid_m": 50}, **PLANNER)
        assert week.status == 200, week.body
        assert week.body["week_of"] == "2026-12-02"
        assert [len(day) for day in week.body["hours"]] == [24] * 7
        assert [len(day) for day in week.body["within_100m"]] == [24] * 7
        for day, hour in CELLS:
            one = api(
                "POST", "/v1/aeds/coverage", {"area": AREA, "day": day, "hour": hour, "grid_m": 50}, **PLANNER
            )
            assert one.status == 200, one.body
            d = DAYS.index(day)
            assert week.body["hours"][d][hour] == one.body["within_300m"], (day, hour)
            assert week.body["within_100m"][d][hour] == one.body["within_100m"], (day, hour)
            assert week.body["usable_aeds"][d][hour] == one.body["usable_aeds"], (day, hour)
            assert week.body["sample_points"] == one.body["sample_points"]
    # The hours differ as the AEDs' do: only the 24/7 one at 03:00, all but the weekend's on Friday noon.
    assert week.body["usable_aeds"][0][3] == 1
    assert week.body["usable_aeds"][4][12] == 4
    assert week.body["usable_aeds"][5][12] == 3
    assert week.body["hours"][4][12] > week.body["hours"][0][3]


def test_the_week_is_for_planners_and_checks_its_area(api):
    body = {"area": AREA}
    assert api("POST", "/v1/aeds/coverage/week", body).status == 401
    assert api("POST", "/v1/aeds/coverage/week", body, sub="r1", roles=("responder",)).status == 403
    assert api("POST", "/v1/aeds/coverage/week", body, sub="t1", roles=("trainer",)).status == 403
    assert api("POST", "/v1/aeds/coverage/week", body, sub="a1", roles=("admin",)).status == 200
    assert api("POST", "/v1/aeds/coverage/week", {"area": AREA, "grid_m": 20}, **PLANNER).status == 422
    bad = api(
        "POST", "/v1/aeds/coverage/week", {"area": {"type": "Point", "coordinates": [120, 30]}}, **PLANNER
    )
    assert bad.status == 422 and bad.body["error"]["code"]
