"""Every stored entity round-trips (issue 9): for every repository in shared/dal, a randomly generated
entity, every optional field set and unset, is saved to the embedded DynamoDB and read back equal, field
for field, through the repository's own methods. Partial writes (presence, a resolution, a closure...)
are checked the same way, on top of a whole entity. Strategies are derived from the dataclass fields, so
a new field is generated (and must survive storage) without touching this file.

Also: every dataclass's fields and its model's attributes correspond (shared/dal/mapping.py).
"""

from __future__ import annotations

import dataclasses
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from shared.dal.aed_faults import DynamoReports
from shared.dal.aed_import import DynamoAedImports
from shared.dal.aed_registry import DynamoAeds
from shared.dal.aed_upkeep import DynamoAedCatalog, DynamoInspections, DynamoReminderMarkers
from shared.dal.certification import (
    DynamoCertificates,
    DynamoExaminerPool,
    DynamoExams,
    DynamoReminderLog,
    DynamoResponderCertificates,
)
from shared.dal.cockpit import DynamoDistricts, DynamoRescueSummaries
from shared.dal.credits_export import DynamoExportRecords  # noqa: F401 - declares the export's mapper
from shared.dal.debriefs import DynamoDebriefs  # noqa: F401 - declares the debrief's mapper
from shared.dal.dispatch import DynamoCentreKeys, DynamoDispatchCentres
from shared.dal.dispatch_deliveries import DynamoDeliveryLog
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.mapping import MappingError, check, declared
from shared.dal.models.rescue import LISTED_ATTRIBUTES
from shared.dal.rescue import DynamoIncidents
from shared.dal.responders import DynamoResponders
from shared.dal.tables import ALL_MODELS
from shared.dal.teaching import DynamoTeaching
from shared.dal.teams import DynamoTeams  # noqa: F401 - declares the team's mapper
from shared.geo.datum import storable
from shared.logic.aed_faults import FaultReport
from shared.logic.aed_import import REGISTRY_FIELDS
from shared.logic.aed_upkeep import Inspection
from shared.logic.certification.ports import Certificate, Exam, Score
from shared.logic.dispatch.outbound import Delivery
from shared.logic.dispatch.ports import DispatchCentre
from shared.logic.dispatch.status import webhook_id
from shared.logic.ports import RESPONDER, Aed, Credit, Responder
from shared.logic.rescue.ports import (
    AedOption,
    Alert,
    Award,
    DuplicateSos,
    GuardKey,
    Incident,
    IncidentEvent,
    IncidentSummary,
)
from shared.logic.teaching.ports import TheoryDone
from shared.logic.teaching.records import Course, Evaluation, Registration, Session
from tests.integration.rescue_helpers import on_duty_records

ROUNDTRIP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TRANSACTIONS = settings(ROUNDTRIP, max_examples=30)  # each example is a few transactions

# --- strategies, derived from the dataclass fields -------------------------------------------------

# Any text a person may type: every Unicode scalar value (NUL and astral planes included), never a lone
# surrogate (not encodable as UTF-8, so neither JSON nor DynamoDB can carry it). Empty is allowed.
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
# Key attributes, of the table or of an index, cannot be empty in DynamoDB (nor are they: ids, names).
KEY = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
# Instants, microseconds included (what UTCDateTimeAttribute keeps), in several zones: they come back
# in UTC, equal as instants.
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))])
INSTANTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES)
DATES = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))
INTS = st.integers(min_value=-(10**15), max_value=10**15)
# DynamoDB numbers: no magnitude under 1e-130 (storable() makes such a coordinate 0, as the API does).
NUMBERS = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False).map(storable)
DEGREES = {"lat": 90.0, "lng": 180.0, "presence_lat": 90.0, "presence_lng": 180.0}

# A responder's position and the index's lease are the geo index item's, not the record's.
NO_POSITION = {"presence_lat": None, "presence_lng": None, "presence_indexed_until": None}


def fresh() -> str:
    """A key no other example used: hypothesis replays examples, the table outlives them."""
    return uuid.uuid4().hex


def _optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def values(hint: Any, name: str = "", mode: str = "mixed") -> SearchStrategy[Any]:
    """Values of a dataclass field's type (its name picks a domain where one applies: coordinates)."""
    inner, optional = _optional(hint)
    if optional:
        if mode == "unset":
            return st.none()
        plain = values(inner, name, mode)
        return plain if mode == "set" else st.none() | plain
    origin = typing.get_origin(inner)
    if inner is float and name in DEGREES:
        limit = DEGREES[name]
        return st.floats(min_value=-limit, max_value=limit, allow_nan=False).map(storable)
    if inner is datetime:
        return INSTANTS
    if inner is date:
        return DATES
    if inner is bool:
        return st.booleans()
    if inner is int:
        return INTS
    if inner is float:
        return NUMBERS
    if inner is str:
        return TEXT
    if origin is list:
        (item,) = typing.get_args(inner)
        return st.lists(values(item, "", mode), max_size=4)
    if origin in (dict, Mapping):
        key, item = typing.get_args(inner)
        return st.dictionaries(values(key), values(item), max_size=4)
    if dataclasses.is_dataclass(inner):
        return entities(inner, mode=mode)
    raise TypeError(f"no strategy for {hint!r}")


