"""Tables of AED upkeep: the inspection log, and the markers that make each upkeep reminder go once.

Registered in shared.dal.models.ALL_MODELS (so CDK and the local runtime build them like every table).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class AedInspectionModel(Model):
    """One inspection of one AED. The sort key orders an AED's log newest first when queried backwards."""

    class Meta:
        table_name = _settings.aed_inspections_table
        region = _settings.region

    aed_id = UnicodeAttribute(hash_key=True)
    inspection_key = UnicodeAttribute(range_key=True)  # "<inspected_on>#<inspection_id>"
    inspection_id = UnicodeAttribute()  # ULID
    inspected_on = UnicodeAttribute()  # YYYY-MM-DD, deployment time zone
    inspector = UnicodeAttribute()  # the caller's sub
    recorded_at = UTCDateTimeAttribute()
    checks = UnicodeAttribute()  # JSON: {"self_test_light": "pass", ...}
    pads_expire_on = UnicodeAttribute(null=True)
    battery_expires_on = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)


class UpkeepReminderModel(Model):
    """One upkeep reminder that was (or is being) sent: the key is the guard against sending it twice.

    ``reminder_key`` is "<what>#<due date>#<threshold>", e.g. "pads#2026-12-31#30". A marker whose
    ``sent_at`` is unset and whose lease lapsed was taken by a run that died before SNS took the message:
    the next run takes it over."""

    class Meta:
        table_name = _settings.upkeep_reminders_table
        region = _settings.region

    aed_id = UnicodeAttribute(hash_key=True)
    reminder_key = UnicodeAttribute(range_key=True)
    lease_until = NumberAttribute()  # epoch seconds
    sent_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute()  # TTL: well after the due date, when no run can ask again
