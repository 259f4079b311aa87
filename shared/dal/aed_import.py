"""DynamoDB side of registry imports: a batch at a time (BatchGetItem, conditional PutItems side by side,
BatchWriteItem for the geo index) instead of one call after another per AED."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from shared.dal.aed_registry import DynamoAeds, aed_from_model
from shared.dal.conditions import condition_failed
from shared.dal.geo_index import DynamoGeoIndex, IndexedPoint
from shared.dal.mapping import update_actions
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.geo_index import GeoIndexModel
from shared.logic.ports import Aed, Hit

# A batch's conditional creates go out together: 100 PutItems in about 7 rounds instead of 100.
_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="aed-import")


class DynamoAedImports:
    def __init__(self) -> None:
        self._aeds = DynamoAeds()

    def get_many(self, aed_ids: Sequence[str]) -> dict[str, Aed]:
        if not aed_ids:
            return {}
        return {m.aed_id: aed_from_model(m) for m in AedModel.batch_get(list(aed_ids), consistent_read=True)}

    def create_many(self, aeds: Sequence[Aed]) -> set[str]:
        """Conditional PutItems side by side. Not TransactWriteItems: a transaction is all-or-nothing, so
        one AED created meanwhile would cancel the other 99 (and the embedded DynamoDB copies the whole
        table once per transaction item)."""
        created = list(_POOL.map(self._create, aeds))
        return {aed.aed_id for aed, ok in zip(aeds, created, strict=True) if not ok}

    def _create(self, aed: Aed) -> bool:
        try:
            self._aeds.create(aed)
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def update_registry_fields(self, aed_id: str, changes: Mapping[str, Any], now: datetime) -> Aed | None:
        model = AedModel(aed_id=aed_id)
        actions = update_actions(AedModel, Aed, {**changes, "updated_at": now})
        try:
            model.update(actions=actions, condition=AedModel.aed_id.exists())
        except UpdateError as error:
            if condition_failed(error):
                return None
            raise
        return aed_from_model(model)


class BatchedGeoIndex:
    """The GeoIndex port with puts and removes held until ``flush``, then written with BatchWriteItem:
    ``index_aed`` decides what goes where, this only changes how many calls it takes."""

    def __init__(self, geo: DynamoGeoIndex) -> None:
        self.geo = geo
        self._writes: dict[tuple[str, str], IndexedPoint | None] = {}  # (kind, id) -> put, or None: remove
        self._new: set[str] = set()  # never indexed before: nothing on their items to keep

    def put(
        self,
        kind: str,
        entity_id: str,
        lat: float,
        lng: float,
        expires_at: int | None = None,
        attributes: Mapping[str, str] | None = None,
        keep: Collection[str] = (),
    ) -> None:
        if keep and entity_id not in self._new:
            # Attributes others write (a runner's claim) must survive: the index's own conditional put.
            self._writes.pop((kind, entity_id), None)
            self.geo.put(kind, entity_id, lat, lng, expires_at, attributes, keep=keep)
            return
        self._writes[(kind, entity_id)] = IndexedPoint(entity_id, lat, lng, expires_at, attributes)

    def never_indexed(self, entity_ids: Iterable[str]) -> None:
        self._new.update(entity_ids)

    def remove(self, kind: str, entity_id: str) -> None:
        self._writes[(kind, entity_id)] = None

    def flush(self) -> None:
        writes, self._writes = self._writes, {}
        by_kind: dict[str, list[IndexedPoint]] = {}
        removals: list[str] = []
        for (kind, entity_id), point in writes.items():
            if point is None:
                removals.append(f"{kind}#{entity_id}")
            else:
                by_kind.setdefault(kind, []).append(point)
        for kind, points in by_kind.items():
            self.geo.put_many(kind, points)
        if removals:
            with GeoIndexModel.batch_write() as batch:
                for entity_key in removals:
                    batch.delete(GeoIndexModel(entity_key=entity_key))

    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        return self.geo.nearby(kind, lat, lng, radius_m, now_epoch)

    def in_box(self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[Hit]:
        return self.geo.in_box(kind, min_lng, min_lat, max_lng, max_lat)

    def positions(
        self, kind: str, entity_ids: Collection[str], lat: float, lng: float, now_epoch: int
    ) -> list[Hit]:
        return self.geo.positions(kind, entity_ids, lat, lng, now_epoch)
