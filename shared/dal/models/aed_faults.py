"""The table of AED fault reports (registered in shared.dal.models.ALL_MODELS)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class AedReportModel(Model):
    """One fault report on one AED, newest last (ULID sort key)."""

    class Meta:
        table_name = _settings.aed_reports_table
        region = _settings.region

    aed_id = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    state = UnicodeAttribute()  # open, confirmed, cleared
    created_at = UTCDateTimeAttribute()
    reporter = UnicodeAttribute(null=True)
    reporter_role = UnicodeAttribute()
    suspends = BooleanAttribute(default=False)
    note = UnicodeAttribute(null=True)
    incident_id = UnicodeAttribute(null=True)
    photo_key = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    resolution_note = UnicodeAttribute(null=True)