def entities(cls: type[Any], mode: str | None = None, **fixed: Any) -> SearchStrategy[Any]:
    """Instances of a dataclass. Without ``mode``: every optional field unset, or all set, or each
    either way (so both extremes are always among the examples). ``fixed``: a field's value or strategy."""
    if mode is None:
        return st.sampled_from(["unset", "set", "mixed"]).flatmap(lambda m: entities(cls, m, **fixed))
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: fixed[f.name] if f.name in fixed else values(hints[f.name], f.name, mode)
        for f in dataclasses.fields(cls)
    }
    return st.builds(
        cls, **{k: v if isinstance(v, SearchStrategy) else st.just(v) for k, v in fields.items()}
    )


# An alert's keys, and its team's (the by-team index's key: never empty, when set).
ALERTS = entities(Alert, responder_id=KEY, team_id=st.none() | KEY)


# --- the declarations themselves ---------------------------------------------------------------

# Tables that hold no dataclass of the logic (so no mapper), and why.
NO_ENTITY = {
    "GeoIndexModel": "the geo index: written by DynamoGeoIndex.put, read back as Hit (tested below)",
    "SosKeyModel": "an SOS Idempotency-Key: written with its incident, read only as DuplicateSos",
    "UpkeepReminderModel": "a once-only marker: take/sent/release (tested below)",
    "CertificateNumberModel": "a counter (tested below)",
    "CertificateReminderModel": "a once-only marker: claim/release (tested below)",
    "RegistrationKeyModel": "the (session, person) guard of a registration: read as registration_of",
}


def test_every_dataclass_and_its_model_correspond() -> None:
    # Every repository module is imported above: each declares its entities (tables only: a test may
    # declare a throwaway pair).
    storages = [s for s in declared() if s.model in ALL_MODELS]
    for storage in storages:
        check(storage)  # raises MappingError naming the field or attribute that would be lost
    mapped = {s.model.__name__ for s in storages}
    tables = {m.__name__ for m in ALL_MODELS}
    assert tables - mapped == set(NO_ENTITY), "a table that holds an entity has no declared mapper"
    for storage in storages:
        assert all(
            reason.strip() for reason in (*storage.storage_only.values(), *storage.not_stored.values())
        )


def test_a_field_the_model_lacks_fails_loudly() -> None:
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.models import Model

    from shared.dal.mapping import from_model, stored, to_model

    @dataclasses.dataclass
    class Thing:
        thing_id: str
        colour: str | None = None

    class ThingModel(Model):
        class Meta:
            table_name = "things"

        thing_id = UnicodeAttribute(hash_key=True)
        size = UnicodeAttribute(null=True)

    stored(Thing, ThingModel)
    with pytest.raises(MappingError, match=r"Thing.colour has no ThingModel attribute"):
        to_model(ThingModel, Thing("t"))
    with pytest.raises(MappingError, match=r"ThingModel.size has no Thing field"):
        from_model(Thing, ThingModel(thing_id="t"))


# --- responders ----------------------------------------------------------------------------------


@ROUNDTRIP
@given(responder=entities(Responder), presence=entities(Responder))
def test_a_responder_round_trips_and_so_does_their_presence(aws, responder, presence):
    repo = DynamoResponders()
    # The position is not the record's (it lives in the geo index, gone at the lapse): none here.
    responder = replace(responder, responder_id=fresh(), **NO_POSITION)
    repo.create(responder)
    assert repo.get(responder.responder_id) == responder

    fields = ("available", "presence_expires_at")
    moved = replace(responder, **{n: getattr(presence, n) for n in fields})
    repo.save_presence(moved)
    assert repo.get(responder.responder_id) == moved
    repo.save_push_endpoint(responder.responder_id, presence.name)
    assert repo.get(responder.responder_id) == replace(moved, push_endpoint_arn=presence.name)
    if moved.available and moved.presence_expires_at:  # position and lease: read from the geo index item
        until = datetime(2026, 12, 1, 2, 40, tzinfo=UTC)
        lease = int(until.timestamp())
        DynamoGeoIndex().put(RESPONDER, responder.responder_id, 30.26, 120.16, expires_at=lease)
        got = repo.get(responder.responder_id)
        assert got is not None
        assert (got.presence_lat, got.presence_lng, got.presence_indexed_until) == (30.26, 120.16, until)


