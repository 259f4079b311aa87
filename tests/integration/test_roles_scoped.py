"""Scoped roles, generated from the route table: every route that takes a token is called by each role
(and by a signed-in member of the public, who has none) as the owner of the record it acts on and as
someone else, through the real handlers, and each answer is checked against one declared table (RULES)
of who may do what. A route added to shared/routes.py without a row and a probe here fails
``test_every_route_with_roles_has_a_rule_and_a_probe``.

A row (docs/architecture.md, "Who may act on what"):
- ``gate``: the route table's roles (``SIGNED_IN``: any token); a caller outside it gets 403 before any
  record is read, owner or not;
- ``roles``: roles that act on every record of the route (admin on all; dispatchers on incidents);
- ``relations``: what being the record's owner grants (the session's instructor, the registrant, the
  AED's manager, the exam's author or examiner, the certificate's holder, the responder themself...);
  each relation is one "owner" case, and "not owner" is always a case too;
- ``otherwise``: everyone else who passes the gate: 403 where the record's existence is public (AEDs,
  sessions, certificates), 404 where it is private (registrations, exams, responders, incidents). With
  ``private``, that 404 must be exactly (status, code, message) what a record that does not exist gets.

Routes that act on no existing record (creations, searches, reports) have no relations: one case per
caller. ``pytest -s`` prints the table's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared import wiring
from shared.identity import ROLES
from shared.logic.ids import new_id
from shared.logic.rescue.ports import Alert, Incident
from shared.logic.teaching.checkin import sign, window_of
from shared.routes import ROUTES, SIGNED_IN, Route
from tests.conftest import Api, Reply
from tests.integration.certification_helpers import PASSING, Teaching
from tests.integration.rescue_helpers import on_duty_records

OK = "ok"  # the route's success status
ROW_REFUSED = "row refused"  # an import answers 200 per row: the row is rejected, nothing written
Verdict = str | int

ADMIN = {"sub": "setup-admin", "roles": ("admin",)}
TRAINER = {"sub": "setup-trainer", "roles": ("trainer",)}
HERE = (30.2590, 120.1605)  # 湖滨, Hangzhou
ALL_PASS = {c: "pass" for c in ("self_test_light", "pads_sealed_in_date", "battery", "cabinet", "signage")}


@dataclass(frozen=True)
class Rule:
    ok: int  # the status of a request the caller may make
    gate: frozenset[str]
    roles: Mapping[str, Verdict] = field(default_factory=dict)
    relations: Mapping[str, Verdict] = field(default_factory=dict)
    otherwise: Verdict = OK
    private: bool = False


def _only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


STAFF = _only("dispatcher", "admin")
ADMIN_ALL: Mapping[str, Verdict] = {"admin": OK}

# The one declared table: route -> who may.
RULES: dict[tuple[str, str], Rule] = {
    # Responders: a responder is their own record; admins read any (404 hides a responder from others).
    ("POST", "/v1/responders"): Rule(201, _only("admin", "trainer")),
    ("GET", "/v1/responders/nearby"): Rule(200, STAFF),
    ("GET", "/v1/responders/{responder_id}"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"self": OK}, 404, private=True
    ),
    ("PUT", "/v1/responders/{responder_id}/presence"): Rule(
        200, SIGNED_IN, {"admin": 403}, {"self": OK}, 404, private=True
    ),
    ("GET", "/v1/responders/{responder_id}/credits"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"self": OK}, 404, private=True
    ),
    ("PUT", "/v1/responders/{responder_id}/device"): Rule(
        200, SIGNED_IN, {"admin": 403}, {"self": OK}, 404, private=True
    ),
    # AEDs are on the public map: a manager acts on the AEDs they manage (others 403), admins on all.
    ("POST", "/v1/aeds"): Rule(201, _only("aed_manager", "admin")),
    ("PATCH", "/v1/aeds/{aed_id}"): Rule(200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403),
    ("GET", "/v1/aeds/{aed_id}"): Rule(200, SIGNED_IN),
    ("POST", "/v1/aeds/import"): Rule(
        200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, ROW_REFUSED
    ),
    ("GET", "/v1/aeds/coverage"): Rule(200, _only("aed_manager", "dispatcher", "admin")),
    ("POST", "/v1/aeds/coverage"): Rule(200, _only("aed_manager", "dispatcher", "admin")),
    ("POST", "/v1/aeds/coverage/week"): Rule(200, _only("aed_manager", "dispatcher", "admin")),
    ("POST", "/v1/aeds/{aed_id}/inspections"): Rule(
        201, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403
    ),
    ("GET", "/v1/aeds/{aed_id}/inspections"): Rule(
        200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403
    ),
    ("POST", "/v1/aeds/{aed_id}/reports"): Rule(201, SIGNED_IN),
    ("GET", "/v1/aeds/{aed_id}/reports"): Rule(
        200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403
    ),
    ("POST", "/v1/aeds/{aed_id}/reports/{report_id}/resolution"): Rule(
        200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403
    ),
    ("POST", "/v1/aeds/{aed_id}/restock"): Rule(
        200, _only("aed_manager", "admin"), ADMIN_ALL, {"manager": OK}, 403
    ),
    # Incidents: staff see and act on all; an alerted responder sees its own view; one who accepted acts.
    ("GET", "/v1/incidents/{incident_id}"): Rule(
        200, SIGNED_IN, {"dispatcher": OK, "admin": OK}, {"alerted": OK, "accepted": OK}, 404, private=True
    ),
    ("POST", "/v1/incidents/{incident_id}/responses"): Rule(
        200, SIGNED_IN, {}, {"alerted": OK, "accepted": OK}, 404, private=True
    ),
    ("POST", "/v1/incidents/{incident_id}/events"): Rule(
        200, SIGNED_IN, {"dispatcher": OK, "admin": OK}, {"alerted": 409, "accepted": OK}, 404, private=True
    ),
    ("POST", "/v1/incidents/{incident_id}/close"): Rule(200, STAFF),
    ("POST", "/v1/incidents/{incident_id}/aed-reports"): Rule(
        201, SIGNED_IN, {"dispatcher": OK, "admin": OK}, {"alerted": 409, "accepted": OK}, 404, private=True
    ),
    # The dispatchers' console: the list is staff's; a timeline is staff's and, in part, its responders'.
    ("GET", "/v1/incidents"): Rule(200, STAFF),
    ("POST", "/v1/incidents"): Rule(202, STAFF),  # raised on the console for a caller
    # The cockpit: staff read its figures (trainers the training ones); only admins draw districts.
    ("GET", "/v1/districts"): Rule(200, STAFF),
    ("PUT", "/v1/districts/{district_id}"): Rule(200, _only("admin")),
    ("GET", "/v1/cockpit/rescues"): Rule(200, STAFF),
    ("GET", "/v1/cockpit/on-duty"): Rule(200, STAFF),
    ("GET", "/v1/cockpit/training"): Rule(200, _only("admin", "dispatcher", "trainer")),
    # Credits: anyone signed in reads the opt-in leaderboard; only the responder themself opts in or out.
    ("GET", "/v1/credits/leaderboard"): Rule(200, SIGNED_IN),
    ("PUT", "/v1/responders/{responder_id}/leaderboard"): Rule(
        200, SIGNED_IN, {"admin": 403}, {"self": OK}, 404, private=True
    ),
    # The credits export to the provincial platform and the annual nominations: admins only.
    ("POST", "/v1/credits/exports"): Rule(201, _only("admin")),
    ("GET", "/v1/credits/exports"): Rule(200, _only("admin")),
    ("GET", "/v1/credits/exports/{export_id}"): Rule(200, _only("admin")),
    ("GET", "/v1/credits/nominations"): Rule(200, _only("admin")),
    ("GET", "/v1/incidents/{incident_id}/timeline"): Rule(
        200, SIGNED_IN, {"dispatcher": OK, "admin": OK}, {"alerted": OK, "accepted": OK}, 404, private=True
    ),
    # The debrief after a rescue: only a responder who accepted the (closed) incident submits and reads
    # their own, nobody else's (staff included: 404); admins list the call-backs and mark one done.
    ("PUT", "/v1/incidents/{incident_id}/debrief"): Rule(
        200, SIGNED_IN, {}, {"alerted": 404, "accepted": OK}, 404, private=True
    ),
    ("GET", "/v1/incidents/{incident_id}/debrief"): Rule(
        200, SIGNED_IN, {}, {"alerted": 404, "accepted": OK}, 404, private=True
    ),
    ("GET", "/v1/debriefs"): Rule(200, _only("admin")),
    ("POST", "/v1/debriefs/{incident_id}/{responder_id}/call-done"): Rule(200, _only("admin")),
    # Teams and E-stations: admins make, list and delete them; the leader and the members see their team
    # (others: 404, as a team that does not exist); the leader changes members and hours and reads the
    # team's responses, a member does neither.
    ("POST", "/v1/teams"): Rule(201, _only("admin")),
    ("GET", "/v1/teams"): Rule(200, _only("admin")),
    ("GET", "/v1/teams/{team_id}"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"leader": OK, "member": OK}, 404, private=True
    ),
    ("PATCH", "/v1/teams/{team_id}"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"leader": OK, "member": 404}, 404, private=True
    ),
    ("DELETE", "/v1/teams/{team_id}"): Rule(204, _only("admin")),
    ("GET", "/v1/teams/{team_id}/responses"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"leader": OK, "member": 404}, 404, private=True
    ),
    # The 120 link: only an admin registers a dispatch centre (its calls are signed, not by role).
    ("PUT", "/v1/dispatch/centres/{centre_id}"): Rule(200, _only("admin")),
    # ... and lists what was sent to it, and replays one (the webhooks' log names no person).
    ("GET", "/v1/dispatch/centres/{centre_id}/deliveries"): Rule(200, _only("admin")),
    ("POST", "/v1/dispatch/centres/{centre_id}/deliveries/{delivery_id}/replay"): Rule(200, _only("admin")),
    # Teaching: sessions are public; a trainer acts on the sessions they teach (instructor), admins on all;
    # a registration (name, phone) is its registrant's, its session's instructor's and admins'.
    ("POST", "/v1/courses"): Rule(201, _only("trainer", "admin")),
    ("GET", "/v1/courses/{course_id}"): Rule(200, SIGNED_IN),
    ("PUT", "/v1/courses/{course_id}/theory/{module_id}"): Rule(200, SIGNED_IN),
    ("GET", "/v1/courses/{course_id}/theory"): Rule(200, SIGNED_IN),
    ("POST", "/v1/sessions"): Rule(201, _only("trainer", "admin")),
    ("GET", "/v1/sessions"): Rule(200, SIGNED_IN),
    ("GET", "/v1/sessions/{session_id}/attendance"): Rule(200, SIGNED_IN, ADMIN_ALL, {"instructor": OK}, 403),
    ("POST", "/v1/sessions/{session_id}/registrations"): Rule(201, SIGNED_IN),
    ("GET", "/v1/registrations/{registration_id}"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"registrant": OK, "instructor": OK}, 404, private=True
    ),
    ("DELETE", "/v1/registrations/{registration_id}"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"registrant": OK, "instructor": OK}, 404, private=True
    ),
    ("POST", "/v1/registrations/{registration_id}/evaluation"): Rule(
        201, SIGNED_IN, {"admin": 403}, {"registrant": OK, "instructor": 403}, 404, private=True
    ),
    ("GET", "/v1/sessions/{session_id}/checkin-code"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"instructor": OK}, 403
    ),
    # Checking in is the caller's own registration: without one there is nothing to find.
    ("POST", "/v1/sessions/{session_id}/checkins"): Rule(200, SIGNED_IN, {}, {"registrant": OK}, 404),
    # Exams: read by the trainer who set it (author), its examiner and admins; scored by its examiner.
    ("PUT", "/v1/examiners/{examiner_id}"): Rule(200, _only("admin")),
    ("DELETE", "/v1/examiners/{examiner_id}"): Rule(204, _only("admin")),
    ("GET", "/v1/examiners"): Rule(200, _only("admin", "trainer")),
    ("POST", "/v1/exams"): Rule(201, _only("trainer", "admin")),
    ("GET", "/v1/exams/{exam_id}"): Rule(
        200,
        _only("trainer", "admin", "examiner"),
        ADMIN_ALL,
        {"author": OK, "examiner": OK},
        404,
        private=True,
    ),
    ("POST", "/v1/exams/{exam_id}/scores"): Rule(
        201, _only("examiner"), {}, {"author": 403, "examiner": OK}, 404, private=True
    ),
    ("GET", "/v1/training/quality"): Rule(200, _only("trainer", "admin")),
    ("POST", "/v1/certificates/{certificate_no}/revoke"): Rule(200, _only("admin")),
    # A certificate's number is public (anyone verifies it): others are refused, not told it is unknown.
    ("GET", "/v1/certificates/{certificate_no}/document"): Rule(
        200, SIGNED_IN, ADMIN_ALL, {"holder": OK}, 403
    ),
}

_RANK = {OK: 0, 404: 2}


def expected(rule: Rule, role: str | None, relation: str | None) -> Verdict:
    """The gate first (403 whoever owns what); then the best of what the role, the relation and everyone
    else get: allowed, then refused (403, 409, a refused row), then hidden (404)."""
    if rule.gate and role not in rule.gate:
        return 403
    found = [rule.otherwise]
    if role in rule.roles:
        found.append(rule.roles[role])
    if relation is not None:
        found.append(rule.relations[relation])
    return min(found, key=lambda v: _RANK.get(v, 1))


# --- cases -----------------------------------------------------------------------------------------

CALLERS: tuple[str | None, ...] = (*sorted(ROLES), None)  # None: signed in, no role (the public)
WITH_ROLES: tuple[Route, ...] = tuple(r for r in ROUTES if r.roles is not None)


@dataclass(frozen=True)
class Case:
    role: str | None
    relation: str | None  # None: the record is someone else's
    sub: str  # the caller, unique to the case

    @property
    def label(self) -> str:
        return f"{self.role or 'public'} as {self.relation or 'not owner'}"


def cases(route: Route) -> Iterator[Case]:
    rule = RULES[(route.method, route.path)]
    for n, (role, relation) in enumerate(itertools.product(CALLERS, (None, *rule.relations))):
        yield Case(role, relation, f"{role or 'public'}-{relation or 'other'}-{n}")


@dataclass
class Call:
    path: str
    body: Any = None
    query: Mapping[str, Any] | None = None
    sub: str | None = None  # instead of the case's (a responder's id is made by the platform)
    missing: str | None = None  # the same call on a record that does not exist
    verdict: Callable[[Reply], Verdict | None] | None = None  # for answers that are not a status alone
    headers: Mapping[str, str] | None = None


class World:
    """Records built through the real handlers (and the teaching store where the exams side reads it)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.serial = itertools.count()
        self._teaching: Teaching | None = None

    def other(self) -> str:
        return f"someone-else-{next(self.serial)}"

    def owner(self, case: Case, relation: str) -> str:
        """The case's caller when the case is this relation's owner, else someone else."""
        return case.sub if case.relation == relation else self.other()

    def ok(self, method: str, path: str, body: Any = None, **who: Any) -> Any:
        reply = self.api(method, path, body, **who)
        assert reply.status < 300, (method, path, reply.status, reply.body)
        return reply.body

    # responders
    def responder(self) -> str:
        body = {
            "name": "志愿者",
            "phone": f"+86139{next(self.serial):08d}",
            "certificate_no": "C-1",
            "certificate_expires_on": (date.today() + timedelta(days=700)).isoformat(),
        }
        return str(self.ok("POST", "/v1/responders", body, **ADMIN)["responder_id"])

    # AEDs
    def aed(self, manager: str, status: str = "ok") -> str:
        body = {
            "lat": HERE[0],
            "lng": HERE[1],
            "name": "湖滨银泰 AED",
            "opening_hours": "24/7",
            "status": status,
        }
        return str(self.ok("POST", "/v1/aeds", body, sub=manager, roles=("aed_manager",))["aed_id"])

    # teaching
    def course(self) -> str:
        body = {"title": "救护员培训", "theory_modules": [{"module_id": "m1", "title": "CPR", "minutes": 45}]}
        return str(self.ok("POST", "/v1/courses", body, **TRAINER)["course_id"])

    def session(self, instructor: str, *, course_id: str | None = None, starts_in_h: float = 48) -> str:
        starts = datetime.now(UTC) + timedelta(hours=starts_in_h)
        body = {
            "course_id": course_id or self.course(),
            "site": "西湖区培训基地",
            "lat": HERE[0],
            "lng": HERE[1],
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=4)).isoformat(),
            "capacity": 10,
            "instructor_id": instructor,
        }
        return str(self.ok("POST", "/v1/sessions", body, **TRAINER)["session_id"])

    def registration(self, session_id: str, person: str) -> str:
        body = {"name": "学员", "phone": f"+86138{next(self.serial):08d}", "responder_consent": True}
        return str(
            self.ok("POST", f"/v1/sessions/{session_id}/registrations", body, sub=person)["registration_id"]
        )

    # certification
    @property
    def teaching(self) -> Teaching:
        if self._teaching is None:
            self._teaching = Teaching()
        return self._teaching

    def examiner(self, sub: str) -> str:
        self.ok("PUT", f"/v1/examiners/{sub}", {"name": "考官"}, **ADMIN)
        return sub

    def candidate(self) -> str:
        person = f"candidate-{next(self.serial)}"
        self.teaching.trainee(person, self.teaching.session("wang"))
        return person

    def exam(self, author: str, examiner: str, candidate: str) -> str:
        body = {
            "course_id": self.teaching.course_id,
            "site": "湖滨考点",
            "starts_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "candidate_ids": [candidate],
            "examiner_id": self.examiner(examiner),
        }
        return str(self.ok("POST", "/v1/exams", body, sub=author, roles=("trainer",))["exam_id"])

    def certificate(self, holder: str) -> str:
        """A pass for ``holder``, who then rated the course: their certificate's number."""
        registration = self.teaching.trainee(holder, self.teaching.session("wang"))
        examiner = f"examiner-{next(self.serial)}"
        exam_id = self.exam("setup-trainer", examiner, holder)
        body = {"candidate_id": holder, "skills": PASSING}
        scored = self.ok("POST", f"/v1/exams/{exam_id}/scores", body, sub=examiner, roles=("examiner",))
        self.teaching.evaluate(registration, 5)
        return str(scored["certificate_no"])

    # incidents
    def incident(self, case: Case) -> str:
        """An open incident; the caller alerted to it (relation alerted) or holding a CPR slot (accepted)."""
        store = wiring.incidents()
        now = datetime.now(UTC)
        incident = Incident(new_id(), "dispatching", HERE[0], HERE[1], now, slots_cpr=2, slots_aed=0)
        store.create(incident, None, "probe")
        for responder in (case.sub if case.relation else self.other(), self.other()):
            alert = Alert(
                incident.incident_id, responder, "alerted", 1, 120.0, *HERE, now, phone="+8613900000001"
            )
            on_duty_records(responder)  # alerts are written only for responders on duty
            assert store.add_alert(alert) == "written"
        if case.relation == "accepted":
            assert store.accept(incident.incident_id, case.sub, "cpr", None, now)
        return incident.incident_id


