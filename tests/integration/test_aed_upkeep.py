"""AED upkeep through the real handlers on the embedded AWS: the daily run's effect on search and the map,
reminders to managers through the "AED upkeep" topic, inspections (roles, validation, paging), and one
AED with its upkeep state."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from local_runtime import outbox, schedules

HUBIN = (30.2590, 120.1650)
MANAGER = {"sub": "manager-1", "roles": ("aed_manager",)}
ALL_PASS = {c: "pass" for c in ("self_test_light", "pads_sealed_in_date", "battery", "cabinet", "signage")}


def today() -> date:
    from datetime import datetime

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def add_aed(api, *, lat=30.2600, lng=120.1650, name="湖滨银泰", **fields):
    body = {"lat": lat, "lng": lng, "name": name, "opening_hours": "24/7", **fields}
    reply = api("POST", "/v1/aeds", body, **MANAGER)
    assert reply.status == 201, reply.body
    return reply.body["aed_id"]


def nearby_ids(api):
    reply = api("GET", "/v1/aeds/nearby", query={"lat": HUBIN[0], "lng": HUBIN[1], "radius_m": 1000})
    assert reply.status == 200
    return [i["aed_id"] for i in reply.body["items"]]


def map_status(api, aed_id):
    reply = api("GET", "/v1/aeds", query={"bbox": "120.15,30.25,120.18,30.27"})
    return next(
        f["properties"]["status"] for f in reply.body["features"] if f["properties"]["aed_id"] == aed_id
    )


def run_upkeep(api, as_of: date | None = None):
    return schedules.run(api.functions, "aed_upkeep_daily", {"as_of": as_of.isoformat()} if as_of else None)


def reminders(manager="manager-1"):
    return [m for m in outbox.read(manager) if m["channel"] == "topic"]


def test_pads_expired_yesterday_leave_search_when_the_daily_run_goes(api):
    expired = add_aed(api, name="pads expired", pads_expire_on=(today() - timedelta(days=1)).isoformat())
    fine = add_aed(api, lat=30.2605, name="fine", pads_expire_on=(today() + timedelta(days=400)).isoformat())
    assert set(nearby_ids(api)) == {expired, fine}
    report = run_upkeep(api)
    assert report["expired"] == 1 and report["expired_ids"] == [expired]
    assert nearby_ids(api) == [fine]
    assert map_status(api, expired) == "expired"
    assert api("GET", f"/v1/aeds/{expired}", sub="member").body["status"] == "expired"
    (notice,) = reminders()
    assert notice["aed_id"] == expired and notice["kind"] == "pads_expired"
    assert run_upkeep(api)["expired"] == 0 and len(reminders()) == 1


def test_reminders_at_30_and_7_days_exactly_once_however_often_the_run_goes(api):
    expires = today() + timedelta(days=30)
    aed = add_aed(api, battery_expires_on=expires.isoformat(), last_inspected_on=None)
    sent = [run_upkeep(api)["reminders_sent"] for _ in range(2)]
    sent += [run_upkeep(api, today() + timedelta(days=5))["reminders_sent"]]
    sent += [run_upkeep(api, expires - timedelta(days=7))["reminders_sent"] for _ in range(2)]
    assert sent == [1, 0, 0, 1, 0]
    got = reminders()
    assert [(m["kind"], m["aed_id"]) for m in got] == [
        ("battery_expiry_30d", aed),
        ("battery_expiry_7d", aed),
    ]
    assert expires.isoformat() in got[0]["message"]
    assert reminders("someone-else") == []


def test_overdue_inspection_is_flagged_counted_and_reminded_once(api):
    never = add_aed(api, name="never inspected")
    state = api("GET", f"/v1/aeds/{never}", sub="member").body["upkeep"]
    assert state["inspection_overdue"] is False  # registered today: due in 6 months
    due = date.fromisoformat(state["inspection_due_on"])
    assert due.month == (today().month + 5) % 12 + 1
    assert run_upkeep(api, due)["overdue"] == 0
    assert run_upkeep(api, due + timedelta(days=1))["overdue"] == 1

    old = add_aed(api, lat=30.2605, name="inspected 7 months ago")
    long_ago = (today() - timedelta(days=213)).isoformat()
    body = {"checks": ALL_PASS, "inspected_on": long_ago}
    assert api("POST", f"/v1/aeds/{old}/inspections", body, **MANAGER).status == 201
    assert api("GET", f"/v1/aeds/{old}", sub="member").body["upkeep"]["inspection_overdue"] is True
    first, second = run_upkeep(api), run_upkeep(api)
    assert (first["overdue"], second["overdue"]) == (1, 1)
    overdue = [m for m in reminders() if m["kind"] == "inspection_overdue"]
    assert [m["aed_id"] for m in overdue] == [never, old]
    assert api("POST", f"/v1/aeds/{old}/inspections", {"checks": ALL_PASS}, **MANAGER).status == 201
    assert api("GET", f"/v1/aeds/{old}", sub="member").body["upkeep"]["inspection_overdue"] is False
    assert run_upkeep(api)["overdue"] == 0
    assert old in nearby_ids(api)  # overdue is a flag for the manager, not a reason to hide a device


def test_a_failed_inspection_takes_the_aed_out_of_search_and_a_clean_one_brings_it_back(api):
    aed = add_aed(api)
    failed = api(
        "POST",
        f"/v1/aeds/{aed}/inspections",
        {"checks": {**ALL_PASS, "self_test_light": "fail"}, "note": "red light blinking"},
        **MANAGER,
    )
    assert failed.status == 201, failed.body
    assert failed.body["failed"] == ["self_test_light"] and failed.body["inspector"] == "manager-1"
    assert (failed.body["aed_status"], failed.body["aed_fault"]) == ("faulty", "inspection:self_test_light")
    assert nearby_ids(api) == []
    new_pads = (today() + timedelta(days=700)).isoformat()
    clean = api(
        "POST", f"/v1/aeds/{aed}/inspections", {"checks": ALL_PASS, "pads_expire_on": new_pads}, **MANAGER
    )
    assert clean.status == 201 and clean.body["aed_status"] == "ok"
    assert nearby_ids(api) == [aed]
    detail = api("GET", f"/v1/aeds/{aed}", sub="member").body
    assert detail["last_inspected_on"] == today().isoformat() and detail["pads_expire_on"] == new_pads
    assert detail["upkeep"]["next_expiry"] == {"part": "pads", "on": new_pads}
    assert detail["manager_id"] is None  # not every signed-in person's business
    assert api("GET", f"/v1/aeds/{aed}", **MANAGER).body["manager_id"] is not None


def test_inspections_are_listed_newest_first_in_pages(api):
    aed = add_aed(api)
    days = [today() - timedelta(days=d) for d in (40, 10, 30, 20, 0)]
    for day in days:
        reply = api(
            "POST",
            f"/v1/aeds/{aed}/inspections",
            {"checks": ALL_PASS, "inspected_on": day.isoformat()},
            **MANAGER,
        )
        assert reply.status == 201
    seen, token = [], None
    for _ in range(3):
        query = {"limit": 2, **({"next_token": token} if token else {})}
        page = api("GET", f"/v1/aeds/{aed}/inspections", query=query, sub="admin-1", roles=("admin",))
        assert page.status == 200, page.body
        seen += [i["inspected_on"] for i in page.body["items"]]
        token = page.body["next_token"]
    assert seen == [d.isoformat() for d in sorted(days, reverse=True)]
    assert token is None
    assert api("GET", f"/v1/aeds/{aed}", sub="member").body["last_inspected_on"] == today().isoformat()


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ({}, 401),
        ({"sub": "r1", "roles": ("responder",)}, 403),
        ({"sub": "d1", "roles": ("dispatcher",)}, 403),
    ],
)
def test_only_managers_and_admins_inspect(api, caller, status):
    aed = add_aed(api)
    assert api("POST", f"/v1/aeds/{aed}/inspections", {"checks": ALL_PASS}, **caller).status == status
    assert api("GET", f"/v1/aeds/{aed}/inspections", **caller).status == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checks": {**ALL_PASS, "battery": "ok"}}, "checks.battery"),
        ({"checks": {k: v for k, v in ALL_PASS.items() if k != "signage"}}, "checks.signage"),
        ({"checks": ALL_PASS, "inspected_on": "2999-01-01"}, "inspected_on"),
        ({"checks": ALL_PASS, "pads_expire_on": "2020-01-01"}, "pads_sealed_in_date"),
        ({"checks": {**ALL_PASS, "battery": True}}, "checks.battery"),
    ],
)
def test_bad_inspections_are_422_naming_the_field(api, body, field):
    aed = add_aed(api)
    reply = api("POST", f"/v1/aeds/{aed}/inspections", body, **MANAGER)
    assert reply.status == 422 and reply.body["error"]["code"] == "validation_failed"
    assert field in reply.body["error"]["message"]
    assert api("GET", f"/v1/aeds/{aed}/inspections", **MANAGER).body["items"] == []


def test_unknown_aed_and_bad_token_answers(api):
    assert api("POST", "/v1/aeds/nope/inspections", {"checks": ALL_PASS}, **MANAGER).status == 404
    assert api("GET", "/v1/aeds/nope/inspections", **MANAGER).status == 404
    assert api("GET", "/v1/aeds/nope", sub="member").status == 404
    assert api("GET", "/v1/aeds/nope").status == 401  # details are for signed-in people (the map is public)
    aed = add_aed(api)
    reply = api("GET", f"/v1/aeds/{aed}/inspections", query={"next_token": "0"}, **MANAGER)
    assert reply.status == 422


def test_static_paths_win_over_the_aed_id_template():
    from local_runtime.events import match

    assert match("GET", "/v1/aeds/nearby")[0].function == "aed_registry"
    assert match("GET", "/v1/aeds/nearby")[0].path == "/v1/aeds/nearby"
    assert match("GET", "/v1/aeds/coverage")[0].function == "aed_coverage"
    assert match("POST", "/v1/aeds/coverage")[0].function == "aed_coverage"
    route, params, _ = match("GET", "/v1/aeds/01JAB")
    assert route.path == "/v1/aeds/{aed_id}" and params == {"aed_id": "01JAB"}


def test_dev_schedule_route_refuses_unknown_functions_and_bad_dates(api):
    with pytest.raises(schedules.ScheduleError) as unknown:
        schedules.run(api.functions, "aed_registry", None)
    assert unknown.value.status == 404
    with pytest.raises(schedules.ScheduleError) as bad:
        schedules.run(api.functions, "aed_upkeep_daily", {"as_of": "yesterday"})
    assert bad.value.status == 422
