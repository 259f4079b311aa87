"""The responder pool in DynamoDB, behind ``ResponderRepository`` (shared/logic/ports.py)."""

from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import condition_failed, conditionally
from shared.dal.mapping import from_model, stored, to_model, update_actions
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.responders import ResponderModel
from shared.errors import Conflict
from shared.logic.ports import RESPONDER, Responder

_WHERE = "where the responder is: only in the geo index, whose item goes by TTL at the lapse (privacy)"
_BOARD = "the credits leaderboard's opt-in, read and written by shared/dal/credits.py only"
stored(
    Responder,
    ResponderModel,
    storage_only={"leaderboard_opt_in": _BOARD, "leaderboard_name": _BOARD},
    not_stored={"presence_lat": _WHERE, "presence_lng": _WHERE},
)
# What save_presence writes (the rest of a responder is written by create and the certificate's grant).
PRESENCE = ("available", "presence_expires_at")


class DynamoResponders:
    def create(self, responder: Responder) -> None:
        model = to_model(ResponderModel, responder)
        try:
            model.save(condition=ResponderModel.responder_id.does_not_exist())
        except Exception as error:  # a ULID collision: never overwrite a person
            if condition_failed(error):
                raise Conflict("responder already exists") from error
            raise

    def get(self, responder_id: str) -> Responder | None:
        """The record, with the position of its presence while that has not lapsed (from the index)."""
        try:
            m = ResponderModel.get(responder_id, consistent_read=True)
        except DoesNotExist:
            return None
        responder = from_model(Responder, m)
        if responder.available and responder.presence_expires_at is not None:
            try:
                item = GeoIndexModel.get(f"{RESPONDER}#{responder_id}", consistent_read=True)
            except DoesNotExist:
                return responder
            if item.expires_at is None or item.expires_at > time.time():
                responder.presence_lat, responder.presence_lng = float(item.lat), float(item.lng)
        return responder

    def save_presence(self, responder: Responder) -> None:
        ResponderModel(responder_id=responder.responder_id).update(
            actions=update_actions(ResponderModel, Responder, {n: getattr(responder, n) for n in PRESENCE}),
            condition=ResponderModel.responder_id.exists(),
        )

    def drop_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None:
        conditionally(
            lambda: ResponderModel(responder_id=responder_id).update(
                actions=[ResponderModel.push_endpoint_arn.remove()],
                condition=ResponderModel.push_endpoint_arn == endpoint_arn,
            )
        )

    def save_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None:
        ResponderModel(responder_id=responder_id).update(
            actions=[ResponderModel.push_endpoint_arn.set(endpoint_arn)],
            condition=ResponderModel.responder_id.exists(),
        )
