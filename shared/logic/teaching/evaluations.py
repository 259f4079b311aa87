"""Course evaluations: a trainee who attended (checked in) rates the course once, 1 to 5. Certificates are
downloadable only after it (shared/logic/certification/certificates.py reads ``has_evaluated``), and the
quality report averages the ratings per instructor and per site."""

from __future__ import annotations

from datetime import datetime

from shared.errors import Conflict
from shared.identity import Caller
from shared.logic.teaching.ports import TeachingStore
from shared.logic.teaching.records import Evaluation
from shared.logic.teaching.registrations import require_self, visible_registration


def evaluate(
    store: TeachingStore,
    caller: Caller,
    registration_id: str,
    *,
    rating: int,
    comment: str | None,
    now: datetime,
) -> Evaluation:
    registration = visible_registration(store, caller, registration_id)
    require_self(caller, registration)
    if registration.checked_in_at is None:
        raise Conflict("rate the course after attending its session", code="not_checked_in")
    evaluation = Evaluation(
        registration_id=registration.registration_id,
        session_id=registration.session_id,
        course_id=registration.course_id,
        person_id=registration.person_id,
        rating=rating,
        at=now,
        comment=comment or None,
    )
    if not store.add_evaluation(evaluation):
        raise Conflict("this registration has been evaluated already", code="already_evaluated")
    return evaluation
