"""One run of the geo benchmark: one system over one dataset, in its own process and its own embedded AWS.

Why the tables hold a *working set* and how that keeps the figures exact
------------------------------------------------------------------------
moto answers every Query by walking the whole table (it builds and sorts the list of all items, then
compares each item's key: ~20 µs per item per Query here, all of it DynamoType comparisons in moto,
not anything DynamoDB does), and writing an item costs ~0.2-0.7 ms. With 20,000 items, ~5-8 Queries a
search and 600 searches that is an hour per system. A real Query reads only the items of its partition
whose sort key lies in its range; items outside the ranges of a search change nothing it sees: not its
Items, Count, ScannedCount, nor where its 1 MB pages end. So before each search the table holds exactly
the items that search can read: those inside its key ranges, found over the *whole* dataset with the
system's own key functions (ours: ``cover_circle`` and ``point_keys``; dynamodb-geo: its S2 covering,
``getGeoHashRanges`` and ``S2Manager``). Items enter and leave through BatchWriteItem between searches,
which run in a short tour of their centres so that consecutive working sets overlap. Each search then
checks that DynamoDB's ScannedCount equals the number of dataset items inside its ranges (nothing it
could read was missing), and recall is judged against brute force over the whole dataset, so a range
that misses a point still shows up as a miss.

What remains is moto's work per item *read*, which the figures are made of: serialising each returned
item through botocore's shapes (~0.5-1 ms), projecting it onto the index (``Item.project`` converts the
whole item once per projected attribute) and deep copies. That, not the table walk, is where the
minutes go.

The Scan baseline reads the whole table: its pages and ScannedCount are the same for every search (the
table does not change between searches and a Scan does not depend on the centre), so the run Scans the
full table once for real, checks that claim with real Scans carrying a FilterExpression, and cuts each
search from what the Scan read.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench.datasets import Dataset
from shared.geo.distance import EARTH_RADIUS_M, haversine_m

NOW = 1_900_000_000  # the searches' clock (epoch seconds)
PRESENCE_TTL_S = 900  # responders' presence lapses 15 minutes after their last update
DYNAMODBGEO_HASH_KEY_LENGTH = 6  # the Java library's default; its README: the largest the radii allow
DYNAMODBGEO_TABLE = "bench-dynamodbgeo"
SCAN_TABLE = "bench-scan"


@dataclass(frozen=True)
class Search:
    radius_m: float
    lat: float
    lng: float


@dataclass
class Measured:
    """One search as a system ran it. ``hits`` are (distance by our haversine, id), in the order the
    system returned them (dynamodb-geo sorts by its own distance)."""

    queries: int
    rounds: int
    items_read: int
    hits: list[tuple[float, str]]


@dataclass
class Run:
    system: str
    dataset: str
    measured: list[Measured]
    items_loaded: int
    seconds: float
    note: str = ""
    cpu_seconds: float = 0.0
    processes: int = 1


def brute_force(dataset: Dataset, searches: Sequence[Search]) -> list[list[tuple[float, str]]]:
    """The truth: haversine from every search centre to every point; within the radius, nearest first,
    ties by id."""
    truth = []
    for s in searches:
        found = []
        for p in dataset.points:
            distance = haversine_m(s.lat, s.lng, p.lat, p.lng)
            if distance <= s.radius_m:
                found.append((distance, p.entity_id))
        truth.append(sorted(found))
    return truth


# ---------------------------------------------------------------------------------------------------
# Working sets


class _WorkingSet:
    """Keeps in a table exactly the dataset items the current search can read."""

    def __init__(self, put: Callable[[list[int]], None], delete: Callable[[list[int]], None]) -> None:
        self._put, self._delete = put, delete
        self.held: frozenset[int] = frozenset()
        self.loaded = 0

    def hold(self, needed: frozenset[int]) -> None:
        if drop := sorted(self.held - needed):
            self._delete(drop)
        if add := sorted(needed - self.held):
            self._put(add)
            self.loaded += len(add)
        self.held = needed


def tour(searches: Sequence[Search]) -> list[int]:
    """An order of the searches in which consecutive ones are close: radius by radius, a nearest-neighbour
    tour of the centres starting in the west. Only moto's cost depends on it."""
    order: list[int] = []
    for radius in sorted({s.radius_m for s in searches}):
        left = {i for i, s in enumerate(searches) if s.radius_m == radius}
        here = min(left, key=lambda i: (searches[i].lng, i))
        while True:
            left.discard(here)
            order.append(here)
            if not left:
                break
            lat, lng = searches[here].lat, searches[here].lng
            here = min(left, key=lambda i: (haversine_m(lat, lng, searches[i].lat, searches[i].lng), i))
    return order


