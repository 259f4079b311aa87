"""In-memory stand-ins for the training and certification ports, for pure unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from shared.logic.certification.ports import Certificate, Exam, Examiner, Score
from shared.logic.messages import Text
from shared.logic.teaching.records import Course, Evaluation, Registration, Session

T0 = datetime.fromisoformat("2026-11-30T09:00:00+08:00")


@dataclass
class FakeTraining:
    courses: dict[str, Course] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    registrations: dict[str, Registration] = field(default_factory=dict)
    theory_done: set[tuple[str, str]] = field(default_factory=set)
    evaluations: list[Evaluation] = field(default_factory=list)

    # -- building records ---------------------------------------------------------------------------
    def add_course(self, course_id: str = "c1") -> str:
        self.courses[course_id] = Course(course_id, "救护员培训", "trainer-1", T0)
        return course_id

    def add_session(
        self, session_id: str, instructor: str, *, course_id: str = "c1", site: str = "湖滨", day: int = 0
    ) -> str:
        starts = T0 + timedelta(days=day)
        self.sessions[session_id] = Session(
            session_id,
            course_id,
            site,
            30.25,
            120.16,
            starts,
            starts + timedelta(hours=4),
            30,
            instructor,
            T0,
        )
        return session_id

    def register(
        self,
        person: str,
        session_id: str,
        *,
        attended: bool = True,
        theory: bool = True,
        consent: bool = True,
        status: str = "confirmed",
        name: str = "张三明",
    ) -> Registration:
        session = self.sessions[session_id]
        registration = Registration(
            registration_id=f"r-{person}-{session_id}",
            session_id=session_id,
            course_id=session.course_id,
            person_id=person,
            name=name,
            phone="+8613800000001",
            responder_consent=consent,
            status=status,
            created_at=T0,
            checked_in_at=session.starts_at if attended else None,
        )
        self.registrations[registration.registration_id] = registration
        if theory:
            self.theory_done.add((session.course_id, person))
        return registration

    def rate(self, registration: Registration, rating: int) -> None:
        self.evaluations.append(
            Evaluation(
                registration.registration_id,
                registration.session_id,
                registration.course_id,
                registration.person_id,
                rating,
                T0,
            )
        )

    # -- TrainingRecords ----------------------------------------------------------------------------
    def course(self, course_id: str) -> Course | None:
        return self.courses.get(course_id)

    def session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        return [s for s in self.sessions.values() if start <= s.starts_at < end]

    def registration(self, registration_id: str) -> Registration | None:
        return self.registrations.get(registration_id)

    def registrations_of_person(self, person_id: str) -> list[Registration]:
        return [r for r in self.registrations.values() if r.person_id == person_id]

    def registrations_of_session(self, session_id: str) -> list[Registration]:
        return [r for r in self.registrations.values() if r.session_id == session_id]

    def theory_complete(self, course_id: str, person_id: str) -> bool:
        return (course_id, person_id) in self.theory_done

    def evaluations_of_session(self, session_id: str) -> list[Evaluation]:
        return [e for e in self.evaluations if e.session_id == session_id]

    def has_evaluated(self, course_id: str, person_id: str) -> bool:
        return any(e.course_id == course_id and e.person_id == person_id for e in self.evaluations)


@dataclass
class FakePool:
    members: dict[str, Examiner] = field(default_factory=dict)

    def put(self, examiner_id: str, name: str, by: str, now: datetime) -> Examiner:
        old = self.members.get(examiner_id)
        self.members[examiner_id] = replace(old, name=name) if old else Examiner(examiner_id, name, now, by)
        return self.members[examiner_id]

    def remove(self, examiner_id: str) -> bool:
        return self.members.pop(examiner_id, None) is not None

    def get(self, examiner_id: str) -> Examiner | None:
        return self.members.get(examiner_id)

    def all(self) -> list[Examiner]:
        return list(self.members.values())

    def mark_assigned(self, examiner_id: str, at: datetime) -> bool:
        if examiner_id not in self.members:
            return False
        e = self.members[examiner_id]
        self.members[examiner_id] = replace(e, last_assigned_at=at, assignments=e.assignments + 1)
        return True


@dataclass
class FakeExams:
    exams: dict[str, Exam] = field(default_factory=dict)
    scored: dict[tuple[str, str], Score] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)

    def create(self, exam: Exam) -> None:
        self.exams[exam.exam_id] = exam

    def get(self, exam_id: str) -> Exam | None:
        return self.exams.get(exam_id)

    def score(self, exam_id: str, candidate_id: str) -> Score | None:
        return self.scored.get((exam_id, candidate_id))

    def scores(self, exam_id: str) -> list[Score]:
        return [s for (e, _), s in self.scored.items() if e == exam_id]

    def record(self, score: Score, certificate: Certificate | None) -> bool:
        key = (score.exam_id, score.candidate_id)
        if key in self.scored:
            return False
        self.scored[key] = score
        if certificate:
            self.certificates[certificate.certificate_no] = certificate
        return True

    def scores_of_course(self, course_id: str, since: datetime) -> list[Score]:
        return [s for s in self.scored.values() if s.course_id == course_id and s.scored_at >= since]


@dataclass
class FakeCertificates:
    exams: FakeExams
    counters: dict[int, int] = field(default_factory=dict)

    def next_number(self, year: int) -> int:
        self.counters[year] = self.counters.get(year, 0) + 1
        return self.counters[year]

    def get(self, certificate_no: str) -> Certificate | None:
        return self.exams.certificates.get(certificate_no)

    def of_holder(self, holder_id: str) -> list[Certificate]:
        return [c for c in self.exams.certificates.values() if c.holder_id == holder_id]

    def expiring_between(self, first: date, last: date) -> list[Certificate]:
        return [c for c in self.exams.certificates.values() if first <= c.valid_until <= last]

    def revoke(self, certificate_no: str, at: datetime, reason: str, by: str) -> bool:
        c = self.exams.certificates[certificate_no]
        if c.revoked_at is not None:
            return False
        c.revoked_at, c.revoked_reason, c.revoked_by = at, reason, by
        return True


@dataclass
class FakeReminderLog:
    marks: set[tuple[str, int]] = field(default_factory=set)

    def claim(self, certificate_no: str, days_before: int, at: datetime, expires_at: int) -> bool:
        if (certificate_no, days_before) in self.marks:
            return False
        self.marks.add((certificate_no, days_before))
        return True

    def release(self, certificate_no: str, days_before: int) -> None:
        self.marks.discard((certificate_no, days_before))


@dataclass
class FakeResponders:
    held: dict[str, tuple[str, date]] = field(default_factory=dict)  # responder -> (certificate, last day)
    off_duty: set[str] = field(default_factory=set)

    def grant(
        self, responder_id: str, name: str, phone: str, certificate_no: str, expires_on: date, now: datetime
    ) -> bool:
        created = responder_id not in self.held
        self.held[responder_id] = (certificate_no, expires_on)
        return created

    def withdraw(self, responder_id: str, certificate_no: str, last_valid_day: date) -> bool:
        if self.held.get(responder_id, ("", None))[0] != certificate_no:
            return False
        self.held[responder_id] = (certificate_no, last_valid_day)
        self.off_duty.add(responder_id)
        return True


@dataclass
class FakeTexts:
    sent: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def send(self, phone: str, message: Text) -> None:
        if self.fail:
            raise RuntimeError("SNS unavailable")
        self.sent.append((phone, message.body))


@dataclass
class FakeGeo:
    removed: list[tuple[str, str]] = field(default_factory=list)

    def remove(self, kind: str, entity_id: str) -> None:
        self.removed.append((kind, entity_id))
