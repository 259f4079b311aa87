"""The training funnel's stage rules: each stage a subset of the one before, by person."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.logic.certification.ports import Certificate, Score
from shared.logic.cockpit.training import (
    SessionRecords,
    expiring_counts,
    instructor_figures,
    passes,
    session_figures,
    stages,
)
from shared.logic.ports import Responder
from shared.logic.teaching.records import Evaluation, Registration, Session

NOW = datetime(2026, 12, 2, 7, tzinfo=UTC)  # 15:00 in Hangzhou
TZ = "Asia/Shanghai"
STARTS = NOW - timedelta(days=3)


def session(session_id: str = "s1", course: str = "c1", instructor: str = "wang") -> Session:
    return Session(
        session_id, course, "site", 30.0, 120.0, STARTS, STARTS + timedelta(hours=4), 30, instructor, NOW
    )


def reg(person: str, status: str = "confirmed", checked_in: bool = True, s: str = "s1") -> Registration:
    return Registration(
        f"r-{person}-{s}", s, "c1", person, person, "+8613800000000", True, status, NOW,
        checked_in_at=STARTS if checked_in and status == "confirmed" else None,
    )  # fmt: skip


def passed(person: str, at: datetime, number: str | None, course: str = "c1", ok: bool = True) -> Score:
    return Score(f"e-{person}", person, course, "ex", {}, ok, [], at, number)


def cert(number: str, valid_until: date, revoked: bool = False) -> Certificate:
    return Certificate(
        number, "h", "n", "+86", "c1", "t", "e", date(2026, 1, 1), valid_until, NOW,
        revoked_at=NOW if revoked else None,
    )  # fmt: skip


def on_duty(person: str, available: bool = True) -> Responder:
    return Responder(
        person, person, "+86", "RN", date(2029, 1, 1), NOW, available=available,
        presence_expires_at=NOW + timedelta(minutes=10),
    )  # fmt: skip


def test_each_stage_is_a_subset_of_the_one_before():
    records = [
        SessionRecords(
            session(),
            [
                reg("a"),
                reg("b"),
                reg("c"),
                reg("d"),
                reg("e", checked_in=False),
                reg("w", status="waitlisted"),
                reg("x", status="cancelled"),
            ],
            [],
        )
    ]
    scores = [
        passed("a", STARTS + timedelta(days=1), "N-a"),
        passed("b", STARTS + timedelta(days=1), "N-b"),
        passed("c", STARTS + timedelta(days=1), "N-c"),
        passed("d", STARTS - timedelta(days=1), "N-d"),  # before the session: not from it
        passed("e", STARTS + timedelta(days=1), "N-e"),  # never attended
        passed("b", STARTS + timedelta(days=1), None, course="c2"),  # another course
        passed("c", STARTS + timedelta(days=2), None, ok=False),
    ]
    found = passes(records, scores)
    assert sorted(found) == ["a", "b", "c"]  # d passed before the session, e never attended
    certificates = {
        "N-a": cert("N-a", date(2029, 1, 1)),
        "N-b": cert("N-b", date(2029, 1, 1)),
        "N-c": cert("N-c", date(2029, 1, 1), revoked=True),
    }
    responders = {"a": on_duty("a"), "b": on_duty("b", available=False), "c": on_duty("c")}
    people = stages(records, found, certificates, responders, now=NOW, time_zone=TZ)
    assert people.registered == {"a", "b", "c", "d", "e", "w"}
    assert people.attended == {"a", "b", "c", "d"}
    assert people.passed == {"a", "b", "c"}
    assert people.certified == {"a", "b"}
    assert people.on_duty == {"a"}
    assert people.funnel().__dict__ == {
        "registered": 6,
        "attended": 4,
        "passed": 3,
        "certified": 2,
        "on_duty": 1,
    }


def test_an_expired_certificate_or_lapsed_presence_ends_the_funnel_there():
    records = [SessionRecords(session(), [reg("a"), reg("b")], [])]
    found = passes(records, [passed("a", NOW, "N-a"), passed("b", NOW, "N-b")])
    certificates = {"N-a": cert("N-a", date(2026, 12, 1)), "N-b": cert("N-b", date(2026, 12, 2))}
    lapsed = Responder("b", "b", "+86", "RN", date(2029, 1, 1), NOW, available=True, presence_expires_at=NOW)
    people = stages(records, found, certificates, {"b": lapsed}, now=NOW, time_zone=TZ)
    assert people.certified == {"b"}  # a's last valid day was yesterday; b's is today
    assert people.on_duty == set()


def test_sessions_and_instructors_average_their_ratings_or_say_null():
    rated = SessionRecords(
        session("s1"),
        [reg("a"), reg("b", status="waitlisted"), reg("c", status="cancelled")],
        [Evaluation("r1", "s1", "c1", "a", 5, NOW), Evaluation("r2", "s1", "c1", "b", 4, NOW)],
    )
    unrated = SessionRecords(session("s2", instructor="li"), [], [])
    row = session_figures(rated, "救护员")
    assert (row.registered, row.confirmed, row.waitlisted, row.attended) == (2, 1, 1, 1)
    assert (row.rating_avg, row.ratings, row.title) == (4.5, 2, "救护员")
    assert session_figures(unrated, None).rating_avg is None
    assert [
        (i.trainer_id, i.sessions, i.rating_avg, i.ratings) for i in instructor_figures([rated, unrated])
    ] == [
        ("li", 1, None, 0),
        ("wang", 1, 4.5, 2),
    ]


def test_expiry_windows_are_30_and_60_days_from_today_inclusive():
    today = date(2026, 12, 2)
    certs = [
        cert("1", today),
        cert("2", today + timedelta(days=29)),
        cert("3", today + timedelta(days=30)),
        cert("4", today + timedelta(days=59)),
        cert("5", today + timedelta(days=60)),
        cert("6", today - timedelta(days=1)),
        cert("7", today + timedelta(days=3), revoked=True),
    ]
    assert expiring_counts(certs, today) == {30: 2, 60: 4}


def test_a_period_outside_the_years_any_record_can_have_is_refused_not_a_server_error():
    import pytest

    from shared.errors import ValidationFailed
    from shared.logic.cockpit.training import period

    with pytest.raises(ValidationFailed, match="from, to"):
        period(date(1, 1, 1), date(1, 12, 31))  # found by the fuzzer: a 500 (OverflowError in UTC)
    with pytest.raises(ValidationFailed, match="from, to"):
        period(date(9999, 1, 1), date(9999, 12, 31))
    assert period(date(2026, 1, 1), date(2026, 12, 31)) == (date(2026, 1, 1), date(2026, 12, 31))
