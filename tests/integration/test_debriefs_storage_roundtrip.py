"""The debrief round-trips through its repository on the embedded DynamoDB (as every stored entity does:
tests/integration/test_storage_roundtrip.py): its invitation and notice, the answers, the call-back list's
index and the call done, every optional field set and unset."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from shared.dal.debriefs import DynamoDebriefs
from shared.dal.responders import DynamoContacts, DynamoResponders
from shared.logic.debriefs import DEBRIEF, Contact, Debrief
from shared.logic.ports import Responder
from tests.integration.test_storage_roundtrip import INSTANTS, INTS, KEY, ROUNDTRIP, entities, fresh

LEASES = st.integers(min_value=0, max_value=2**40)


def _all_waiting(repo: DynamoDebriefs) -> list[Debrief]:
    """Every page of the call-back list (the table outlives hypothesis's examples)."""
    items, token = [], None
    while True:
        page = repo.call_list(7, token)
        items += page.items
        token = page.next_token
        if token is None:
            return items


@ROUNDTRIP
@given(
    debrief=entities(
        Debrief,
        responder_id=KEY,
        invited_at=INSTANTS,
        submitted_at=INSTANTS,
        notice=DEBRIEF,
        notice_lease_until=LEASES,
    ),
    expires=INTS.filter(lambda n: n >= 0),
    done_at=INSTANTS,
    by=KEY,
)
def test_a_debrief_round_trips_through_invitation_answers_and_call(aws, debrief, expires, done_at, by):
    repo = DynamoDebriefs()
    debrief = replace(debrief, incident_id=fresh(), call_done_at=None, call_done_by=None)
    invitation = Debrief(
        debrief.incident_id,
        debrief.responder_id,
        invited_at=debrief.invited_at,
        notice=DEBRIEF,
        notice_lease_until=debrief.notice_lease_until,
    )
    assert repo.invite(
        debrief.incident_id, debrief.responder_id, debrief.notice_lease_until, debrief.invited_at, expires
    )
    assert repo.get(debrief.incident_id, debrief.responder_id) == invitation
    assert not repo.invite(debrief.incident_id, debrief.responder_id, 0, debrief.invited_at, expires)  # once

    assert repo.submit(debrief, expires) is True
    assert repo.get(debrief.incident_id, debrief.responder_id) == debrief
    assert repo.of_incident(debrief.incident_id) == [debrief]
    assert repo.submit(replace(debrief, score=0), expires) is False  # once: the first answers stay
    listed = [d for d in _all_waiting(repo) if d.incident_id == debrief.incident_id]
    shown = Debrief(
        debrief.incident_id,
        debrief.responder_id,
        submitted_at=debrief.submitted_at,
        score=debrief.score,
        call_me=debrief.call_me,
        needs_call=True,
        note=debrief.note,
    )
    assert listed == ([shown] if debrief.needs_call else [])

    repo.notice_sent(debrief.incident_id, debrief.responder_id, DEBRIEF)
    sent = replace(debrief, notice=None, notice_lease_until=None)
    assert repo.get(debrief.incident_id, debrief.responder_id) == sent

    assert repo.call_done(debrief.incident_id, debrief.responder_id, by, done_at) is debrief.needs_call
    if debrief.needs_call:
        sent = replace(sent, call_done_at=done_at, call_done_by=by)
        assert not repo.call_done(debrief.incident_id, debrief.responder_id, "another", done_at)  # once
    assert repo.get(debrief.incident_id, debrief.responder_id) == sent
    assert [d for d in _all_waiting(repo) if d.incident_id == debrief.incident_id] == []


@ROUNDTRIP
@given(lease=LEASES, now=st.integers(min_value=0, max_value=2**40), at=INSTANTS)
def test_an_invitations_lease_is_released_and_taken_over_only_once_lapsed(aws, lease, now, at):
    repo, incident_id = DynamoDebriefs(), fresh()
    assert repo.invite(incident_id, "r", lease, at, 0)
    assert repo.take_notice(incident_id, "r", DEBRIEF, now, now + 60) is (lease <= now)
    repo.release_notice(incident_id, "r", DEBRIEF)
    assert repo.get(incident_id, "r").notice_lease_until == 0  # type: ignore[union-attr]
    assert repo.take_notice(incident_id, "r", DEBRIEF, now, now + 60) is True
    assert repo.take_notice(incident_id, "r", "stand_down", now + 61, now + 120) is False  # not its notice


@ROUNDTRIP
@given(responder=entities(Responder))
def test_whom_to_call_is_read_from_the_responders_record(aws, responder):
    people = DynamoResponders()
    responder = replace(
        responder, responder_id=fresh(), presence_lat=None, presence_lng=None, presence_indexed_until=None
    )
    people.create(responder)
    found = DynamoContacts().contacts([responder.responder_id, responder.responder_id, fresh()])
    assert found == {responder.responder_id: Contact(responder.name, responder.phone)}
