"""The responder pool in DynamoDB, behind ``ResponderRepository`` (shared/logic/ports.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import condition_failed, conditionally
from shared.dal.mapping import from_model, stored, to_model, update_actions
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.responders import ResponderModel
from shared.errors import Conflict
from shared.logic.ports import RESPONDER, Contact, Responder

_WHERE = "where the responder is: only in the geo index, whose item goes by TTL at the lapse (privacy)"
_BOARD = "the credits leaderboard's opt-in, read and written by shared/dal/credits.py only"
stored(
    Responder,
    ResponderModel,
    storage_only={"leaderboard_opt_in": _BOARD, "leaderboard_name": _BOARD},
    not_stored={"presence_lat": _WHERE, "presence_lng": _WHERE, "presence_indexed_until": _WHERE},
)
_BATCH_GET = 100  # DynamoDB's most keys in one BatchGetItem
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="responders-on-duty")


def _on_duty(responder_ids: list[str], now: datetime) -> set[str]:
    wanted = ["responder_id", "available", "presence_expires_at"]
    return {
        m.responder_id
        for m in ResponderModel.batch_get(responder_ids, attributes_to_get=wanted)
        if m.available and m.presence_expires_at is not None and m.presence_expires_at > now
    }


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
        """The record, with the position the geo index holds while the record says available."""
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
            # Whether it still counts is the caller's to say, by its clock (shared.logic.responders).
            responder.presence_lat, responder.presence_lng = float(item.lat), float(item.lng)
            if item.expires_at is not None:
                responder.presence_indexed_until = datetime.fromtimestamp(item.expires_at, UTC)
        return responder

    def on_duty(self, responder_ids: Collection[str], now: datetime) -> set[str]:
        """BatchGetItem, 100 keys a request, the requests side by side; eventually consistent (half the
        read units): a heartbeat a second old may be missed, a lapse is the record's own expiry."""
        ids = sorted(set(responder_ids))
        chunks = [ids[i : i + _BATCH_GET] for i in range(0, len(ids), _BATCH_GET)]
        present: set[str] = set()
        for found in _POOL.map(lambda chunk: _on_duty(chunk, now), chunks):
            present |= found
        return present

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


class DynamoContacts:
    """Whom to reach: responders' names and phones, read by key (BatchGetItem, 100 keys a request)."""

    def contacts(self, responder_ids: Sequence[str]) -> dict[str, Contact]:
        unique = list(dict.fromkeys(responder_ids))
        return {
            m.responder_id: Contact(m.name, m.phone)
            for m in ResponderModel.batch_get(unique, attributes_to_get=["responder_id", "name", "phone"])
        }
