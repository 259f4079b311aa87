"""Teaching through the real handlers on the embedded AWS: courses and sessions, registration with a
waitlist, check-in by QR code, theory online and evaluations, with the roles and errors of the contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from local_runtime import outbox
from local_runtime.events import match, proxy_event
from shared import wiring
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.teaching import DynamoTrainingRecords
from shared.logic.teaching.checkin import sign, window_of
from shared.logic.teaching.ports import TRAINING_SESSION
from tests.integration.teaching_helpers import (
    ADMIN,
    BINJIANG_SITE,
    INSTRUCTOR,
    TRAINER,
    XIHU_SITE,
    add_course,
    add_session,
    checkin_code,
    finish_theory,
    iso,
    phone_of,
    register,
)

NOW_SESSION = {"starts_in": timedelta(minutes=-10), "hours": 3}  # in progress: check-in is open


# -- courses ---------------------------------------------------------------------------------------
def test_trainer_publishes_a_course_that_anyone_reads(api):
    course_id = add_course(api, modules=("cpr", "aed", "bleeding"))
    reply = api("GET", f"/v1/courses/{course_id}", sub="member")
    assert reply.status == 200
    assert [m["module_id"] for m in reply.body["theory_modules"]] == ["cpr", "aed", "bleeding"]
    assert reply.body["created_by"] == TRAINER["sub"] and reply.body["practical_hours"] == 8


def test_course_roles_validation_and_404(api):
    body = {"title": "CPR", "theory_modules": [{"module_id": "m1", "title": "t", "minutes": 30}]}
    assert api("POST", "/v1/courses", body).status == 401
    assert api("POST", "/v1/courses", body, sub="someone").status == 403
    assert api("POST", "/v1/courses", body, **ADMIN).status == 201
    twice = {**body, "theory_modules": body["theory_modules"] * 2}
    reply = api("POST", "/v1/courses", twice, **TRAINER)
    assert reply.status == 422 and "unique" in reply.body["error"]["message"]
    assert api("POST", "/v1/courses", {**body, "theory_modules": []}, **TRAINER).status == 422
    assert api("POST", "/v1/courses", {**body, "practical_hours": "8"}, **TRAINER).status == 422
    assert api("GET", "/v1/courses/nope", sub="member").status == 404


# -- sessions --------------------------------------------------------------------------------------
def _session_body(course_id, **changes):
    starts = datetime.now(UTC) + timedelta(days=3)
    body = {
        "course_id": course_id,
        "site": "西湖区培训基地",
        "lat": XIHU_SITE[0],
        "lng": XIHU_SITE[1],
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=4)),
        "capacity": 30,
        "instructor_id": INSTRUCTOR["sub"],
    }
    return {**body, **changes}


def test_session_validation_roles_and_unknown_course(api):
    course_id = add_course(api)
    starts = datetime.now(UTC) + timedelta(days=3)
    assert api("POST", "/v1/sessions", _session_body(course_id), sub="x").status == 403
    assert api("POST", "/v1/sessions", _session_body("nope"), **TRAINER).status == 404
    backwards = _session_body(course_id, ends_at=iso(starts - timedelta(hours=1)))
    for bad in (
        backwards,
        _session_body(course_id, capacity=0),
        _session_body(course_id, capacity="30"),
        _session_body(course_id, starts_at="2026-12-05T09:00:00", ends_at="2026-12-05T12:00:00"),
        _session_body(course_id, lat=91),
        _session_body(course_id, ends_at=iso(starts + timedelta(hours=30))),
    ):
        reply = api("POST", "/v1/sessions", bad, **TRAINER)
        assert reply.status == 422, (bad, reply.body)
        assert reply.body["error"]["code"] == "validation_failed"
    created = api("POST", "/v1/sessions", _session_body(course_id), **TRAINER)
    assert created.status == 201
    assert created.body["seats_left"] == 30 and created.body["waitlisted"] == 0


def test_anyone_finds_sessions_nearest_first_with_free_seats(api):
    course_id = add_course(api)
    far = add_session(api, course_id, where=BINJIANG_SITE, site="滨江")  # ~6.7 km from Xihu: outside
    near = add_session(api, course_id, capacity=2, site="西湖")
    middle = add_session(api, course_id, where=(30.2700, 120.1650), site="武林")
    register(api, near, "p1", 1)
    reply = api("GET", "/v1/sessions", sub="member", query={"near": "30.2590,120.1650", "radius_m": 5000})
    assert reply.status == 200
    items = reply.body["items"]
    assert [i["session_id"] for i in items] == [near, middle]
    assert items[0]["seats_left"] == 1 and items[0]["distance_m"] == 0.0
    assert items[0]["course_title"].startswith("救护员培训")
    # Without a place: by start time, the next 30 days, every session
    listed = api("GET", "/v1/sessions", sub="member").body["items"]
    assert {i["session_id"] for i in listed} == {far, near, middle}
    # Paged
    first = api("GET", "/v1/sessions", sub="member", query={"near": "30.2590,120.1650", "limit": 1}).body
    second = api(
        "GET",
        "/v1/sessions",
        sub="member",
        query={"near": "30.2590,120.1650", "limit": 1, "next_token": first["next_token"]},
    ).body
    assert [first["items"][0]["session_id"], second["items"][0]["session_id"]] == [near, middle]
    assert second["next_token"] is None


def test_session_search_time_window_and_bad_parameters(api):
    course_id = add_course(api)
    soon = add_session(api, course_id, starts_in=timedelta(days=1))
    later = add_session(api, course_id, starts_in=timedelta(days=10))
    now = datetime.now(UTC)
    window = {"from": iso(now + timedelta(days=5)), "to": iso(now + timedelta(days=20))}
    for query in (window, {**window, "near": "30.2590,120.1650"}):
        ids = [i["session_id"] for i in api("GET", "/v1/sessions", sub="member", query=query).body["items"]]
        assert ids == [later], query
    assert soon != later
    for bad in (
        {"near": "30.25"},
        {"near": "95,120"},
        {"near": "1.2.3,4"},
        {"radius_m": 6000, "near": "30.2590,120.1650"},
        {"from": "2026-12-01T00:00:00"},
        {"from": iso(now), "to": iso(now - timedelta(days=1))},
        {"from": iso(now), "to": iso(now + timedelta(days=400))},
        {"limit": 101},
    ):
        reply = api("GET", "/v1/sessions", sub="member", query=bad)
        assert reply.status == 422, (bad, reply.body)


def test_finished_sessions_are_not_found(api):
    course_id = add_course(api)
    add_session(api, course_id, starts_in=timedelta(hours=-2), hours=2.02)  # over in about a minute
    now = datetime.now(UTC)
    assert len(DynamoTrainingRecords().sessions_between(now - timedelta(days=1), now)) == 1
    assert (
        len(api("GET", "/v1/sessions", sub="member", query={"near": "30.2590,120.1650"}).body["items"]) == 1
    )
    # Its index item lapses at the session's end (TTL), and searches skip lapsed items before TTL runs.
    later = int((now + timedelta(minutes=2)).timestamp())
    assert DynamoGeoIndex().nearby(TRAINING_SESSION, *XIHU_SITE, 1000, now_epoch=later) == []
    assert DynamoGeoIndex().nearby(TRAINING_SESSION, *XIHU_SITE, 1000, now_epoch=int(now.timestamp()))


# -- registrations ---------------------------------------------------------------------------------
def test_register_read_and_the_waitlist(api):
    session_id = add_session(api, add_course(api), capacity=1)
    first = register(api, session_id, "p1", 1)
    second = register(api, session_id, "p2", 2, consent=False)
    assert first.status == 201 and first.body["status"] == "confirmed" and first.body["position"] is None
    assert second.status == 201 and second.body["status"] == "waitlisted" and second.body["position"] == 1
    assert second.body["responder_consent"] is False and second.body["phone"] == phone_of(2)
    again = register(api, session_id, "p1", 1)
    assert again.status == 409 and again.body["error"]["code"] == "already_registered"
    assert (
        _location_of_conflict(api, session_id, "p1") == f"/v1/registrations/{first.body['registration_id']}"
    )
    assert first.body["registration_id"] in again.body["error"]["message"]
    rid = second.body["registration_id"]
    assert api("GET", f"/v1/registrations/{rid}", sub="p2").body == second.body
    assert api("GET", f"/v1/registrations/{rid}", **INSTRUCTOR).status == 200  # the session's instructor
    assert api("GET", f"/v1/registrations/{rid}", **ADMIN).status == 200
    unknown = api("GET", "/v1/registrations/nope", **ADMIN)
    assert unknown.status == 404
    # Another trainee, and a trainer who does not teach the session: as if it did not exist.
    for other in ({"sub": "p1"}, TRAINER):
        hidden = api("GET", f"/v1/registrations/{rid}", **other)
        assert (hidden.status, hidden.body) == (404, unknown.body), other
    assert api("GET", f"/v1/registrations/{rid}").status == 401


def _location_of_conflict(api, session_id, person):
    """The Location header of a second registration (the Api helper answers bodies and flat headers only;
    the REST proxy result carries headers as multiValueHeaders)."""
    path = f"/v1/sessions/{session_id}/registrations"
    route, params, _ = match("POST", path)
    event = proxy_event(
        route,
        path=path,
        path_parameters=params,
        query="",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"name": "x", "phone": phone_of(1), "responder_consent": True}),
        claims={"sub": person},
    )
    result = api.functions.invoke("teaching_registrations", event)
    assert result["statusCode"] == 409
    return result["multiValueHeaders"]["Location"][0]


def test_registration_validation_and_unknown_session(api):
    session_id = add_session(api, add_course(api))
    good = {"name": "张三", "phone": "+8613800000001", "responder_consent": True}
    path = f"/v1/sessions/{session_id}/registrations"
    for bad in ({**good, "phone": "13800000001"}, {**good, "responder_consent": "yes"}, {**good, "name": ""}):
        assert api("POST", path, bad, sub="p1").status == 422, bad
    assert api("POST", path, {"name": "x"}, sub="p1").status == 422
    assert api("POST", path, good).status == 401
    assert api("POST", "/v1/sessions/nope/registrations", good, sub="p1").status == 404


def test_cancelling_a_seat_promotes_the_first_in_line_and_texts_them(api):
    session_id = add_session(api, add_course(api), capacity=1)
    seat = register(api, session_id, "p1", 1).body
    first_in_line = register(api, session_id, "p2", 2).body
    second_in_line = register(api, session_id, "p3", 3).body
    assert api("DELETE", f"/v1/registrations/{seat['registration_id']}", sub="p9").status == 404
    reply = api("DELETE", f"/v1/registrations/{seat['registration_id']}", sub="p1")
    assert reply.status == 200 and reply.body["status"] == "cancelled"
    promoted = api("GET", f"/v1/registrations/{first_in_line['registration_id']}", sub="p2").body
    assert promoted["status"] == "confirmed" and promoted["position"] is None
    moved_up = api("GET", f"/v1/registrations/{second_in_line['registration_id']}", sub="p3").body
    assert moved_up["status"] == "waitlisted" and moved_up["position"] == 1
    texts = outbox.read(to=phone_of(2))
    assert len(texts) == 1 and texts[0]["channel"] == "sms"
    assert "confirmed" in texts[0]["message"] and first_in_line["registration_id"] in texts[0]["message"]
    assert outbox.read(to=phone_of(3)) == []
    # Cancelling again answers the cancelled registration and promotes nobody else.
    again = api("DELETE", f"/v1/registrations/{seat['registration_id']}", sub="p1")
    assert again.status == 200 and again.body["status"] == "cancelled"
    assert (
        api("GET", f"/v1/registrations/{second_in_line['registration_id']}", sub="p3").body["position"] == 1
    )
    # The one who cancelled may register again: at the back of the line.
    back = register(api, session_id, "p1", 1)
    assert back.status == 201 and back.body["status"] == "waitlisted" and back.body["position"] == 2


def test_leaving_the_waitlist_closes_the_gap_and_the_instructor_may_cancel(api):
    session_id = add_session(api, add_course(api), capacity=1)
    register(api, session_id, "p1", 1)
    waiting = [register(api, session_id, f"p{n}", n).body for n in (2, 3, 4)]
    # Another trainer may not cancel (nor learn of) a seat in a session they do not teach.
    assert api("DELETE", f"/v1/registrations/{waiting[0]['registration_id']}", **TRAINER).status == 404
    reply = api("DELETE", f"/v1/registrations/{waiting[0]['registration_id']}", **INSTRUCTOR)
    assert reply.status == 200 and reply.body["status"] == "cancelled" and reply.body["position"] is None
    places = [
        api("GET", f"/v1/registrations/{w['registration_id']}", sub=w["person_id"]).body["position"]
        for w in waiting[1:]
    ]
    assert places == [1, 2]
    session = api("GET", "/v1/sessions", sub="member", query={"near": "30.2590,120.1650"}).body["items"][0]
    assert session["waitlisted"] == 2 and session["seats_left"] == 0


def test_a_freed_seat_with_nobody_waiting_is_free_again(api):
    session_id = add_session(api, add_course(api), capacity=1)
    seat = register(api, session_id, "p1", 1).body
    api("DELETE", f"/v1/registrations/{seat['registration_id']}", sub="p1")
    assert register(api, session_id, "p2", 2).body["status"] == "confirmed"


# -- check-in --------------------------------------------------------------------------------------
def _checked_in_trainee(api, **session):
    course_id = add_course(api)
    session_id = add_session(api, course_id, **(session or NOW_SESSION))
    registration = register(api, session_id, "p1", 1).body
    finish_theory(api, course_id, "p1")
    return course_id, session_id, registration


def test_check_in_with_the_current_code_once(api):
    _, session_id, registration = _checked_in_trainee(api)
    shown = api("GET", f"/v1/sessions/{session_id}/checkin-code", **INSTRUCTOR)
    assert shown.status == 200
    assert shown.body["svg"].lstrip().startswith("<svg") and shown.body["code"] in shown.body["link"]
    assert datetime.fromisoformat(shown.body["expires_at"]) > datetime.now(UTC)
    reply = api("POST", f"/v1/sessions/{session_id}/checkins", {"code": shown.body["code"]}, sub="p1")
    assert reply.status == 200 and reply.body["registration_id"] == registration["registration_id"]
    again = api("POST", f"/v1/sessions/{session_id}/checkins", {"code": shown.body["code"]}, sub="p1")
    assert again.status == 200 and again.body["checked_in_at"] == reply.body["checked_in_at"]
    attendance = api("GET", f"/v1/sessions/{session_id}/attendance", **INSTRUCTOR).body
    assert (attendance["confirmed"], attendance["checked_in"]) == (1, 1)
    assert attendance["items"][0]["checked_in_at"] == reply.body["checked_in_at"]


def test_only_the_instructor_or_an_admin_shows_the_code(api):
    _, session_id, _ = _checked_in_trainee(api)
    assert api("GET", f"/v1/sessions/{session_id}/checkin-code", **TRAINER).status == 403
    assert api("GET", f"/v1/sessions/{session_id}/checkin-code", sub="p1").status == 403
    assert api("GET", f"/v1/sessions/{session_id}/checkin-code", **ADMIN).status == 200
    assert api("GET", "/v1/sessions/nope/checkin-code", **ADMIN).status == 404


def test_stale_forged_and_foreign_codes_are_refused(api):
    course_id, session_id, _ = _checked_in_trainee(api)
    other_session = add_session(api, course_id, **NOW_SESSION)
    path = f"/v1/sessions/{session_id}/checkins"
    old = sign(wiring.checkin_secret(), session_id, window_of(datetime.now(UTC)) - 3)  # 90 s ago
    reply = api("POST", path, {"code": old}, sub="p1")
    assert reply.status == 409 and reply.body["error"]["code"] == "stale_code"
    foreign = checkin_code(api, other_session)
    for bad in (foreign, "12345.abc", "not-a-code", foreign.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA"):
        reply = api("POST", path, {"code": bad}, sub="p1")
        assert reply.status == 422 and reply.body["error"]["code"] == "invalid_code", bad
    assert api("POST", path, {"code": ""}, sub="p1").status == 422


def test_check_in_only_during_the_session_with_a_confirmed_seat_and_the_theory(api):
    course_id = add_course(api)
    tomorrow = add_session(api, course_id)
    register(api, tomorrow, "p1", 1)
    finish_theory(api, course_id, "p1")
    reply = api("POST", f"/v1/sessions/{tomorrow}/checkins", {"code": checkin_code(api, tomorrow)}, sub="p1")
    assert reply.status == 409 and reply.body["error"]["code"] == "outside_session"

    now = add_session(api, course_id, capacity=1, **NOW_SESSION)
    register(api, now, "p1", 1)
    register(api, now, "p2", 2)  # waitlisted
    register(api, now, "p3", 3)  # waitlisted, theory not done
    code = checkin_code(api, now)
    reply = api("POST", f"/v1/sessions/{now}/checkins", {"code": code}, sub="p2")
    assert reply.status == 409 and reply.body["error"]["code"] == "not_confirmed"
    assert api("POST", f"/v1/sessions/{now}/checkins", {"code": code}, sub="stranger").status == 404
    assert api("POST", "/v1/sessions/nope/checkins", {"code": code}, sub="p1").status == 404

    third = add_session(api, course_id, **NOW_SESSION)
    register(api, third, "p4", 4)
    api("PUT", f"/v1/courses/{course_id}/theory/m1", {"completed": True}, sub="p4")
    reply = api("POST", f"/v1/sessions/{third}/checkins", {"code": checkin_code(api, third)}, sub="p4")
    assert reply.status == 409 and reply.body["error"]["code"] == "theory_incomplete"


def test_a_checked_in_seat_cannot_be_cancelled(api):
    _, session_id, registration = _checked_in_trainee(api)
    api("POST", f"/v1/sessions/{session_id}/checkins", {"code": checkin_code(api, session_id)}, sub="p1")
    reply = api("DELETE", f"/v1/registrations/{registration['registration_id']}", sub="p1")
    assert reply.status == 409 and reply.body["error"]["code"] == "already_checked_in"


def test_attendance_is_for_the_instructor_and_admins(api):
    session_id = add_session(api, add_course(api), capacity=1)
    register(api, session_id, "p1", 1)
    register(api, session_id, "p2", 2)
    path = f"/v1/sessions/{session_id}/attendance"
    assert api("GET", path, sub="p1").status == 403
    assert api("GET", path, **TRAINER).status == 403  # a trainer who does not teach it (sessions are public)
    assert api("GET", path).status == 401
    assert api("GET", path, sub=INSTRUCTOR["sub"]).status == 200  # the instructor, whatever the token's roles
    body = api("GET", path, **ADMIN).body
    assert [(i["person_id"], i["status"], i["position"]) for i in body["items"]] == [
        ("p1", "confirmed", None),
        ("p2", "waitlisted", 1),
    ]
    assert (body["capacity"], body["confirmed"], body["waitlisted"], body["checked_in"]) == (1, 1, 1, 0)
    assert api("GET", "/v1/sessions/nope/attendance", **ADMIN).status == 404


# -- theory ----------------------------------------------------------------------------------------
def test_theory_progress_per_trainee(api):
    course_id = add_course(api)
    path = f"/v1/courses/{course_id}/theory"
    assert api("GET", path, sub="p1").body["complete"] is False
    reply = api("PUT", f"{path}/m1", {"completed": True, "score": 92.5}, sub="p1")
    assert reply.status == 200
    assert [(m["module_id"], m["done"], m["score"]) for m in reply.body["modules"]] == [
        ("m1", True, 92.5),
        ("m2", False, None),
    ]
    assert api("PUT", f"{path}/m2", {"completed": True}, sub="p1").body["complete"] is True
    assert api("GET", path, sub="p2").body["complete"] is False  # per trainee
    records = DynamoTrainingRecords()
    assert records.theory_complete(course_id, "p1") and not records.theory_complete(course_id, "p2")
    undone = api("PUT", f"{path}/m2", {"completed": False}, sub="p1").body
    assert undone["complete"] is False


def test_theory_errors(api):
    course_id = add_course(api)
    path = f"/v1/courses/{course_id}/theory"
    assert api("PUT", f"{path}/m9", {"completed": True}, sub="p1").status == 404
    assert api("PUT", "/v1/courses/nope/theory/m1", {"completed": True}, sub="p1").status == 404
    assert api("GET", "/v1/courses/nope/theory", sub="p1").status == 404
    assert api("PUT", f"{path}/m1", {"completed": "true"}, sub="p1").status == 422
    assert api("PUT", f"{path}/m1", {"completed": True, "score": 101}, sub="p1").status == 422
    assert api("PUT", f"{path}/m1", {"completed": False, "score": 50}, sub="p1").status == 422
    assert api("GET", path).status == 401


# -- evaluations -----------------------------------------------------------------------------------
def test_evaluate_once_after_attending(api):
    course_id, session_id, registration = _checked_in_trainee(api)
    path = f"/v1/registrations/{registration['registration_id']}/evaluation"
    early = api("POST", path, {"rating": 5}, sub="p1")
    assert early.status == 409 and early.body["error"]["code"] == "not_checked_in"
    api("POST", f"/v1/sessions/{session_id}/checkins", {"code": checkin_code(api, session_id)}, sub="p1")
    assert api("POST", path, {"rating": 4}, **INSTRUCTOR).status == 403  # only the trainee rates
    assert api("POST", path, {"rating": 4}, **ADMIN).status == 403
    assert api("POST", path, {"rating": 4}, sub="p2").status == 404
    assert api("POST", path, {"rating": 4}, **TRAINER).status == 404  # not their session
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {}):
        assert api("POST", path, bad, sub="p1").status in (400, 422), bad
    reply = api("POST", path, {"rating": 4, "comment": "实操很充分"}, sub="p1")
    assert reply.status == 201 and reply.body["rating"] == 4 and reply.body["comment"] == "实操很充分"
    again = api("POST", path, {"rating": 5}, sub="p1")
    assert again.status == 409 and again.body["error"]["code"] == "already_evaluated"
    records = DynamoTrainingRecords()
    assert records.has_evaluated(course_id, "p1") and not records.has_evaluated(course_id, "p2")
    assert [e.rating for e in records.evaluations_of_session(session_id)] == [4]


# -- the records the exams side reads --------------------------------------------------------------
def test_training_records_tell_who_attended_and_who_taught(api):
    course_id, session_id, registration = _checked_in_trainee(api)
    api("POST", f"/v1/sessions/{session_id}/checkins", {"code": checkin_code(api, session_id)}, sub="p1")
    records = DynamoTrainingRecords()
    mine = records.registrations_of_person("p1")
    assert [(r.session_id, r.status, r.checked_in_at is not None) for r in mine] == [
        (session_id, "confirmed", True)
    ]
    session = records.session(session_id)
    assert session is not None and session.instructor_id == INSTRUCTOR["sub"] and session.confirmed == 1
    assert records.course(course_id) is not None and records.course("nope") is None
    assert records.registration(registration["registration_id"]).responder_consent is True
    now = datetime.now(UTC)
    assert [s.session_id for s in records.sessions_between(now - timedelta(hours=1), now)] == [session_id]
    assert records.sessions_between(now, now + timedelta(days=400)) == []


@pytest.mark.parametrize("months", [1, 14])
def test_sessions_between_spans_months(api, months):
    course_id = add_course(api)
    ids = [add_session(api, course_id, starts_in=timedelta(days=30 * m + 1)) for m in range(months)]
    now = datetime.now(UTC)
    found = DynamoTrainingRecords().sessions_between(now, now + timedelta(days=30 * months + 2))
    assert [s.session_id for s in found] == ids
