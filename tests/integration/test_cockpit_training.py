"""The cockpit's training figures through the real handlers on the embedded AWS: a built cohort of 5
registered, 4 attended, 3 passed, 2 certified (one certificate revoked) and 1 on duty comes back as
exactly that; sessions and instructors with their ratings; certificates expiring in 30 and 60 days
counted from a frozen today; the period's bounds and the roles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from shared.dal.certification import DynamoExams
from shared.logic.certification.ports import Certificate, Score
from tests.integration.certification_helpers import ADMIN, PASSING, Teaching, examiner, score, sitting

TZ = ZoneInfo("Asia/Shanghai")
# Wednesday 2 December 2026, 15:00 in Hangzhou (the clock is frozen there, ticking)
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=TZ)
TODAY = NOW.date()
COCKPIT = {"sub": "cockpit-1", "roles": ("dispatcher",)}
FAILING = {**PASSING, "cpr": 40}


def figures(api, first: date, last: date, **caller):
    reply = api(
        "GET",
        "/v1/cockpit/training",
        query={"from": first.isoformat(), "to": last.isoformat()},
        **(caller or COCKPIT),
    )
    assert reply.status == 200, reply.body
    return reply.body


def test_the_funnel_counts_the_cohort_as_built(api):
    with time_machine.travel(NOW, tick=True):
        teaching = Teaching()
        session = teaching.session("wang", starts_in_h=-3)
        people = [teaching.trainee(f"p{i}", session, attend=i <= 4, name=f"学员{i}号") for i in range(1, 6)]
        # Not in the funnel: a cancelled seat, and a session long before the period (taught by li).
        cancelled = teaching.trainee("p6", session, attend=False)
        assert teaching.store.cancel(cancelled, None, datetime.now(UTC))
        teaching.trainee("p7", teaching.session("li", starts_in_h=-24 * 40))
        teaching.evaluate(people[0], 5)
        teaching.evaluate(people[1], 4)

        examiner(api, "ex-zhao")
        exam = sitting(api, teaching.course_id, ["p1", "p2", "p3", "p4"])
        assert exam.status == 201, exam.body
        exam_id, examiner_id = exam.body["exam_id"], exam.body["examiner_id"]
        numbers = {}
        for person in ("p1", "p2", "p3"):
            scored = score(api, exam_id, examiner_id, person)
            assert scored.status == 201 and scored.body["passed"], scored.body
            numbers[person] = scored.body["certificate_no"]
        assert not score(api, exam_id, examiner_id, "p4", FAILING).body["passed"]
        revoked = api("POST", f"/v1/certificates/{numbers['p3']}/revoke", {"reason": "考试作弊"}, **ADMIN)
        assert revoked.status == 200, revoked.body
        on_duty = api(
            "PUT", "/v1/responders/p1/presence", {"lat": 30.259, "lng": 120.165, "available": True}, sub="p1"
        )
        assert on_duty.status == 200 and on_duty.body["available"], on_duty.body

        body = figures(api, TODAY - timedelta(days=6), TODAY)
        assert body["from"] == (TODAY - timedelta(days=6)).isoformat() and body["to"] == TODAY.isoformat()
        assert body["funnel"] == {"registered": 5, "attended": 4, "passed": 3, "certified": 2, "on_duty": 1}
        [row] = body["sessions"]
        assert row["session_id"] == session and row["trainer_id"] == "wang" and row["capacity"] == 30
        assert row["course_id"] == teaching.course_id and row["title"].startswith("救护员培训")
        assert (row["registered"], row["attended"], row["ratings"], row["rating_avg"]) == (5, 4, 2, 4.5)
        assert body["instructors"] == [{"trainer_id": "wang", "sessions": 1, "rating_avg": 4.5, "ratings": 2}]

        # p1 goes off duty: the last stage empties at once; a period with li's old session counts p7.
        api(
            "PUT", "/v1/responders/p1/presence", {"lat": 30.259, "lng": 120.165, "available": False}, sub="p1"
        )
        assert figures(api, TODAY - timedelta(days=6), TODAY)["funnel"]["on_duty"] == 0
        wide = figures(api, TODAY - timedelta(days=60), TODAY)
        assert wide["funnel"]["registered"] == 6 and wide["funnel"]["attended"] == 5
        assert [i["trainer_id"] for i in wide["instructors"]] == ["li", "wang"]
        # A period without sessions: zeros and nulls, never a misleading average.
        empty = figures(api, TODAY + timedelta(days=1), TODAY + timedelta(days=2))
        assert empty["funnel"] == {"registered": 0, "attended": 0, "passed": 0, "certified": 0, "on_duty": 0}
        assert empty["sessions"] == [] and empty["instructors"] == []


def _certificate(exams: DynamoExams, n: int, valid_until: date, revoked: bool = False) -> None:
    number = f"RN-2024-{n:06d}"
    at = datetime(2024, 1, 2, 3, tzinfo=UTC)
    exams.record(
        Score(f"exam-{n}", f"holder-{n}", "course-x", "ex-1", {"cpr": 90}, True, [], at, number),
        Certificate(
            number,
            f"holder-{n}",
            "张三",
            "+8613800000000",
            "course-x",
            "救护员",
            f"exam-{n}",
            date(2024, 1, 2),
            valid_until,
            at,
            revoked_at=at if revoked else None,
        ),
    )


def test_certificates_expiring_are_counted_from_today_in_30_and_60_days(api):
    exams = DynamoExams()
    for n, days, revoked in (
        (1, 0, False),  # its last valid day is today: within both
        (2, 29, False),  # within 30 (today + 29 is the 30th day)
        (3, 30, False),  # the 31st day: within 60 only
        (4, 59, False),  # within 60
        (5, 60, False),  # beyond
        (6, -1, False),  # expired yesterday
        (7, 10, True),  # revoked: no longer held
    ):
        _certificate(exams, n, TODAY + timedelta(days=days), revoked)
    with time_machine.travel(NOW, tick=True):
        body = figures(api, TODAY, TODAY)
        assert body["certificates_expiring"] == {"within_30_days": 2, "within_60_days": 4}
    # 31 days later: #4 and #5 (28 and 29 days ahead) are within 30 days, nothing else is ahead.
    with time_machine.travel(NOW + timedelta(days=31), tick=True):
        assert figures(api, TODAY, TODAY)["certificates_expiring"] == {
            "within_30_days": 2,
            "within_60_days": 2,
        }


def test_the_period_is_bounded_and_the_figures_are_for_the_cockpits_roles(api):
    query = {"from": "2026-01-01", "to": "2026-12-31"}
    assert api("GET", "/v1/cockpit/training", query=query).status == 401
    assert api("GET", "/v1/cockpit/training", query=query, sub="r1", roles=("responder",)).status == 403
    assert api("GET", "/v1/cockpit/training", query=query, sub="e1", roles=("examiner",)).status == 403
    for roles in (("admin",), ("dispatcher",), ("trainer",)):
        assert api("GET", "/v1/cockpit/training", query=query, sub="c1", roles=roles).status == 200
    for bad in (
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        {"from": "2026-02-01", "to": "2026-01-31"},
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"to": "2026-03-01"},
    ):
        reply = api("GET", "/v1/cockpit/training", query=bad, **COCKPIT)
        assert reply.status == 422 and reply.body["error"]["code"], (bad, reply.body)
    assert (
        api("GET", "/v1/cockpit/training", query={"from": "2025-01-01", "to": "2026-01-01"}, **COCKPIT).status
        == 200
    )
