"""Tables of the rescue loop: incidents, SOS idempotency keys, alerts, the timeline's events, credits."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


# What the dispatchers' list of incidents shows (GET /v1/incidents), copied into its index so that a
# page is one Query with no read of the table: never the caller's phone, note or the AED options.
# shared.logic.rescue.ports.IncidentSummary has exactly these fields and the keys (a test holds them).
LISTED_ATTRIBUTES = (
    "status",
    "lat",
    "lng",
    "source",
    "cad_incident_no",
    "alerted",
    "slots_cpr",
    "slots_aed",
    "filled_cpr",
    "filled_aed",
    "unanswered",
    "outcome",
    "closed_at",
)


class IncidentsByListingIndex(GlobalSecondaryIndex["IncidentModel"]):
    """Incidents by list ("open" or "closed"), newest first: the dispatchers' list. Sparse: a merged SOS
    carries no ``listing``, so it is on neither list (its caller shows on the incident it joined)."""

    class Meta:
        index_name = "listing-created"
        projection = IncludeProjection(list(LISTED_ATTRIBUTES))

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class IncidentModel(Model):
    """One emergency. The rescue workflow (infra/statemachine/rescue.asl.json) tracks it to closure."""

    class Meta:
        table_name = _settings.incidents_table
        region = _settings.region
        # Its changes wake the status webhooks to the dispatch centres (shared.routes.STREAM_SOURCES): the
        # keys are all they need, the run reads the incident as it stands.
        stream_view_type = "KEYS_ONLY"

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
    credits_points = NumberAttribute(null=True)  # the points the close awarded, all responders together
    merged_into = UnicodeAttribute(null=True)
    centre_told = BooleanAttribute(default=False)
    source = UnicodeAttribute(default="app")  # app (an SOS), dispatch (the 120 centre's CAD system)
    cad_incident_no = UnicodeAttribute(null=True)  # the dispatch centre's own number for it
    # Raised by a dispatch centre (source "dispatch", shared/logic/dispatch): which, and its call's details.
    centre_id = UnicodeAttribute(null=True)
    nature = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    floor = UnicodeAttribute(null=True)
    call_received_at = UTCDateTimeAttribute(null=True)
    # Responders alerted so far: raised (never lowered) by whoever wrote alerts, to the count it knows
    # of; the workflow's steps set it to the alerts' true count (shared/logic/rescue/waves.py).
    alerted = NumberAttribute(default=0)
    # "open" from creation, "closed" in the very write that closes it (also the workflow's expiry in
    # rescue.asl.json); removed when the SOS merges into another: the by-listing index's partition.
    listing = UnicodeAttribute(null=True)
    by_listing = IncidentsByListingIndex()


class SosKeyModel(Model):
    """The rescue loop's guard keys, each written in one transaction with what it guards (so a retry or
    a race finds it), every one hashed, never stored as sent, and gone by TTL:
    - an SOS's Idempotency-Key, with its incident (incident_id, body_hash);
    - an event's once-only key, with that event (body_hash holds the event's id;
      shared.logic.rescue.assignment.once_key);
    - a source's SOS count in a window, and a responder's alerts in an hour and a day (tally;
      shared.logic.rescue.limits);
    - a responder busy in a rescue (incident_id), from their accept to its closure;
    - a dispatch centre's incident by its CAD number and by the webhook-id that raised it (written with
      the incident: shared.logic.dispatch.inbound), and each update's webhook-id (a replay is found)."""

    class Meta:
        table_name = _settings.sos_keys_table
        region = _settings.region

    key_hash = UnicodeAttribute(hash_key=True)  # sha256 of what it guards
    incident_id = UnicodeAttribute(null=True)
    body_hash = UnicodeAttribute(null=True)
    tally = NumberAttribute(null=True)  # a count (pynamodb's Model has a count() of its own)
    expires_at = NumberAttribute()  # TTL: each kind's own (a day for keys; the window for counts)


# What a team's leader sees of a member's alert (GET /v1/teams/{team_id}/responses), copied into the
# by-team index so that a page is one Query: shared.logic.teams.Response has exactly these and the keys.
TEAM_RESPONSE_ATTRIBUTES = ("state", "wave", "distance_m", "role", "aed_id", "answered_at")


class AlertsByTeamIndex(GlobalSecondaryIndex["AlertModel"]):
    """A team's members' alerts, newest first: its leader's view. Sparse: only a member alerted as one
    (wave 1, the team's area and hours holding the incident) carries ``team_id``."""

    class Meta:
        index_name = "by-team"
        projection = IncludeProjection(list(TEAM_RESPONSE_ATTRIBUTES))

    team_id = UnicodeAttribute(hash_key=True)
    alerted_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class AlertModel(Model):
    """One responder alerted to one incident (the key makes "never alerted twice" a condition)."""

    class Meta:
        table_name = _settings.alerts_table
        region = _settings.region
        # Keys only, as the incidents' and events': an accept or a decline wakes the cockpit's summary
        # (shared.routes.STREAM_SOURCES, cockpit_changes).
        stream_view_type = "KEYS_ONLY"

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
    stood_down_at = UTCDateTimeAttribute(null=True)
    # A notice waiting to be published (outbox pattern): set in the same conditional write as the state
    # it announces, cleared once SNS took it; a lapsed lease lets a retry take it over.
    notice = UnicodeAttribute(null=True)  # alert, stand_down
    notice_lease_until = NumberAttribute(null=True)
    notices_sent = NumberAttribute(default=0)
    team_id = UnicodeAttribute(null=True)  # alerted as a member of this team (shared/logic/teams.py)
    by_team = AlertsByTeamIndex()
    # TTL: set when the rescue finishes, to its closure + the retention (the responder's phone and where
    # they were go with it; docs/privacy.md).
    expires_at = NumberAttribute(null=True)


class EventModel(Model):
    class Meta:
        table_name = _settings.events_table
        region = _settings.region
        stream_view_type = "KEYS_ONLY"  # as the incidents': a responder's arrival, CPR, shock wake them too

    incident_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)  # ULID: time-ordered
    type = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)  # responder id, or None for the system
    actor_role = UnicodeAttribute()  # responder, dispatcher, admin, system
    at = UTCDateTimeAttribute()
    lat = NumberAttribute(null=True)
    lng = NumberAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(
        null=True
    )  # TTL: as the alerts' (an event may carry where the responder was)


class CreditsByMonthIndex(GlobalSecondaryIndex["CreditModel"]):
    """Credits by the local month they were awarded in (deployment time zone): the leaderboard reads a
    month with one Query (~5,400 small items at Hangzhou's ~20 rescues a day), a year with 12. Only the
    points are copied in; the incident is the credit key's prefix."""

    class Meta:
        index_name = "by-month"
        projection = IncludeProjection(["points"])

    month = UnicodeAttribute(hash_key=True)  # "YYYY-MM", local
    at = UTCDateTimeAttribute(range_key=True)


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
    # The by-month index's partition, derived from ``at`` (shared.logic.credits.local_month); absent
    # on credits written before it existed, which the leaderboard then does not count.
    month = UnicodeAttribute(null=True)
    by_month = CreditsByMonthIndex()
    # The export to the provincial public-credit platform that listed it (shared/logic/credits_export.py):
    # set once, conditionally, so no export lists a credit another one listed.
    exported_in = UnicodeAttribute(null=True)
