"""From a training course to a rescue, end to end: register → theory → check in with the instructor's
live code → exam by an independent examiner → score → certificate → evaluation → certificate document →
on duty → an SOS nearby alerts the new responder.

The same story runs twice: at the integration level (the real handlers and route table in-process, as
API Gateway would call them: always run) and over HTTP against `python -m local_runtime` (marked e2e).
Each step prints one line; `pytest -s` shows the narration.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
import requests

from tests.integration.rescue_helpers import until

Who = tuple[str, tuple[str, ...]] | None
SKILLS = {"cpr": 91, "aed": 87, "bleeding_control": 78, "bandaging": 72, "fixation": 69, "carrying": 65}


class Client(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: Who = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, Any]: ...

    def alerts(self, responder_id: str) -> list[dict[str, Any]]: ...


def story(call: Client, *, site: tuple[float, float], say: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole path; asserts each step and returns what the tests check at the end."""
    run = uuid.uuid4().hex[:6]
    trainer: Who = (f"trainer-{run}", ("trainer",))
    admin: Who = (f"admin-{run}", ("admin",))
    instructor_id, independent_id, trainee_id = f"wang-{run}", f"zhao-{run}", f"li-{run}"
    instructor: Who = (instructor_id, ("trainer", "examiner"))
    examiner: Who = (independent_id, ("examiner",))
    trainee: Who = (trainee_id, ())
    now = datetime.now(UTC)

    def ok(status: int, body: Any, expected: int = 200) -> Any:
        assert status == expected, body
        return body

    say("— Training to rescue —")
    course = ok(
        *call(
            "POST",
            "/v1/courses",
            {
                "title": "红十字救护员培训",
                "theory_modules": [
                    {"module_id": "cpr", "title": "心肺复苏", "minutes": 45},
                    {"module_id": "aed", "title": "AED 使用", "minutes": 30},
                ],
                "practical_hours": 4,
            },
            who=trainer,
        ),
        201,
    )
    course_id = course["course_id"]
    session = ok(
        *call(
            "POST",
            "/v1/sessions",
            {
                "course_id": course_id,
                "site": "湖滨培训点",
                "lat": site[0],
                "lng": site[1],
                "starts_at": (now - timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(hours=3)).isoformat(),
                "capacity": 30,
                "instructor_id": instructor_id,
            },
            who=trainer,
        ),
        201,
    )
    session_id = session["session_id"]
    say(f" 1. course {course_id} published; practical session {session_id} taught by {instructor_id}")

    registration = ok(
        *call(
            "POST",
            f"/v1/sessions/{session_id}/registrations",
            {"name": "李四明", "phone": "+8613912345678", "responder_consent": True},
            who=trainee,
        ),
        201,
    )
    assert registration["status"] == "confirmed"
    registration_id = registration["registration_id"]
    say(f" 2. {trainee_id} registers (consents to be alerted): {registration['status']}, {registration_id}")

    for module in ("cpr", "aed"):
        ok(*call("PUT", f"/v1/courses/{course_id}/theory/{module}", {"completed": True}, who=trainee))
    theory = ok(*call("GET", f"/v1/courses/{course_id}/theory", who=trainee))
    assert theory["complete"] is True
    say(" 3. theory online: modules cpr and aed done, complete")

    code = ok(*call("GET", f"/v1/sessions/{session_id}/checkin-code", who=instructor))
    checked = ok(*call("POST", f"/v1/sessions/{session_id}/checkins", {"code": code["code"]}, who=trainee))
    say(
        f" 4. instructor's screen shows code {code['code']} (QR, until {code['expires_at']}); "
        f"{trainee_id} scans it: checked in at {checked['checked_in_at']}"
    )

    for who_id, name in ((instructor_id, "王老师"), (independent_id, "赵考官")):
        ok(*call("PUT", f"/v1/examiners/{who_id}", {"name": name}, who=admin))
    exam_body = {
        "course_id": course_id,
        "site": "湖滨考点",
        "starts_at": now.isoformat(),
        "candidate_ids": [trainee_id],
    }
    status, refused = call("POST", "/v1/exams", {**exam_body, "examiner_id": instructor_id}, who=trainer)
    assert status == 409 and refused["error"]["code"] == "examiner_taught_candidate"
    exam = ok(*call("POST", "/v1/exams", exam_body, who=trainer), 201)
    assert exam["examiner_id"] == independent_id
    say(
        f" 5. examiner pool {{{instructor_id}, {independent_id}}}: asking for {instructor_id} is refused "
        f"(409 examiner_taught_candidate); the system assigns {independent_id} to exam {exam['exam_id']}"
    )

    scored = ok(
        *call(
            "POST",
            f"/v1/exams/{exam['exam_id']}/scores",
            {"candidate_id": trainee_id, "skills": SKILLS},
            who=examiner,
        ),
        201,
    )
    assert scored["passed"] is True and scored["responder"] == "created"
    number = scored["certificate_no"]
    say(
        f" 6. scored {SKILLS}: passed; certificate {number} valid until {scored['valid_until']}; "
        f"responder record {scored['responder']}"
    )

    public = ok(*call("GET", f"/v1/certificates/{number}"))
    assert public["holder"] == "李*明" and public["status"] == "valid"
    say(
        f" 7. anyone verifies {number}: holder {public['holder']}, {public['status']} "
        f"through {public['valid_until']}"
    )

    status, early = call("GET", f"/v1/certificates/{number}/document", who=trainee)
    assert status == 409 and early["error"]["code"] == "evaluation_required"
    ok(
        *call(
            "POST",
            f"/v1/registrations/{registration_id}/evaluation",
            {"rating": 5, "comment": "很实用"},
            who=trainee,
        ),
        201,
    )
    document = ok(*call("GET", f"/v1/certificates/{number}/document", who=trainee))
    assert document["qr_svg"].startswith("<svg") and document["verify_url"].endswith(
        f"/v1/certificates/{number}"
    )
    say(
        f" 8. document before rating: 409 evaluation_required; rated 5/5; document with QR of "
        f"{document['verify_url']} ({len(document['qr_svg'])} bytes of SVG)"
    )

    spot = (site[0] + 30 / 111_195.0, site[1])  # 30 m north of the patient-to-be
    presence = ok(
        *call(
            "PUT",
            f"/v1/responders/{trainee_id}/presence",
            {"lat": spot[0], "lng": spot[1], "available": True},
            who=(trainee_id, ("responder",)),
        )
    )
    say(f" 9. {trainee_id} goes on duty 30 m away (presence until {presence['expires_at']})")

    sos = ok(*call("POST", "/v1/sos", {"lat": site[0], "lng": site[1], "note": "倒地 e2e"}), 202)
    incident_id = sos["incident_id"]
    alert = until(
        lambda: next((a for a in call.alerts(trainee_id) if a.get("incident_id") == incident_id), None),
        deadline_s=30,
        what="the alert to the new responder",
    )
    say(
        f"10. SOS {incident_id} at the training site → {alert['channel']} alert to {trainee_id}: "
        f"{alert['message']!r}"
    )
    return {"incident_id": incident_id, "responder_id": trainee_id, "certificate_no": number}


