"""Exams kept apart from teaching (考教分离): the examiner pool, sittings whose examiner taught none of the
candidates, scores on the rubric, and the certificate a pass issues.

A candidate may sit the exam of a course once they attended one of its practical sessions (checked in on
a confirmed registration) and completed its theory. The instructors of the sessions a candidate attended
"taught" them; a sitting's examiner must be none of those, for any of its candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.certification import certificates as certs
from shared.logic.certification.ports import (
    SKILLS,
    Certificate,
    CertificateStore,
    Exam,
    Examiner,
    ExaminerPool,
    ExamStore,
    ResponderCertificates,
    Score,
)
from shared.logic.ids import new_id
from shared.logic.teaching.records import Registration, TrainingRecords

_NEVER = datetime.min.replace(tzinfo=UTC)


# --- the examiner pool --------------------------------------------------------------------------


def put_examiner(pool: ExaminerPool, caller: Caller, examiner_id: str, name: str, now: datetime) -> Examiner:
    assert caller.sub is not None
    return pool.put(examiner_id, name, caller.sub, now)


def remove_examiner(pool: ExaminerPool, examiner_id: str) -> None:
    """Past sittings keep their examiner; only new sittings stop choosing this one."""
    if not pool.remove(examiner_id):
        raise NotFound("no such examiner in the pool")


def list_examiners(
    pool: ExaminerPool, limit: int, next_token: str | None
) -> tuple[list[Examiner], str | None]:
    """By name; tokens are offsets into that order (the pool is small and read whole)."""
    members = sorted(pool.all(), key=lambda e: (e.name, e.examiner_id))
    offset = 0
    if next_token is not None:
        if not next_token.isdigit() or int(next_token) > len(members):
            raise ValidationFailed("next_token: not a token this API issued")
        offset = int(next_token)
    end = offset + limit
    return members[offset:end], (str(end) if end < len(members) else None)


def choose_examiner(pool: list[Examiner], excluded: set[str]) -> Examiner | None:
    """The least recently assigned examiner who qualifies (never assigned counts as longest ago), so
    sittings spread over the pool; ties go by id, so the choice is reproducible."""
    qualified = [e for e in pool if e.examiner_id not in excluded]
    if not qualified:
        return None
    return min(qualified, key=lambda e: (e.last_assigned_at or _NEVER, e.examiner_id))


# --- eligibility --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    candidate_id: str
    attended: list[Registration]  # confirmed and checked in at a practical session of the course
    instructors: frozenset[str]  # who taught them: the instructors of those sessions
    theory_complete: bool

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.attended:
            found.append("has not attended a practical session of the course")
        if not self.theory_complete:
            found.append("has not completed the theory")
        return found


def assess(records: TrainingRecords, course_id: str, person_id: str) -> Eligibility:
    attended = [
        r
        for r in records.registrations_of_person(person_id)
        if r.course_id == course_id and r.status == "confirmed" and r.checked_in_at is not None
    ]
    instructors = frozenset(
        session.instructor_id for r in attended if (session := records.session(r.session_id)) is not None
    )
    return Eligibility(person_id, attended, instructors, records.theory_complete(course_id, person_id))


# --- sittings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewExam:
    course_id: str
    site: str
    starts_at: datetime
    candidate_ids: list[str]
    examiner_id: str | None = None


def create_exam(
    records: TrainingRecords,
    exams: ExamStore,
    pool: ExaminerPool,
    caller: Caller,
    new: NewExam,
    now: datetime,
) -> Exam:
    assert caller.sub is not None
    if len(set(new.candidate_ids)) != len(new.candidate_ids):
        raise ValidationFailed("candidate_ids: each candidate once")
    if records.course(new.course_id) is None:
        raise NotFound("no such course")
    assessed = [assess(records, new.course_id, person) for person in new.candidate_ids]
    refused = [a for a in assessed if a.problems]
    if refused:
        who = "; ".join(f"{a.candidate_id} {' and '.join(a.problems)}" for a in refused)
        raise Conflict(f"not eligible: {who}", code="not_eligible")
    # Nobody examines someone they taught, nor sits their own exam.
    excluded = set(new.candidate_ids).union(*(a.instructors for a in assessed))
    examiner = _examiner_for(pool, new.examiner_id, excluded, set(new.candidate_ids), now)
    exam = Exam(
        exam_id=new_id(),
        course_id=new.course_id,
        site=new.site,
        starts_at=new.starts_at,
        examiner_id=examiner.examiner_id,
        candidate_ids=list(new.candidate_ids),
        created_by=caller.sub,
        created_at=now,
    )
    exams.create(exam)
    return exam


def _examiner_for(
    pool: ExaminerPool, wanted: str | None, excluded: set[str], candidates: set[str], now: datetime
) -> Examiner:
    if wanted is not None:
        examiner = pool.get(wanted)
        outside = Conflict("examiner_id: not in the examiner pool", code="examiner_not_in_pool")
        if examiner is None:
            raise outside
        if wanted in candidates:
            raise Conflict("the examiner cannot be a candidate of the sitting", code="examiner_is_candidate")
        if wanted in excluded:
            raise Conflict(
                "this examiner taught a candidate of the sitting: exams are kept apart from teaching",
                code="examiner_taught_candidate",
            )
        if not pool.mark_assigned(wanted, now):  # removed from the pool meanwhile
            raise outside
        return examiner
    members = pool.all()
    while True:
        examiner = choose_examiner(members, excluded)
        if examiner is None:
            raise Conflict(
                "no examiner in the pool taught none of these candidates", code="no_independent_examiner"
            )
        if pool.mark_assigned(examiner.examiner_id, now):
            return examiner
        members = [m for m in members if m.examiner_id != examiner.examiner_id]  # left the pool meanwhile


@dataclass(frozen=True)
class ExamView:
    exam: Exam
    scores: dict[str, Score]


def may_read(caller: Caller, exam: Exam) -> bool:
    """A sitting (who sits it, how they did) is read by the trainer who set it, its examiner and
    admins. To anyone else it does not exist: the same 404 as an unknown id."""
    return caller.sub in (exam.created_by, exam.examiner_id) or "admin" in caller.roles


def _exam_for(exams: ExamStore, caller: Caller, exam_id: str) -> Exam:
    exam = exams.get(exam_id)
    if exam is None or not may_read(caller, exam):
        raise NotFound("no such exam")
    return exam


def get_exam(exams: ExamStore, caller: Caller, exam_id: str) -> ExamView:
    exam = _exam_for(exams, caller, exam_id)
    return ExamView(exam, {s.candidate_id: s for s in exams.scores(exam_id)})


# --- scores and the certificate -----------------------------------------------------------------


def rubric_result(skills: dict[str, int], pass_marks: dict[str, int]) -> tuple[bool, list[str]]:
    """Pass when every skill reaches its pass mark; the failed skills in the rubric's order."""
    missing = [s for s in SKILLS if s not in skills]
    if missing:
        raise ValidationFailed(f"skills: {', '.join(missing)} required")
    unknown = sorted(set(skills) - set(SKILLS))
    if unknown:
        raise ValidationFailed(f"skills: {', '.join(unknown)} is not on the rubric")
    failed = [s for s in SKILLS if skills[s] < pass_marks[s]]
    return not failed, failed