def _walk(
    searches: Sequence[Search],
    plan: Callable[[Search], tuple[frozenset[int], int]],
    working_set: _WorkingSet,
    run_one: Callable[[Search], Measured],
) -> list[Measured]:
    """Run every search with its working set in place, along ``tour``. Results come back in input order."""
    measured: list[Measured | None] = [None] * len(searches)
    for i in tour(searches):
        needed, inside = plan(searches[i])
        working_set.hold(needed)
        result = run_one(searches[i])
        if result.items_read != inside:
            raise RuntimeError(
                f"search {searches[i]} read {result.items_read} items, its ranges hold {inside}: "
                "the working set is incomplete, the figures would not be those of the full table"
            )
        measured[i] = result
    return [m for m in measured if m is not None]


class _CallCounter:
    """Counts the DynamoDB calls a botocore client makes and sums their ScannedCount."""

    def __init__(self, client: Any, operation: str) -> None:
        self._lock = threading.Lock()
        self.calls = self.scanned = 0
        client.meta.events.register(f"after-call.dynamodb.{operation}", self._after)

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls += 1
            self.scanned += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        with self._lock:
            self.calls = self.scanned = 0


@contextlib.contextmanager
def _embedded_aws() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


def _batch_write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# ---------------------------------------------------------------------------------------------------
# This project: DynamoGeoIndex


