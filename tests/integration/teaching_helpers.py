"""Teaching through the real handlers: a trainer's course and session, trainees who register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

TRAINER = {"sub": "trainer-1", "roles": ("trainer",)}
INSTRUCTOR = {"sub": "instructor-1", "roles": ("trainer",)}
ADMIN = {"sub": "admin-1", "roles": ("admin",)}
# 浙江省红十字会培训中心 and a site across the river
XIHU_SITE = (30.2590, 120.1650)
BINJIANG_SITE = (30.2100, 120.2100)


def iso(at: datetime) -> str:
    return at.isoformat()


def add_course(api: Any, *, modules: tuple[str, ...] = ("m1", "m2"), **caller: Any) -> str:
    body = {
        "title": "救护员培训 (first aid responder)",
        "description": "CPR, AED, bleeding control, bandaging, fixation, carrying",
        "theory_modules": [{"module_id": m, "title": f"module {m}", "minutes": 45} for m in modules],
        "practical_hours": 8,
    }
    reply = api("POST", "/v1/courses", body, **(caller or TRAINER))
    assert reply.status == 201, reply.body
    return str(reply.body["course_id"])


def add_session(
    api: Any,
    course_id: str,
    *,
    capacity: int = 30,
    starts_in: timedelta = timedelta(days=2),
    hours: float = 4,
    where: tuple[float, float] = XIHU_SITE,
    site: str = "西湖区培训基地",
    instructor: str = INSTRUCTOR["sub"],
) -> str:
    starts = datetime.now(UTC) + starts_in
    body = {
        "course_id": course_id,
        "site": site,
        "lat": where[0],
        "lng": where[1],
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=hours)),
        "capacity": capacity,
        "instructor_id": instructor,
    }
    reply = api("POST", "/v1/sessions", body, **TRAINER)
    assert reply.status == 201, reply.body
    return str(reply.body["session_id"])


def phone_of(n: int) -> str:
    return f"+86138{n:08d}"


def register(api: Any, session_id: str, person: str, n: int = 0, consent: bool = True) -> Any:
    body = {"name": f"学员{n}", "phone": phone_of(n), "responder_consent": consent}
    return api("POST", f"/v1/sessions/{session_id}/registrations", body, sub=person)


def finish_theory(api: Any, course_id: str, person: str, modules: tuple[str, ...] = ("m1", "m2")) -> None:
    for module in modules:
        reply = api("PUT", f"/v1/courses/{course_id}/theory/{module}", {"completed": True}, sub=person)
        assert reply.status == 200, reply.body


def checkin_code(api: Any, session_id: str, **caller: Any) -> str:
    reply = api("GET", f"/v1/sessions/{session_id}/checkin-code", **(caller or INSTRUCTOR))
    assert reply.status == 200, reply.body
    return str(reply.body["code"])
