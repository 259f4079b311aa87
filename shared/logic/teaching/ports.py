"""What teaching's logic writes, beyond what ``TrainingRecords`` reads (shared/dal/teaching.py implements
both on DynamoDB; unit tests may fake them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.logic.teaching.records import Course, Evaluation, Registration, Session, TrainingRecords

TRAINING_SESSION = "training-session"  # geo index kind: a session findable until it ends


class AlreadyRegistered(Exception):
    """The person holds a live registration for the session already."""

    def __init__(self, registration_id: str) -> None:
        super().__init__(registration_id)
        self.registration_id = registration_id


class Contended(Exception):
    """A write lost to concurrent writers more times than a request should wait for."""


@dataclass(frozen=True)
class TheoryDone:
    """One completed theory module of one person."""

    module_id: str
    completed_at: datetime
    score: float | None = None


class TeachingStore(TrainingRecords, Protocol):
    def create_course(self, course: Course) -> None: ...
    def create_session(self, session: Session) -> None: ...
    def sessions(self, session_ids: list[str]) -> dict[str, Session]: ...
    def registration_of(self, session_id: str, person_id: str) -> str | None:
        """The id of the person's live (confirmed or waitlisted) registration for the session."""
        ...

    def take_seat(self, registration: Registration) -> bool:
        """Write ``registration`` as confirmed if a seat is free (False: the session is full).
        Raises AlreadyRegistered."""
        ...

    def join_waitlist(self, registration: Registration) -> bool:
        """Write ``registration`` as waitlisted at the end of the session's line if the session is full
        (False: a seat is free now). Raises AlreadyRegistered."""
        ...

    def waitlist_head(self, session_id: str) -> Registration | None: ...
    def cancel(self, registration: Registration, promote: Registration | None, now: datetime) -> bool:
        """Cancel ``registration`` as it was read (its status is the condition); a confirmed seat goes
        to ``promote`` in the same transaction, or is freed when nobody waits. False: the state moved on
        (someone else cancelled, promoted or joined meanwhile): read again and retry."""
        ...

    def check_in(self, registration_id: str, at: datetime) -> bool:
        """Stamp a confirmed registration's check-in once; False if it was not confirmed-and-unstamped."""
        ...

    def theory_done(self, course_id: str, person_id: str) -> list[TheoryDone]: ...
    def mark_theory(
        self, course_id: str, person_id: str, module_id: str, at: datetime, score: float | None
    ) -> None: ...
    def unmark_theory(self, course_id: str, person_id: str, module_id: str) -> None: ...
    def add_evaluation(self, evaluation: Evaluation) -> bool:
        """False if the registration has been evaluated already."""
        ...
