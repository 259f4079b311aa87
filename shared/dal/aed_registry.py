"""The AED registry in DynamoDB, behind ``AedRepository`` (shared/logic/ports.py)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.aed_registry import AedModel
from shared.errors import Conflict
from shared.logic.ports import Aed

# Every field of an AED is stored as it is: registry, upkeep and service state alike.
stored(Aed, AedModel)


class DynamoAeds:
    def create(self, aed: Aed) -> None:
        to_model(AedModel, aed).save(condition=AedModel.aed_id.does_not_exist())

    def save(self, aed: Aed, expected_updated_at: datetime | None = None) -> None:
        """Overwrite the AED; with ``expected_updated_at``, only if nobody saved it since that read
        (Conflict otherwise: the caller re-reads and retries)."""
        condition = AedModel.aed_id.exists()
        if expected_updated_at is not None:
            condition &= AedModel.updated_at == expected_updated_at
        try:
            to_model(AedModel, aed).save(condition=condition)
        except PutError as error:
            if expected_updated_at is not None and condition_failed(error):
                raise Conflict("the AED changed meanwhile", code="aed_changed") from error
            raise

    def get(self, aed_id: str) -> Aed | None:
        try:
            m = AedModel.get(aed_id, consistent_read=True)
        except DoesNotExist:
            return None
        return aed_from_model(m)


def aed_from_model(m: AedModel) -> Aed:
    return from_model(Aed, m)
