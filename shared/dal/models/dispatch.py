"""The dispatch centres' table (shared/logic/dispatch): one item per 120 centre. Its signing secrets are
not here: they are in Secrets Manager (shared/dal/dispatch_secrets.py), this item names the one in force."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
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


class DeliveriesByStatusIndex(GlobalSecondaryIndex["DeliveryModel"]):
    """A centre's status webhooks by where they stand (``<centre_id>#failed``...), newest first: what an
    admin lists (GET .../deliveries?status=failed) and replays."""

    class Meta:
        index_name = "centre-status-created"
        projection = AllProjection()

    centre_status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class DeliveryModel(Model):
    """One status webhook to one centre (shared/logic/dispatch/outbound.py): the body as first written
    (every retry sends these very bytes, under the same webhook-id), and how its tries went."""

    class Meta:
        table_name = _settings.dispatch_deliveries_table
        region = _settings.region

    centre_id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)  # msg_<incident_id>.<key>: an incident's are one prefix
    incident_id = UnicodeAttribute()
    type = UnicodeAttribute()
    position = UnicodeAttribute()  # the incident's order: sent in this order
    body = UnicodeAttribute()
    status = UnicodeAttribute()  # pending, delivered, failed
    centre_status = UnicodeAttribute()  # <centre_id>#<status>: the index's key, kept with status
    created_at = UTCDateTimeAttribute()
    due_from = UTCDateTimeAttribute()  # its 24 h of tries count from here (its creation, or a replay)
    attempts = NumberAttribute(default=0)
    last_attempt_at = UTCDateTimeAttribute(null=True)
    last_result = UnicodeAttribute(null=True)  # e.g. "HTTP 503", "timed out after 5 s"
    delivered_at = UTCDateTimeAttribute(null=True)
    failed_at = UTCDateTimeAttribute(null=True)  # parked: 24 h of tries failed
    replays = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # TTL: the rescue records' retention after its creation
    by_status = DeliveriesByStatusIndex()
