"""The status webhooks' log in DynamoDB (``DynamoDeliveryLog``: shared.logic.dispatch.outbound.DeliveryLog):
one item per (centre, webhook), an incident's under one prefix of the centre's partition, and an index by
(centre, status) for the admin's list."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from shared.dal.conditions import conditionally
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.dispatch import DeliveryModel
from shared.dal.paging import NOT_OURS, one_page, read_token
from shared.errors import ValidationFailed
from shared.logic.dispatch.outbound import Delivery, DeliveryPage
from shared.logic.dispatch.status import webhook_id

stored(
    Delivery,
    DeliveryModel,
    storage_only={"centre_status": "the by-status index's key: <centre_id>#<status>, kept with status"},
)
_TOKEN_KEYS = {"centre_id", "webhook_id", "centre_status", "created_at"}


def _model(delivery: Delivery) -> DeliveryModel:
    return to_model(DeliveryModel, delivery, centre_status=f"{delivery.centre_id}#{delivery.status}")


class DynamoDeliveryLog:
    def of_incident(self, centre_id: str, incident_id: str) -> list[Delivery]:
        return [
            from_model(Delivery, m)
            for m in DeliveryModel.query(
                centre_id,
                range_key_condition=DeliveryModel.webhook_id.startswith(webhook_id(incident_id, "")),
                consistent_read=True,
            )
        ]

    def add(self, delivery: Delivery) -> Delivery:
        model = _model(delivery)
        if conditionally(lambda: model.save(condition=DeliveryModel.webhook_id.does_not_exist())):
            return delivery
        stored_ = self.get(delivery.centre_id, delivery.webhook_id)
        assert stored_ is not None  # written by another run: it is there
        return stored_

    def tried(self, delivery: Delivery) -> None:
        _model(delivery).save()

    def get(self, centre_id: str, webhook_id: str) -> Delivery | None:
        try:
            return from_model(Delivery, DeliveryModel.get(centre_id, webhook_id, consistent_read=True))
        except DoesNotExist:
            return None

    def replay(self, delivery: Delivery, now: datetime) -> Delivery | None:
        again = replace(
            delivery,
            status="pending",
            due_from=now,
            attempts=0,
            failed_at=None,
            replays=delivery.replays + 1,
        )
        written = conditionally(
            lambda: _model(again).save(
                condition=(DeliveryModel.status != "pending") & (DeliveryModel.replays == delivery.replays)
            )
        )
        return again if written else None

    def page(self, centre_id: str, status: str, limit: int, next_token: str | None) -> DeliveryPage:
        """Newest first; ``limit`` + 1 read, so the last page never comes back empty."""
        key = f"{centre_id}#{status}"
        start = _start_key(next_token, key) if next_token else None
        results = DeliveryModel.by_status.query(
            key, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start
        )
        return DeliveryPage(*one_page(results, limit, lambda model: from_model(Delivery, model)))


def _start_key(token: str, centre_status: str) -> dict[str, Any]:
    """A token of this very list, else 422 (DynamoDB would refuse another list's key with a 500)."""
    key = read_token(token, _TOKEN_KEYS)
    if key["centre_status"]["S"] != centre_status:
        raise ValidationFailed(NOT_OURS)
    return key
