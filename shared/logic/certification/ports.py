"""The records of examination and certification (examiner pool, sittings, scores, certificates, reminder
marks) and the interfaces the logic reaches them through; shared/dal/certification.py implements them on
DynamoDB, unit tests fake them. Teaching records come in through ``ports.TrainingRecords`` only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# The Red Cross first-aid rubric's practical skills, in the order a score sheet lists them.
SKILLS: tuple[str, ...] = ("cpr", "aed", "bleeding_control", "bandaging", "fixation", "carrying")


@dataclass
class Examiner:
    examiner_id: str  # the person's sub (who also holds the Cognito group "examiner")
    name: str
    added_at: datetime
    added_by: str
    last_assigned_at: datetime | None = None  # for the fair choice: least recently assigned first
    assignments: int = 0


@dataclass
class Exam:
    """One exam sitting: a set of candidates of one course, examined by one independent examiner."""

    exam_id: str
    course_id: str
    site: str
    starts_at: datetime
    examiner_id: str
    candidate_ids: list[str]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Score:
    exam_id: str
    candidate_id: str
    course_id: str
    examiner_id: str
    skills: dict[str, int]
    passed: bool
    failed_skills: list[str]
    scored_at: datetime
    certificate_no: str | None = None


@dataclass
class Certificate:
    certificate_no: str  # "RN-2026-000123"
    holder_id: str  # the person's sub; their responder_id if they consented
    holder_name: str
    holder_phone: str  # E.164, for expiry reminders
    course_id: str
    course_title: str
    exam_id: str
    issued_on: date
    valid_until: date  # inclusive: valid through that day in the deployment's time zone
    issued_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    revoked_by: str | None = None


class ExaminerPool(Protocol):
    def put(self, examiner_id: str, name: str, by: str, now: datetime) -> Examiner:
        """Add, or rename keeping the assignment history."""
        ...

    def remove(self, examiner_id: str) -> bool: ...
    def get(self, examiner_id: str) -> Examiner | None: ...
    def all(self) -> list[Examiner]: ...
    def mark_assigned(self, examiner_id: str, at: datetime) -> bool:
        """Record an assignment; False when the examiner left the pool meanwhile."""
        ...


class ExamStore(Protocol):
    def create(self, exam: Exam) -> None: ...
    def get(self, exam_id: str) -> Exam | None: ...
    def score(self, exam_id: str, candidate_id: str) -> Score | None: ...
    def scores(self, exam_id: str) -> list[Score]: ...
    def record(self, score: Score, certificate: Certificate | None) -> bool:
        """Store a score and, for a pass, its certificate, in one transaction; False if the candidate
        was already scored in this sitting (nothing written)."""
        ...

    def scores_of_course(self, course_id: str, since: datetime) -> list[Score]: ...


class CertificateStore(Protocol):
    def next_number(self, year: int) -> int:
        """The next certificate number of that year, from an atomic counter: never handed out twice."""
        ...

    def get(self, certificate_no: str) -> Certificate | None: ...
    def of_holder(self, holder_id: str) -> list[Certificate]: ...
    def expiring_between(self, first: date, last: date) -> list[Certificate]:
        """Certificates whose last valid day lies in [first, last] (read from an index on that day)."""
        ...

    def revoke(self, certificate_no: str, at: datetime, reason: str, by: str) -> bool:
        """False when it was already revoked (nothing changed)."""
        ...


class ReminderLog(Protocol):
    def claim(self, certificate_no: str, days_before: int, at: datetime, expires_at: int) -> bool:
        """Take the one right to send this reminder (a conditional put); False if it was taken before."""
        ...

    def release(self, certificate_no: str, days_before: int) -> None:
        """Give the right back when sending failed, so a retry sends it."""
        ...


class ResponderCertificates(Protocol):
    """The responder pool as certificates change it (shared.dal.models.responders.ResponderModel)."""

    def grant(
        self, responder_id: str, name: str, phone: str, certificate_no: str, expires_on: date, now: datetime
    ) -> bool:
        """Create the responder with this certificate, or renew an existing one's; True when created."""
        ...

    def withdraw(self, responder_id: str, certificate_no: str, last_valid_day: date) -> bool:
        """If the responder still holds this certificate: end its validity with ``last_valid_day`` and take
        them off duty. False when they hold another certificate (or are no responder)."""
        ...
