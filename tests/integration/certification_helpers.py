"""Building blocks for exam and certificate tests: teaching records written through the teaching side's
own store (shared.dal.teaching.DynamoTeaching, the writer of the TrainingRecords contract), examiners,
sittings and scores through the API."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from shared.dal.teaching import DynamoTeaching
from shared.logic.teaching.records import Course, Evaluation, Registration, Session, TheoryModule
from tests.conftest import Api

ADMIN = {"sub": "admin-1", "roles": ("admin",)}
TRAINER = {"sub": "trainer-1", "roles": ("trainer",)}
PASSING = {"cpr": 92, "aed": 88, "bleeding_control": 75, "bandaging": 70, "fixation": 66, "carrying": 61}
_phones = itertools.count(1)


class Teaching:
    """A course with practical sessions, and trainees who attend them."""

    def __init__(self) -> None:
        self.store = DynamoTeaching()
        self.now = datetime.now(UTC)
        self.course_id = str(ULID())
        self.store.create_course(
            Course(
                self.course_id,
                "救护员培训 Red Cross first aider",
                "trainer-1",
                self.now,
                theory_modules=[TheoryModule("m1", "心肺复苏", 45), TheoryModule("m2", "AED", 30)],
                practical_hours=4,
            )
        )

    def session(self, instructor: str, site: str = "湖滨培训点", starts_in_h: float = -2) -> str:
        starts = self.now + timedelta(hours=starts_in_h)
        session = Session(
            str(ULID()),
            self.course_id,
            site,
            30.259,
            120.1605,
            starts,
            starts + timedelta(hours=4),
            30,
            instructor,
            self.now,
        )
        self.store.create_session(session)
        return session.session_id

    def trainee(
        self,
        person: str,
        session_id: str,
        *,
        attend: bool = True,
        theory: bool = True,
        consent: bool = True,
        name: str = "张三明",
    ) -> Registration:
        registration = Registration(
            str(ULID()),
            session_id,
            self.course_id,
            person,
            name,
            f"+8613900{next(_phones):06d}",
            consent,
            "confirmed",
            self.now,
        )
        assert self.store.take_seat(registration)
        if attend:
            assert self.store.check_in(registration.registration_id, self.now)
        if theory:
            for module in ("m1", "m2"):
                self.store.mark_theory(self.course_id, person, module, self.now, None)
        return registration

    def evaluate(self, registration: Registration, rating: int) -> None:
        assert self.store.add_evaluation(
            Evaluation(
                registration.registration_id,
                registration.session_id,
                registration.course_id,
                registration.person_id,
                rating,
                self.now,
            )
        )


def examiner(api: Api, sub: str, name: str = "考官") -> None:
    reply = api("PUT", f"/v1/examiners/{sub}", {"name": name}, **ADMIN)
    assert reply.status == 200, reply.body


def sitting(api: Api, course_id: str, candidates: list[str], examiner_id: str | None = None) -> Any:
    body: dict[str, Any] = {
        "course_id": course_id,
        "site": "湖滨考点",
        "starts_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "candidate_ids": candidates,
    }
    if examiner_id is not None:
        body["examiner_id"] = examiner_id
    return api("POST", "/v1/exams", body, **TRAINER)


def score(
    api: Api, exam_id: str, examiner_id: str, candidate: str, skills: dict[str, int] | None = None
) -> Any:
    return api(
        "POST",
        f"/v1/exams/{exam_id}/scores",
        {"candidate_id": candidate, "skills": skills or PASSING},
        sub=examiner_id,
        roles=("examiner",),
    )


def certified(
    api: Api, teaching: Teaching, person: str, *, consent: bool = True, examiner_id: str = "ex-zhao"
) -> str:
    """A person taught by wang, examined by an independent examiner, passed: their certificate number."""
    session_id = teaching.session("wang")
    teaching.trainee(person, session_id, consent=consent)
    examiner(api, examiner_id)
    exam = sitting(api, teaching.course_id, [person])
    assert exam.status == 201, exam.body
    scored = score(api, exam.body["exam_id"], exam.body["examiner_id"], person)
    assert scored.status == 201 and scored.body["passed"], scored.body
    return str(scored.body["certificate_no"])
