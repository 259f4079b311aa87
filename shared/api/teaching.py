"""Request and response bodies of teaching: courses, sessions, registrations, check-in, theory and
evaluations (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, Strict, StringConstraints

from shared.api.fields import Body, Crs, Lat, Lng, OptionalText, Phone, Text

Id = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ModuleId = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$"),
    Field(description="Stable within its course, e.g. m1"),
]


class TheoryModuleIn(Body):
    module_id: ModuleId
    title: Text
    minutes: Annotated[int, Strict(), Field(ge=1, le=600)]


class NewCourseBody(Body):
    title: Text
    description: OptionalText = None
    theory_modules: Annotated[list[TheoryModuleIn], Field(min_length=1, max_length=50)]
    practical_hours: Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)] = 0.0


class TheoryModuleOut(BaseModel):
    module_id: str
    title: str
    minutes: int


class CourseOut(BaseModel):
    course_id: str
    title: str
    description: str | None
    theory_modules: list[TheoryModuleOut]
    practical_hours: float
    created_by: str
    created_at: datetime


class NewSessionBody(Body):
    course_id: Id
    site: Text
    lat: Lat
    lng: Lng
    crs: Crs = None
    starts_at: Annotated[AwareDatetime, Field(description="ISO 8601 with offset")]
    ends_at: Annotated[AwareDatetime, Field(description="ISO 8601 with offset; after starts_at")]
    capacity: Annotated[int, Strict(), Field(ge=1, le=1000)]
    instructor_id: Annotated[Id, Field(description="The teaching trainer's sub")]


class SessionOut(BaseModel):
    session_id: str
    course_id: str
    course_title: str | None = None
    site: str
    lat: float
    lng: float
    starts_at: datetime
    ends_at: datetime
    capacity: int
    instructor_id: str
    seats_left: int
    waitlisted: int
    distance_m: float | None = None


class SessionsPage(BaseModel):
    items: list[SessionOut]
    next_token: str | None = None


class NewRegistrationBody(Body):
    name: Text
    phone: Phone
    responder_consent: Annotated[
        bool,
        Strict(),
        Field(description="May a certificate from this course make you an alertable responder?"),
    ]


class RegistrationOut(BaseModel):
    registration_id: str
    session_id: str
    course_id: str
    person_id: str
    name: str
    phone: str
    responder_consent: bool
    status: Literal["confirmed", "waitlisted", "cancelled"]
    position: int | None = Field(None, description="1-based place on the waitlist while waitlisted")
    created_at: datetime
    checked_in_at: datetime | None = None


class CheckinCodeOut(BaseModel):
    code: str
    expires_at: datetime = Field(description="When the screen should fetch the next code")
    link: str = Field(description="What the QR code holds: the trainee app opens it and posts the code")
    svg: str = Field(description="The QR code of link, an SVG document")


class CheckinBody(Body):
    code: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CheckinOut(BaseModel):
    registration_id: str
    checked_in_at: datetime


class AttendeeOut(BaseModel):
    registration_id: str
    person_id: str
    name: str
    status: Literal["confirmed", "waitlisted"]
    position: int | None = None
    checked_in_at: datetime | None = None


class AttendanceOut(BaseModel):
    session_id: str
    capacity: int
    confirmed: int
    checked_in: int
    waitlisted: int
    items: list[AttendeeOut]
    next_token: str | None = None


class TheoryBody(Body):
    completed: Annotated[bool, Strict(), Field(description="false clears the module")]
    score: Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)] | None = None


class ModuleProgressOut(BaseModel):
    module_id: str
    title: str
    minutes: int
    done: bool
    completed_at: datetime | None = None
    score: float | None = None


class TheoryOut(BaseModel):
    course_id: str
    complete: bool
    modules: list[ModuleProgressOut]


class EvaluationBody(Body):
    rating: Annotated[int, Strict(), Field(ge=1, le=5)]
    comment: OptionalText = None


class EvaluationOut(BaseModel):
    registration_id: str
    session_id: str
    course_id: str
    rating: int
    comment: str | None = None
    at: datetime
