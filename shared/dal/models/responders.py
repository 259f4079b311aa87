"""The responder table: one item per certified volunteer (presence and push endpoint included)."""

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


class ResponderModel(Model):
    class Meta:
        table_name = _settings.responders_table
        region = _settings.region

    responder_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    certificate_no = UnicodeAttribute()
    certificate_expires_on = UnicodeAttribute()  # YYYY-MM-DD, valid through that day (deployment TZ)
    created_at = UTCDateTimeAttribute()
    credits_balance = NumberAttribute(default=0)
    available = BooleanAttribute(default=False)
    # Where the responder is lives only in the geo index, whose item goes by TTL at the lapse
    # (shared/dal/responders.py): this record keeps no position.
    presence_expires_at = UTCDateTimeAttribute(null=True)
    push_endpoint_arn = UnicodeAttribute(null=True)  # SNS platform endpoint of the responder's app
    # The credits leaderboard (shared/logic/credits.py, shared/dal/credits.py): absent until the
    # responder chooses; a display name of their own, or none for their masked name.
    leaderboard_opt_in = BooleanAttribute(null=True)
    leaderboard_name = UnicodeAttribute(null=True)
