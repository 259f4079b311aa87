"""Teams and E-stations round-trip through their repository on the embedded DynamoDB (as every stored
entity does: tests/integration/test_storage_roundtrip.py), and so do the two reads an SOS and a leader
make of other tables: members' positions by key (the geo index), members' alerts by team (an index)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.models.rescue import TEAM_RESPONSE_ATTRIBUTES
from shared.dal.rescue import DynamoIncidents
from shared.dal.teams import DynamoTeams
from shared.errors import ValidationFailed
from shared.logic.ports import RESPONDER
from shared.logic.rescue.ports import Alert
from shared.logic.teams import KINDS, Response, Team
from tests.integration.rescue_helpers import on_duty_records
from tests.integration.test_storage_roundtrip import INSTANTS, KEY, ROUNDTRIP, TRANSACTIONS, entities, fresh


def _every(repo: DynamoTeams, kind: str) -> list[Team]:
    items, token = [], None
    while True:
        page = repo.list(kind, 3, token)
        items += page.items
        token = page.next_token
        if token is None:
            return items


@ROUNDTRIP
@given(
    team=entities(Team, kind=st.sampled_from(KINDS), member_ids=st.lists(KEY, max_size=6)),
    edited=entities(Team),
    later=INSTANTS,
)
def test_a_team_round_trips_through_create_save_list_and_delete(aws, team, edited, later):
    repo = DynamoTeams()
    team = replace(team, team_id=fresh())
    repo.create(team)
    assert repo.get(team.team_id) == team
    assert team in _every(repo, team.kind)

    changed = replace(edited, team_id=team.team_id, kind=team.kind, updated_at=later)
    assert repo.save(changed, team.updated_at)
    assert repo.get(team.team_id) == changed
    assert not repo.save(replace(changed, name="stale"), team.updated_at) or later == team.updated_at

    assert repo.delete(team.team_id)
    assert repo.get(team.team_id) is None
    assert not repo.delete(team.team_id)


def test_a_list_token_of_another_kind_is_refused(aws):
    repo = DynamoTeams()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for _ in range(2):
        repo.create(
            Team(fresh(), "team", "队", "红会", "l", ["l"], "24/7", 30.0, 120.0, 500.0, now, now, "a")
        )
    page = repo.list("team", 1, None)
    assert page.next_token is not None
    with pytest.raises(ValidationFailed):
        repo.list("estation", 1, page.next_token)


def test_positions_by_key_answer_what_is_indexed_and_not_lapsed(aws):
    geo = DynamoGeoIndex()
    here, gone, unknown = fresh(), fresh(), fresh()
    geo.put(RESPONDER, here, 30.2600, 120.1605, expires_at=2_000, attributes={"phone": "+8613900000001"})
    geo.put(RESPONDER, gone, 30.2600, 120.1605, expires_at=1_000)
    found = geo.positions(RESPONDER, [here, gone, unknown], 30.2590, 120.1605, now_epoch=1_500)
    assert [h.entity_id for h in found] == [here]
    assert found[0].attributes == {"phone": "+8613900000001"}
    assert found[0].distance_m == pytest.approx(111.2, abs=0.5)
    assert (found[0].lat, found[0].lng) == (30.26, 120.1605)


@TRANSACTIONS
@given(alert=entities(Alert, responder_id=KEY, team_id=KEY, state=st.sampled_from(["alerted", "accepted"])))
def test_a_members_alert_is_read_back_by_its_team(aws, alert):
    team_id = fresh()
    alert = replace(alert, incident_id=fresh(), team_id=team_id)
    on_duty_records(alert.responder_id)
    assert DynamoIncidents().add_alert(alert) == "written"
    (response,) = DynamoTeams().responses(team_id, 10, None).items
    assert response == Response(
        incident_id=alert.incident_id,
        responder_id=alert.responder_id,
        state=alert.state,
        alerted_at=alert.alerted_at,
        wave=alert.wave,
        distance_m=alert.distance_m,
        role=alert.role,
        aed_id=alert.aed_id,
        answered_at=alert.answered_at,
    )


def test_the_team_index_holds_every_field_a_response_has():
    keys = {"incident_id", "responder_id", "alerted_at"}
    assert {f.name for f in dataclasses.fields(Response)} == keys | set(TEAM_RESPONSE_ATTRIBUTES)


def test_responses_come_newest_first_in_pages(aws):
    team_id, incidents = fresh(), DynamoIncidents()
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    written = []
    for minute in range(5):
        alert = Alert(fresh(), fresh(), "alerted", 1, 100.0, 30.0, 120.0, start + timedelta(minutes=minute),
                      team_id=team_id)  # fmt: skip
        on_duty_records(alert.responder_id)
        assert incidents.add_alert(alert) == "written"
        written.append(alert.incident_id)
    repo, seen, token = DynamoTeams(), [], None
    while True:
        page = repo.responses(team_id, 2, token)
        seen += [r.incident_id for r in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == written[::-1]
    with pytest.raises(ValidationFailed):
        repo.responses(fresh(), 2, repo.responses(team_id, 2, None).next_token)
