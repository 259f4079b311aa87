"""Courses (theory modules online, a practical session offline) and their sessions at training sites.

A session is findable near a place until it ends: its geo index item lapses at ``ends_at`` (DynamoDB TTL,
and the search filters lapsed items itself), so finished sessions drop out without a clean-up job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from shared.errors import NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.ids import new_id
from shared.logic.ports import GeoIndex
from shared.logic.teaching.ports import TRAINING_SESSION, TeachingStore
from shared.logic.teaching.records import Course, Session, TheoryModule

T = TypeVar("T")

# Without a place, sessions are listed by start time: a window of at most a year keeps that to a dozen
# monthly Queries.
DEFAULT_WINDOW = timedelta(days=30)
LONGEST_SESSION = timedelta(days=1)  # a practical session is a day at most
MAX_WINDOW = timedelta(days=366)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None


def page_of(items: list[T], limit: int, next_token: str | None) -> Page[T]:
    """Lists computed whole (bounded by a radius, a window or a session's size); tokens are offsets."""
    offset = 0
    if next_token is not None:
        if not next_token.isdigit() or int(next_token) > len(items) + 10_000:
            raise ValidationFailed("next_token: not a token this API issued")
        offset = int(next_token)
    end = offset + limit
    return Page(items=items[offset:end], next_token=str(end) if end < len(items) else None)


def aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(f"{name}: must carry a UTC offset, e.g. 2026-12-05T09:00:00+08:00")


@dataclass(frozen=True)
class NewCourse:
    title: str
    description: str | None
    theory_modules: list[TheoryModule]
    practical_hours: float


def create_course(store: TeachingStore, new: NewCourse, creator: str, now: datetime) -> Course:
    ids = [m.module_id for m in new.theory_modules]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("theory_modules: module_id must be unique within the course")
    course = Course(
        course_id=new_id(),
        title=new.title,
        created_by=creator,
        created_at=now,
        description=new.description,
        theory_modules=list(new.theory_modules),
        practical_hours=new.practical_hours,
    )
    store.create_course(course)
    return course


def get_course(store: TeachingStore, course_id: str) -> Course:
    course = store.course(course_id)
    if course is None:
        raise NotFound("no such course")
    return course


@dataclass(frozen=True)
class NewSession:
    course_id: str
    site: str
    lat: float
    lng: float
    starts_at: datetime
    ends_at: datetime
    capacity: int
    instructor_id: str


def create_session(store: TeachingStore, geo: GeoIndex, new: NewSession, now: datetime) -> Session:
    aware("starts_at", new.starts_at)
    aware("ends_at", new.ends_at)
    if new.ends_at <= new.starts_at:
        raise ValidationFailed("ends_at: must be after starts_at")
    if new.ends_at - new.starts_at > LONGEST_SESSION:
        raise ValidationFailed("ends_at: a session lasts at most 24 hours (give each day its own)")
    if new.ends_at <= now:
        raise ValidationFailed("ends_at: the session would be over already")
    if new.capacity < 1:
        raise ValidationFailed("capacity: at least 1")
    course = get_course(store, new.course_id)
    session = Session(
        session_id=new_id(),
        course_id=course.course_id,
        site=new.site,
        lat=new.lat,
        lng=new.lng,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        capacity=new.capacity,
        instructor_id=new.instructor_id,
        created_at=now,
    )
    store.create_session(session)
    geo.put(
        TRAINING_SESSION,
        session.session_id,
        session.lat,
        session.lng,
        expires_at=int(session.ends_at.timestamp()),
        attributes={"starts_at": session.starts_at.isoformat(), "course_id": course.course_id},
    )
    return session


def get_session(store: TeachingStore, session_id: str) -> Session:
    session = store.session(session_id)
    if session is None:
        raise NotFound("no such session")
    return session


def teaches(caller: Caller, session: Session) -> bool:
    """Who acts on a session and its registrations: its instructor (whoever the session names), and
    admins on every session. Other trainers are no more entitled to a session's trainees than anyone."""
    return caller.sub == session.instructor_id or "admin" in caller.roles


@dataclass(frozen=True)
class Listing:
    """A session as the public finds it: with its course's title, free seats and the line's length."""

    session: Session
    course_title: str
    distance_m: float | None = None

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.session.confirmed)


@dataclass(frozen=True)
class SessionQuery:
    near: tuple[float, float] | None
    radius_m: float
    start: datetime | None  # sessions starting at or after
    end: datetime | None  # sessions starting before
    limit: int
    next_token: str | None


def find_sessions(store: TeachingStore, geo: GeoIndex, query: SessionQuery, now: datetime) -> Page[Listing]:
    """Sessions not yet over, starting in [from, to) when given: nearest first within ``radius_m`` of
    ``near``, else by start time (then ``to`` defaults to 30 days ahead)."""
    aware("from", query.start)
    aware("to", query.end)
    if query.start is not None and query.end is not None and query.end <= query.start:
        raise ValidationFailed("to: must be after from")
    if query.near is not None:
        lat, lng = query.near
        hits = geo.nearby(TRAINING_SESSION, lat, lng, query.radius_m, now_epoch=int(now.timestamp()))
        wanted = [
            (h.entity_id, h.distance_m)
            for h in hits
            if _starts_within(datetime.fromisoformat(h.attributes["starts_at"]), query.start, query.end)
        ]
        near_page = page_of(wanted, query.limit, query.next_token)
        sessions = store.sessions([session_id for session_id, _ in near_page.items])
        rows: list[tuple[Session, float | None]] = [
            (sessions[i], d) for i, d in near_page.items if i in sessions
        ]
        return Page(items=_listings(store, rows), next_token=near_page.next_token)
    # Without "from": every session not over yet, those in progress included.
    start = query.start or now - LONGEST_SESSION
    end = query.end or now + DEFAULT_WINDOW
    if end - start > MAX_WINDOW:
        raise ValidationFailed("to: at most 366 days after from when no place (near) is given")
    found = [s for s in store.sessions_between(start, end) if s.ends_at > now]
    page = page_of(found, query.limit, query.next_token)
    return Page(items=_listings(store, [(s, None) for s in page.items]), next_token=page.next_token)


def _starts_within(starts_at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or starts_at >= start) and (end is None or starts_at < end)


def _listings(store: TeachingStore, rows: Sequence[tuple[Session, float | None]]) -> list[Listing]:
    titles: dict[str, str] = {}
    for session, _ in rows:
        if session.course_id not in titles:
            course = store.course(session.course_id)
            titles[session.course_id] = course.title if course else ""
    return [Listing(s, titles[s.course_id], d) for s, d in rows]
