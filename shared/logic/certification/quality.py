"""The training quality report a Red Cross supervisor reads: per instructor or per training site, over the
practical sessions that started in a period, how many registered, came, were examined, passed, and how
they rated the course.

Definitions (per session, summed per row):
- registered: confirmed registrations (waitlisted and cancelled ones are not seats taken);
- attended: those checked in; attendance_rate = attended / registered;
- examined: attended trainees with a score for the session's course in any sitting since the period
  began (an exam follows the session, possibly after the period's end); passed: those with a passing
  score among them; pass_rate = passed / examined. Per instructor this is "of the candidates they
  taught who were examined, how many passed";
- ratings: the session's course evaluations; average_rating their mean (1..5).
Rates and the average are null when their denominator is zero, never a misleading 0.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from shared.logic.certification.ports import ExamStore
from shared.logic.teaching.records import Registration, Session, TrainingRecords

GROUPINGS = ("instructor", "site")
READ_WORKERS = 16


@dataclass(frozen=True)
class QualityRow:
    key: str
    sessions: int
    registered: int
    attended: int
    attendance_rate: float | None
    examined: int
    passed: int
    pass_rate: float | None
    ratings: int
    average_rating: float | None


@dataclass
class _Tally:
    sessions: int = 0
    registered: int = 0
    attended: int = 0
    examined: int = 0
    passed: int = 0
    ratings: int = 0
    rating_sum: int = 0


def _rate(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def quality_report(
    records: TrainingRecords, exams: ExamStore, *, by: str, start: datetime, end: datetime
) -> list[QualityRow]:
    """Rows sorted by key, for sessions starting in [start, end)."""
    if by not in GROUPINGS:
        raise ValueError(f"by: one of {GROUPINGS}")
    sessions = [s for s in records.sessions_between(start, end) if start <= s.starts_at < end]

    def outcome_of(course_id: str) -> dict[str, bool]:
        """Candidate -> passed in some sitting of the course since the period began."""
        passed: dict[str, bool] = defaultdict(bool)
        for score in exams.scores_of_course(course_id, since=start):
            passed[score.candidate_id] = passed[score.candidate_id] or score.passed
        return dict(passed)

    def session_records(session: Session) -> tuple[list[Registration], list[int]]:
        ratings = [e.rating for e in records.evaluations_of_session(session.session_id)]
        return records.registrations_of_session(session.session_id), ratings

    # A year of Hangzhou's sessions is over a thousand, each a few reads: they run side by side.
    courses = sorted({s.course_id for s in sessions})
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        outcomes = dict(zip(courses, pool.map(outcome_of, courses), strict=True))
        per_session = list(pool.map(session_records, sessions))

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for session, (registrations, ratings) in zip(sessions, per_session, strict=True):
        tally = tallies[_key(session, by)]
        tally.sessions += 1
        confirmed = [r for r in registrations if r.status == "confirmed"]
        attended = {r.person_id for r in confirmed if r.checked_in_at is not None}
        results = outcomes[session.course_id]
        examined = [p for p in attended if p in results]
        tally.registered += len(confirmed)
        tally.attended += len(attended)
        tally.examined += len(examined)
        tally.passed += sum(1 for p in examined if results[p])
        tally.ratings += len(ratings)
        tally.rating_sum += sum(ratings)
    return [
        QualityRow(
            key=key,
            sessions=t.sessions,
            registered=t.registered,
            attended=t.attended,
            attendance_rate=_rate(t.attended, t.registered),
            examined=t.examined,
            passed=t.passed,
            pass_rate=_rate(t.passed, t.examined),
            ratings=t.ratings,
            average_rating=_rate(t.rating_sum, t.ratings, 2),
        )
        for key, t in sorted(tallies.items())
    ]


def _key(session: Session, by: str) -> str:
    return session.instructor_id if by == "instructor" else session.site