@ROUNDTRIP
@given(name=TEXT, phone=TEXT, number=TEXT, expires_on=DATES, now=INSTANTS, renewal=DATES, renewed_name=TEXT)
def test_a_certificate_grants_renews_and_withdraws_a_responder(
    aws, name, phone, number, expires_on, now, renewal, renewed_name
):
    pool, responders_ = DynamoResponderCertificates(), DynamoResponders()
    person = fresh()
    assert pool.grant(person, name, phone, number, expires_on, now) is True
    granted = Responder(person, name, phone, number, expires_on, now)
    assert responders_.get(person) == granted

    pool.grant(person, renewed_name, phone, number + "-2", renewal, now)
    if renewal >= expires_on:  # never renewed onto a certificate that ends sooner
        granted = replace(
            granted, name=renewed_name, certificate_no=number + "-2", certificate_expires_on=renewal
        )
    assert responders_.get(person) == granted

    assert pool.withdraw(person, granted.certificate_no, expires_on) is True
    assert responders_.get(person) == replace(granted, certificate_expires_on=expires_on, available=False)


# --- the AED registry, imports and upkeep ----------------------------------------------------------


@ROUNDTRIP
@given(aed=entities(Aed), edited=entities(Aed))
def test_an_aed_round_trips_through_create_and_save(aws, aed, edited):
    repo = DynamoAeds()
    aed = replace(aed, aed_id=fresh())
    repo.create(aed)
    assert repo.get(aed.aed_id) == aed

    edited = replace(edited, aed_id=aed.aed_id)
    repo.save(edited, expected_updated_at=aed.updated_at)
    assert repo.get(aed.aed_id) == edited


@ROUNDTRIP
@given(aeds=st.lists(entities(Aed), min_size=1, max_size=3), changes=entities(Aed), now=INSTANTS)
def test_aeds_round_trip_through_imports_and_the_daily_catalog(aws, aeds, changes, now):
    imports, catalog = DynamoAedImports(), DynamoAedCatalog()
    aeds = [replace(a, aed_id=fresh()) for a in aeds]
    assert imports.create_many(aeds) == set()
    assert imports.get_many([a.aed_id for a in aeds]) == {a.aed_id: a for a in aeds}
    everything = list(catalog.all())
    assert all(a in everything for a in aeds)

    first = aeds[0]
    registry = {name: getattr(changes, name) for name in REGISTRY_FIELDS}
    updated = replace(first, **registry, updated_at=now)
    assert imports.update_registry_fields(first.aed_id, registry, now) == updated
    assert imports.get_many([first.aed_id]) == {first.aed_id: updated}

    expired = catalog.mark_expired(first.aed_id, now)
    assert expired == (replace(updated, status="expired") if updated.status == "ok" else None)


@ROUNDTRIP
@given(
    report=entities(FaultReport),
    state=st.sampled_from(["confirmed", "cleared"]),
    by=TEXT,
    at=INSTANTS,
    note=TEXT,
)
def test_a_fault_report_round_trips_and_so_does_its_resolution(aws, report, state, by, at, note):
    repo = DynamoReports()
    report = replace(report, aed_id=fresh(), report_id=fresh())
    repo.add(report)
    assert repo.get(report.aed_id, report.report_id) == report
    assert repo.list(report.aed_id, None, 10, None) == ([report], None)

    opened = replace(report, aed_id=fresh(), state="open")
    repo.add(opened)
    assert repo.resolve(opened.aed_id, opened.report_id, state, by, at, note or None) is True
    resolved = replace(opened, state=state, resolved_at=at, resolved_by=by)
    if note:
        resolved = replace(resolved, resolution_note=note)
    assert repo.get(opened.aed_id, opened.report_id) == resolved


@ROUNDTRIP
@given(inspection=entities(Inspection))
def test_an_inspection_round_trips(aws, inspection):
    repo = DynamoInspections()
    inspection = replace(inspection, aed_id=fresh(), inspection_id="01" + uuid.uuid4().hex[:24].upper())
    repo.add(inspection)
    page = repo.page(inspection.aed_id, 10, None)
    assert page.items == [inspection] and page.next_token is None


@ROUNDTRIP
@given(key=TEXT, now=st.integers(0, 2**31), lease=st.integers(1, 3600), at=INSTANTS)
def test_an_upkeep_reminder_marker_is_taken_once(aws, key, now, lease, at):
    markers, aed_id = DynamoReminderMarkers(), fresh()
    key = key or "k"  # a sort key is never empty
    assert markers.take(aed_id, key, now, now + lease, now + 10 * lease) is True
    assert markers.take(aed_id, key, now, now + lease, now + 10 * lease) is False  # leased
    markers.release(aed_id, key)
    assert markers.take(aed_id, key, now, now + lease, now + 10 * lease) is True
    markers.sent(aed_id, key, at)
    assert markers.take(aed_id, key, now + lease + 1, now + 2 * lease, now + 10 * lease) is False  # sent


# --- the rescue loop -----------------------------------------------------------------------------


