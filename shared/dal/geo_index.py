"""The sparse geo index in DynamoDB: put, remove, and search a circle in one parallel round of Queries."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from pynamodb.exceptions import DoesNotExist, PutError

from shared.dal.conditions import condition_failed
from shared.dal.models.geo_index import COLUMN_INDEXES, GEO_PROJECTED, GeoIndexModel, column_attribute
from shared.geo.cover import (
    INDEX_LEVELS,
    MAX_QUERIES,
    Cover,
    KeyRange,
    cover_box,
    cover_circle,
    point_keys,
)
from shared.geo.datum import storable
from shared.geo.distance import haversine_m
from shared.logic.ports import Hit

# Queries of one search run side by side, and an SOS runs three searches at once (responders, AEDs and
# teams' circles, up to 6 Queries each) beside the open incidents' one: fewer workers than that would push
# Queries into a second round (bench sos: 16 did). No search ever issues more than MAX_QUERIES
# (shared/geo/cover.py), so one search cannot hold the pool for long.
_POOL = ThreadPoolExecutor(max_workers=24, thread_name_prefix="geo-query")


_KEEP_ATTEMPTS = 5


class IndexedPoint(NamedTuple):
    """One thing to index with ``DynamoGeoIndex.put_many``."""

    entity_id: str
    lat: float
    lng: float
    expires_at: int | None = None
    attributes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class GeoHit:
    entity_id: str
    lat: float
    lng: float
    distance_m: float
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SearchStats:
    """What a search cost: Query calls (a range that needs a second page counts twice), sequential rounds,
    and items DynamoDB read (the sum of ScannedCount: counted before the expiry filter, as billed)."""

    queries: int = 0
    rounds: int = 0
    items_read: int = 0


@dataclass
class SearchResult:
    hits: list[GeoHit]
    stats: SearchStats = field(default_factory=SearchStats)


class DynamoGeoIndex:
    """Kinds share one table and one set of column indexes; the kind prefixes every partition key."""

    def __init__(self, max_queries: int = 6) -> None:
        # The Queries a search aims for (the cover's finest level within them); whatever this is set to,
        # no search issues more than MAX_QUERIES.
        self.max_queries = min(max_queries, MAX_QUERIES)

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
        """Index (or re-index) one thing. ``keep`` names attributes that others write on the item (an
        AED runner's claim) and that must survive the re-index: they are carried over with a condition
        that they did not change meanwhile, retried a few times."""
        point = IndexedPoint(entity_id, lat, lng, expires_at, attributes)
        if not keep:
            _item(kind, point).save()
            return
        for _ in range(_KEEP_ATTEMPTS):
            try:
                current = GeoIndexModel.get(f"{kind}#{entity_id}", consistent_read=True)
            except DoesNotExist:
                current = None
            existing: dict[str, Any] = cast(Any, current.attrs).as_dict() if current and current.attrs else {}
            held = {k: v for k, v in existing.items() if k in keep}
            item = _item(kind, point._replace(attributes={**(attributes or {}), **held}))
            attrs_path: Any = GeoIndexModel.attrs
            conditions = [
                attrs_path[k] == held[k] if k in held else attrs_path[k].does_not_exist() for k in keep
            ]
            condition = GeoIndexModel.entity_key.does_not_exist() if current is None else conditions[0]
            for extra in conditions[1:] if current is not None else ():
                condition &= extra
            try:
                item.save(condition=condition)
                return
            except PutError as error:
                if not condition_failed(error):
                    raise
        raise RuntimeError(f"{kind}#{entity_id}: kept attributes kept changing; not re-indexed")

    def put_many(self, kind: str, points: Iterable[IndexedPoint]) -> None:
        """Index many things with BatchWriteItem (25 items a request): for imports and seeding."""
        with GeoIndexModel.batch_write() as batch:
            for point in points:
                batch.save(_item(kind, point))

    def remove(self, kind: str, entity_id: str) -> None:
        GeoIndexModel(entity_key=f"{kind}#{entity_id}").delete()

    def search(
        self, kind: str, lat: float, lng: float, radius_m: float, *, now_epoch: int | None = None
    ) -> SearchResult:
        """Every indexed ``kind`` within ``radius_m`` of (lat, lng), nearest first (ties by id).

        Items whose ``expires_at`` is not after ``now_epoch`` (default: the current time) are never
        returned: DynamoDB's TTL deletes lapsed items only eventually, often days later.
        """
        if now_epoch is None:
            now_epoch = int(time.time())
        cover = cover_circle(lat, lng, radius_m, levels=INDEX_LEVELS, max_ranges=self.max_queries)
        rows, stats = _run(kind, cover, now_epoch)
        hits = []
        for row in rows:
            distance = haversine_m(lat, lng, row["lat"], row["lng"])
            if distance <= radius_m:
                hits.append(GeoHit(row["entity_id"], row["lat"], row["lng"], distance, row["attrs"]))
        hits.sort(key=lambda h: (h.distance_m, h.entity_id))
        return SearchResult(hits=hits, stats=stats)

    def search_box(
        self,
        kind: str,
        min_lng: float,
        min_lat: float,
        max_lng: float,
        max_lat: float,
        *,
        now_epoch: int | None = None,
    ) -> SearchResult:
        """Every indexed ``kind`` inside the box (edges included), west to east; with ``now_epoch``, only
        items not lapsed then (as ``search``: the responders on duty, for the cockpit)."""
        cover = cover_box(
            min_lng, min_lat, max_lng, max_lat, levels=INDEX_LEVELS, max_ranges=self.max_queries
        )
        rows, stats = _run(kind, cover, now_epoch)
        hits = [
            GeoHit(r["entity_id"], r["lat"], r["lng"], 0.0, r["attrs"])
            for r in rows
            if min_lng <= r["lng"] <= max_lng and min_lat <= r["lat"] <= max_lat
        ]
        hits.sort(key=lambda h: (h.lng, h.lat, h.entity_id))
        return SearchResult(hits=hits, stats=stats)

    # The GeoIndex port of shared/logic/ports.py.
    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        return [_hit(h) for h in self.search(kind, lat, lng, radius_m, now_epoch=now_epoch).hits]

    def positions(
        self, kind: str, entity_ids: Collection[str], lat: float, lng: float, now_epoch: int
    ) -> list[Hit]:
        """By key (BatchGetItem, 100 keys a request), eventually consistent as a search's Queries are;
        nothing lapsed at ``now_epoch``."""
        keys = sorted({f"{kind}#{entity_id}" for entity_id in entity_ids})
        found = []
        for item in GeoIndexModel.batch_get(keys, attributes_to_get=GEO_PROJECTED):
            if item.expires_at is not None and item.expires_at <= now_epoch:
                continue
            at_lat, at_lng = float(item.lat), float(item.lng)
            attributes = cast(Any, item.attrs).as_dict() if item.attrs else {}
            distance = haversine_m(lat, lng, at_lat, at_lng)
            found.append(Hit(item.entity_id, at_lat, at_lng, distance, attributes))
        return sorted(found, key=lambda h: (h.distance_m, h.entity_id))

    def in_box(
        self,
        kind: str,
        min_lng: float,
        min_lat: float,
        max_lng: float,
        max_lat: float,
        *,
        now_epoch: int | None = None,
    ) -> list[Hit]:
        found = self.search_box(kind, min_lng, min_lat, max_lng, max_lat, now_epoch=now_epoch)
        return [_hit(h) for h in found.hits]


def _item(kind: str, point: IndexedPoint) -> Any:
    lat, lng = storable(point.lat), storable(point.lng)
    keys = point_keys(lat, lng)
    item = GeoIndexModel(
        entity_key=f"{kind}#{point.entity_id}",
        kind=kind,
        entity_id=point.entity_id,
        lat=lat,
        lng=lng,
        lat_key=keys.lat_key,
        expires_at=point.expires_at,
        attrs=dict(point.attributes) if point.attributes else None,
    )
    for level, col in keys.columns.items():
        setattr(item, column_attribute(level), f"{kind}#{col}")
    return item


def _hit(hit: GeoHit) -> Hit:
    return Hit(hit.entity_id, hit.lat, hit.lng, hit.distance_m, hit.attributes)


def _run(kind: str, cover: Cover, now_epoch: int | None) -> tuple[list[dict[str, Any]], SearchStats]:
    """All ranges of a cover, in parallel; one round per page depth (a range bigger than a 1 MB page
    needs another round)."""
    if len(cover.ranges) > MAX_QUERIES:  # cover_circle and cover_box never build one; never run one
        raise ValueError(f"a cover of {len(cover.ranges)} ranges: more than {MAX_QUERIES} Queries")
    stats = SearchStats()
    pending = [_RangeQuery(kind, r, now_epoch) for r in cover.ranges]
    rows: list[dict[str, Any]] = []
    while pending:
        stats.rounds += 1
        stats.queries += len(pending)
        for page_rows, scanned in _POOL.map(lambda q: q.next_page(), pending):
            rows.extend(page_rows)
            stats.items_read += scanned
        pending = [q for q in pending if not q.done]
    return rows, stats


_RETURNED = ["entity_id", "lat", "lng", "attrs"]


class _RangeQuery:
    """One Query on one column's latitude range, fetched a page at a time."""

    def __init__(self, kind: str, key_range: KeyRange, now_epoch: int | None) -> None:
        self.index = COLUMN_INDEXES[key_range.level]
        self.hash_key = f"{kind}#{key_range.column}"
        self.range = key_range
        self.now_epoch = now_epoch
        self.last_key: dict[str, Any] | None = None
        self.done = False

    def next_page(self) -> tuple[list[dict[str, Any]], int]:
        index: Any = getattr(GeoIndexModel, f"index_{self.range.level}")
        condition: Callable[..., Any] = GeoIndexModel.lat_key.between
        filter_condition = None
        if self.now_epoch is not None:
            # Presence lapses on the clock; DynamoDB's TTL delete can lag, so the Query checks it too.
            filter_condition = GeoIndexModel.expires_at.does_not_exist() | (
                GeoIndexModel.expires_at > self.now_epoch
            )
        result = index.query(
            self.hash_key,
            range_key_condition=condition(self.range.lat_key_lo, self.range.lat_key_hi),
            filter_condition=filter_condition,
            last_evaluated_key=self.last_key,
            # Only what a hit carries: reads are billed by item size either way, but the replies (and
            # their parsing, in Lambda's CPU) shrink by half.
            attributes_to_get=_RETURNED,
        )
        page = next(result.page_iter)  # the raw page: we count rounds, so we page by hand
        rows = [
            {
                "entity_id": i["entity_id"]["S"],
                "lat": float(i["lat"]["N"]),
                "lng": float(i["lng"]["N"]),
                "attrs": {k: v["S"] for k, v in i.get("attrs", {}).get("M", {}).items()},
            }
            for i in page.get("Items", [])
        ]
        self.last_key = page.get("LastEvaluatedKey")
        self.done = self.last_key is None
        return rows, int(page["ScannedCount"])