# --- integration level: the real handlers in-process ----------------------------------------------


class InProcess:
    def __init__(self, api: Any) -> None:
        self.api = api

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: Who = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        sub, roles = who if who else (None, ())
        reply = self.api(method, path, body, sub=sub, roles=roles, query=query)
        return reply.status, reply.body

    def alerts(self, responder_id: str) -> list[dict[str, Any]]:
        from local_runtime import outbox

        return [a for a in outbox.read(responder_id) if a.get("kind") == "alert"]


def test_training_to_rescue_in_process(api):
    result = story(InProcess(api), site=(30.2590, 120.1605))
    status, incident = InProcess(api)(
        "GET", f"/v1/incidents/{result['incident_id']}", who=("dispatcher-1", ("dispatcher",))
    )
    assert status == 200
    assert [a["responder_id"] for a in incident["alerts"]] == [result["responder_id"]]


# --- over HTTP: python -m local_runtime ------------------------------------------------------------


class OverHttp:
    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[tuple[str, tuple[str, ...]], str] = {}

    def _token(self, who: tuple[str, tuple[str, ...]]) -> str:
        if who not in self.tokens:
            reply = requests.post(
                f"{self.url}/dev/token", json={"sub": who[0], "roles": list(who[1])}, timeout=10
            )
            self.tokens[who] = reply.json()["token"]
        return self.tokens[who]

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: Who = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self._token(who)}"} if who else {}
        reply = requests.request(
            method, f"{self.url}{path}", json=body, params=query, headers=headers, timeout=30
        )
        return reply.status_code, reply.json() if reply.content else None

    def alerts(self, responder_id: str) -> list[dict[str, Any]]:
        items = requests.get(f"{self.url}/dev/outbox", params={"to": responder_id}, timeout=10).json()[
            "items"
        ]
        return [a for a in items if a.get("kind") == "alert"]


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    from tests.e2e.test_local_runtime import Platform

    running = Platform()
    yield running
    if running.process.poll() is None:
        running.process.kill()


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_training_to_rescue_over_http(platform):
    started = time.monotonic()
    # Away from the seeded city, so the new responder is the one nearest the SOS.
    result = story(OverHttp(platform.url), site=(29.9000, 119.5000))
    print(f"    ({time.monotonic() - started:.1f} s over HTTP, incident {result['incident_id']})")
