"""Teaching records in DynamoDB: ``DynamoTrainingRecords`` (the read contract of
shared/logic/teaching/records.py, for exams, certificates and the quality report) and ``DynamoTeaching``,
which adds teaching's writes (shared/logic/teaching/ports.py).

Seats are never overbooked because every change to a session's seats or line is one DynamoDB transaction
with a condition on the session item, which holds the seat counter and the waitlist itself:
- a seat: ``confirmed < capacity``, ADD confirmed 1, with the registration and its (session, person) key;
- a place in line: ``confirmed >= capacity``, SET waitlist = list_append(waitlist, [id]), with the same
  two puts. DynamoDB applies writes to one item one at a time, so the list is in arrival order (the
  order the server applied them) and nobody contends for a ticket: no retries, no gaps;
- a cancelled seat goes, in the same transaction, to the head of the line (``waitlist[0] = <id>`` and
  that registration's ``status = waitlisted``), or is freed only when ``size(waitlist) = 0``: a seat is
  never free while anyone waits. Leaving the line removes ``waitlist[i]`` on condition it is still you.
A waiting registration's position is its index in the list + 1, read from the session item with a strongly
consistent read: exact at any moment, whatever was promoted or cancelled before.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from shared.config import settings
from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.teaching import (
    CourseModel,
    EvaluationModel,
    RegistrationKeyModel,
    RegistrationModel,
    TheoryProgressModel,
    TrainingSessionModel,
)
from shared.logic.teaching.ports import AlreadyRegistered, TheoryDone
from shared.logic.teaching.records import Course, Evaluation, Registration, Session

# Real DynamoDB cancels a transaction that meets another on the same item (TransactionConflict); those
# are retried here after a short random pause. The embedded DynamoDB never conflicts (writes are serial).
MAX_CONFLICT_RETRIES = 8


def _month(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def _months(start: datetime, end: datetime) -> list[str]:
    months, year, month = [], start.astimezone(UTC).year, start.astimezone(UTC).month
    last = _month(end)
    while True:
        label = f"{year:04d}-{month:02d}"
        months.append(label)
        if label >= last:
            return months
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


stored(Course, CourseModel)
stored(
    Session,
    TrainingSessionModel,
    storage_only={
        "start_month": "the by-month index's partition, derived: the UTC month of starts_at",
        "waitlist": "the line itself, in arrival order: a Session carries its length (waitlisted), "
        "each waiting Registration its place (position)",
    },
)
stored(
    Registration,
    RegistrationModel,
    storage_only={
        "confirmed_at": "when the seat was taken: history on the item, no rule reads it",
        "cancelled_at": "when it was cancelled: history on the item, no rule reads it",
    },
    not_stored={"position": "a place in the session's waitlist, read from the session item"},
)
stored(Evaluation, EvaluationModel)
stored(
    TheoryDone,
    TheoryProgressModel,
    storage_only={
        "person_id": "the partition: a person's theory is read by person",
        "course_id": "the course asked for: theory is read by (person, course)",
        "progress_key": "the sort key, derived: course_id#module_id",
    },
)


def _registration(m: RegistrationModel, position: int | None = None) -> Registration:
    return from_model(Registration, m, position=position if m.status == "waitlisted" else None)


def _get(model: type[Model], hash_key: str, range_key: str | None = None) -> Any:
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist:
        return None


def _reasons(error: TransactWriteError) -> list[str | None]:
    return [r.code if r is not None else None for r in (error.cancellation_reasons or [])]


def _conflicted(error: TransactWriteError) -> bool:
    return "TransactionConflict" in _reasons(error) or error.cause_response_code in {
        "TransactionInProgressException",
        "ThrottlingException",
    }


class DynamoTrainingRecords:
    """The TrainingRecords port (shared/logic/teaching/records.py) on DynamoDB. Reads by key are strongly
    consistent; lists come from global secondary indexes (eventually consistent, usually within a second)."""

    def __init__(self) -> None:
        self._connection = Connection(region=settings().region)

    # -- courses and sessions --------------------------------------------------------------------
    def course(self, course_id: str) -> Course | None:
        m = _get(CourseModel, course_id)
        return None if m is None else from_model(Course, m)

    def session(self, session_id: str) -> Session | None:
        m = _get(TrainingSessionModel, session_id)
        return None if m is None else from_model(Session, m)

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        """Sessions that start in [start, end), earliest first: one Query per UTC month of the span."""
        if end <= start:
            return []
        found: list[Session] = []
        for month in _months(start, end - timedelta(microseconds=1)):
            query = TrainingSessionModel.by_month.query(
                month,
                range_key_condition=TrainingSessionModel.starts_at.between(start, end),
            )
            found.extend(from_model(Session, m) for m in query if m.starts_at < end)
        return sorted(found, key=lambda s: (s.starts_at, s.session_id))

    # -- registrations ---------------------------------------------------------------------------
    def registration(self, registration_id: str) -> Registration | None:
        m = _get(RegistrationModel, registration_id)
        if m is None or m.status != "waitlisted":
            return None if m is None else _registration(m)
        # The registration and its session's line read as one snapshot: a promotion between two plain
        # reads would show "waitlisted" without a place.
        with TransactGet(connection=self._connection) as tx:
            registration = tx.get(RegistrationModel, registration_id)
            session = tx.get(TrainingSessionModel, m.session_id)
        m = registration.get()
        waitlist: list[str] = [str(x) for x in session.get().waitlist or []]
        place = waitlist.index(registration_id) + 1 if registration_id in waitlist else None
        return _registration(m, place)

    def registrations_of_person(self, person_id: str) -> list[Registration]:
        found = list(RegistrationModel.by_person.query(person_id))
        lines = {m.session_id: self._line(m.session_id) for m in found if m.status == "waitlisted"}
        return [_registration(m, lines.get(m.session_id, {}).get(m.registration_id)) for m in found]

    def registrations_of_session(self, session_id: str) -> list[Registration]:
        """Every registration of the session in the order made (ULIDs), cancelled ones included."""
        line = self._line(session_id)
        return [
            _registration(m, line.get(m.registration_id))
            for m in RegistrationModel.by_session.query(session_id)
        ]

    def _line(self, session_id: str) -> dict[str, int]:
        """Waiting registration id → position (1-based), from the session item (strongly consistent)."""
        session = _get(TrainingSessionModel, session_id)
        waitlist = list(session.waitlist or []) if session is not None else []
        return {registration_id: place for place, registration_id in enumerate(waitlist, start=1)}

    # -- theory and evaluations ------------------------------------------------------------------
    def theory_done(self, course_id: str, person_id: str) -> list[TheoryDone]:
        return [
            from_model(TheoryDone, m)
            for m in TheoryProgressModel.query(
                person_id,
                range_key_condition=TheoryProgressModel.progress_key.startswith(f"{course_id}#"),
                consistent_read=True,
            )
        ]

    def theory_complete(self, course_id: str, person_id: str) -> bool:
        course = self.course(course_id)
        if course is None:
            return False
        done = {d.module_id for d in self.theory_done(course_id, person_id)}
        return all(module.module_id in done for module in course.theory_modules)

    def evaluations_of_session(self, session_id: str) -> list[Evaluation]:
        return [from_model(Evaluation, m) for m in EvaluationModel.by_session.query(session_id)]

    def has_evaluated(self, course_id: str, person_id: str) -> bool:
        found = EvaluationModel.by_person.query(
            person_id, range_key_condition=EvaluationModel.course_id == course_id, limit=1
        )
        return next(iter(found), None) is not None


class DynamoTeaching(DynamoTrainingRecords):
    """TrainingRecords plus teaching's writes (the TeachingStore port)."""

    # -- courses and sessions --------------------------------------------------------------------
    def create_course(self, course: Course) -> None:
        to_model(CourseModel, course).save(condition=CourseModel.course_id.does_not_exist())

    def create_session(self, session: Session) -> None:
        to_model(TrainingSessionModel, session, start_month=_month(session.starts_at), waitlist=[]).save(
            condition=TrainingSessionModel.session_id.does_not_exist()
        )

    def sessions(self, session_ids: list[str]) -> dict[str, Session]:
        found = TrainingSessionModel.batch_get(list(dict.fromkeys(session_ids)), consistent_read=True)
        return {m.session_id: from_model(Session, m) for m in found}

    # -- seats and the waitlist ------------------------------------------------------------------
    def registration_of(self, session_id: str, person_id: str) -> str | None:
        key = _get(RegistrationKeyModel, session_id, person_id)
        return None if key is None else str(key.registration_id)

    def take_seat(self, registration: Registration) -> bool:
        session = TrainingSessionModel(session_id=registration.session_id)

        def write(tx: TransactWrite) -> None:
            tx.update(
                session,
                actions=[TrainingSessionModel.confirmed.add(1)],
                condition=TrainingSessionModel.session_id.exists()
                & (TrainingSessionModel.confirmed < TrainingSessionModel.capacity),
            )
            self._put_registration(tx, registration, status="confirmed")

        return self._transact(write, registration)

    def join_waitlist(self, registration: Registration) -> bool:
        def write(tx: TransactWrite) -> None:
            tx.update(
                TrainingSessionModel(session_id=registration.session_id),
                actions=[
                    TrainingSessionModel.waitlist.set(
                        TrainingSessionModel.waitlist.append([registration.registration_id])
                    ),
                    TrainingSessionModel.waitlisted.add(1),
                ],
                condition=TrainingSessionModel.session_id.exists()
                & (TrainingSessionModel.confirmed >= TrainingSessionModel.capacity),
            )
            self._put_registration(tx, registration, status="waitlisted")

        return self._transact(write, registration)

    def _put_registration(self, tx: TransactWrite, registration: Registration, *, status: str) -> None:
        tx.save(
            to_model(
                RegistrationModel,
                registration,
                status=status,
                confirmed_at=registration.created_at if status == "confirmed" else None,
            ),
            condition=RegistrationModel.registration_id.does_not_exist(),
        )
        tx.save(
            RegistrationKeyModel(
                session_id=registration.session_id,
                person_id=registration.person_id,
                registration_id=registration.registration_id,
            ),
            condition=RegistrationKeyModel.person_id.does_not_exist(),
        )

    def _transact(self, write: Callable[[TransactWrite], None], registration: Registration) -> bool:
        """Run one registering transaction (the session update first, the registration, then its key):
        True if written, False if the session's condition said no; AlreadyRegistered if the key did."""
        for attempt in range(MAX_CONFLICT_RETRIES + 1):
            try:
                with TransactWrite(connection=self._connection) as tx:
                    write(tx)
                return True
            except TransactWriteError as error:
                reasons = _reasons(error)
                if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
                    existing = self.registration_of(registration.session_id, registration.person_id)
                    if existing is not None:
                        raise AlreadyRegistered(existing) from error
                    continue  # cancelled meanwhile: the key is gone, try again
                if "ConditionalCheckFailed" in reasons:
                    return False
                if not _conflicted(error) or attempt == MAX_CONFLICT_RETRIES:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        return False

    def waitlist_head(self, session_id: str) -> Registration | None:
        session = _get(TrainingSessionModel, session_id)
        if session is None or not session.waitlist:
            return None
        head = _get(RegistrationModel, session.waitlist[0])
        return None if head is None else _registration(head, 1)

    def cancel(self, registration: Registration, promote: Registration | None, now: datetime) -> bool:
        session = TrainingSessionModel(session_id=registration.session_id)
        place = self._line(registration.session_id).get(registration.registration_id)
        if registration.status == "waitlisted" and place is None:
            return False  # promoted meanwhile: read again
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(
                    RegistrationModel(registration_id=registration.registration_id),
                    actions=[
                        RegistrationModel.status.set("cancelled"),
                        RegistrationModel.cancelled_at.set(now),
                    ],
                    # Attendance is history: a checked-in seat is never given back.
                    condition=(RegistrationModel.status == registration.status)
                    & RegistrationModel.checked_in_at.does_not_exist(),
                )
                tx.delete(
                    RegistrationKeyModel(
                        session_id=registration.session_id, person_id=registration.person_id
                    ),
                    condition=RegistrationKeyModel.registration_id == registration.registration_id,
                )
                if registration.status == "waitlisted" and place is not None:
                    tx.update(
                        session,
                        actions=[
                            TrainingSessionModel.waitlist[place - 1].remove(),
                            TrainingSessionModel.waitlisted.add(-1),
                        ],
                        condition=TrainingSessionModel.waitlist[place - 1] == registration.registration_id,
                    )
                elif promote is not None:
                    tx.update(
                        RegistrationModel(registration_id=promote.registration_id),
                        actions=[
                            RegistrationModel.status.set("confirmed"),
                            RegistrationModel.confirmed_at.set(now),
                        ],
                        condition=RegistrationModel.status == "waitlisted",
                    )
                    tx.update(
                        session,
                        actions=[
                            TrainingSessionModel.waitlist[0].remove(),
                            TrainingSessionModel.waitlisted.add(-1),
                        ],
                        condition=TrainingSessionModel.waitlist[0] == promote.registration_id,
                    )
                else:
                    tx.update(
                        session,
                        actions=[TrainingSessionModel.confirmed.add(-1)],
                        condition=size(TrainingSessionModel.waitlist) == 0,
                    )
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in _reasons(error) or _conflicted(error):
                return False
            raise
        return True

    def check_in(self, registration_id: str, at: datetime) -> bool:
        try:
            RegistrationModel(registration_id=registration_id).update(
                actions=[RegistrationModel.checked_in_at.set(at)],
                condition=(RegistrationModel.status == "confirmed")
                & RegistrationModel.checked_in_at.does_not_exist(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    # -- theory and evaluations ------------------------------------------------------------------
    def mark_theory(
        self, course_id: str, person_id: str, module_id: str, at: datetime, score: float | None
    ) -> None:
        to_model(
            TheoryProgressModel,
            TheoryDone(module_id, at, score),
            person_id=person_id,
            course_id=course_id,
            progress_key=f"{course_id}#{module_id}",
        ).save()

    def unmark_theory(self, course_id: str, person_id: str, module_id: str) -> None:
        TheoryProgressModel(person_id=person_id, progress_key=f"{course_id}#{module_id}").delete()

    def add_evaluation(self, evaluation: Evaluation) -> bool:
        try:
            to_model(EvaluationModel, evaluation).save(
                condition=EvaluationModel.registration_id.does_not_exist()
            )
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True