# --- one probe per route: the record it acts on, owned as the case says, and the request -------------

Probe = Callable[[World, Case], Call]
PROBES: dict[tuple[str, str], Probe] = {}


def probe(method: str, path: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        PROBES[(method, path)] = fn
        return fn

    return register


@probe("POST", "/v1/responders")
def _(w: World, c: Case) -> Call:
    body = {
        "name": "志愿者",
        "phone": "+8613900000002",
        "certificate_no": "C-2",
        "certificate_expires_on": "2030-01-01",
    }
    return Call("/v1/responders", body)


@probe("GET", "/v1/responders/nearby")
def _(w: World, c: Case) -> Call:
    return Call("/v1/responders/nearby", query={"lat": HERE[0], "lng": HERE[1], "radius_m": 1000})


def _responder_call(w: World, c: Case, suffix: str, body: Any = None) -> Call:
    rid = w.responder()
    return Call(
        f"/v1/responders/{rid}{suffix}",
        body,
        sub=rid if c.relation == "self" else None,
        missing=f"/v1/responders/no-such-responder{suffix}",
    )


@probe("GET", "/v1/responders/{responder_id}")
def _(w: World, c: Case) -> Call:
    return _responder_call(w, c, "")


@probe("PUT", "/v1/responders/{responder_id}/presence")
def _(w: World, c: Case) -> Call:
    return _responder_call(w, c, "/presence", {"lat": HERE[0], "lng": HERE[1], "available": True})


@probe("GET", "/v1/responders/{responder_id}/credits")
def _(w: World, c: Case) -> Call:
    return _responder_call(w, c, "/credits")


@probe("PUT", "/v1/responders/{responder_id}/device")
def _(w: World, c: Case) -> Call:
    return _responder_call(w, c, "/device", {"platform": "fcm", "token": f"fcm-{next(w.serial)}"})


@probe("POST", "/v1/aeds")
def _(w: World, c: Case) -> Call:
    return Call("/v1/aeds", {"lat": HERE[0], "lng": HERE[1], "name": "新 AED", "opening_hours": "24/7"})


@probe("PATCH", "/v1/aeds/{aed_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.owner(c, 'manager'))}", {"name": "改名 AED"})


@probe("GET", "/v1/aeds/{aed_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.other())}")


def _import_row(reply: Reply) -> Verdict | None:
    if reply.status != 200:
        return None
    outcome = reply.body["results"][0]["outcome"]
    return OK if outcome == "updated" else ROW_REFUSED if outcome == "rejected" else outcome


@probe("POST", "/v1/aeds/import")
def _(w: World, c: Case) -> Call:
    item = {"source_id": f"row-{next(w.serial)}", "lat": HERE[0], "lng": HERE[1], "opening_hours": "24/7"}
    first = {"source": "csv:probe", "items": [{**item, "name": "登记 AED"}]}
    w.ok("POST", "/v1/aeds/import", first, sub=w.owner(c, "manager"), roles=("aed_manager",))
    return Call(
        "/v1/aeds/import", {"source": "csv:probe", "items": [{**item, "name": "改名"}]}, verdict=_import_row
    )


@probe("GET", "/v1/aeds/coverage")
def _(w: World, c: Case) -> Call:
    box = "120.160,30.258,120.162,30.260"
    return Call("/v1/aeds/coverage", query={"bbox": box, "day": "We", "hour": 15, "grid_m": 100})


@probe("POST", "/v1/aeds/coverage")
def _(w: World, c: Case) -> Call:
    ring = [[120.160, 30.258], [120.162, 30.258], [120.162, 30.260], [120.160, 30.258]]
    return Call(
        "/v1/aeds/coverage", {"area": {"type": "Polygon", "coordinates": [ring]}, "day": "We", "hour": 15}
    )


@probe("POST", "/v1/aeds/{aed_id}/inspections")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.owner(c, 'manager'))}/inspections", {"checks": ALL_PASS})