@TRANSACTIONS
@given(
    incident=entities(Incident),
    sos_key=st.booleans(),
    options=st.lists(entities(AedOption), max_size=3),
    slots=INTS,
    outcome=TEXT,
    closed_at=INSTANTS,
)
def test_an_incident_round_trips_and_so_do_its_options_and_closure(
    aws, incident, sos_key, options, slots, outcome, closed_at
):
    repo = DynamoIncidents()
    incident = replace(incident, incident_id=fresh())
    repo.create(incident, fresh() if sos_key else None, "body")
    assert repo.get(incident.incident_id) == incident

    repo.set_aed_options(incident.incident_id, options, slots)
    incident = replace(incident, aed_options=options, slots_aed=slots)
    assert repo.get(incident.incident_id) == incident
    if options:
        dropped = repo.drop_aed_option(incident.incident_id, options[0].aed_id)
        incident = replace(incident, aed_options=[o for o in options if o.aed_id != options[0].aed_id])
        assert dropped == incident == repo.get(incident.incident_id)

    closed = repo.close(incident.incident_id, outcome, closed_at)
    if incident.status == "closed":
        assert closed is None
    else:
        incident = replace(
            incident, status="closed", outcome=outcome, closed_at=closed_at.astimezone(UTC).isoformat()
        )
        assert closed == incident == repo.get(incident.incident_id)


@ROUNDTRIP
@given(alert=ALERTS, at=INSTANTS)
def test_an_alert_round_trips_and_so_does_its_answer(aws, alert, at):
    repo = DynamoIncidents()
    alert = replace(alert, incident_id=fresh())
    on_duty_records(alert.responder_id)  # an alert is written only for a responder on duty
    assert repo.add_alert(alert) == "written"
    assert repo.get_alert(alert.incident_id, alert.responder_id) == alert
    assert repo.alerts(alert.incident_id) == [alert]

    waiting = replace(alert, incident_id=fresh(), state="alerted")
    repo.add_alert(waiting)
    assert repo.decline(waiting.incident_id, waiting.responder_id, at) is True
    declined = replace(waiting, state="declined", answered_at=at)
    assert repo.get_alert(waiting.incident_id, waiting.responder_id) == declined


@ROUNDTRIP
@given(events=st.lists(entities(IncidentEvent), min_size=1, max_size=4))
def test_an_incidents_events_round_trip(aws, events):
    repo, incident_id = DynamoIncidents(), fresh()
    events = [replace(e, incident_id=incident_id, event_id=f"{i:02d}{fresh()}") for i, e in enumerate(events)]
    for event in events:
        repo.add_event(event)
    assert repo.events(incident_id) == events


@TRANSACTIONS
@given(
    incident=entities(Incident, status="closed", credits_awarded=False, credits_points=None),
    responder=entities(Responder),
    awards=st.lists(st.tuples(TEXT, INTS), min_size=1, max_size=3, unique_by=lambda a: a[0]),
    at=INSTANTS,
)
def test_credits_round_trip(aws, incident, responder, awards, at):
    repo, people = DynamoIncidents(), DynamoResponders()
    incident = replace(incident, incident_id=fresh())
    # (A responder's position is the geo index's, not the record's: none here.)
    responder = replace(responder, responder_id=fresh(), **NO_POSITION)
    repo.create(incident, None, "body")
    people.create(responder)
    given_ = [Award(responder.responder_id, reason, points) for reason, points in awards]
    assert repo.award(incident.incident_id, given_, at) is True
    credits = [Credit(incident.incident_id, reason, points, at) for reason, points in awards]
    assert sorted(repo.credits(responder.responder_id), key=lambda c: c.reason) == sorted(
        credits, key=lambda c: c.reason
    )
    total = sum(points for _, points in awards)
    assert repo.get(incident.incident_id) == replace(incident, credits_awarded=True, credits_points=total)
    balance = responder.credits_balance + sum(points for _, points in awards)
    assert people.get(responder.responder_id) == replace(responder, credits_balance=balance)
    assert repo.award(incident.incident_id, given_, at) is False  # once


# --- the dispatchers' console: the list's index, the alerted count, stand-downs, an incident's points ----

STATUSES = st.sampled_from(["dispatching", "responding", "on_scene", "closed", "merged"])


def _summary(incident: Incident) -> IncidentSummary:
    return IncidentSummary(**{f.name: getattr(incident, f.name) for f in dataclasses.fields(IncidentSummary)})


def _listed(repo: DynamoIncidents, listing: str, incident: Incident) -> list[IncidentSummary]:
    """Every entry of ``incident`` in the list, from its creation on (other examples' may be there)."""
    found, token = [], None
    while True:
        page = repo.list_incidents(listing, incident.created_at, 100, token)
        found += [i for i in page.items if i.incident_id == incident.incident_id]
        token = page.next_token
        if token is None:
            return found


def test_the_lists_index_holds_every_field_a_listed_incident_has() -> None:
    keys = {"incident_id", "created_at"}
    assert {f.name for f in dataclasses.fields(IncidentSummary)} == keys | set(LISTED_ATTRIBUTES)


