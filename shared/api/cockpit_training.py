"""Bodies of the cockpit's training figures (GET /v1/cockpit/training)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class FunnelOut(BaseModel):
    registered: int = Field(description="People with a live registration in a session starting in the period")
    attended: int = Field(description="Of those, checked in")
    passed: int = Field(description="Of those, passed the course's exam after the session")
    certified: int = Field(description="Of those, holding the certificate the pass issued (valid today)")
    on_duty: int = Field(description="Of those, on duty now")


class ExpiringOut(BaseModel):
    within_30_days: int = Field(
        description="Certificates not revoked whose last valid day is in the next 30 days"
    )
    within_60_days: int = Field(description="... in the next 60 days (includes the 30)")


class SessionOut(BaseModel):
    session_id: str
    course_id: str
    title: str | None = None
    starts_at: datetime
    trainer_id: str | None = None
    capacity: int | None = None
    registered: int = Field(description="Live registrations: confirmed and waitlisted")
    confirmed: int
    waitlisted: int
    attended: int
    rating_avg: float | None
    ratings: int


class InstructorOut(BaseModel):
    trainer_id: str
    sessions: int
    rating_avg: float | None
    ratings: int


class TrainingFigures(BaseModel):
    from_: date = Field(alias="from")
    to: date
    funnel: FunnelOut
    certificates_expiring: ExpiringOut
    sessions: list[SessionOut]
    instructors: list[InstructorOut]

    model_config = ConfigDict(populate_by_name=True)