@dataclass(frozen=True)
class ScoreOutcome:
    score: Score
    certificate: Certificate | None
    responder: str | None  # "created", "renewed", or None (failed, or no consent)


@dataclass(frozen=True)
class CertificationRules:
    pass_marks: dict[str, int]
    valid_years: int
    time_zone: str

    def __post_init__(self) -> None:
        # A deployment's PASS_MARKS must cover exactly the rubric: fail at start, not at the first score.
        if set(self.pass_marks) != set(SKILLS) or not all(0 <= m <= 100 for m in self.pass_marks.values()):
            raise ValueError(f"PASS_MARKS: one mark 0..100 for each of {', '.join(SKILLS)}")


def score_candidate(
    records: TrainingRecords,
    exams: ExamStore,
    store: CertificateStore,
    responders: ResponderCertificates,
    caller: Caller,
    exam_id: str,
    candidate_id: str,
    skills: dict[str, int],
    rules: CertificationRules,
    now: datetime,
) -> ScoreOutcome:
    exam = _exam_for(exams, caller, exam_id)  # unknown to whoever may not read it
    if caller.sub != exam.examiner_id:  # its author or an admin: may know it, may not score it
        raise Forbidden("only the sitting's assigned examiner may score it")
    if candidate_id not in exam.candidate_ids:
        raise ValidationFailed("candidate_id: not a candidate of this sitting")
    if now < exam.starts_at:
        raise Conflict("the sitting has not started yet", code="exam_not_started")
    passed, failed = rubric_result(skills, rules.pass_marks)
    earlier = exams.score(exam_id, candidate_id)
    if earlier is not None:
        _finish_grant(records, store, responders, earlier, now)
        raise Conflict("this candidate was already scored in this sitting", code="already_scored")
    certificate = None
    consent = False
    if passed:
        registration = _latest_attendance(assess(records, exam.course_id, candidate_id).attended)
        course = records.course(exam.course_id)
        issued_on = certs.local_day(now, rules.time_zone)
        certificate = Certificate(
            certificate_no=certs.certificate_number(
                issued_on.year, store.next_number(issued_on.year)
            ),  # numbers are taken only for a pass that is about to be written: gaps only from races
            holder_id=candidate_id,
            holder_name=registration.name,
            holder_phone=registration.phone,
            course_id=exam.course_id,
            course_title=course.title if course else exam.course_id,
            exam_id=exam_id,
            issued_on=issued_on,
            valid_until=certs.valid_until(issued_on, rules.valid_years),
            issued_at=now,
        )
        consent = registration.responder_consent
    score = Score(
        exam_id=exam_id,
        candidate_id=candidate_id,
        course_id=exam.course_id,
        examiner_id=exam.examiner_id,
        skills=dict(skills),
        passed=passed,
        failed_skills=failed,
        scored_at=now,
        certificate_no=certificate.certificate_no if certificate else None,
    )
    if not exams.record(score, certificate):
        raise Conflict("this candidate was already scored in this sitting", code="already_scored")
    responder = certs.grant_responder(responders, certificate, consent, now) if certificate else None
    return ScoreOutcome(score, certificate, responder)


def _finish_grant(
    records: TrainingRecords,
    store: CertificateStore,
    responders: ResponderCertificates,
    earlier: Score,
    now: datetime,
) -> None:
    """A pass whose responder record was never written (the function stopped between the two writes)
    is completed when the score is sent again; granting the same certificate twice changes nothing."""
    if earlier.certificate_no is None:
        return
    certificate = store.get(earlier.certificate_no)
    if certificate is None or certificate.revoked_at is not None:
        return
    attended = assess(records, earlier.course_id, earlier.candidate_id).attended
    if attended:
        certs.grant_responder(responders, certificate, _latest_attendance(attended).responder_consent, now)


def _latest_attendance(attended: list[Registration]) -> Registration:
    """Name, phone and consent as the candidate gave them at their latest attended session."""
    if not attended:  # checked at the sitting's creation; teaching records do not un-attend
        raise Conflict("the candidate has no attendance on record", code="not_eligible")
    return max(attended, key=lambda r: (r.checked_in_at or _NEVER, r.registration_id))