@TRANSACTIONS
@given(
    incident=entities(Incident, status=STATUSES),
    counts=st.lists(INTS, max_size=3),
    merge=st.booleans(),
    outcome=TEXT,
    closed_at=INSTANTS,
)
def test_an_incident_round_trips_through_the_list_and_so_does_its_alerted_count(
    aws, incident, counts, merge, outcome, closed_at
):
    repo = DynamoIncidents()
    incident = replace(incident, incident_id=fresh())
    repo.create(incident, None, "body")
    for count in counts:
        repo.count_alerted(incident.incident_id, count)
    incident = replace(incident, alerted=max([incident.alerted, *counts]))  # raised, never lowered
    assert repo.get(incident.incident_id) == incident
    if merge and incident.status == "dispatching":
        joined = IncidentEvent("first", fresh(), "caller_joined", None, "system", closed_at)
        assert repo.merge(incident.incident_id, "first", joined) is True
        incident = replace(incident, status="merged", merged_into="first")
    on = {"merged": None, "closed": "closed"}.get(incident.status, "open")
    for listing in ("open", "closed"):
        assert _listed(repo, listing, incident) == ([_summary(incident)] if listing == on else [])

    if repo.close(incident.incident_id, outcome, closed_at) is not None:
        closed = replace(
            incident, status="closed", outcome=outcome, closed_at=closed_at.astimezone(UTC).isoformat()
        )
        assert repo.get(incident.incident_id) == closed
        assert _listed(repo, "closed", closed) == [_summary(closed)]
        assert _listed(repo, "open", closed) == []


@ROUNDTRIP
@given(alert=ALERTS, lease=INTS, at=INSTANTS)
def test_a_stand_down_round_trips_with_its_time(aws, alert, lease, at):
    repo = DynamoIncidents()
    alert = replace(alert, incident_id=fresh(), state="alerted")
    on_duty_records(alert.responder_id)
    assert repo.add_alert(alert) == "written"
    assert repo.stand_down(alert.incident_id, alert.responder_id, lease, at) is True
    stood = replace(
        alert, state="stood_down", stood_down_at=at, notice="stand_down", notice_lease_until=lease
    )
    assert repo.get_alert(alert.incident_id, alert.responder_id) == stood
    assert repo.stand_down(alert.incident_id, alert.responder_id, lease, at) is False  # once


@TRANSACTIONS
@given(
    incidents=st.lists(entities(Incident, status="closed", credits_awarded=False), min_size=2, max_size=2),
    awards=st.lists(st.tuples(st.sampled_from(["a", "b"]), TEXT, INTS), min_size=1, max_size=4),
    at=INSTANTS,
)
def test_an_incidents_credits_are_read_back_per_responder(aws, incidents, awards, at):
    repo, people = DynamoIncidents(), DynamoResponders()
    ours, other = (replace(i, incident_id=fresh()) for i in incidents)
    who = {name: fresh() for name in ("a", "b")}
    for rid in who.values():
        people.create(Responder(rid, "志愿者", "+8613900000000", "C", date(2030, 1, 1), at))
    given_ = list({(who[n], reason): Award(who[n], reason, points) for n, reason, points in awards}.values())
    for incident in (ours, other):
        repo.create(incident, None, "body")
        assert repo.award(incident.incident_id, given_, at) is True
    got = repo.credits_of(ours.incident_id, [who["a"], who["b"], who["a"]])
    assert set(got) == set(who.values())
    for rid, credits in got.items():  # the other incident's points for the same people are not these
        want = [Credit(ours.incident_id, a.reason, a.points, at) for a in given_ if a.responder_id == rid]
        assert sorted(credits, key=lambda c: c.reason) == sorted(want, key=lambda c: c.reason)


# --- the 120 link: dispatch centres, and their keys beside the rescue loop's -------------------------


@ROUNDTRIP
@given(
    centre=entities(DispatchCentre),
    details=entities(DispatchCentre),
    version=TEXT,
    lease=st.integers(0, 2**40),
)
def test_a_dispatch_centre_round_trips_and_so_does_the_issue_of_its_secret(
    aws, centre, details, version, lease
):
    repo, centre_id = DynamoDispatchCentres(), fresh()
    created = centre.created_at
    saved = repo.save_details(centre_id, centre.name, centre.callback_url, centre.area, created)
    expected = DispatchCentre(centre_id, centre.name, centre.callback_url, centre.area, created, created)
    assert saved == expected == repo.get(centre_id)

    changed = repo.save_details(
        centre_id, details.name, details.callback_url, details.area, details.updated_at
    )
    expected = replace(
        expected,
        name=details.name,
        callback_url=details.callback_url,
        area=details.area,
        updated_at=details.updated_at,
    )
    assert changed == expected == repo.get(centre_id)  # created_at is the first registration's

    assert repo.take_issuing(centre_id, None, lease, lease + 30) is True
    assert repo.get(centre_id) == replace(expected, issuing_until=lease + 30)
    assert repo.take_issuing(centre_id, None, lease + 30, lease + 60) is False  # held until it lapses
    issued_at, valid_until = details.created_at, centre.previous_secret_valid_until
    assert repo.finish_issuing(centre_id, lease + 30, version, issued_at, valid_until) is True
    expected = replace(
        expected, secret_version=version, secret_issued_at=issued_at, previous_secret_valid_until=valid_until
    )
    assert repo.get(centre_id) == expected
    assert repo.take_issuing(centre_id, None, lease, lease + 30) is False  # a secret is issued now
    assert repo.finish_issuing(centre_id, lease + 30, "late", issued_at, None) is False  # lease not held


