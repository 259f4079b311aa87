"""The Red Cross cockpit's training figures (issue 13 item 3): the funnel from registration to duty,
certificates about to expire, the period's sessions and its instructors' ratings.

The funnel counts people (distinct person ids, a person's sub being their responder id), over the
practical sessions that start in the period (local days, inclusive). Each stage is a subset of the one
before:

- registered: people with a registration that is not cancelled (confirmed, or still on the waitlist) in
  such a session;
- attended: of those, people checked in at one of those sessions (only a confirmed seat checks in);
- passed: of those, people with a passing exam score for the course of a session they attended, scored
  at or after that session's start (exams follow the session, maybe after the period: up to now);
- certified: of those, people holding the certificate that pass issued: not revoked, still valid today;
- on_duty: of those, people on duty now (available, presence not lapsed, certificate valid:
  shared.logic.responders.is_available, the very rule that makes them alertable).

Per session: ``registered`` its live registrations (confirmed + waitlisted; ``confirmed`` and
``waitlisted`` apart), ``attended`` its check-ins, its course evaluations' mean (null when none).
Per instructor: the sessions they taught in the period and their sessions' evaluations together.

Certificates expiring: not revoked, last valid day in [today, today + 29] (``within_30_days``) and in
[today, today + 59] (``within_60_days``, which includes the former), today in the deployment's zone.

Every read is bounded by the period: sessions by month, registrations and evaluations by session, scores
by course since the period began, certificates by their expiry months, responders by key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.errors import ValidationFailed
from shared.logic.certification.certificates import valid_until
from shared.logic.certification.ports import Certificate, CertificateStore, ExamStore, Score
from shared.logic.ports import Responder
from shared.logic.responders import is_available
from shared.logic.teaching.records import Evaluation, Registration, Session, TrainingRecords

MAX_DAYS = 366
EXPIRY_WINDOWS = (30, 60)
READ_WORKERS = 16
LIVE = ("confirmed", "waitlisted")


class DutyRoster(Protocol):
    def responders(self, responder_ids: list[str]) -> dict[str, Responder]:
        """Those of ``responder_ids`` who are responders, by key (BatchGetItem), never a Scan."""
        ...


@dataclass(frozen=True)
class Funnel:
    registered: int
    attended: int
    passed: int
    certified: int
    on_duty: int


@dataclass(frozen=True)
class SessionFigures:
    session_id: str
    course_id: str
    title: str | None
    starts_at: datetime
    trainer_id: str
    capacity: int
    registered: int
    confirmed: int
    waitlisted: int
    attended: int
    rating_avg: float | None
    ratings: int


@dataclass(frozen=True)
class InstructorFigures:
    trainer_id: str
    sessions: int
    rating_avg: float | None
    ratings: int


@dataclass(frozen=True)
class TrainingReport:
    first: date
    last: date
    funnel: Funnel
    expiring: dict[int, int]  # days → certificates
    sessions: list[SessionFigures]
    instructors: list[InstructorFigures]


@dataclass(frozen=True)
class SessionRecords:
    session: Session
    registrations: list[Registration]
    evaluations: list[Evaluation]


# Days a report may cover: a local day at either end of datetime's range overflows when it is turned into
# UTC instants (the fuzzer found from=0001-01-01), and no training record lies outside these.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def period(first: date, last: date) -> tuple[date, date]:
    if first < EARLIEST or last > LATEST:
        raise ValidationFailed(f"from, to: days from {EARLIEST} to {LATEST}")
    if first > last:
        raise ValidationFailed("from: must not be after to")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"from, to: at most {MAX_DAYS} days")
    return first, last


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


# --- the stage rules (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stages:
    registered: frozenset[str]
    attended: frozenset[str]
    passed: frozenset[str]
    certified: frozenset[str]
    on_duty: frozenset[str]

    def funnel(self) -> Funnel:
        return Funnel(
            len(self.registered), len(self.attended), len(self.passed), len(self.certified), len(self.on_duty)
        )


def passes(sessions: Iterable[SessionRecords], scores: Iterable[Score]) -> dict[str, list[Score]]:
    """Person → their passing scores for the course of a session they attended, scored at or after its
    start: the passes that session led to."""
    by_person_course: dict[tuple[str, str], list[Score]] = defaultdict(list)
    for score in scores:
        if score.passed:
            by_person_course[(score.candidate_id, score.course_id)].append(score)
    found: dict[str, list[Score]] = defaultdict(list)
    for records in sessions:
        for r in records.registrations:
            if r.status == "confirmed" and r.checked_in_at is not None:
                key = (r.person_id, records.session.course_id)
                found[r.person_id].extend(
                    s
                    for s in by_person_course.get(key, [])
                    if s.scored_at >= records.session.starts_at and s not in found[r.person_id]
                )
    return {person: scores for person, scores in found.items() if scores}


def stages(
    sessions: list[SessionRecords],
    passed: Mapping[str, list[Score]],
    certificates: Mapping[str, Certificate],
    responders: Mapping[str, Responder],
    *,
    now: datetime,
    time_zone: str,
) -> Stages:
    today = now.astimezone(ZoneInfo(time_zone)).date()
    registered = {r.person_id for s in sessions for r in s.registrations if r.status in LIVE}
    attended = {
        r.person_id
        for s in sessions
        for r in s.registrations
        if r.status == "confirmed" and r.checked_in_at is not None
    }
    passed_people = {p for p in attended if passed.get(p)}

    def holds(person: str) -> bool:
        for score in passed.get(person, []):
            cert = certificates.get(score.certificate_no) if score.certificate_no else None
            if cert is not None and cert.revoked_at is None and today <= cert.valid_until:
                return True
        return False

    certified = {p for p in passed_people if holds(p)}
    on_duty = {p for p in certified if p in responders and is_available(responders[p], now, time_zone)}
    return Stages(
        frozenset(registered),
        frozenset(attended),
        frozenset(passed_people),
        frozenset(certified),
        frozenset(on_duty),
    )


def session_figures(records: SessionRecords, title: str | None) -> SessionFigures:
    s = records.session
    live = [r for r in records.registrations if r.status in LIVE]
    confirmed = [r for r in live if r.status == "confirmed"]
    ratings = [e.rating for e in records.evaluations]
    return SessionFigures(
        session_id=s.session_id,
        course_id=s.course_id,
        title=title,
        starts_at=s.starts_at,
        trainer_id=s.instructor_id,
        capacity=s.capacity,
        registered=len(live),
        confirmed=len(confirmed),
        waitlisted=len(live) - len(confirmed),
        attended=len({r.person_id for r in confirmed if r.checked_in_at is not None}),
        rating_avg=_mean(ratings),
        ratings=len(ratings),
    )


def instructor_figures(sessions: list[SessionRecords]) -> list[InstructorFigures]:
    taught: dict[str, int] = defaultdict(int)
    ratings: dict[str, list[int]] = defaultdict(list)
    for records in sessions:
        taught[records.session.instructor_id] += 1
        ratings[records.session.instructor_id].extend(e.rating for e in records.evaluations)
    return [
        InstructorFigures(t, taught[t], _mean(ratings[t]), len(ratings[t]))
        for t in sorted(taught, key=lambda t: (-taught[t], t))
    ]


def expiring_counts(certificates: Iterable[Certificate], today: date) -> dict[int, int]:
    live = [c for c in certificates if c.revoked_at is None and c.valid_until >= today]
    return {
        days: sum(1 for c in live if c.valid_until <= today + timedelta(days=days - 1))
        for days in EXPIRY_WINDOWS
    }


# --- the report (reads through the ports) -------------------------------------------------------------


def training_report(
    records: TrainingRecords,
    exams: ExamStore,
    certificates: CertificateStore,
    roster: DutyRoster,
    *,
    first: date,
    last: date,
    now: datetime,
    time_zone: str,
    valid_years: int,
) -> TrainingReport:
    first, last = period(first, last)
    zone = ZoneInfo(time_zone)
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    today = now.astimezone(zone).date()
    found = [s for s in records.sessions_between(start, end) if start <= s.starts_at < end]
    courses = sorted({s.course_id for s in found})

    def read(session: Session) -> SessionRecords:
        return SessionRecords(
            session,
            records.registrations_of_session(session.session_id),
            records.evaluations_of_session(session.session_id),
        )

    # A year of Hangzhou's sessions is over a thousand, each two Queries: they run side by side.
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        sessions = list(pool.map(read, found))
        course_scores = list(pool.map(lambda c: exams.scores_of_course(c, since=start), courses))
        titles = dict(zip(courses, pool.map(records.course, courses), strict=True))
    passed = passes(sessions, (s for scores in course_scores for s in scores))
    numbers = {s.certificate_no for scores in passed.values() for s in scores if s.certificate_no}
    held = _certificates(certificates, numbers, first, today, valid_years) if numbers else {}
    # Only the people who may be on duty (holding a certificate from these passes) are read, by key.
    candidates = sorted(p for p, scores in passed.items() if any(s.certificate_no in held for s in scores))
    roster_read = roster.responders(candidates) if candidates else {}
    people = stages(sessions, passed, held, roster_read, now=now, time_zone=time_zone)
    expiring = certificates.expiring_between(today, today + timedelta(days=max(EXPIRY_WINDOWS) - 1))
    return TrainingReport(
        first=first,
        last=last,
        funnel=people.funnel(),
        expiring=expiring_counts(expiring, today),
        sessions=[
            session_figures(s, (c.title if (c := titles.get(s.session.course_id)) else None))
            for s in sessions
        ],
        instructors=instructor_figures(sessions),
    )


def _certificates(
    store: CertificateStore, numbers: set[str], first: date, today: date, valid_years: int
) -> dict[str, Certificate]:
    """The certificates the period's passes issued. They were issued between the period's first day and
    today, so they expire between those days' ``valid_until``: read from the by-expiry index by month
    (a Query reads ~8x less than a GetItem per certificate). Any not found there (the validity rule
    changed since) are read by key."""
    found = {
        c.certificate_no: c
        for c in store.expiring_between(valid_until(first, valid_years), valid_until(today, valid_years))
        if c.certificate_no in numbers
    }
    for number in sorted(numbers - found.keys()):
        cert = store.get(number)
        if cert is not None:
            found[number] = cert
    return found
