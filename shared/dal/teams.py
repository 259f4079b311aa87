"""Rescue teams and E-stations in DynamoDB (shared/logic/teams.py), and their members' alerts by team."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import condition_failed, conditionally
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.rescue import AlertModel
from shared.dal.models.teams import TeamModel
from shared.dal.paging import NOT_OURS, one_page, read_token
from shared.errors import Conflict, ValidationFailed
from shared.logic.teams import KINDS, Response, ResponsePage, Team, TeamPage

stored(Team, TeamModel)

# A page's last key: the index's keys and the table's.
_LIST_KEYS = {"team_id", "kind"}
_RESPONSE_KEYS = {"incident_id", "responder_id", "team_id", "alerted_at"}


class DynamoTeams:
    def create(self, team: Team) -> None:
        try:
            to_model(TeamModel, team).save(condition=TeamModel.team_id.does_not_exist())
        except Exception as error:  # a ULID collision: never overwrite a team
            if condition_failed(error):
                raise Conflict("team already exists") from error
            raise

    def get(self, team_id: str) -> Team | None:
        try:
            return from_model(Team, TeamModel.get(team_id, consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, team: Team, expected_updated_at: datetime) -> bool:
        """The whole team, unless another change landed since ``expected_updated_at`` was read."""
        return conditionally(
            lambda: to_model(TeamModel, team).save(condition=TeamModel.updated_at == expected_updated_at)
        )

    def delete(self, team_id: str) -> bool:
        return conditionally(lambda: TeamModel(team_id=team_id).delete(condition=TeamModel.team_id.exists()))

    def list(self, kind: str, limit: int, next_token: str | None) -> TeamPage:
        """In the order they were made; ``limit`` + 1 read so that the last page is never empty."""
        start = read_token(next_token, _LIST_KEYS) if next_token else None
        if start is not None and start["kind"]["S"] not in KINDS:
            raise ValidationFailed(NOT_OURS)
        if start is not None and start["kind"]["S"] != kind:
            raise ValidationFailed("next_token: a page of another kind")
        results = TeamModel.by_kind.query(kind, limit=limit + 1, last_evaluated_key=start)
        return TeamPage(*one_page(results, limit, lambda model: from_model(Team, model)))

    def responses(self, team_id: str, limit: int, next_token: str | None) -> ResponsePage:
        """Newest first: the alerts' by-team index backwards."""
        start = read_token(next_token, _RESPONSE_KEYS) if next_token else None
        if start is not None and start["team_id"]["S"] != team_id:
            raise ValidationFailed("next_token: a page of another team")
        results = AlertModel.by_team.query(
            team_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start
        )
        return ResponsePage(*one_page(results, limit, _response))


def _response(model: AlertModel) -> Response:
    """A row of the leader's view as the by-team index holds it."""
    return Response(
        incident_id=model.incident_id,
        responder_id=model.responder_id,
        state=model.state,
        alerted_at=model.alerted_at,
        wave=int(model.wave),
        distance_m=float(model.distance_m),
        role=model.role,
        aed_id=model.aed_id,
        answered_at=model.answered_at,
    )
