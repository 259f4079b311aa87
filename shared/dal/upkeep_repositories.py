"""DynamoDB behind the upkeep ports of shared/logic/upkeep.py: the inspection log, every AED for the
daily run, and the reminder markers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime

from pynamodb.exceptions import PutError, UpdateError

from shared.dal.conditions import condition_failed, from_iso, iso
from shared.dal.models import AedModel
from shared.dal.repositories import aed_from_model
from shared.dal.upkeep_models import AedInspectionModel, UpkeepReminderModel
from shared.errors import ValidationFailed
from shared.logic.ports import Aed
from shared.logic.upkeep import Inspection, InspectionPage

# A page token is the last key returned, "#" written as "." so that it needs no escaping in a URL.
TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}\.[0-9A-Z]{26}")


class DynamoInspections:
    def add(self, inspection: Inspection) -> None:
        AedInspectionModel(
            aed_id=inspection.aed_id,
            inspection_key=inspection.key,
            inspection_id=inspection.inspection_id,
            inspected_on=inspection.inspected_on.isoformat(),
            inspector=inspection.inspector,
            recorded_at=inspection.recorded_at,
            checks=json.dumps(dict(inspection.checks), sort_keys=True),
            pads_expire_on=iso(inspection.pads_expire_on),
            battery_expires_on=iso(inspection.battery_expires_on),
            note=inspection.note,
        ).save(condition=AedInspectionModel.inspection_key.does_not_exist())

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
            items=[_inspection(m) for m in models],
            next_token=models[-1].inspection_key.replace("#", ".") if more else None,
        )


def _inspection(m: AedInspectionModel) -> Inspection:
    return Inspection(
        inspection_id=m.inspection_id,
        aed_id=m.aed_id,
        inspected_on=date.fromisoformat(m.inspected_on),
        inspector=m.inspector,
        recorded_at=m.recorded_at,
        checks=json.loads(m.checks),
        pads_expire_on=from_iso(m.pads_expire_on),
        battery_expires_on=from_iso(m.battery_expires_on),
        note=m.note,
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
