"""DynamoDB behind the upkeep ports of shared/logic/aed_upkeep.py: the inspection log, every AED for the
daily run, and the reminder markers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from shared.dal.aed_registry import aed_from_model
from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.aed_upkeep import AedInspectionModel, UpkeepReminderModel
from shared.errors import ValidationFailed
from shared.logic.aed_upkeep import Inspection, InspectionPage
from shared.logic.ports import Aed

# A page token is the last key returned, "#" written as "." so that it needs no escaping in a URL.
TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}\.[0-9A-Z]{26}")

stored(
    Inspection,
    AedInspectionModel,
    storage_only={
        "inspection_key": "the sort key, derived: Inspection.key (inspected_on#inspection_id)",
    },
)


class DynamoInspections:
    def add(self, inspection: Inspection) -> None:
        to_model(AedInspectionModel, inspection, inspection_key=inspection.key).save(
            condition=AedInspectionModel.inspection_key.does_not_exist()
        )

    def page(self, aed_id: str, limit: int, after_key: str | None) -> InspectionPage:
        start = None
        if after_key is not None:
            if not TOKEN.fullmatch(after_key):
                raise ValidationFailed("next_token: not a token this API issued")
            start = {"aed_id": {"S": aed_id}, "inspection_key": {"S": after_key.replace(".", "#")}}
        # One more than asked: a next page is promised only when there is one.
        models = list(
            AedInspectionModel.query(
                aed_id,
                scan_index_forward=False,
                limit=limit + 1,
                last_evaluated_key=start,
                page_size=limit + 1,
            )
        )
        more = len(models) > limit
        models = models[:limit]
        return InspectionPage(
            items=[from_model(Inspection, m) for m in models],
            next_token=models[-1].inspection_key.replace("#", ".") if more else None,
        )


class DynamoAedCatalog:
    """Every AED, a page of the table at a time (the daily run's Scan), and the one change it makes."""

    def all(self) -> Iterator[Aed]:
        for model in AedModel.scan(page_size=500):
            yield aed_from_model(model)

    def mark_expired(self, aed_id: str, now: datetime) -> Aed | None:
        model = AedModel(aed_id=aed_id)
        try:
            model.update(
                actions=[AedModel.status.set("expired"), AedModel.updated_at.set(now)],
                condition=AedModel.aed_id.exists() & (AedModel.status == "ok"),
            )
        except UpdateError as error:
            if condition_failed(error):
                return None
            raise
        return aed_from_model(model)  # update() loads the item as written (ALL_NEW)


class DynamoReminderMarkers:
    def take(self, aed_id: str, key: str, now_epoch: int, lease_until: int, keep_until: int) -> bool:
        marker = UpkeepReminderModel(
            aed_id=aed_id, reminder_key=key, lease_until=lease_until, expires_at=keep_until
        )
        free = UpkeepReminderModel.reminder_key.does_not_exist() | (
            UpkeepReminderModel.sent_at.does_not_exist() & (UpkeepReminderModel.lease_until < now_epoch)
        )
        try:
            marker.save(condition=free)
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def sent(self, aed_id: str, key: str, at: datetime) -> None:
        UpkeepReminderModel(aed_id=aed_id, reminder_key=key).update(
            actions=[UpkeepReminderModel.sent_at.set(at)]
        )

    def release(self, aed_id: str, key: str) -> None:
        UpkeepReminderModel(aed_id=aed_id, reminder_key=key).delete(
            condition=UpkeepReminderModel.sent_at.does_not_exist()
        )