@probe("GET", "/v1/aeds/{aed_id}/inspections")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.owner(c, 'manager'))}/inspections")


@probe("POST", "/v1/aeds/{aed_id}/reports")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.other())}/reports", {"kind": "locked"})


@probe("GET", "/v1/aeds/{aed_id}/reports")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/aeds/{w.aed(w.owner(c, 'manager'))}/reports")


@probe("POST", "/v1/aeds/{aed_id}/reports/{report_id}/resolution")
def _(w: World, c: Case) -> Call:
    aed_id = w.aed(w.owner(c, "manager"))
    report = w.ok("POST", f"/v1/aeds/{aed_id}/reports", {"kind": "locked"}, sub=w.other())
    return Call(f"/v1/aeds/{aed_id}/reports/{report['report_id']}/resolution", {"decision": "cleared"})


@probe("POST", "/v1/aeds/{aed_id}/restock")
def _(w: World, c: Case) -> Call:
    aed_id = w.aed(w.owner(c, "manager"), status="needs_restock")
    pads = (date.today() + timedelta(days=700)).isoformat()
    return Call(f"/v1/aeds/{aed_id}/restock", {"pads_replaced": True, "pads_expire_on": pads})


def _incident_call(w: World, c: Case, suffix: str, body: Any = None) -> Call:
    return Call(f"/v1/incidents/{w.incident(c)}{suffix}", body, missing=f"/v1/incidents/{new_id()}{suffix}")


