"""pynamodb models: the one definition of every table. CDK derives the tables from these classes and
the local runtime creates them from these classes, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.config import settings
from shared.geo.cover import INDEX_LEVELS

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
    presence_lat = NumberAttribute(null=True)
    presence_lng = NumberAttribute(null=True)
    presence_expires_at = UTCDateTimeAttribute(null=True)
    push_endpoint_arn = UnicodeAttribute(null=True)  # SNS platform endpoint of the responder's app


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


class IncidentModel(Model):
    """One emergency. The rescue workflow (infra/statemachine/rescue.asl.json) tracks it to closure."""

    class Meta:
        table_name = _settings.incidents_table
        region = _settings.region

    incident_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # dispatching, responding, on_scene, closed
    lat = NumberAttribute()
    lng = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)  # the caller's sub when signed in
    caller_phone = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    slots_cpr = NumberAttribute(default=0)
    slots_aed = NumberAttribute(default=0)
    filled_cpr = NumberAttribute(default=0)
    filled_aed = NumberAttribute(default=0)
    aed_options = UnicodeAttribute(null=True)  # JSON: usable AEDs near the patient when the SOS came
    wave = NumberAttribute(default=1)
    unanswered = BooleanAttribute(default=False)
    outcome = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    closure_token = UnicodeAttribute(null=True)  # the workflow's task token, waiting for the close
    credits_awarded = BooleanAttribute(null=True)


class SosKeyModel(Model):
    """An SOS Idempotency-Key, written in one transaction with its incident: a retry finds it."""

    class Meta:
        table_name = _settings.sos_keys_table
        region = _settings.region

    key_hash = UnicodeAttribute(hash_key=True)  # sha256 of the caller's key: never stored as sent
    incident_id = UnicodeAttribute()
    body_hash = UnicodeAttribute()
    expires_at = NumberAttribute()  # TTL: retries come within minutes; a day is plenty


class AlertModel(Model):
    """One responder alerted to one incident (the key makes "never alerted twice" a condition)."""

    class Meta:
        table_name = _settings.alerts_table
        region = _settings.region

    incident_id = UnicodeAttribute(hash_key=True)
    responder_id = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute()  # alerted, accepted, declined, stood_down
    wave = NumberAttribute()
    distance_m = NumberAttribute()
    lat = NumberAttribute()  # where the responder was when alerted
    lng = NumberAttribute()
    phone = UnicodeAttribute(null=True)
    push_endpoint_arn = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    aed_id = UnicodeAttribute(null=True)
    alerted_at = UTCDateTimeAttribute()
    answered_at = UTCDateTimeAttribute(null=True)
    # A notice waiting to be published (outbox pattern): set in the same conditional write as the state
    # it announces, cleared once SNS took it; a lapsed lease lets a retry take it over.
    notice = UnicodeAttribute(null=True)  # alert, stand_down
    notice_lease_until = NumberAttribute(null=True)
    notices_sent = NumberAttribute(default=0)


class EventModel(Model):
    class Meta:
        table_name = _settings.events_table
        region = _settings.region

    incident_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)  # ULID: time-ordered
    type = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)  # responder id, or None for the system
    actor_role = UnicodeAttribute()  # responder, dispatcher, admin, system
    at = UTCDateTimeAttribute()
    lat = NumberAttribute(null=True)
    lng = NumberAttribute(null=True)
    detail = UnicodeAttribute(null=True)


class CreditModel(Model):
    """Points, once per (incident, responder, reason): the key is the guard against double awards."""

    class Meta:
        table_name = _settings.credits_table
        region = _settings.region

    responder_id = UnicodeAttribute(hash_key=True)
    credit_key = UnicodeAttribute(range_key=True)  # "<incident_id>#<reason>"
    incident_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    points = NumberAttribute()
    at = UTCDateTimeAttribute()


def column_attribute(level: int) -> str:
    return f"c{level}"


def index_name(level: int) -> str:
    return f"column-{level}"


# What a search needs from an index item, so a Query never has to go back to the table.
GEO_PROJECTED = ["entity_id", "lat", "lng", "expires_at", "attrs"]


def _column_index(level: int) -> type[GlobalSecondaryIndex[Any]]:
    """One GSI per column width: partition = "<kind>#<column>", sort = latitude key."""
    attrs: dict[str, Any] = {
        "Meta": type(
            "Meta",
            (),
            {"index_name": index_name(level), "projection": IncludeProjection(GEO_PROJECTED)},
        ),
        column_attribute(level): UnicodeAttribute(hash_key=True),
        "lat_key": NumberAttribute(range_key=True),
    }
    return type(f"ColumnIndex{level}", (GlobalSecondaryIndex,), attrs)


COLUMN_INDEXES: dict[int, type[GlobalSecondaryIndex[Any]]] = {lvl: _column_index(lvl) for lvl in INDEX_LEVELS}


class _GeoIndexBase(Model):
    class Meta:
        table_name = _settings.geo_table
        region = _settings.region

    # "<kind>#<entity_id>": one sparse item per findable thing (an on-duty certified responder, a
    # usable AED); it is deleted, or lapses by TTL, the moment the thing must no longer be found.
    entity_key = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    lat_key = NumberAttribute()
    expires_at = NumberAttribute(null=True)  # epoch seconds; DynamoDB TTL attribute
    # What a search answers with besides the position (an AED's name, hours...), so it needs no read
    # of the main table.
    attrs: MapAttribute[str, str] = MapAttribute(null=True)


GeoIndexModel: type[_GeoIndexBase] = type(
    "GeoIndexModel",
    (_GeoIndexBase,),
    {
        "__module__": __name__,
        **{column_attribute(lvl): UnicodeAttribute(null=True) for lvl in INDEX_LEVELS},
        **{f"index_{lvl}": COLUMN_INDEXES[lvl]() for lvl in INDEX_LEVELS},
    },
)

from shared.dal.aed_report_models import AedReportModel  # noqa: E402
from shared.dal.certification_models import CERTIFICATION_MODELS, CertificateReminderModel  # noqa: E402
from shared.dal.training_models import TRAINING_MODELS  # noqa: E402
from shared.dal.upkeep_models import AedInspectionModel, UpkeepReminderModel  # noqa: E402

TTL_ATTRIBUTES: dict[type[Model], str] = {
    GeoIndexModel: "expires_at",
    SosKeyModel: "expires_at",
    UpkeepReminderModel: "expires_at",
    CertificateReminderModel: "expires_at",
}
ALL_MODELS: tuple[type[Model], ...] = (
    ResponderModel,
    AedModel,
    GeoIndexModel,
    IncidentModel,
    SosKeyModel,
    AlertModel,
    EventModel,
    CreditModel,
    AedReportModel,
    AedInspectionModel,
    UpkeepReminderModel,
    *TRAINING_MODELS,
    *CERTIFICATION_MODELS,
)
