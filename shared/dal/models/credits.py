"""The credits exports to the provincial public-credit platform (shared/logic/credits_export.py): one item
per export, its files' keys, digests and signatures; the files themselves are in S3."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.config import settings

_settings = settings()

EXPORTS_PARTITION = "export"


class CreditExportModel(Model):
    """All exports in one partition, by id (a ULID: the order they were made in). A few a month: one
    Query lists them, newest first, never a Scan."""

    class Meta:
        table_name = _settings.credit_exports_table
        region = _settings.region

    kind = UnicodeAttribute(hash_key=True)  # always EXPORTS_PARTITION
    export_id = UnicodeAttribute(range_key=True)
    period = UnicodeAttribute()
    status = UnicodeAttribute()  # building, ready, failed, abandoned
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    lease_until = UTCDateTimeAttribute()
    listed = NumberAttribute(default=0)
    points = NumberAttribute(default=0)
    excluded_revoked = NumberAttribute(default=0)
    already_exported = NumberAttribute(default=0)
    held_elsewhere = NumberAttribute(default=0)
    key_id = UnicodeAttribute(null=True)
    public_key = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    files = UnicodeAttribute(null=True)  # JSON: the ExportFile list