@probe("GET", "/v1/incidents/{incident_id}")
def _(w: World, c: Case) -> Call:
    return _incident_call(w, c, "")


@probe("POST", "/v1/incidents/{incident_id}/responses")
def _(w: World, c: Case) -> Call:
    return _incident_call(w, c, "/responses", {"action": "accept"})


@probe("POST", "/v1/incidents/{incident_id}/events")
def _(w: World, c: Case) -> Call:
    return _incident_call(w, c, "/events", {"type": "arrived"})


@probe("POST", "/v1/incidents/{incident_id}/close")
def _(w: World, c: Case) -> Call:
    return _incident_call(w, c, "/close", {"outcome": "false_alarm"})


@probe("POST", "/v1/incidents/{incident_id}/aed-reports")
def _(w: World, c: Case) -> Call:
    call = _incident_call(w, c, "/aed-reports")
    call.body = {"aed_id": w.aed(w.other()), "kind": "locked"}
    return call


@probe("GET", "/v1/incidents")
def _(w: World, c: Case) -> Call:
    w.incident(c)
    return Call("/v1/incidents", query={"status": "open", "limit": 5})


@probe("POST", "/v1/incidents")
def _(w: World, c: Case) -> Call:
    body = {"lat": HERE[0], "lng": HERE[1] + next(w.serial) * 0.01, "caller_phone": "+8613800000000"}
    return Call("/v1/incidents", body, headers={"Idempotency-Key": f"console-{next(w.serial)}"})


