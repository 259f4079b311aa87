"""Bodies of the exams and certificates API: the examiner pool, sittings, scores on the rubric,
certificates, and the training quality report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from shared.api.fields import Body, Text

Id = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Mark = Annotated[int, Strict(), Field(ge=0, le=100)]


def _iso_text(value: Any) -> Any:
    # A datetime arrives as ISO 8601 text; a bare number would otherwise pass as Unix time.
    if not isinstance(value, str | datetime):
        raise ValueError("an ISO 8601 date-time with offset, e.g. 2026-12-05T09:00:00+08:00")
    return value


When = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class ExaminerBody(Body):
    name: Text


class ExaminerOut(BaseModel):
    examiner_id: str
    name: str
    added_at: datetime
    added_by: str
    last_assigned_at: datetime | None
    assignments: int


class Examiners(BaseModel):
    items: list[ExaminerOut]
    next_token: str | None = None


class NewExamBody(Body):
    course_id: Id
    site: Text
    starts_at: When
    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    examiner_id: Id | None = Field(
        None, description="Omit to let the system choose an examiner who taught none of the candidates"
    )


class CandidateOut(BaseModel):
    candidate_id: str
    scored: bool
    passed: bool | None = None
    failed_skills: list[str] | None = None
    certificate_no: str | None = None


class ExamOut(BaseModel):
    exam_id: str
    course_id: str
    site: str
    starts_at: datetime
    examiner_id: str
    candidates: list[CandidateOut]
    created_by: str
    created_at: datetime


class SkillScores(BaseModel):
    """The Red Cross first-aid rubric: every skill scored 0..100."""

    model_config = ConfigDict(extra="forbid")

    cpr: Mark
    aed: Mark
    bleeding_control: Mark
    bandaging: Mark
    fixation: Mark
    carrying: Mark


class ScoreBody(Body):
    candidate_id: Id
    skills: SkillScores


class ScoreOut(BaseModel):
    exam_id: str
    candidate_id: str
    passed: bool
    failed_skills: list[str]
    certificate_no: str | None = None
    valid_until: date | None = None
    responder: Literal["created", "renewed"] | None = Field(
        None, description="The responder record the certificate created or renewed (holder consented)"
    )


class CertificateVerification(BaseModel):
    certificate_no: str
    holder: str = Field(description="The holder's name, masked (张*明, J*** D**)")
    course: str
    issued_on: date
    valid_until: date = Field(description="Last valid day, inclusive, in the deployment's time zone")
    status: Literal["valid", "expired", "revoked"]


class RevokeBody(Body):
    reason: Text


class RevokedOut(CertificateVerification):
    revoked_at: datetime
    reason: str


class CertificateDocument(BaseModel):
    certificate_no: str
    holder: str
    course_id: str
    course: str
    issued_on: date
    valid_until: date
    status: Literal["valid", "expired", "revoked"]
    verify_url: str = Field(description="Where anyone checks this certificate; the QR code encodes it")
    qr_svg: str = Field(description="A QR code of verify_url, as an SVG document")


class QualityRowOut(BaseModel):
    key: str = Field(description="The instructor's sub or the site")
    sessions: int
    registered: int = Field(description="Confirmed registrations")
    attended: int
    attendance_rate: float | None
    examined: int
    passed: int
    pass_rate: float | None
    ratings: int
    average_rating: float | None


class QualityReport(BaseModel):
    by: Literal["instructor", "site"]
    from_: date = Field(alias="from")
    to: date
    rows: list[QualityRowOut]

    model_config = ConfigDict(populate_by_name=True)
