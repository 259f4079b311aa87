"""Exams and certificates, pure rules with fakes: rubric, masking, validity, eligibility, the independent
examiner and its fair choice, scoring once, revocation, reminders once each, and the quality figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.certification import certificates as certs
from shared.logic.certification import exams
from shared.logic.certification.ports import Certificate, Examiner
from shared.logic.certification.quality import quality_report
from shared.logic.ports import RESPONDER
from tests.unit.certification_fakes import (
    T0,
    FakeCertificates,
    FakeExams,
    FakeGeo,
    FakePool,
    FakeReminderLog,
    FakeResponders,
    FakeTexts,
    FakeTraining,
)

MARKS = {"cpr": 80, "aed": 80, "bleeding_control": 60, "bandaging": 60, "fixation": 60, "carrying": 60}
RULES = exams.CertificationRules(pass_marks=MARKS, valid_years=3, time_zone="Asia/Shanghai")
TRAINER = Caller("trainer-1", frozenset({"trainer"}))
ALL_GOOD = {"cpr": 90, "aed": 85, "bleeding_control": 70, "bandaging": 70, "fixation": 70, "carrying": 70}


# --- rubric ---------------------------------------------------------------------------------------


def test_rubric_passes_only_when_every_skill_reaches_its_mark():
    assert exams.rubric_result(ALL_GOOD, MARKS) == (True, [])
    at_the_mark = dict(MARKS)
    assert exams.rubric_result(at_the_mark, MARKS) == (True, [])
    weak = {**ALL_GOOD, "cpr": 79, "carrying": 59}
    assert exams.rubric_result(weak, MARKS) == (False, ["cpr", "carrying"])


def test_pass_marks_must_cover_the_rubric():
    with pytest.raises(ValueError, match="PASS_MARKS"):
        exams.CertificationRules({**MARKS, "cpr": 101}, 3, "UTC")
    with pytest.raises(ValueError, match="PASS_MARKS"):
        exams.CertificationRules({k: v for k, v in MARKS.items() if k != "aed"}, 3, "UTC")


def test_rubric_refuses_missing_or_unknown_skills():
    with pytest.raises(ValidationFailed, match="fixation"):
        exams.rubric_result({k: v for k, v in ALL_GOOD.items() if k != "fixation"}, MARKS)
    with pytest.raises(ValidationFailed, match="juggling"):
        exams.rubric_result({**ALL_GOOD, "juggling": 100}, MARKS)


# --- names and validity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("李", "李"),
        ("John Doe", "J*** D**"),
        ("Madonna", "M******"),
        ("  Anna  Maria Li ", "A*** M**** L*"),
    ],
)
def test_names_are_masked_for_strangers(name, masked):
    assert certs.mask_name(name) == masked


def test_certificate_is_valid_through_the_day_before_the_anniversary():
    assert certs.valid_until(date(2026, 11, 30), 3) == date(2029, 11, 29)
    assert certs.valid_until(date(2028, 2, 29), 3) == date(2031, 2, 28)  # anniversary 1 March
    assert certs.valid_until(date(2028, 2, 29), 4) == date(2032, 2, 28)  # leap year: 29 Feb again


def test_status_is_revoked_then_expired_then_valid():
    c = _certificate("RN-2026-000001", valid_until=date(2029, 11, 29))
    assert certs.status(c, date(2029, 11, 29)) == "valid"
    assert certs.status(c, date(2029, 11, 30)) == "expired"
    c.revoked_at = T0
    assert certs.status(c, date(2027, 1, 1)) == "revoked"


def test_numbers_are_padded_with_the_year():
    assert certs.certificate_number(2026, 123) == "RN-2026-000123"


def test_the_issue_day_is_the_local_day():
    # 16:30 UTC on 30 November is already 1 December in Hangzhou.
    assert certs.local_day(datetime.fromisoformat("2026-11-30T16:30:00+00:00"), "Asia/Shanghai") == date(
        2026, 12, 1
    )


# --- eligibility and the independent examiner -----------------------------------------------------


def _world() -> tuple[FakeTraining, FakeExams, FakePool]:
    training = FakeTraining()
    training.add_course()
    training.add_session("s-wang", instructor="wang")
    training.add_session("s-li", instructor="li")
    pool = FakePool()
    for examiner in ("wang", "li", "zhao"):
        pool.put(examiner, examiner.title(), "admin", T0)
    return training, FakeExams(), pool


def _new(candidates: list[str], examiner: str | None = None) -> exams.NewExam:
    return exams.NewExam("c1", "湖滨考点", T0, candidates, examiner)


def test_eligibility_needs_attendance_and_theory():
    training, store, pool = _world()
    training.register("ok", "s-wang")
    training.register("absent", "s-wang", attended=False)
    training.register("no-theory", "s-wang", theory=False)
    training.register("waitlisted", "s-wang", status="waitlisted")
    with pytest.raises(Conflict) as refused:
        exams.create_exam(
            training, store, pool, TRAINER, _new(["ok", "absent", "no-theory", "waitlisted"]), T0
        )
    assert refused.value.code == "not_eligible"
    message = refused.value.message
    assert "absent has not attended" in message and "no-theory has not completed the theory" in message
    assert "waitlisted has not attended" in message and "ok " not in message
    assert store.exams == {}


def test_examiner_who_taught_a_candidate_is_refused_and_the_system_picks_an_independent_one():
    training, store, pool = _world()
    training.register("a", "s-wang")
    training.register("b", "s-li")
    with pytest.raises(Conflict) as refused:
        exams.create_exam(training, store, pool, TRAINER, _new(["a", "b"], "li"), T0)
    assert refused.value.code == "examiner_taught_candidate"
    exam = exams.create_exam(training, store, pool, TRAINER, _new(["a", "b"]), T0)
    assert exam.examiner_id == "zhao"
    assert pool.members["zhao"].assignments == 1


def test_no_independent_examiner_is_a_409():
    training, store, pool = _world()
    pool.remove("zhao")
    training.register("a", "s-wang")
    training.register("b", "s-li")
    with pytest.raises(Conflict) as refused:
        exams.create_exam(training, store, pool, TRAINER, _new(["a", "b"]), T0)
    assert refused.value.code == "no_independent_examiner"


def test_an_examiner_outside_the_pool_or_among_the_candidates_is_refused():
    training, store, pool = _world()
    training.register("a", "s-wang")
    training.register("zhao", "s-wang")
    with pytest.raises(Conflict) as outside:
        exams.create_exam(training, store, pool, TRAINER, _new(["a"], "stranger"), T0)
    assert outside.value.code == "examiner_not_in_pool"
    with pytest.raises(Conflict) as own:
        exams.create_exam(training, store, pool, TRAINER, _new(["a", "zhao"], "zhao"), T0)
    assert own.value.code == "examiner_is_candidate"


def test_the_choice_is_the_least_recently_assigned_so_sittings_rotate():
    training, store, pool = _world()
    training.register("a", "s-wang")  # wang taught a: li and zhao qualify
    chosen = [
        exams.create_exam(training, store, pool, TRAINER, _new(["a"]), T0 + timedelta(minutes=i)).examiner_id
        for i in range(4)
    ]
    assert chosen == ["li", "zhao", "li", "zhao"]


def test_choose_examiner_prefers_never_assigned_then_oldest():
    pool = [
        Examiner("b", "B", T0, "admin", last_assigned_at=T0),
        Examiner("c", "C", T0, "admin", last_assigned_at=T0 - timedelta(days=1)),
        Examiner("d", "D", T0, "admin"),
    ]
    assert exams.choose_examiner(pool, set()).examiner_id == "d"
    assert exams.choose_examiner(pool, {"d"}).examiner_id == "c"
    assert exams.choose_examiner(pool, {"b", "c", "d"}) is None


def test_duplicate_candidates_and_unknown_course():
    training, store, pool = _world()
    with pytest.raises(ValidationFailed):
        exams.create_exam(training, store, pool, TRAINER, _new(["a", "a"]), T0)
    with pytest.raises(NotFound):
        exams.create_exam(training, store, pool, TRAINER, exams.NewExam("nope", "x", T0, ["a"]), T0)


# --- scoring, certificates, responders --------------------------------------------------------------


def _sitting(**register: Any) -> tuple[FakeTraining, FakeExams, FakeCertificates, FakeResponders, str]:
    training, store, pool = _world()
    training.register("a", "s-wang", **register)
    exam = exams.create_exam(training, store, pool, TRAINER, _new(["a"]), T0)
    return training, store, FakeCertificates(store), FakeResponders(), exam.exam_id


def _score(training, store, certificates, responders, exam_id, skills, sub="li", at=T0, who="a"):
    return exams.score_candidate(
        training,
        store,
        certificates,
        responders,
        Caller(sub, frozenset({"examiner"})),
        exam_id,
        who,
        skills,
        RULES,
        at,
    )


def test_a_pass_issues_a_numbered_certificate_and_makes_a_consenting_holder_a_responder():
    world = _sitting()
    outcome = _score(*world, ALL_GOOD)
    assert outcome.score.passed and outcome.certificate is not None
    assert outcome.certificate.certificate_no == "RN-2026-000001"
    assert outcome.certificate.valid_until == date(2029, 11, 29)
    assert outcome.responder == "created"
    assert world[3].held["a"] == ("RN-2026-000001", date(2029, 11, 29))


def test_without_consent_only_the_certificate():
    world = _sitting(consent=False)
    outcome = _score(*world, ALL_GOOD)
    assert outcome.certificate is not None and outcome.responder is None and world[3].held == {}


def test_a_fail_lists_the_failed_skills_and_issues_nothing():
    world = _sitting()
    outcome = _score(*world, {**ALL_GOOD, "aed": 50})
    assert not outcome.score.passed and outcome.score.failed_skills == ["aed"]
    assert outcome.certificate is None and world[2].counters == {}


def test_scored_once_per_sitting_only_by_the_assigned_examiner_and_not_before_it_starts():
    world = _sitting()
    with pytest.raises(NotFound):  # another examiner may not learn the sitting exists
        _score(*world, ALL_GOOD, sub="zhao")
    with pytest.raises(Forbidden):  # the trainer who set it knows it, and may not score it
        _score(*world, ALL_GOOD, sub=TRAINER.sub)
    with pytest.raises(Conflict) as early:
        _score(*world, ALL_GOOD, at=T0 - timedelta(minutes=1))
    assert early.value.code == "exam_not_started"
    with pytest.raises(ValidationFailed):
        _score(*world, ALL_GOOD, who="not-a-candidate")
    _score(*world, {**ALL_GOOD, "aed": 50})
    with pytest.raises(Conflict) as again:
        _score(*world, ALL_GOOD)
    assert again.value.code == "already_scored"


def test_revocation_takes_the_responder_out_of_dispatch():
    training, store, certificates, responders, exam_id = _sitting()
    number = _score(training, store, certificates, responders, exam_id, ALL_GOOD).certificate.certificate_no
    geo = FakeGeo()
    revoked = certs.revoke(
        certificates,
        responders,
        geo,
        number,
        reason="misconduct",
        by="admin",
        now=T0,
        time_zone=RULES.time_zone,
    )
    assert certs.status(revoked, date(2026, 12, 1)) == "revoked"
    assert responders.held["a"] == (number, date(2026, 11, 29))  # valid through yesterday: lapsed now
    assert geo.removed == [(RESPONDER, "a")]
    with pytest.raises(Conflict) as twice:
        certs.revoke(certificates, responders, geo, number, reason="x", by="admin", now=T0, time_zone="UTC")
    assert twice.value.code == "already_revoked"


def test_revoking_an_old_certificate_leaves_a_renewed_responder_on_duty():
    responders, geo = FakeResponders(), FakeGeo()
    store = FakeCertificates(FakeExams())
    store.exams.certificates["RN-2023-000001"] = _certificate("RN-2023-000001", valid_until=date(2026, 12, 1))
    responders.held["holder"] = ("RN-2026-000009", date(2029, 11, 29))
    certs.revoke(store, responders, geo, "RN-2023-000001", reason="x", by="admin", now=T0, time_zone="UTC")
    assert responders.held["holder"] == ("RN-2026-000009", date(2029, 11, 29)) and geo.removed == []


def test_the_document_waits_for_the_evaluation_and_is_the_holders_and_admins():
    training, store, certificates, responders, exam_id = _sitting()
    number = _score(training, store, certificates, responders, exam_id, ALL_GOOD).certificate.certificate_no
    holder = Caller("a", frozenset())
    admin = Caller("someone", frozenset({"admin"}))
    with pytest.raises(Conflict) as early:
        certs.document(certificates, training, holder, number)
    assert early.value.code == "evaluation_required"
    assert certs.document(certificates, training, admin, number).holder_id == "a"  # the holder's step
    with pytest.raises(Forbidden):  # the number is public: refused, not unknown
        certs.document(certificates, training, Caller("someone", frozenset({"trainer"})), number)
    with pytest.raises(NotFound):
        certs.document(certificates, training, admin, "RN-1999-000001")
    training.rate(training.registrations["r-a-s-wang"], 5)
    assert certs.document(certificates, training, holder, number).holder_id == "a"
    certificates.revoke(number, T0, "fraud", "admin")
    for caller in (holder, admin):
        with pytest.raises(Conflict) as revoked:
            certs.document(certificates, training, caller, number)
        assert revoked.value.code == "certificate_revoked"


# --- reminders ------------------------------------------------------------------------------------


def _certificate(number: str, *, valid_until: date, holder: str = "holder") -> Certificate:
    return Certificate(
        number,
        holder,
        "张三明",
        "+8613800000001",
        "c1",
        "救护员培训",
        "e1",
        valid_until - timedelta(days=3 * 365),
        valid_until,
        T0,
    )


def test_reminders_go_at_60_30_and_7_days_exactly_once_each():
    store = FakeCertificates(FakeExams())
    today = date(2027, 1, 1)
    for number, days in (("A", 60), ("B", 30), ("C", 7), ("D", 45), ("E", 8)):
        store.exams.certificates[number] = _certificate(
            number, valid_until=today + timedelta(days=days), holder=number
        )
    log, texts = FakeReminderLog(), FakeTexts()
    first = certs.send_reminders(store, log, texts, today=today, now=T0, time_zone="UTC")
    again = certs.send_reminders(store, log, texts, today=today, now=T0, time_zone="UTC")
    assert sorted(first.sent) == [("A", 60), ("B", 30), ("C", 7)]
    assert again.sent == [] and again.already_sent == 3
    assert len(texts.sent) == 3
    b_message = next(m for _, m in texts.sent if " B " in m)
    assert "2027-01-31" in b_message and "30" in b_message


def test_a_missed_day_is_caught_up_but_never_crosses_into_the_next_threshold():
    store = FakeCertificates(FakeExams())
    today = date(2027, 1, 1)
    store.exams.certificates["late"] = _certificate("late", valid_until=today + timedelta(days=28))
    store.exams.certificates["too-late"] = _certificate(
        "too-late", valid_until=today + timedelta(days=26), holder="h2"
    )
    run = certs.send_reminders(store, FakeReminderLog(), FakeTexts(), today=today, now=T0, time_zone="UTC")
    assert run.sent == [("late", 30)]


def test_revoked_or_superseded_certificates_get_no_reminder_and_a_failed_send_is_retried():
    store = FakeCertificates(FakeExams())
    today = date(2027, 1, 1)
    soon = today + timedelta(days=30)
    store.exams.certificates["old"] = _certificate("old", valid_until=soon)
    store.exams.certificates["new"] = _certificate("new", valid_until=soon + timedelta(days=1000))
    store.exams.certificates["gone"] = _certificate("gone", valid_until=soon, holder="other")
    store.exams.certificates["gone"].revoked_at = T0
    store.exams.certificates["mine"] = _certificate("mine", valid_until=soon, holder="third")
    log, texts = FakeReminderLog(), FakeTexts(fail=True)
    with pytest.raises(RuntimeError):
        certs.send_reminders(store, log, texts, today=today, now=T0, time_zone="UTC")
    texts.fail = False
    run = certs.send_reminders(store, log, texts, today=today, now=T0, time_zone="UTC")
    assert run.sent == [("mine", 30)] and run.skipped == 2


# --- quality --------------------------------------------------------------------------------------


def test_quality_per_instructor_and_per_site():
    training, store, pool = _world()
    training.add_session("s-wang-2", instructor="wang", site="西湖", day=1)
    regs = {
        "p1": training.register("p1", "s-wang"),
        "p2": training.register("p2", "s-wang"),
        "p3": training.register("p3", "s-wang", attended=False),
        "p4": training.register("p4", "s-wang-2"),
        "p5": training.register("p5", "s-li"),
    }
    training.register("p6", "s-wang", status="waitlisted", attended=False)
    training.rate(regs["p1"], 5)
    training.rate(regs["p2"], 4)
    training.rate(regs["p5"], 3)
    exam = exams.create_exam(training, store, pool, TRAINER, _new(["p1", "p2", "p4"]), T0)
    certificates = FakeCertificates(store)
    for person, skills in (("p1", ALL_GOOD), ("p2", {**ALL_GOOD, "cpr": 10}), ("p4", ALL_GOOD)):
        exams.score_candidate(
            training,
            store,
            certificates,
            FakeResponders(),
            Caller(exam.examiner_id, frozenset()),
            exam.exam_id,
            person,
            skills,
            RULES,
            T0,
        )
    rows = {
        r.key: r
        for r in quality_report(training, store, by="instructor", start=T0, end=T0 + timedelta(days=2))
    }
    wang = rows["wang"]
    assert (wang.sessions, wang.registered, wang.attended, wang.examined, wang.passed) == (2, 4, 3, 3, 2)
    assert wang.attendance_rate == 0.75 and wang.pass_rate == 0.6667
    assert (wang.ratings, wang.average_rating) == (2, 4.5)
    li = rows["li"]
    assert (li.attended, li.examined, li.pass_rate, li.average_rating) == (1, 0, None, 3.0)
    sites = {
        r.key: r for r in quality_report(training, store, by="site", start=T0, end=T0 + timedelta(days=2))
    }
    assert set(sites) == {"湖滨", "西湖"} and sites["西湖"].passed == 1 and sites["湖滨"].sessions == 2
    # A period without the second day leaves its session out.
    first_day = quality_report(training, store, by="instructor", start=T0, end=T0 + timedelta(hours=1))
    assert {r.key: r.sessions for r in first_day} == {"wang": 1, "li": 1}