_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.15, 30.25], [120.17, 30.25], [120.17, 30.27], [120.15, 30.27], [120.15, 30.25]]],
}


@probe("GET", "/v1/districts")
def _(w: World, c: Case) -> Call:
    return Call("/v1/districts")


@probe("PUT", "/v1/districts/{district_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/districts/d-{next(w.serial)}", {"name": "上城区", "area": _SQUARE})


@probe("GET", "/v1/cockpit/rescues")
def _(w: World, c: Case) -> Call:
    return Call("/v1/cockpit/rescues", query={"from": "2026-11-01", "to": "2026-11-30"})


@probe("GET", "/v1/cockpit/on-duty")
def _(w: World, c: Case) -> Call:
    return Call("/v1/cockpit/on-duty")


@probe("GET", "/v1/cockpit/training")
def _(w: World, c: Case) -> Call:
    return Call("/v1/cockpit/training", query={"from": "2026-11-01", "to": "2026-11-30"})


@probe("GET", "/v1/credits/leaderboard")
def _(w: World, c: Case) -> Call:
    return Call("/v1/credits/leaderboard", query={"period": "2026-11"})


@probe("PUT", "/v1/responders/{responder_id}/leaderboard")
def _(w: World, c: Case) -> Call:
    return _responder_call(w, c, "/leaderboard", {"opt_in": True})