@ROUNDTRIP
@given(delivery=entities(Delivery), tried=entities(Delivery), status=st.sampled_from(["delivered", "failed"]))
def test_a_status_webhooks_delivery_round_trips_through_its_tries_and_a_replay(aws, delivery, tried, status):
    log, centre_id, incident_id = DynamoDeliveryLog(), fresh(), fresh()
    delivery = replace(
        delivery,
        centre_id=centre_id,
        incident_id=incident_id,
        webhook_id=webhook_id(incident_id, "k"),
        status="pending",
    )
    assert log.add(delivery) == delivery == log.get(centre_id, delivery.webhook_id)
    assert log.add(replace(delivery, body="another")) == delivery  # recorded once: the first stands
    assert log.of_incident(centre_id, incident_id) == [delivery]
    assert log.of_incident(centre_id, fresh()) == []
    after = replace(
        tried, centre_id=centre_id, incident_id=incident_id, webhook_id=delivery.webhook_id, status=status
    )
    log.tried(after)
    assert log.get(centre_id, delivery.webhook_id) == after
    assert log.page(centre_id, status, 10, None).items == [after]
    assert log.page(centre_id, "pending", 10, None).items == []
    again = log.replay(after, delivery.created_at)
    assert again is not None and log.get(centre_id, delivery.webhook_id) == again
    assert (again.status, again.replays, again.attempts) == ("pending", after.replays + 1, 0)
    assert log.replay(again, delivery.created_at) is None  # pending already


@ROUNDTRIP
@given(incident=entities(Incident), body=TEXT, expires_at=st.integers(0, 2**40))
def test_a_centres_keys_are_written_with_its_incident_and_claimed_once(aws, incident, body, expires_at):
    incidents, keys = DynamoIncidents(), DynamoCentreKeys()
    incident = replace(incident, incident_id=fresh())
    cad, webhook = GuardKey(fresh(), body, expires_at), GuardKey(fresh(), body, expires_at)
    assert keys.incident_of(cad.key_hash) is None
    incidents.create(incident, None, "", [], [cad, webhook])
    assert incidents.get(incident.incident_id) == incident
    assert keys.incident_of(cad.key_hash) == keys.incident_of(webhook.key_hash) == incident.incident_id
    with pytest.raises(DuplicateSos) as again:  # the same CAD number again: that incident
        incidents.create(
            replace(incident, incident_id=fresh()), None, "", [], [cad, GuardKey(fresh(), "", 0)]
        )
    assert (again.value.incident_id, again.value.same_body) == (incident.incident_id, True)

    update = GuardKey(fresh(), body, expires_at)
    assert keys.claim(update, incident.incident_id) is None
    assert keys.claim(replace(update, body_hash=body + "!"), "another") == update  # the first one's
    keys.release(replace(update, body_hash=body + "!"))  # not the key as written: kept
    assert keys.incident_of(update.key_hash) == incident.incident_id
    keys.release(update)
    assert keys.incident_of(update.key_hash) is None


# --- teaching --------------------------------------------------------------------------------------


@ROUNDTRIP
@given(course=entities(Course))
def test_a_course_round_trips(aws, course):
    repo = DynamoTeaching()
    course = replace(course, course_id=fresh())
    repo.create_course(course)
    assert repo.course(course.course_id) == course


@ROUNDTRIP
@given(session=entities(Session))
def test_a_session_round_trips(aws, session):
    repo = DynamoTeaching()
    session = replace(session, session_id=fresh())
    repo.create_session(session)
    assert repo.session(session.session_id) == session
    assert repo.sessions([session.session_id]) == {session.session_id: session}
    found = repo.sessions_between(session.starts_at, session.starts_at + timedelta(microseconds=1))
    assert session in found


@TRANSACTIONS
@given(
    session=entities(Session, confirmed=0, waitlisted=0),
    registration=entities(Registration, position=None),
    waiting=st.booleans(),
    at=INSTANTS,
)
def test_a_registration_round_trips_and_so_does_its_check_in(aws, session, registration, waiting, at):
    repo = DynamoTeaching()
    session = replace(session, session_id=fresh(), capacity=0 if waiting else 1)
    repo.create_session(session)
    registration = replace(
        registration, registration_id=fresh(), session_id=session.session_id, person_id=fresh()
    )
    if waiting:
        assert repo.join_waitlist(registration) is True
        expected = replace(registration, status="waitlisted", position=1)
    else:
        assert repo.take_seat(registration) is True
        expected = replace(registration, status="confirmed")
    assert repo.registration(registration.registration_id) == expected
    assert repo.registrations_of_person(registration.person_id) == [expected]
    assert repo.registrations_of_session(session.session_id) == [expected]

    if not waiting and registration.checked_in_at is None:
        assert repo.check_in(registration.registration_id, at) is True
        assert repo.registration(registration.registration_id) == replace(expected, checked_in_at=at)


