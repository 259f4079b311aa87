"""Tables of examination and certification: the examiner pool, exam sittings, scores, certificates, the
certificate number counter and the expiry reminder marks. Repositories in shared/dal/certification.py.

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


class ExaminerModel(Model):
    class Meta:
        table_name = _settings.examiners_table
        region = _settings.region

    examiner_id = UnicodeAttribute(hash_key=True)  # the person's sub
    name = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()
    added_by = UnicodeAttribute()
    last_assigned_at = UTCDateTimeAttribute(null=True)
    assignments = NumberAttribute(default=0)


class ExamModel(Model):
    class Meta:
        table_name = _settings.exams_table
        region = _settings.region

    exam_id = UnicodeAttribute(hash_key=True)  # ULID
    course_id = UnicodeAttribute()
    site = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()
    examiner_id = UnicodeAttribute()
    candidate_ids = ListAttribute(of=UnicodeAttribute)  # type: ignore[var-annotated]
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ScoresByCourseIndex(GlobalSecondaryIndex["ExamScoreModel"]):
    """The scores of a course since a day: what the quality report counts."""

    class Meta:
        index_name = "by-course"
        projection = AllProjection()

    course_id = UnicodeAttribute(hash_key=True)
    scored_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class ExamScoreModel(Model):
    """One candidate's score in one sitting: the key makes "scored once per sitting" a condition."""

    class Meta:
        table_name = _settings.exam_scores_table
        region = _settings.region

    exam_id = UnicodeAttribute(hash_key=True)
    candidate_id = UnicodeAttribute(range_key=True)
    course_id = UnicodeAttribute()
    examiner_id = UnicodeAttribute()
    skills = UnicodeAttribute()  # JSON: {"cpr": 90, ...}
    passed = BooleanAttribute()
    failed_skills = UnicodeAttribute()  # JSON list, in the rubric's order
    scored_at = UTCDateTimeAttribute()
    certificate_no = UnicodeAttribute(null=True)
    by_course = ScoresByCourseIndex()


class CertificatesByHolderIndex(GlobalSecondaryIndex["CertificateModel"]):
    class Meta:
        index_name = "by-holder"
        projection = AllProjection()

    holder_id = UnicodeAttribute(hash_key=True)
    issued_on = UnicodeAttribute(range_key=True)


class CertificatesByExpiryIndex(GlobalSecondaryIndex["CertificateModel"]):
    """Certificates by the month of their last valid day, then that day: a reminder run reads the few
    days it needs with one Query per month touched (a month holds about 1/12 of a year's certificates,
    ~3,300 in Hangzhou: no hot partition), never a Scan."""

    class Meta:
        index_name = "by-expiry"
        projection = AllProjection()

    expiry_month = UnicodeAttribute(hash_key=True)  # "YYYY-MM" of valid_until
    valid_until = UnicodeAttribute(range_key=True)  # YYYY-MM-DD


class CertificateModel(Model):
    class Meta:
        table_name = _settings.certificates_table
        region = _settings.region

    certificate_no = UnicodeAttribute(hash_key=True)  # "RN-2026-000123"
    holder_id = UnicodeAttribute()
    holder_name = UnicodeAttribute()
    holder_phone = UnicodeAttribute()
    course_id = UnicodeAttribute()
    course_title = UnicodeAttribute()
    exam_id = UnicodeAttribute()
    issued_on = UnicodeAttribute()  # YYYY-MM-DD, deployment time zone
    valid_until = UnicodeAttribute()  # YYYY-MM-DD, inclusive
    expiry_month = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    by_holder = CertificatesByHolderIndex()
    by_expiry = CertificatesByExpiryIndex()


class CertificateNumberModel(Model):
    """The atomic counter behind certificate numbers: one item per year, ADD 1 per certificate."""

    class Meta:
        table_name = _settings.certificate_numbers_table
        region = _settings.region

    counter = UnicodeAttribute(hash_key=True)  # "certificates-2026"
    value = NumberAttribute(default=0)


class CertificateReminderModel(Model):
    """One item per (certificate, days before expiry) reminder sent: the key makes it exactly once."""

    class Meta:
        table_name = _settings.certificate_reminders_table
        region = _settings.region

    reminder_key = UnicodeAttribute(hash_key=True)  # "<certificate_no>#<days>"
    certificate_no = UnicodeAttribute()
    days_before = NumberAttribute()
    sent_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; DynamoDB TTL, well after the certificate's expiry


CERTIFICATION_MODELS: tuple[type[Model], ...] = (
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
)