@probe("POST", "/v1/credits/exports")
def _(w: World, c: Case) -> Call:
    return Call("/v1/credits/exports", {"period": "2026-01"})


@probe("GET", "/v1/credits/exports")
def _(w: World, c: Case) -> Call:
    return Call("/v1/credits/exports")


@probe("GET", "/v1/credits/exports/{export_id}")
def _(w: World, c: Case) -> Call:
    made = w.ok("POST", "/v1/credits/exports", {"period": "2026-01"}, **ADMIN)
    return Call(f"/v1/credits/exports/{made['export_id']}")


@probe("GET", "/v1/credits/nominations")
def _(w: World, c: Case) -> Call:
    return Call("/v1/credits/nominations", query={"year": "2026"})


@probe("POST", "/v1/aeds/coverage/week")
def _(w: World, c: Case) -> Call:
    return Call("/v1/aeds/coverage/week", {"area": _SQUARE, "grid_m": 500})


@probe("GET", "/v1/incidents/{incident_id}/timeline")
def _(w: World, c: Case) -> Call:
    return _incident_call(w, c, "/timeline")


@probe("PUT", "/v1/dispatch/centres/{centre_id}")
def _(w: World, c: Case) -> Call:
    body = {
        "name": "杭州市急救中心",
        "callback_url": "https://cad.example.cn/hooks",
        "area": [120.0, 30.1, 120.3, 30.4],
    }
    return Call(f"/v1/dispatch/centres/centre-{next(w.serial)}", body)


@probe("GET", "/v1/dispatch/centres/{centre_id}/deliveries")
def _(w: World, c: Case) -> Call:
    return Call("/v1/dispatch/centres/hz120/deliveries", query={"status": "failed"})


@probe("POST", "/v1/dispatch/centres/{centre_id}/deliveries/{delivery_id}/replay")
def _(w: World, c: Case) -> Call:
    from shared.dal.dispatch_deliveries import DynamoDeliveryLog
    from shared.logic.dispatch.outbound import Delivery

    now = datetime.now(UTC)
    incident_id = f"01INC{next(w.serial):021d}"
    parked = Delivery(
        "hz120",
        f"msg_{incident_id}.alerting.1",
        incident_id,
        "incident.alerting",
        "p",
        "{}",
        "failed",
        now,
        now,
        0,
    )
    DynamoDeliveryLog().add(parked)
    return Call(f"/v1/dispatch/centres/hz120/deliveries/{parked.webhook_id}/replay", {"reason": "probe"})


@probe("POST", "/v1/courses")
def _(w: World, c: Case) -> Call:
    return Call(
        "/v1/courses",
        {"title": "复训", "theory_modules": [{"module_id": "m1", "title": "CPR", "minutes": 30}]},
    )


@probe("GET", "/v1/courses/{course_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/courses/{w.course()}")


@probe("PUT", "/v1/courses/{course_id}/theory/{module_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/courses/{w.course()}/theory/m1", {"completed": True})


@probe("GET", "/v1/courses/{course_id}/theory")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/courses/{w.course()}/theory")


@probe("POST", "/v1/sessions")
def _(w: World, c: Case) -> Call:
    starts = datetime.now(UTC) + timedelta(days=3)
    body = {
        "course_id": w.course(),
        "site": "滨江培训点",
        "lat": HERE[0],
        "lng": HERE[1],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": 5,
        "instructor_id": c.sub,
    }
    return Call("/v1/sessions", body)