@ROUNDTRIP
@given(evaluation=entities(Evaluation, course_id=KEY))
def test_an_evaluation_round_trips(aws, evaluation):
    repo = DynamoTeaching()
    evaluation = replace(evaluation, registration_id=fresh(), session_id=fresh(), person_id=fresh())
    assert repo.add_evaluation(evaluation) is True
    assert repo.evaluations_of_session(evaluation.session_id) == [evaluation]
    assert repo.has_evaluated(evaluation.course_id, evaluation.person_id)


@ROUNDTRIP
@given(done=entities(TheoryDone), course_id=TEXT)
def test_theory_progress_round_trips(aws, done, course_id):
    repo, person = DynamoTeaching(), fresh()
    repo.mark_theory(course_id, person, done.module_id, done.completed_at, done.score)
    assert repo.theory_done(course_id, person) == [done]
    repo.unmark_theory(course_id, person, done.module_id)
    assert repo.theory_done(course_id, person) == []


# --- examination and certification ------------------------------------------------------------------


@ROUNDTRIP
@given(name=TEXT, by=TEXT, now=INSTANTS, at=INSTANTS, renamed=TEXT)
def test_an_examiner_round_trips(aws, name, by, now, at, renamed):
    pool, examiner_id = DynamoExaminerPool(), fresh()
    added = pool.put(examiner_id, name, by, now)
    assert (added.examiner_id, added.name, added.added_at, added.added_by) == (examiner_id, name, now, by)
    assert pool.get(examiner_id) == added and added in pool.all()
    assert pool.mark_assigned(examiner_id, at) is True
    assigned = replace(added, last_assigned_at=at, assignments=added.assignments + 1)
    assert pool.get(examiner_id) == assigned
    assert pool.put(examiner_id, renamed, "someone else", at) == replace(assigned, name=renamed)


@ROUNDTRIP
@given(exam=entities(Exam))
def test_an_exam_round_trips(aws, exam):
    repo = DynamoExams()
    exam = replace(exam, exam_id=fresh())
    repo.create(exam)
    assert repo.get(exam.exam_id) == exam


@TRANSACTIONS
@given(
    score=entities(Score, candidate_id=KEY, course_id=KEY),
    certificate=st.none() | entities(Certificate),
    at=INSTANTS,
    reason=TEXT,
    by=TEXT,
)
def test_a_score_and_its_certificate_round_trip_and_so_does_a_revocation(
    aws, score, certificate, at, reason, by
):
    exams, certificates = DynamoExams(), DynamoCertificates()
    score = replace(score, exam_id=fresh())
    if certificate is not None:
        certificate = replace(certificate, certificate_no=fresh(), holder_id=fresh())
    assert exams.record(score, certificate) is True
    assert exams.score(score.exam_id, score.candidate_id) == score
    assert exams.scores(score.exam_id) == [score]
    assert score in exams.scores_of_course(score.course_id, score.scored_at)
    assert exams.record(score, None) is False  # scored once per sitting
    if certificate is None:
        return
    assert certificates.get(certificate.certificate_no) == certificate
    assert certificates.of_holder(certificate.holder_id) == [certificate]
    assert certificate in certificates.expiring_between(certificate.valid_until, certificate.valid_until)

    revoked = certificates.revoke(certificate.certificate_no, at, reason, by)
    assert revoked is (certificate.revoked_at is None)
    if revoked:
        expected = replace(certificate, revoked_at=at, revoked_reason=reason, revoked_by=by)
        assert certificates.get(certificate.certificate_no) == expected


@ROUNDTRIP
@given(number=TEXT, days=INTS, at=INSTANTS, expires=st.integers(0, 2**40))
def test_a_certificate_reminder_is_claimed_once(aws, number, days, at, expires):
    log, number = DynamoReminderLog(), number + fresh()
    assert log.claim(number, days, at, expires) is True
    assert log.claim(number, days, at, expires) is False
    log.release(number, days)
    assert log.claim(number, days, at, expires) is True


@ROUNDTRIP
@given(year=st.integers(1970, 2100), times=st.integers(1, 3))
def test_certificate_numbers_count_up_by_one(aws, year, times):
    repo = DynamoCertificates()
    first = repo.next_number(year)
    assert [repo.next_number(year) for _ in range(times)] == list(range(first + 1, first + 1 + times))


# --- the geo index -------------------------------------------------------------------------------


