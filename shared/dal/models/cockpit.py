"""Tables of the Red Cross cockpit (docs/cockpit.md): a summary per incident, kept by cockpit_changes from
the rescue tables' streams, and the districts the figures are filtered by."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class RescueSummaryModel(Model):
    """One incident's figures, re-derived from its records at each change (so replays are harmless).
    Keyed so that a period is one Query per local month it touches: ``month`` is the local month of the
    incident's creation (deployment time zone), ``created_key`` its creation instant (UTC ISO 8601, which
    sorts as time) then ``#`` and the incident id."""

    class Meta:
        table_name = _settings.rescue_summaries_table
        region = _settings.region

    month = UnicodeAttribute(hash_key=True)  # "2026-12"
    created_key = UnicodeAttribute(range_key=True)  # "2026-12-06T03:00:00.000000+00:00#01J..."
    incident_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    source = UnicodeAttribute()  # app, dispatch, console
    status = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)
    alerted = NumberAttribute(default=0)
    accepted = NumberAttribute(default=0)
    unanswered = BooleanAttribute(default=False)
    first_accept_s = NumberAttribute(null=True)
    first_arrival_s = NumberAttribute(null=True)
    aed_attached_s = NumberAttribute(null=True)
    # When the run that wrote it began reading the records (epoch seconds): a run that began later read
    # records at least as new (consistent reads), so an older run never overwrites it.
    derived_at = NumberAttribute()


class DistrictModel(Model):
    """A district the cockpit filters by: tens of items, listed by Scan (docs/cockpit.md, Districts)."""

    class Meta:
        table_name = _settings.districts_table
        region = _settings.region

    district_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    name_en = UnicodeAttribute(null=True)
    area = UnicodeAttribute()  # the GeoJSON geometry, as JSON
    note = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
