"""The credits exports' storage round-trips (as tests/integration/test_storage_roundtrip.py does for the
rest): an export record, every optional field set and unset, through create, get, finish, end and the
list; a credit's export mark through claim, take-over and release, the ledger item otherwise untouched;
the people an export names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.dal.credits import DynamoLeaderboard
from shared.dal.credits_export import DynamoExportLedger, DynamoExportRecords, DynamoPeople
from shared.dal.rescue import DynamoIncidents
from shared.dal.responders import DynamoResponders
from shared.errors import ValidationFailed
from shared.logic.credits import local_month
from shared.logic.credits_export import ABANDONED, BUILDING, FAILED, READY, Export, ExportFile, Person
from shared.logic.ports import Responder
from shared.logic.rescue.ports import Award, Incident
from tests.integration.test_storage_roundtrip import INSTANTS, KEY, NO_POSITION, ROUNDTRIP, entities, fresh

EXPORTS = entities(
    Export,
    status=st.just(BUILDING),
    export_id=st.builds(fresh),
    files=st.lists(entities(ExportFile), max_size=2),
)


@ROUNDTRIP
@given(export=EXPORTS, finished=EXPORTS, now=INSTANTS)
def test_an_export_record_round_trips_through_its_life(aws, export, finished, now):
    records = DynamoExportRecords()
    records.create(export)
    assert records.get(export.export_id) == export
    done = replace(finished, export_id=export.export_id, status=READY)
    assert records.finish(done)
    assert records.get(export.export_id) == done
    assert records.finish(done) is False  # only a building export finishes
    assert records.end(export.export_id, FAILED, now, only_after_lease=False) is False
    assert records.get(fresh()) is None


@ROUNDTRIP
@given(export=EXPORTS)
def test_a_building_export_ends_only_as_its_lease_allows(aws, export):
    records = DynamoExportRecords()
    records.create(export)
    assert records.end(export.export_id, ABANDONED, export.lease_until, only_after_lease=True) is False
    later = export.lease_until + timedelta(microseconds=1)
    assert records.end(export.export_id, ABANDONED, later, only_after_lease=True)
    assert records.get(export.export_id) == replace(export, status=ABANDONED)
    assert records.end(fresh(), FAILED, later, only_after_lease=False) is False  # none: nothing written


def test_exports_are_listed_newest_first_with_a_token_for_the_next_page(aws):
    records = DynamoExportRecords()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ids = [f"01J{n:023d}" for n in range(5)]
    for export_id in ids:
        records.create(Export(export_id, "2026-11", BUILDING, now, "admin-1", now))
    page, token = records.page(2, None)
    assert [e.export_id for e in page] == ids[::-1][:2] and token
    page, token = records.page(3, token)
    assert [e.export_id for e in page] == ids[::-1][2:] and token is None
    for bad in ("x", "eyJhIjp7IlMiOiJiIn19"):
        try:
            records.page(2, bad)
        except ValidationFailed:
            continue
        raise AssertionError(f"token {bad!r} accepted")


@ROUNDTRIP
@given(
    responder=entities(Responder),
    awards=st.lists(st.tuples(KEY, st.integers(0, 1000)), min_size=1, max_size=3, unique_by=lambda a: a[0]),
    at=INSTANTS,
)
def test_a_credits_export_mark_is_claimed_taken_over_and_released_and_nothing_else_changes(
    aws, responder, awards, at
):
    incidents, ledger, people = DynamoIncidents(), DynamoExportLedger(), DynamoResponders()
    responder = replace(responder, responder_id=fresh(), **NO_POSITION)
    people.create(responder)
    incident = Incident(fresh(), "closed", 30.0, 120.0, at, 2, 1, outcome="rosc")
    incidents.create(incident, None, "body")
    assert incidents.award(incident.incident_id, [Award(responder.responder_id, r, p) for r, p in awards], at)
    month = local_month(at, "Asia/Shanghai")
    mine = sorted(
        (c for c in ledger.credits_in_month(month) if c.responder_id == responder.responder_id),
        key=lambda c: c.reason,
    )
    assert [(c.incident_id, c.reason, c.points, c.at, c.exported_in) for c in mine] == sorted(
        (incident.incident_id, r, p, at, None) for r, p in awards
    )
    first, dead, later = fresh(), fresh(), fresh()
    credit = mine[0]
    assert ledger.claim(credit, dead, None)
    assert ledger.claim(credit, first, None) is False  # held
    assert ledger.claim(credit, first, fresh()) is False  # held, but not by that one
    assert ledger.claim(credit, later, dead)  # taken over from the dead export
    ledger.release(credit, dead)  # not its any more: nothing happens
    (read,) = [c for c in ledger.credits_in_month(month) if c.credit_id == credit.credit_id]
    assert read == replace(credit, exported_in=later)
    ledger.release(credit, later)
    (read,) = [c for c in ledger.credits_in_month(month) if c.credit_id == credit.credit_id]
    assert read == credit
    # The mark is the export's: the leaderboard and the balance read the credit as before.
    assert sum(
        c.points
        for c in DynamoLeaderboard().credits_in_month(month)
        if c.responder_id == responder.responder_id
    ) == sum(p for _, p in awards)
    assert ledger.outcomes([incident.incident_id, fresh()]) == {incident.incident_id: "rosc"}


def test_the_people_an_export_names_are_read_with_their_certificates(aws):
    from shared.dal.certification import DynamoExams
    from shared.logic.certification.ports import Certificate, Score

    issued = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    DynamoResponders().create(
        Responder("r-1", "张三明", "+8613800000000", "RN-2026-000007", date(2029, 1, 4), issued)
    )
    certificate = Certificate(
        "RN-2026-000007", "r-1", "张三明", "+8613800000000", "c-1", "救护员", "e-1", issued.date(),
        date(2029, 1, 4), issued,
    )  # fmt: skip
    assert DynamoExams().record(
        Score("e-1", "r-1", "c-1", "x", {}, True, [], issued, "RN-2026-000007"), certificate
    )
    DynamoResponders().create(Responder("r-2", "李四", "+8613800000001", "ZJ-1", date(2029, 1, 4), issued))
    found = DynamoPeople().people(["r-1", "r-2", "r-none", "r-1"])
    assert found == {
        "r-1": Person("r-1", "张三明", "RN-2026-000007", (certificate,)),
        "r-2": Person("r-2", "李四", "ZJ-1", ()),
    }
    assert DynamoPeople().people([]) == {}
