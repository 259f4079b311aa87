"""Tables of teaching: courses, practical sessions, registrations (with the waitlist), theory progress and
course evaluations. Repositories in shared/dal/teaching.py.

Registered in shared.dal.models.ALL_MODELS (so CDK and the local runtime build them like every table).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class CourseModel(Model):
    class Meta:
        table_name = _settings.training_courses_table
        region = _settings.region

    course_id = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    theory_modules = UnicodeAttribute()  # JSON: [{"module_id", "title", "minutes"}], in teaching order
    practical_hours = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class SessionsByMonthIndex(GlobalSecondaryIndex["TrainingSessionModel"]):
    """Sessions by the UTC month they start in, then start time: "which sessions fall between"."""

    class Meta:
        index_name = "start-month"
        projection = AllProjection()

    start_month = UnicodeAttribute(hash_key=True)  # "YYYY-MM" (UTC)
    starts_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class TrainingSessionModel(Model):
    """A practical session with its seats and its waitlist: every seat and every place in line is taken
    by a conditional write on this item, so it is the one place where "never overbooked" is decided."""

    class Meta:
        table_name = _settings.training_sessions_table
        region = _settings.region

    session_id = UnicodeAttribute(hash_key=True)
    course_id = UnicodeAttribute()
    site = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    starts_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute()
    start_month = UnicodeAttribute()
    capacity = NumberAttribute()
    instructor_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    confirmed = NumberAttribute(default=0)  # seats taken (never above capacity: the write's condition)
    waitlisted = NumberAttribute(default=0)  # len(waitlist), kept for conditions and listings
    # Registration ids waiting, in arrival order (the order their writes were applied): a place is its
    # index + 1. 26-character ULIDs: thousands fit in an item (400 KB), far beyond any session's line.
    waitlist = ListAttribute(of=UnicodeAttribute, default=list)
    by_month = SessionsByMonthIndex()


class RegistrationsBySessionIndex(GlobalSecondaryIndex["RegistrationModel"]):
    class Meta:
        index_name = "by-session"
        projection = AllProjection()

    session_id = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute(range_key=True)


class RegistrationsByPersonIndex(GlobalSecondaryIndex["RegistrationModel"]):
    class Meta:
        index_name = "by-person"
        projection = AllProjection()

    person_id = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute(range_key=True)


class RegistrationModel(Model):
    class Meta:
        table_name = _settings.training_registrations_table
        region = _settings.region

    registration_id = UnicodeAttribute(hash_key=True)  # ULID
    session_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    responder_consent = BooleanAttribute()
    status = UnicodeAttribute()  # confirmed, waitlisted, cancelled
    created_at = UTCDateTimeAttribute()
    confirmed_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    checked_in_at = UTCDateTimeAttribute(null=True)
    by_session = RegistrationsBySessionIndex()
    by_person = RegistrationsByPersonIndex()


class RegistrationKeyModel(Model):
    """One item per (session, person) with a live registration: the key makes "at most once" a condition.
    Deleted in the cancelling transaction, so a person who cancelled may register again."""

    class Meta:
        table_name = _settings.training_registration_keys_table
        region = _settings.region

    session_id = UnicodeAttribute(hash_key=True)
    person_id = UnicodeAttribute(range_key=True)
    registration_id = UnicodeAttribute()


class TheoryProgressModel(Model):
    class Meta:
        table_name = _settings.training_theory_table
        region = _settings.region

    person_id = UnicodeAttribute(hash_key=True)
    progress_key = UnicodeAttribute(range_key=True)  # "<course_id>#<module_id>"
    course_id = UnicodeAttribute()
    module_id = UnicodeAttribute()
    completed_at = UTCDateTimeAttribute()
    score = NumberAttribute(null=True)


class EvaluationsBySessionIndex(GlobalSecondaryIndex["EvaluationModel"]):
    class Meta:
        index_name = "by-session"
        projection = AllProjection()

    session_id = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute(range_key=True)


class EvaluationsByPersonIndex(GlobalSecondaryIndex["EvaluationModel"]):
    class Meta:
        index_name = "by-person"
        projection = AllProjection()

    person_id = UnicodeAttribute(hash_key=True)
    course_id = UnicodeAttribute(range_key=True)


class EvaluationModel(Model):
    """A trainee's rating of the course they attended: one per registration (the key is the guard)."""

    class Meta:
        table_name = _settings.training_evaluations_table
        region = _settings.region

    registration_id = UnicodeAttribute(hash_key=True)
    session_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    rating = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    by_session = EvaluationsBySessionIndex()
    by_person = EvaluationsByPersonIndex()


TEACHING_MODELS: tuple[type[Model], ...] = (
    CourseModel,
    TrainingSessionModel,
    RegistrationModel,
    RegistrationKeyModel,
    TheoryProgressModel,
    EvaluationModel,
)