@ROUNDTRIP
@given(
    lat=values(float, "lat"),
    lng=values(float, "lng"),
    attributes=st.dictionaries(KEY, TEXT, max_size=4),
    expires_at=st.none() | st.integers(1, 2**40),
)
def test_a_geo_index_item_round_trips_as_a_hit(aws, lat, lng, attributes, expires_at):
    geo, kind, entity_id = DynamoGeoIndex(), f"roundtrip-{fresh()}", fresh()
    geo.put(kind, entity_id, lat, lng, expires_at, attributes)
    before = 0 if expires_at is None else expires_at - 1
    [hit] = geo.nearby(kind, lat, lng, 1.0, before)
    assert (hit.entity_id, hit.lat, hit.lng, dict(hit.attributes)) == (entity_id, lat, lng, attributes)
    if expires_at is not None:
        assert geo.nearby(kind, lat, lng, 1.0, expires_at) == []  # lapsed: never found
    geo.remove(kind, entity_id)
    assert geo.nearby(kind, lat, lng, 1.0, before) == []


def test_a_rescue_summary_round_trips_and_an_older_run_never_overwrites_a_newer_one(aws):
    from shared.logic.cockpit.rescues import RescueSummary

    store = DynamoRescueSummaries()
    created = datetime(2026, 12, 6, 3, 0, 0, 123456, tzinfo=UTC)
    summary = RescueSummary(
        incident_id=fresh(),
        created_at=created,
        lat=30.259,
        lng=120.1605,
        source="dispatch",
        status="closed",
        outcome="rosc",
        alerted=7,
        accepted=3,
        unanswered=True,
        first_accept_s=41.25,
        first_arrival_s=None,
        aed_attached_s=300.0,
    )
    derived = datetime(2026, 12, 6, 4, tzinfo=UTC)
    assert store.put(summary, "2026-12", derived)
    hour = timedelta(hours=1)
    assert store.in_month("2026-12", created - hour, created + hour) == [summary]
    assert (
        store.in_month("2026-12", created + timedelta(microseconds=1), created + hour) == []
    )  # [start, end)
    assert store.in_month("2026-12", created - hour, created) == []
    assert not store.put(replace(summary, accepted=0), "2026-12", derived - hour)  # began earlier: refused
    assert store.put(replace(summary, status="open", outcome=None), "2026-12", derived + hour)
    assert store.in_month("2026-12", created - hour, created + hour)[0].status == "open"
    store.remove(summary.incident_id, "2026-12", created)
    assert store.in_month("2026-12", created - hour, created + hour) == []


def test_a_district_round_trips(aws):
    from shared.logic.cockpit.districts import District

    store = DynamoDistricts()
    area = {
        "type": "MultiPolygon",
        "coordinates": [[[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.2]]]],
    }
    district = District("west-lake", "西湖区", area, datetime(2026, 12, 6, tzinfo=UTC), "West Lake", "演示")
    store.put(district)
    assert store.get("west-lake") == district
    assert store.all() == [district]
    bare = District("gongshu", "拱墅区", area, datetime(2026, 12, 7, tzinfo=UTC))
    store.put(bare)
    assert store.get("gongshu") == bare and store.get("nowhere") is None


# --- the credits leaderboard and the cockpit's training figures ---------------------------------------


@ROUNDTRIP
@given(
    responder=entities(Responder),
    opt_in=st.booleans(),
    name=st.none() | TEXT.filter(bool),
    awards=st.lists(st.tuples(KEY, st.integers(0, 1000)), min_size=1, max_size=3, unique_by=lambda a: a[0]),
    at=INSTANTS,
)
def test_a_leaderboard_choice_and_the_months_credits_round_trip(aws, responder, opt_in, name, awards, at):
    from shared.dal.cockpit_training import DynamoTrainingDuty
    from shared.dal.credits import DynamoLeaderboard
    from shared.logic.credits import Entry, MonthCredit, local_month

    board, people, incidents = DynamoLeaderboard(), DynamoResponders(), DynamoIncidents()
    responder = replace(responder, responder_id=fresh(), **NO_POSITION)
    people.create(responder)
    assert board.member(responder.responder_id).entry is None  # never chose
    assert board.save_entry(responder.responder_id, Entry(opt_in, name))
    member = board.member(responder.responder_id)
    assert (member.name, member.entry) == (responder.name, Entry(opt_in, name))
    assert board.members([responder.responder_id, fresh()]) == {responder.responder_id: member}
    assert board.save_entry(fresh(), Entry(True, None)) is False  # no such responder: nothing written
    # The choice leaves the rest of the responder as it was (the training figures read them by key).
    assert people.get(responder.responder_id) == responder
    assert DynamoTrainingDuty().responders([responder.responder_id]) == {responder.responder_id: responder}

    incident = Incident(fresh(), "closed", 30.0, 120.0, at, 2, 1)
    incidents.create(incident, None, "body")
    assert incidents.award(incident.incident_id, [Award(responder.responder_id, r, p) for r, p in awards], at)
    month = local_month(at, "Asia/Shanghai")
    mine = [c for c in board.credits_in_month(month) if c.responder_id == responder.responder_id]
    assert sorted(mine, key=lambda c: c.points) == sorted(
        (MonthCredit(responder.responder_id, incident.incident_id, p) for _, p in awards),
        key=lambda c: c.points,
    )
