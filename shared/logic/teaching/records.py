"""What the training modules share: the records of teaching (courses, sessions, registrations,
attendance, theory, evaluations), read by the examination and certificate side through ``TrainingRecords``.

Teaching (courses, sessions, registrations, check-in, theory, evaluations) writes these records; the
exam and certificate side only reads them, so the two halves meet here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class TheoryModule:
    module_id: str  # stable within its course, e.g. "m1"
    title: str
    minutes: int


@dataclass
class Course:
    course_id: str
    title: str
    created_by: str  # the trainer's sub
    created_at: datetime
    description: str | None = None
    theory_modules: list[TheoryModule] = field(default_factory=list)
    practical_hours: float = 0.0


@dataclass
class Session:
    """A practical session of a course at a training site, taught by one instructor."""

    session_id: str
    course_id: str
    site: str
    lat: float
    lng: float
    starts_at: datetime
    ends_at: datetime
    capacity: int
    instructor_id: str  # the teaching trainer's sub
    created_at: datetime
    confirmed: int = 0
    waitlisted: int = 0


@dataclass
class Registration:
    registration_id: str
    session_id: str
    course_id: str
    person_id: str  # the registrant's sub: a responder's sub is its responder_id
    name: str
    phone: str  # E.164
    responder_consent: bool  # may a certificate make this person an alertable responder?
    status: str  # confirmed, waitlisted, cancelled
    created_at: datetime
    position: int | None = None  # 1-based place on the waitlist while waitlisted
    checked_in_at: datetime | None = None


@dataclass(frozen=True)
class Evaluation:
    registration_id: str
    session_id: str
    course_id: str
    person_id: str
    rating: int  # 1..5
    at: datetime
    comment: str | None = None


class TrainingRecords(Protocol):
    """Read access to teaching records, for exams, certificates and the quality report."""

    def course(self, course_id: str) -> Course | None: ...
    def session(self, session_id: str) -> Session | None: ...
    def sessions_between(self, start: datetime, end: datetime) -> list[Session]: ...
    def registration(self, registration_id: str) -> Registration | None: ...
    def registrations_of_person(self, person_id: str) -> list[Registration]: ...
    def registrations_of_session(self, session_id: str) -> list[Registration]: ...
    def theory_complete(self, course_id: str, person_id: str) -> bool: ...
    def evaluations_of_session(self, session_id: str) -> list[Evaluation]: ...
    def has_evaluated(self, course_id: str, person_id: str) -> bool: ...
