"""Courses and sessions: trainers publish them, anyone finds sessions near a place; theory progress per
trainee; attendance for the instructor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ, RadiusQ, TokenQ
from shared.api.teaching import (
    AttendanceOut,
    AttendeeOut,
    CourseOut,
    ModuleProgressOut,
    NewCourseBody,
    NewSessionBody,
    SessionOut,
    SessionsPage,
    TheoryBody,
    TheoryModuleOut,
    TheoryOut,
)
from shared.config import settings
from shared.errors import ValidationFailed
from shared.geo.datum import to_wgs84
from shared.logic.teaching import checkin, courses, theory
from shared.logic.teaching.records import Course, Session, TheoryModule

app = create_app()
config = settings()

NearQ = Annotated[
    str | None,
    Query(
        pattern=r"^\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*$",
        description="lat,lng (WGS-84): nearest first; without it, sessions by start time",
    ),
]


def _course_out(course: Course) -> CourseOut:
    return CourseOut(
        course_id=course.course_id,
        title=course.title,
        description=course.description,
        theory_modules=[
            TheoryModuleOut(module_id=m.module_id, title=m.title, minutes=m.minutes)
            for m in course.theory_modules
        ],
        practical_hours=course.practical_hours,
        created_by=course.created_by,
        created_at=course.created_at,
    )


def _session_out(listing: courses.Listing) -> SessionOut:
    s: Session = listing.session
    return SessionOut(
        session_id=s.session_id,
        course_id=s.course_id,
        course_title=listing.course_title or None,
        site=s.site,
        lat=s.lat,
        lng=s.lng,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        instructor_id=s.instructor_id,
        seats_left=listing.seats_left,
        waitlisted=s.waitlisted,
        distance_m=None if listing.distance_m is None else round(listing.distance_m, 1),
    )


@app.post("/v1/courses", responses=CREATED_RESPONSES)
def create_course(body: NewCourseBody) -> Response[CourseOut]:
    new = courses.NewCourse(
        title=body.title,
        description=body.description or None,
        theory_modules=[TheoryModule(m.module_id, m.title, m.minutes) for m in body.theory_modules],
        practical_hours=body.practical_hours,
    )
    course = courses.create_course(wiring.teaching(), new, current_caller(app).sub or "", datetime.now(UTC))
    return Response(201, content_types.APPLICATION_JSON, _course_out(course))


@app.get("/v1/courses/<course_id>", responses=ERROR_RESPONSES)
def get_course(course_id: str) -> CourseOut:
    return _course_out(courses.get_course(wiring.teaching(), course_id))


@app.post("/v1/sessions", responses=CREATED_RESPONSES)
def create_session(body: NewSessionBody) -> Response[SessionOut]:
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    new = courses.NewSession(
        course_id=body.course_id,
        site=body.site,
        lat=lat,
        lng=lng,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        capacity=body.capacity,
        instructor_id=body.instructor_id,
    )
    session = courses.create_session(wiring.teaching(), wiring.geo_index(), new, datetime.now(UTC))
    listing = courses.Listing(session, courses.get_course(wiring.teaching(), session.course_id).title)
    return Response(201, content_types.APPLICATION_JSON, _session_out(listing))


@app.get("/v1/sessions", responses=ERROR_RESPONSES)
def find_sessions(
    near: NearQ = None,
    radius_m: RadiusQ = 5000,
    from_: Annotated[
        datetime | None, Query(alias="from", description="sessions starting at or after")
    ] = None,
    to: Annotated[datetime | None, Query(description="sessions starting before")] = None,
    limit: LimitQ = 20,
    next_token: TokenQ = None,
) -> SessionsPage:
    point = None
    if near is not None:
        try:
            lat, lng = (float(x) for x in near.split(","))
        except ValueError as error:
            raise ValidationFailed("near: lat,lng as two numbers") from error
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValidationFailed("near: lat in [-90, 90], lng in [-180, 180]")
        point = (lat, lng)
    query = courses.SessionQuery(point, radius_m, from_, to, limit, next_token)
    page = courses.find_sessions(wiring.teaching(), wiring.geo_index(), query, datetime.now(UTC))
    return SessionsPage(items=[_session_out(x) for x in page.items], next_token=page.next_token)


@app.get("/v1/sessions/<session_id>/attendance", responses=ERROR_RESPONSES)
def attendance(session_id: str, limit: LimitQ = 20, next_token: TokenQ = None) -> AttendanceOut:
    record = checkin.attendance(wiring.teaching(), current_caller(app), session_id)
    page = courses.page_of(record.registrations, limit, next_token)
    s = record.session
    return AttendanceOut(
        session_id=s.session_id,
        capacity=s.capacity,
        confirmed=s.confirmed,
        checked_in=record.checked_in,
        waitlisted=s.waitlisted,
        items=[
            AttendeeOut(
                registration_id=r.registration_id,
                person_id=r.person_id,
                name=r.name,
                status="confirmed" if r.status == "confirmed" else "waitlisted",
                position=r.position,
                checked_in_at=r.checked_in_at,
            )
            for r in page.items
        ],
        next_token=page.next_token,
    )


def _theory_out(progress: theory.TheoryProgress) -> TheoryOut:
    return TheoryOut(
        course_id=progress.course.course_id,
        complete=progress.complete,
        modules=[
            ModuleProgressOut(
                module_id=m.module.module_id,
                title=m.module.title,
                minutes=m.module.minutes,
                done=m.done is not None,
                completed_at=m.done.completed_at if m.done else None,
                score=m.done.score if m.done else None,
            )
            for m in progress.modules
        ],
    )


@app.put("/v1/courses/<course_id>/theory/<module_id>", responses=ERROR_RESPONSES)
def record_theory(course_id: str, module_id: str, body: TheoryBody) -> TheoryOut:
    progress = theory.record(
        wiring.teaching(),
        current_caller(app).sub or "",
        course_id,
        module_id,
        completed=body.completed,
        score=body.score,
        now=datetime.now(UTC),
    )
    return _theory_out(progress)


@app.get("/v1/courses/<course_id>/theory", responses=ERROR_RESPONSES)
def get_theory(course_id: str) -> TheoryOut:
    return _theory_out(theory.progress(wiring.teaching(), current_caller(app).sub or "", course_id))


lambda_handler = entry_point(app)