def run_ours(dataset: Dataset, searches: Sequence[Search]) -> Run:
    from shared.dal.geo_index import DynamoGeoIndex, IndexedPoint
    from shared.dal.models.geo_index import GeoIndexModel
    from shared.geo.cover import INDEX_LEVELS, cover_circle, point_keys

    started = time.monotonic()
    points = dataset.points
    expires_at = NOW + PRESENCE_TTL_S if dataset.kind == "responder" else None
    geo = DynamoGeoIndex()
    # (level, column) -> [(lat_key, point index)] sorted: where each point lies in every index.
    by_column: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i, p in enumerate(points):
        keys = point_keys(p.lat, p.lng)
        for level, column in keys.columns.items():
            by_column[(level, column)].append((keys.lat_key, i))
    for entries in by_column.values():
        entries.sort()

    def plan(s: Search) -> tuple[frozenset[int], int]:
        cover = cover_circle(s.lat, s.lng, s.radius_m, levels=INDEX_LEVELS, max_ranges=geo.max_queries)
        inside: list[int] = []
        for r in cover.ranges:
            entries = by_column.get((r.level, r.column), [])
            lo = bisect.bisect_left(entries, (r.lat_key_lo, -1))
            hi = bisect.bisect_right(entries, (r.lat_key_hi, len(points)))
            inside.extend(i for _, i in entries[lo:hi])
        return frozenset(inside), len(inside)

    def put(indexes: list[int]) -> None:
        geo.put_many(
            dataset.kind,
            (IndexedPoint(points[i].entity_id, points[i].lat, points[i].lng, expires_at) for i in indexes),
        )

    def delete(indexes: list[int]) -> None:
        with GeoIndexModel.batch_write() as batch:
            for i in indexes:
                batch.delete(GeoIndexModel(entity_key=f"{dataset.kind}#{points[i].entity_id}"))

    with _embedded_aws():
        GeoIndexModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        counter = _CallCounter(GeoIndexModel._get_connection().connection.client, "Query")

        def run_one(s: Search) -> Measured:
            counter.reset()
            result = geo.search(dataset.kind, s.lat, s.lng, s.radius_m, now_epoch=NOW)
            if (result.stats.queries, result.stats.items_read) != (counter.calls, counter.scanned):
                raise RuntimeError(
                    f"SearchStats {result.stats} disagree with the client: {counter.calls} calls"
                )
            hits = [(h.distance_m, h.entity_id) for h in result.hits]
            return Measured(result.stats.queries, result.stats.rounds, result.stats.items_read, hits)

        working_set = _WorkingSet(put, delete)
        measured = _walk(searches, plan, working_set, run_one)
    return Run("this project", dataset.name, measured, working_set.loaded, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------------
# dynamodb-geo's Python port (dynamodbgeo 0.0.3)


def run_dynamodbgeo(dataset: Dataset, searches: Sequence[Search]) -> Run:
    import boto3
    import dynamodbgeo
    from dynamodbgeo import Covering, GeoPoint, QueryRadiusRequest, S2Manager, S2Util

    started = time.monotonic()
    points = dataset.points
    s2 = S2Manager()
    length = DYNAMODBGEO_HASH_KEY_LENGTH
    # The item put_Point writes (DynamoDBManager.put_Point), built with the library's own functions. The
    # range key is the user's choice (unique within a hash key; its README uses a uuid): ours is the
    # zero-padded S2 cell id, then the id. On every Query moto sorts the whole partition by the index key
    # (geohash); with range-key order equal to geohash order that sort meets sorted input. No count changes.
    cell_ids = [s2.generateGeohash(GeoPoint(p.lat, p.lng)) for p in points]
    range_keys = [f"{cell:020d}:{p.entity_id}" for p, cell in zip(points, cell_ids, strict=True)]
    items = [
        {
            "hashKey": {"N": str(s2.generateHashKey(cell, length))},
            "rangeKey": {"S": range_key},
            "geohash": {"N": str(cell)},
            "geoJson": {"S": f"{p.lat},{p.lng}"},
        }
        for p, cell, range_key in zip(points, cell_ids, range_keys, strict=True)
    ]
    key_order = sorted(range(len(items)), key=lambda i: (int(items[i]["hashKey"]["N"]), range_keys[i]))
    rank = {i: position for position, i in enumerate(key_order)}
    # hashKey -> [(cell id, point index)] sorted
    by_hash_key: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, item in enumerate(items):
        by_hash_key[int(item["hashKey"]["N"])].append((cell_ids[i], i))
    for entries in by_hash_key.values():
        entries.sort()

    with _embedded_aws():
        client = boto3.client("dynamodb")
        config = dynamodbgeo.GeoDataManagerConfiguration(client, DYNAMODBGEO_TABLE)
        config.hashKeyLength = length
        util = dynamodbgeo.GeoTableUtil(config)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
            util.create_table(util.getCreateTableRequest())
        manager = dynamodbgeo.GeoDataManager(config)

        def plan(s: Search) -> tuple[frozenset[int], int]:
            # GeoDataManager.queryRadius and dispatchQueries, up to the Queries.
            request = QueryRadiusRequest(GeoPoint(s.lat, s.lng), s.radius_m, {})
            rect = S2Util().getBoundingLatLngRectFromQueryRadiusInput(request)
            covering = Covering(config.S2RegionCoverer().get_covering(rect))
            inside: list[int] = []
            for r in covering.getGeoHashRanges(config.hashKeyLength):
                entries = by_hash_key.get(s2.generateHashKey(r.rangeMin, config.hashKeyLength), [])
                lo = bisect.bisect_left(entries, (r.rangeMin, -1))
                hi = bisect.bisect_right(entries, (r.rangeMax, len(points)))
                inside.extend(i for _, i in entries[lo:hi])
            return frozenset(inside), len(inside)

        def put(indexes: list[int]) -> None:
            ordered = sorted(indexes, key=rank.__getitem__)  # key order: moto's sorts then meet sorted runs
            _batch_write(client, DYNAMODBGEO_TABLE, [{"PutRequest": {"Item": items[i]}} for i in ordered])

        def delete(indexes: list[int]) -> None:
            keys = [{"hashKey": items[i]["hashKey"], "rangeKey": items[i]["rangeKey"]} for i in indexes]
            _batch_write(client, DYNAMODBGEO_TABLE, [{"DeleteRequest": {"Key": k}} for k in keys])

        # One point through the library's own put_Point, to prove the batch-written items are its items.
        first = points[0]
        manager.put_Point(dynamodbgeo.PutPointInput(GeoPoint(first.lat, first.lng), range_keys[0], {}))
        own = client.scan(TableName=DYNAMODBGEO_TABLE)["Items"]
        if own != [items[0]]:
            raise RuntimeError(f"dynamodbgeo writes {own}, the bench would write {items[0]}")
        delete([0])

        counter = _CallCounter(client, "Query")
        paged = [False]

        def saw_page(parsed: dict[str, Any], **_: Any) -> None:
            paged[0] = paged[0] or "LastEvaluatedKey" in parsed

        client.meta.events.register("after-call.dynamodb.Query", saw_page)

        def run_one(s: Search) -> Measured:
            counter.reset()
            # The request's dict goes into every Query (the library's documented way to customise them):
            # only the attributes its radius filter and we need, as our index asks for too. A fresh dict
            # each time: the library writes into it (and its default is shared between requests).
            query_input = {"ProjectionExpression": "rangeKey, geoJson"}
            request = QueryRadiusRequest(GeoPoint(s.lat, s.lng), s.radius_m, query_input, sort=True)
            hits = []
            for item in manager.queryRadius(request):
                lat, lng = (float(v) for v in item["geoJson"]["S"].split(","))
                hits.append((haversine_m(s.lat, s.lng, lat, lng), item["rangeKey"]["S"].split(":", 1)[1]))
            # It runs its Queries one after another: every Query is a round.
            return Measured(counter.calls, counter.calls, counter.scanned, hits)

        working_set = _WorkingSet(put, delete)
        measured = _walk(searches, plan, working_set, run_one)
    note = f"hashKeyLength {length}" + (", some Queries paged" if paged[0] else "")
    return Run(
        "dynamodb-geo", dataset.name, measured, working_set.loaded + 1, time.monotonic() - started, note
    )


# ---------------------------------------------------------------------------------------------------
# A full table Scan


def run_scan(dataset: Dataset, searches: Sequence[Search], checks: int = 3) -> Run:
    import boto3

    started = time.monotonic()
    points = sorted(dataset.points, key=lambda p: p.entity_id)
    with _embedded_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=SCAN_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        _batch_write(
            client,
            SCAN_TABLE,
            [
                {
                    "PutRequest": {
                        "Item": {
                            "id": {"S": p.entity_id},
                            "lat": {"N": repr(p.lat)},
                            "lng": {"N": repr(p.lng)},
                        }
                    }
                }
                for p in points
            ],
        )

        def scan(**kwargs: Any) -> tuple[int, int, list[dict[str, Any]]]:
            pages = scanned = 0
            items: list[dict[str, Any]] = []
            start: dict[str, Any] = {}
            while True:
                page = client.scan(TableName=SCAN_TABLE, **kwargs, **start)
                pages, scanned = pages + 1, scanned + int(page["ScannedCount"])
                items.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    return pages, scanned, items
                start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

        pages, scanned, items = scan()
        rows = [(i["id"]["S"], float(i["lat"]["N"]), float(i["lng"]["N"])) for i in items]
        # What a search's own Scan reads does not depend on the search: check it on a few of them,
        # each filtering to its circle's bounding box on the server.
        for s in searches[:: max(1, len(searches) // checks)][:checks]:
            d_lat = math.degrees(s.radius_m / EARTH_RADIUS_M) * 1.01
            d_lng = d_lat / max(0.01, math.cos(math.radians(s.lat)))
            own = scan(
                FilterExpression="lat BETWEEN :s AND :n AND lng BETWEEN :w AND :e",
                ExpressionAttributeValues={
                    ":s": {"N": repr(s.lat - d_lat)},
                    ":n": {"N": repr(s.lat + d_lat)},
                    ":w": {"N": repr(s.lng - d_lng)},
                    ":e": {"N": repr(s.lng + d_lng)},
                },
            )
            if own[:2] != (pages, scanned):
                raise RuntimeError(
                    f"a search's Scan read {own[:2]} (pages, items), the full Scan {(pages, scanned)}"
                )
        measured = []
        for s in searches:
            hits = sorted(
                (distance, entity_id)
                for entity_id, lat, lng in rows
                if (distance := haversine_m(s.lat, s.lng, lat, lng)) <= s.radius_m
            )
            measured.append(Measured(pages, pages, scanned, hits))
    return Run(
        "full Scan", dataset.name, measured, len(points), time.monotonic() - started, f"{pages} page(s)"
    )
