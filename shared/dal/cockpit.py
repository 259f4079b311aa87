"""The cockpit's tables behind the logic's ports: the rescue summaries (a Query per local month) and the
districts (tens of items: listed by Scan)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError

from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.cockpit import DistrictModel, RescueSummaryModel
from shared.logic.cockpit.districts import District
from shared.logic.cockpit.rescues import RescueSummary


def instant_key(at: datetime) -> str:
    """A UTC instant as fixed-width text, which sorts as time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def created_key(at: datetime, incident_id: str) -> str:
    return f"{instant_key(at)}#{incident_id}"


stored(
    RescueSummary,
    RescueSummaryModel,
    storage_only={
        "month": "the key: the local month of its creation, one Query per month of a period",
        "created_key": "the sort key: its creation instant then its id, so a period is a key range",
        "derived_at": "when the run that wrote it began reading: an older run never overwrites it",
    },
)
stored(District, DistrictModel)


class DynamoRescueSummaries:
    def put(self, summary: RescueSummary, month: str, derived_at: datetime) -> bool:
        stamp = derived_at.timestamp()
        item = to_model(
            RescueSummaryModel,
            summary,
            month=month,
            created_key=created_key(summary.created_at, summary.incident_id),
            derived_at=stamp,
        )
        try:
            item.save(
                condition=RescueSummaryModel.derived_at.does_not_exist()
                | (RescueSummaryModel.derived_at <= stamp)
            )
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def remove(self, incident_id: str, month: str, created_at: datetime) -> None:
        RescueSummaryModel(month=month, created_key=created_key(created_at, incident_id)).delete()

    def in_month(self, month: str, start: datetime, end: datetime) -> list[RescueSummary]:
        # "<start>#..." sorts after "<start>" and "<end>#..." after "<end>": [start, end).
        items = RescueSummaryModel.query(
            month, RescueSummaryModel.created_key.between(instant_key(start), instant_key(end))
        )
        return [from_model(RescueSummary, item) for item in items]


class DynamoDistricts:
    def put(self, district: District) -> None:
        # The GeoJSON as given (any depth of nesting): JSON text, read back by json.loads.
        to_model(DistrictModel, district, area=json.dumps(district.area, ensure_ascii=False)).save()

    def get(self, district_id: str) -> District | None:
        try:
            return _district(DistrictModel.get(district_id, consistent_read=True))
        except DoesNotExist:
            return None

    def all(self) -> list[District]:
        """A Scan: the table holds a city's districts, tens of small items (one page)."""
        return [_district(item) for item in DistrictModel.scan()]


def _district(item: DistrictModel) -> District:
    return from_model(District, item, area=json.loads(item.area))