@probe("GET", "/v1/sessions")
def _(w: World, c: Case) -> Call:
    return Call("/v1/sessions")


@probe("GET", "/v1/sessions/{session_id}/attendance")
def _(w: World, c: Case) -> Call:
    session_id = w.session(w.owner(c, "instructor"))
    w.registration(session_id, w.other())
    return Call(f"/v1/sessions/{session_id}/attendance")


@probe("POST", "/v1/sessions/{session_id}/registrations")
def _(w: World, c: Case) -> Call:
    body = {"name": "学员", "phone": "+8613800000003", "responder_consent": False}
    return Call(f"/v1/sessions/{w.session(w.other())}/registrations", body)


def _registration_call(w: World, c: Case, suffix: str, body: Any = None, *, attended: bool = False) -> Call:
    session_id = w.session(w.owner(c, "instructor"))
    registration_id = w.registration(session_id, w.owner(c, "registrant"))
    if attended:
        assert wiring.teaching().check_in(registration_id, datetime.now(UTC))
    return Call(
        f"/v1/registrations/{registration_id}{suffix}", body, missing=f"/v1/registrations/{new_id()}{suffix}"
    )


@probe("GET", "/v1/registrations/{registration_id}")
def _(w: World, c: Case) -> Call:
    return _registration_call(w, c, "")


@probe("DELETE", "/v1/registrations/{registration_id}")
def _(w: World, c: Case) -> Call:
    return _registration_call(w, c, "")


@probe("POST", "/v1/registrations/{registration_id}/evaluation")
def _(w: World, c: Case) -> Call:
    return _registration_call(w, c, "/evaluation", {"rating": 5}, attended=True)


@probe("GET", "/v1/sessions/{session_id}/checkin-code")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/sessions/{w.session(w.owner(c, 'instructor'))}/checkin-code")


@probe("POST", "/v1/sessions/{session_id}/checkins")
def _(w: World, c: Case) -> Call:
    course_id = w.course()
    session_id = w.session(w.other(), course_id=course_id, starts_in_h=-0.5)
    trainee = w.owner(c, "registrant")
    w.registration(session_id, trainee)
    w.ok("PUT", f"/v1/courses/{course_id}/theory/m1", {"completed": True}, sub=trainee)
    code = sign(wiring.checkin_secret(), session_id, window_of(datetime.now(UTC)))
    return Call(f"/v1/sessions/{session_id}/checkins", {"code": code})


@probe("PUT", "/v1/examiners/{examiner_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/examiners/{w.other()}", {"name": "考官"})


@probe("DELETE", "/v1/examiners/{examiner_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/examiners/{w.examiner(w.other())}")


@probe("GET", "/v1/examiners")
def _(w: World, c: Case) -> Call:
    return Call("/v1/examiners")


@probe("POST", "/v1/exams")
def _(w: World, c: Case) -> Call:
    body = {
        "course_id": w.teaching.course_id,
        "site": "湖滨考点",
        "starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "candidate_ids": [w.candidate()],
        "examiner_id": w.examiner(w.other()),
    }
    return Call("/v1/exams", body)


def _exam(w: World, c: Case) -> tuple[str, str]:
    candidate = w.candidate()
    return w.exam(w.owner(c, "author"), w.owner(c, "examiner"), candidate), candidate


@probe("GET", "/v1/exams/{exam_id}")
def _(w: World, c: Case) -> Call:
    exam_id, _ = _exam(w, c)
    return Call(f"/v1/exams/{exam_id}", missing=f"/v1/exams/{new_id()}")


@probe("POST", "/v1/exams/{exam_id}/scores")
def _(w: World, c: Case) -> Call:
    exam_id, candidate = _exam(w, c)
    body = {"candidate_id": candidate, "skills": PASSING}
    return Call(f"/v1/exams/{exam_id}/scores", body, missing=f"/v1/exams/{new_id()}/scores")


@probe("GET", "/v1/training/quality")
def _(w: World, c: Case) -> Call:
    return Call("/v1/training/quality", query={"by": "instructor"})


@probe("POST", "/v1/certificates/{certificate_no}/revoke")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/certificates/{w.certificate(w.other())}/revoke", {"reason": "考试作弊"})


@probe("GET", "/v1/certificates/{certificate_no}/document")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/certificates/{w.certificate(w.owner(c, 'holder'))}/document")


DEBRIEF = {"did": ["cpr"], "ies6": [1, 0, 2, 1, 0, 1], "call_me": True}


def _closed_incident(w: World, c: Case) -> str:
    """As World.incident, then closed (a debrief opens at the close)."""
    incident_id = w.incident(c)
    assert wiring.incidents().close(incident_id, "rosc", datetime.now(UTC)) is not None
    return incident_id


def _debrief_call(w: World, c: Case, body: Any = None) -> Call:
    incident_id = _closed_incident(w, c)
    return Call(f"/v1/incidents/{incident_id}/debrief", body, missing=f"/v1/incidents/{new_id()}/debrief")


@probe("PUT", "/v1/incidents/{incident_id}/debrief")
def _(w: World, c: Case) -> Call:
    return _debrief_call(w, c, DEBRIEF)


