"""The AED table: one item per device, with its registry, upkeep and service fields."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class AedModel(Model):
    class Meta:
        table_name = _settings.aeds_table
        region = _settings.region

    aed_id = UnicodeAttribute(hash_key=True)
    lat = NumberAttribute()
    lng = NumberAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    placement = UnicodeAttribute(null=True)
    opening_hours = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    floor = UnicodeAttribute(null=True)
    indoor = BooleanAttribute(null=True)
    access = UnicodeAttribute(null=True)
    contact_phone = UnicodeAttribute(null=True)
    manager_id = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    source_id = UnicodeAttribute(null=True)
    pads_expire_on = UnicodeAttribute(null=True)  # YYYY-MM-DD
    battery_expires_on = UnicodeAttribute(null=True)  # YYYY-MM-DD
    last_inspected_on = UnicodeAttribute(null=True)  # YYYY-MM-DD
    fault = UnicodeAttribute(null=True)
    suspended_by = UnicodeAttribute(null=True)  # the report id that took it out of search
    in_use_by = UnicodeAttribute(null=True)  # incident id
