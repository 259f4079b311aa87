"""The dispatch centres' table (shared/logic/dispatch): one item per 120 centre. Its signing secrets are
not here: they are in Secrets Manager (shared/dal/dispatch_secrets.py), this item names the one in force."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class DispatchCentreModel(Model):
    class Meta:
        table_name = _settings.dispatch_centres_table
        region = _settings.region

    centre_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    callback_url = UnicodeAttribute()
    area = UnicodeAttribute()  # JSON: [min_lng, min_lat, max_lng, max_lat]
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    secret_version = UnicodeAttribute(null=True)  # the issue whose secret is in force
    secret_issued_at = UTCDateTimeAttribute(null=True)
    previous_secret_valid_until = UTCDateTimeAttribute(null=True)
    issuing_until = NumberAttribute(null=True)  # a secret being issued: the lease's end (epoch seconds)