@probe("GET", "/v1/incidents/{incident_id}/debrief")
def _(w: World, c: Case) -> Call:
    return _debrief_call(w, c)


@probe("GET", "/v1/debriefs")
def _(w: World, c: Case) -> Call:
    return Call("/v1/debriefs", query={"needs_call": "true", "limit": 5})


@probe("POST", "/v1/debriefs/{incident_id}/{responder_id}/call-done")
def _(w: World, c: Case) -> Call:
    asker = w.other()
    incident_id = _closed_incident(w, Case(None, "accepted", asker))
    w.ok("PUT", f"/v1/incidents/{incident_id}/debrief", DEBRIEF, sub=asker)
    return Call(f"/v1/debriefs/{incident_id}/{asker}/call-done", {})


def _team(w: World) -> tuple[str, str, str]:
    """A team made by an admin: its id, its leader and a member (responders the platform made)."""
    leader, member = w.responder(), w.responder()
    body = {
        "kind": "team",
        "name": "西湖区救护队",
        "organisation": "杭州市红十字会",
        "leader_id": leader,
        "member_ids": [member],
        "opening_hours": "24/7",
        "lat": HERE[0],
        "lng": HERE[1],
        "radius_m": 1000.0,
    }
    return str(w.ok("POST", "/v1/teams", body, **ADMIN)["team_id"]), leader, member


def _team_call(w: World, c: Case, suffix: str = "", body: Any = None) -> Call:
    team_id, leader, member = _team(w)
    return Call(
        f"/v1/teams/{team_id}{suffix}",
        body,
        sub={"leader": leader, "member": member}.get(c.relation or ""),
        missing=f"/v1/teams/{new_id()}{suffix}",
    )


@probe("POST", "/v1/teams")
def _(w: World, c: Case) -> Call:
    leader = w.responder()
    body = {"kind": "team", "name": "队", "organisation": "红会", "leader_id": leader,
            "opening_hours": "24/7", "lat": HERE[0], "lng": HERE[1], "radius_m": 500.0}  # fmt: skip
    return Call("/v1/teams", body)


@probe("GET", "/v1/teams")
def _(w: World, c: Case) -> Call:
    return Call("/v1/teams", query={"kind": "team", "limit": 5})


@probe("GET", "/v1/teams/{team_id}")
def _(w: World, c: Case) -> Call:
    return _team_call(w, c)


@probe("PATCH", "/v1/teams/{team_id}")
def _(w: World, c: Case) -> Call:
    return _team_call(w, c, body={"opening_hours": "Mo-Su 08:00-20:00"})


@probe("DELETE", "/v1/teams/{team_id}")
def _(w: World, c: Case) -> Call:
    return Call(f"/v1/teams/{_team(w)[0]}")


@probe("GET", "/v1/teams/{team_id}/responses")
def _(w: World, c: Case) -> Call:
    return _team_call(w, c, "/responses")


# --- the tests -------------------------------------------------------------------------------------


def test_every_route_with_roles_has_a_rule_and_a_probe() -> None:
    routes = {(r.method, r.path) for r in WITH_ROLES}
    assert set(RULES) == routes, "declare who may call each route in RULES"
    assert set(PROBES) == routes, "give each route a probe that builds its record"
    for route in WITH_ROLES:
        rule = RULES[(route.method, route.path)]
        assert rule.gate == route.roles, f"{route.method} {route.path}: the route table's roles moved"
    size = {route: sum(1 for _ in cases(route)) for route in WITH_ROLES}
    owned = sum(1 for r in WITH_ROLES if RULES[(r.method, r.path)].relations)
    print(
        f"\nscoped roles: {len(WITH_ROLES)} routes with roles ({owned} acting on an owned record) x "
        f"{len(CALLERS)} callers ({len(ROLES)} roles + the public) x owner/not owner = "
        f"{sum(size.values())} cases"
    )


@pytest.mark.parametrize("route", WITH_ROLES, ids=lambda r: f"{r.method} {r.path}")
def test_who_may_act_on_what(api: Api, route: Route) -> None:
    rule = RULES[(route.method, route.path)]
    world = World(api)
    wrong: list[str] = []
    for case in cases(route):
        call = PROBES[(route.method, route.path)](world, case)
        who = {"sub": call.sub or case.sub, "roles": (case.role,) if case.role else ()}
        reply = api(route.method, call.path, call.body, query=call.query, headers=call.headers, **who)
        got = call.verdict(reply) if call.verdict else None
        if got is None:
            got = OK if reply.status == rule.ok else reply.status
        want = expected(rule, case.role, case.relation)
        if got != want:
            wrong.append(f"{case.label}: expected {want}, got {reply.status} {reply.body}")
        elif want == 404 and rule.private:
            assert call.missing, f"{route.method} {route.path}: a private record's probe names a missing one"
            missing = api(
                route.method, call.missing, call.body, query=call.query, headers=call.headers, **who
            )
            if (missing.status, missing.body) != (reply.status, reply.body):
                wrong.append(f"{case.label}: hidden {reply.body} but missing {missing.status} {missing.body}")
    assert not wrong, f"{route.method} {route.path}:\n  " + "\n  ".join(wrong)
