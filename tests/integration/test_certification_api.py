"""Exams and certificates through the real handlers on the embedded AWS: every route, its roles, its
errors; certificates that make responders, revocation out of dispatch, reminders once each, and the
quality report."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from local_runtime import outbox
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.responders import DynamoResponders
from shared.identity import Caller
from shared.logic import responders as responder_logic
from tests.integration.certification_helpers import (
    ADMIN,
    PASSING,
    TRAINER,
    Teaching,
    certified,
    examiner,
    score,
    sitting,
)
from tests.integration.rescue_helpers import PATIENT, dispatcher, north_of, sos

TZ = "Asia/Shanghai"


# --- the examiner pool ----------------------------------------------------------------------------


def test_admins_keep_the_examiner_pool_trainers_read_it(api):
    assert api("PUT", "/v1/examiners/ex-1", {"name": "王考官"}, **TRAINER).status == 403
    assert api("PUT", "/v1/examiners/ex-1", {"name": ""}, **ADMIN).status == 422
    first = api("PUT", "/v1/examiners/ex-1", {"name": "王考官"}, **ADMIN)
    assert first.status == 200 and first.body["name"] == "王考官" and first.body["assignments"] == 0
    renamed = api("PUT", "/v1/examiners/ex-1", {"name": "王 考官"}, **ADMIN)
    assert renamed.body["added_at"] == first.body["added_at"]
    api("PUT", "/v1/examiners/ex-2", {"name": "李考官"}, **ADMIN)
    page = api("GET", "/v1/examiners", query={"limit": 1}, **TRAINER)
    # By name: 李 (U+674E) before 王 (U+738B).
    assert page.status == 200 and [e["examiner_id"] for e in page.body["items"]] == ["ex-2"]
    rest = api("GET", "/v1/examiners", query={"limit": 1, "next_token": page.body["next_token"]}, **TRAINER)
    assert [e["examiner_id"] for e in rest.body["items"]] == ["ex-1"] and rest.body["next_token"] is None
    assert api("GET", "/v1/examiners", sub="someone").status == 403
    assert api("DELETE", "/v1/examiners/ex-2", **TRAINER).status == 403
    assert api("DELETE", "/v1/examiners/ex-2", **ADMIN).status == 204
    assert api("DELETE", "/v1/examiners/ex-2", **ADMIN).status == 404
    assert [e["examiner_id"] for e in api("GET", "/v1/examiners", **ADMIN).body["items"]] == ["ex-1"]


# --- sittings -------------------------------------------------------------------------------------


def test_a_sitting_gets_an_examiner_who_taught_none_of_its_candidates(api):
    teaching = Teaching()
    taught_by_wang, taught_by_li = teaching.session("wang"), teaching.session("li")
    teaching.trainee("a", taught_by_wang)
    teaching.trainee("b", taught_by_li)
    for person in ("wang", "li", "zhao"):
        examiner(api, person)
    refused = sitting(api, teaching.course_id, ["a", "b"], examiner_id="li")
    assert refused.status == 409 and refused.body["error"]["code"] == "examiner_taught_candidate"
    created = sitting(api, teaching.course_id, ["a", "b"])
    assert created.status == 201, created.body
    assert created.body["examiner_id"] == "zhao"
    assert [c["candidate_id"] for c in created.body["candidates"]] == ["a", "b"]
    assert not any(c["scored"] for c in created.body["candidates"])
    # zhao is now the most recently assigned: a sitting of a alone goes to li, who did not teach a.
    assert sitting(api, teaching.course_id, ["a"]).body["examiner_id"] == "li"


def test_without_an_independent_examiner_the_sitting_is_refused(api):
    teaching = Teaching()
    teaching.trainee("a", teaching.session("wang"))
    examiner(api, "wang")
    refused = sitting(api, teaching.course_id, ["a"])
    assert refused.status == 409 and refused.body["error"]["code"] == "no_independent_examiner"
    outside = sitting(api, teaching.course_id, ["a"], examiner_id="nobody")
    assert outside.status == 409 and outside.body["error"]["code"] == "examiner_not_in_pool"


def test_candidates_who_did_not_attend_or_finish_theory_are_named(api):
    teaching = Teaching()
    session_id = teaching.session("wang")
    teaching.trainee("ready", session_id)
    teaching.trainee("absent", session_id, attend=False)
    teaching.trainee("reader", session_id, theory=False)
    examiner(api, "zhao")
    refused = sitting(api, teaching.course_id, ["ready", "absent", "reader"])
    assert refused.status == 409 and refused.body["error"]["code"] == "not_eligible"
    message = refused.body["error"]["message"]
    assert "absent has not attended" in message and "reader has not completed the theory" in message
    assert "ready" not in message


def test_sitting_validation_roles_and_unknown_course(api):
    teaching = Teaching()
    teaching.trainee("a", teaching.session("wang"))
    examiner(api, "zhao")
    base = {"course_id": teaching.course_id, "site": "考点", "starts_at": "2026-12-05T09:00:00+08:00"}
    post = lambda body, **who: api("POST", "/v1/exams", body, **(who or TRAINER))  # noqa: E731
    assert post({**base, "candidate_ids": []}).status == 422
    assert post({**base, "candidate_ids": ["a", "a"]}).status == 422
    assert post({**base, "starts_at": "2026-12-05T09:00:00", "candidate_ids": ["a"]}).status == 422
    assert post({**base, "starts_at": 1796000000, "candidate_ids": ["a"]}).status == 422
    assert post({**base, "course_id": "nope", "candidate_ids": ["a"]}).status == 404
    assert post({**base, "candidate_ids": ["a"]}, sub="zhao", roles=("examiner",)).status == 403
    assert api("POST", "/v1/exams", {**base, "candidate_ids": ["a"]}).status == 401
    assert post({**base, "candidate_ids": ["a"]}, **ADMIN).status == 201


def test_a_sitting_is_seen_by_the_trainer_who_set_it_its_examiner_and_admins_only(api):
    teaching = Teaching()
    teaching.trainee("a", teaching.session("wang"))
    examiner(api, "zhao")
    exam_id = sitting(api, teaching.course_id, ["a"]).body["exam_id"]
    path = f"/v1/exams/{exam_id}"
    assert api("GET", path, **TRAINER).status == 200  # set it
    assert api("GET", path, **ADMIN).status == 200
    assert api("GET", path, sub="zhao", roles=("examiner",)).body["examiner_id"] == "zhao"
    unknown = api("GET", "/v1/exams/nope", **TRAINER)
    assert unknown.status == 404
    # Another examiner, another trainer: the same answer as for a sitting that does not exist.
    for other in ({"sub": "qian", "roles": ("examiner",)}, {"sub": "trainer-2", "roles": ("trainer",)}):
        hidden = api("GET", path, **other)
        assert (hidden.status, hidden.body) == (404, unknown.body), other
    assert api("GET", path, sub="a").status == 403


# --- scores and certificates ----------------------------------------------------------------------


def _one_sitting(api, *, consent: bool = True, name: str = "张三明"):
    teaching = Teaching()
    registration = teaching.trainee("cand-1", teaching.session("wang"), consent=consent, name=name)
    examiner(api, "zhao")
    exam = sitting(api, teaching.course_id, ["cand-1"]).body
    return teaching, registration, exam["exam_id"]


def test_only_the_assigned_examiner_scores_each_candidate_once_with_all_six_skills(api):
    _, _, exam_id = _one_sitting(api)
    examiner(api, "qian")
    # Another examiner may not learn the sitting exists: the same 404 as an unknown exam.
    other = score(api, exam_id, "qian", "cand-1")
    assert (other.status, other.body) == (404, score(api, "no-such-exam", "qian", "cand-1").body)
    trainer = api(
        "POST", f"/v1/exams/{exam_id}/scores", {"candidate_id": "cand-1", "skills": PASSING}, **TRAINER
    )
    assert trainer.status == 403
    missing = {k: v for k, v in PASSING.items() if k != "carrying"}
    assert score(api, exam_id, "zhao", "cand-1", missing).status == 422
    assert score(api, exam_id, "zhao", "cand-1", {**PASSING, "cpr": 101}).status == 422
    assert score(api, exam_id, "zhao", "cand-1", {**PASSING, "cpr": "90"}).status == 422
    assert score(api, exam_id, "zhao", "cand-1", {**PASSING, "juggling": 90}).status == 422
    assert score(api, exam_id, "zhao", "stranger").status == 422
    assert score(api, "no-such-exam", "zhao", "cand-1").status == 404
    failed = score(api, exam_id, "zhao", "cand-1", {**PASSING, "cpr": 79, "fixation": 10})
    assert failed.status == 201
    assert failed.body["passed"] is False and failed.body["failed_skills"] == ["cpr", "fixation"]
    assert failed.body["certificate_no"] is None
    again = score(api, exam_id, "zhao", "cand-1")
    assert again.status == 409 and again.body["error"]["code"] == "already_scored"
    view = api("GET", f"/v1/exams/{exam_id}", **TRAINER).body
    assert view["candidates"] == [
        {
            "candidate_id": "cand-1",
            "scored": True,
            "passed": False,
            "failed_skills": ["cpr", "fixation"],
            "certificate_no": None,
        }
    ]


@pytest.mark.parametrize(
    ("scored_at", "year", "valid_until"),
    [
        ("2026-11-30T10:00:00+08:00", 2026, "2029-11-29"),
        # 00:30 in Hangzhou is still 28 February in UTC; a 29 February's anniversary is 1 March.
        ("2028-02-29T00:30:00+08:00", 2028, "2031-02-28"),
    ],
)
def test_a_pass_issues_a_numbered_certificate_and_makes_the_consenting_holder_a_responder(
    api, scored_at, year, valid_until
):
    with time_machine.travel(scored_at, tick=True):
        _, registration, exam_id = _one_sitting(api)
        passed = score(api, exam_id, "zhao", "cand-1")
        assert passed.status == 201 and passed.body["passed"] is True, passed.body
        number = passed.body["certificate_no"]
        assert re.fullmatch(rf"RN-{year}-\d{{6}}", number)
        assert passed.body["valid_until"] == valid_until
        assert passed.body["responder"] == "created"
        me = api("GET", "/v1/responders/cand-1", sub="cand-1")
    assert me.status == 200
    assert me.body["certificate_no"] == number and me.body["certificate_valid"] is True
    assert me.body["phone"] == registration.phone and me.body["name"] == "张三明"


def test_certificate_numbers_count_up_and_are_never_reused(api):
    teaching = Teaching()
    session_id = teaching.session("wang")
    for person in ("p1", "p2", "p3"):
        teaching.trainee(person, session_id)
    examiner(api, "zhao")
    exam_id = sitting(api, teaching.course_id, ["p1", "p2", "p3"]).body["exam_id"]
    numbers = [score(api, exam_id, "zhao", p).body["certificate_no"] for p in ("p1", "p2", "p3")]
    sequence = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequence == [sequence[0], sequence[0] + 1, sequence[0] + 2] and len(set(numbers)) == 3


def test_without_consent_a_pass_gives_the_certificate_only(api):
    _, _, exam_id = _one_sitting(api, consent=False)
    passed = score(api, exam_id, "zhao", "cand-1")
    assert passed.body["certificate_no"] and passed.body["responder"] is None
    assert api("GET", "/v1/responders/cand-1", sub="cand-1").status == 404


def test_a_second_certificate_renews_the_responder(api):
    teaching = Teaching()
    first = certified(api, teaching, "renewer")
    exam = sitting(api, teaching.course_id, ["renewer"])
    second = score(api, exam.body["exam_id"], exam.body["examiner_id"], "renewer")
    assert second.body["responder"] == "renewed" and second.body["certificate_no"] != first
    assert (
        api("GET", "/v1/responders/renewer", sub="renewer").body["certificate_no"]
        == second.body["certificate_no"]
    )


def test_anyone_verifies_a_certificate_with_the_name_masked(api):
    teaching = Teaching()
    number = certified(api, teaching, "holder")
    shown = api("GET", f"/v1/certificates/{number}")
    assert shown.status == 200
    assert shown.body["holder"] == "张*明" and shown.body["status"] == "valid"
    assert shown.body["course"] == "救护员培训 Red Cross first aider"
    assert set(shown.body) == {"certificate_no", "holder", "course", "issued_on", "valid_until", "status"}
    unknown = api("GET", "/v1/certificates/RN-1999-000001")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "not_found"
    assert api("GET", "/v1/certificates/" + "X" * 3000).status == 422  # longer than any key DynamoDB takes


def test_the_document_waits_for_the_course_evaluation_and_carries_a_qr_of_the_verify_url(api):
    teaching = Teaching()
    session_id = teaching.session("wang")
    registration = teaching.trainee("holder", session_id, name="John Doe")
    examiner(api, "zhao")
    exam = sitting(api, teaching.course_id, ["holder"]).body
    number = score(api, exam["exam_id"], "zhao", "holder").body["certificate_no"]
    path = f"/v1/certificates/{number}/document"
    early = api("GET", path, sub="holder")
    assert early.status == 409 and early.body["error"]["code"] == "evaluation_required"
    # The number is public (anyone verifies it): others are refused, not told it is unknown.
    assert api("GET", path, sub="someone-else", roles=("trainer",)).status == 403
    assert api("GET", "/v1/certificates/RN-1999-000001/document", sub="holder").status == 404
    assert api("GET", path).status == 401
    # An admin gets the document of an existing certificate, before the holder's evaluation too.
    issued = api("GET", path, sub="someone-else", roles=("admin",))
    assert issued.status == 200 and issued.body["holder"] == "John Doe", issued.body
    teaching.evaluate(registration, 5)
    document = api("GET", path, sub="holder", headers={"Host": "rescue.example:8000"})
    assert document.status == 200, document.body
    assert document.body["holder"] == "John Doe" and document.body["status"] == "valid"
    assert document.body["verify_url"] == f"http://rescue.example:8000/v1/certificates/{number}"
    assert document.body["qr_svg"].startswith("<svg") and "</svg>" in document.body["qr_svg"]
    assert api("GET", f"/v1/certificates/{number}").body["holder"] == "J*** D**"
    api("POST", f"/v1/certificates/{number}/revoke", {"reason": "fraud"}, **ADMIN)
    for who in ({"sub": "holder"}, ADMIN):
        revoked = api("GET", path, **who)
        assert revoked.status == 409 and revoked.body["error"]["code"] == "certificate_revoked"


def test_revocation_is_for_admins_once_and_shows_on_verification(api):
    teaching = Teaching()
    number = certified(api, teaching, "holder", consent=False)
    path = f"/v1/certificates/{number}/revoke"
    assert api("POST", path, {"reason": "fraud"}, **TRAINER).status == 403
    assert api("POST", path, {}, **ADMIN).status == 422
    revoked = api("POST", path, {"reason": "考试作弊"}, **ADMIN)
    assert (
        revoked.status == 200 and revoked.body["status"] == "revoked" and revoked.body["reason"] == "考试作弊"
    )
    again = api("POST", path, {"reason": "again"}, **ADMIN)
    assert again.status == 409 and again.body["error"]["code"] == "already_revoked"
    assert api("GET", f"/v1/certificates/{number}").body["status"] == "revoked"
    assert api("POST", "/v1/certificates/RN-1999-000001/revoke", {"reason": "x"}, **ADMIN).status == 404


def test_revocation_takes_an_on_duty_responder_out_of_dispatch_at_once(api):
    teaching = Teaching()
    number = certified(api, teaching, "hero")
    spot = north_of(*PATIENT, 80)
    on_duty = api(
        "PUT", "/v1/responders/hero/presence", {"lat": spot[0], "lng": spot[1], "available": True}, sub="hero"
    )
    assert on_duty.status == 200, on_duty.body
    nearby = {"lat": PATIENT[0], "lng": PATIENT[1], "radius_m": 500}
    found = api("GET", "/v1/responders/nearby", query=nearby, sub="d", roles=("dispatcher",))
    assert [i["responder_id"] for i in found.body["items"]] == ["hero"]
    assert api("POST", f"/v1/certificates/{number}/revoke", {"reason": "misconduct"}, **ADMIN).status == 200
    after = api("GET", "/v1/responders/nearby", query=nearby, sub="d", roles=("dispatcher",))
    assert after.body["items"] == []
    back = api(
        "PUT", "/v1/responders/hero/presence", {"lat": spot[0], "lng": spot[1], "available": True}, sub="hero"
    )
    assert back.status == 409 and back.body["error"]["code"] == "certificate_expired"
    assert api("GET", "/v1/responders/hero", sub="hero").body["certificate_valid"] is False
    incident = sos(api).body["incident_id"]
    assert not [a for a in outbox.read("hero") if a["incident_id"] == incident]
    assert dispatcher(api, "GET", f"/v1/incidents/{incident}").body["alerts"] == []


def test_a_certificate_lapsing_ends_presence_at_the_end_of_its_last_day(api):
    """A responder made by a certificate, on duty at 23:55 on its last valid day (Hangzhou time): found
    at 23:59, gone at midnight. The clock is injected; the record is the one the certificate wrote."""
    teaching = Teaching()
    certified(api, teaching, "lapsing")
    repo, geo = DynamoResponders(), DynamoGeoIndex()
    record = repo.get("lapsing")
    assert record is not None
    last_day = record.certificate_expires_on
    t0 = datetime.combine(last_day, time(23, 55), tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    responder_logic.update_presence(
        repo,
        geo,
        Caller("lapsing", frozenset()),
        "lapsing",
        lat=PATIENT[0],
        lng=PATIENT[1],
        available=True,
        now=t0,
        time_zone=TZ,
        ttl_s=900,
        index_lease_s=2400,
    )

    def found(at: datetime) -> list[str]:
        page = responder_logic.nearby_responders(
            geo, repo, lat=PATIENT[0], lng=PATIENT[1], radius_m=500, limit=20, next_token=None, now=at
        )
        return [h.entity_id for h in page.items]

    assert found(t0 + timedelta(minutes=4)) == ["lapsing"]
    assert found(t0 + timedelta(minutes=5)) == []


# --- reminders ------------------------------------------------------------------------------------


def _remind(api, as_of: date) -> dict:
    from local_runtime import schedules

    result = schedules.run(api.functions, "certification_reminders", {"as_of": as_of.isoformat()})
    return result


def _texts_to(phone: str) -> list[str]:
    return [i["message"] for i in outbox.read(phone) if i["channel"] == "sms"]


def test_expiry_reminders_go_60_30_and_7_days_before_exactly_once_each(api):
    teaching = Teaching()
    session_id = teaching.session("wang")
    registration = teaching.trainee("reminded", session_id, consent=False)
    examiner(api, "zhao")
    exam = sitting(api, teaching.course_id, ["reminded"]).body
    scored = score(api, exam["exam_id"], "zhao", "reminded").body
    valid_until = date.fromisoformat(scored["valid_until"])
    assert _remind(api, valid_until - timedelta(days=61))["reminders_sent"] == 0
    for days in (60, 30, 7):
        first = _remind(api, valid_until - timedelta(days=days))
        second = _remind(api, valid_until - timedelta(days=days))
        assert first["sent"] == [{"certificate_no": scored["certificate_no"], "days_before": days}], first
        assert second["reminders_sent"] == 0 and second["already_sent"] == 1
    texts = _texts_to(registration.phone)
    assert len(texts) == 3
    assert all(scored["certificate_no"] in t and valid_until.isoformat() in t for t in texts)
    assert ["（还有 60 天）" in texts[0], "（还有 30 天）" in texts[1], "（还有 7 天）" in texts[2]] == [
        True
    ] * 3


def test_revoked_certificates_get_no_reminder(api):
    teaching = Teaching()
    number = certified(api, teaching, "revoked-holder", consent=False)
    valid_until = date.fromisoformat(api("GET", f"/v1/certificates/{number}").body["valid_until"])
    api("POST", f"/v1/certificates/{number}/revoke", {"reason": "x"}, **ADMIN)
    run = _remind(api, valid_until - timedelta(days=30))
    assert run["reminders_sent"] == 0 and run["skipped"] == 1


# --- quality --------------------------------------------------------------------------------------


def test_quality_report_per_instructor_and_per_site(api):
    teaching = Teaching()
    wang, li = teaching.session("wang", site="湖滨培训点"), teaching.session("li", site="西溪培训点")
    people = {
        "q1": teaching.trainee("q1", wang),
        "q2": teaching.trainee("q2", wang),
        "q3": teaching.trainee("q3", wang, attend=False),
        "q4": teaching.trainee("q4", li),
    }
    teaching.evaluate(people["q1"], 5)
    teaching.evaluate(people["q2"], 4)
    teaching.evaluate(people["q4"], 2)
    examiner(api, "zhao")
    exam_id = sitting(api, teaching.course_id, ["q1", "q2", "q4"]).body["exam_id"]
    score(api, exam_id, "zhao", "q1")
    score(api, exam_id, "zhao", "q2", {**PASSING, "aed": 10})
    today = datetime.now(ZoneInfo(TZ)).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    report = api("GET", "/v1/training/quality", query={"by": "instructor", **period}, **TRAINER)
    assert report.status == 200, report.body
    assert report.body["by"] == "instructor" and report.body["from"] == period["from"]
    rows = {r["key"]: r for r in report.body["rows"]}
    assert rows["wang"] == {
        "key": "wang",
        "sessions": 1,
        "registered": 3,
        "attended": 2,
        "attendance_rate": 0.6667,
        "examined": 2,
        "passed": 1,
        "pass_rate": 0.5,
        "ratings": 2,
        "average_rating": 4.5,
    }
    assert (rows["li"]["examined"], rows["li"]["pass_rate"], rows["li"]["average_rating"]) == (0, None, 2.0)
    by_site = api("GET", "/v1/training/quality", query={"by": "site", **period}, **ADMIN).body
    assert {r["key"] for r in by_site["rows"]} == {"湖滨培训点", "西溪培训点"}
    assert api("GET", "/v1/training/quality", query={"by": "course"}, **TRAINER).status == 422
    assert (
        api(
            "GET",
            "/v1/training/quality",
            query={"by": "site", "from": "2026-12-02", "to": "2026-12-01"},
            **TRAINER,
        ).status
        == 422
    )
    assert (
        api(
            "GET",
            "/v1/training/quality",
            query={"by": "site", "from": "2024-01-01", "to": "2026-01-01"},
            **TRAINER,
        ).status
        == 422
    )
    assert (
        api("GET", "/v1/training/quality", query={"by": "site"}, sub="x", roles=("examiner",)).status == 403
    )
    earlier = {"from": "2020-01-01", "to": "2020-12-31"}
    assert api("GET", "/v1/training/quality", query={"by": "site", **earlier}, **TRAINER).body["rows"] == []


def test_simultaneous_scores_of_one_candidate_give_one_result_and_one_certificate(api):
    import threading

    from shared.dal.models.certification import CertificateModel

    _, _, exam_id = _one_sitting(api)
    start = threading.Barrier(8)
    replies = []

    def send() -> None:
        start.wait()
        replies.append(score(api, exam_id, "zhao", "cand-1"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [201] + [409] * 7
    assert {r.body["error"]["code"] for r in replies if r.status == 409} == {"already_scored"}
    assert [c.holder_id for c in CertificateModel.scan()] == ["cand-1"]
