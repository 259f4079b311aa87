"""What DynamoDB would bill, counted on the embedded DynamoDB (moto, in-process) by AWS's documented rules.

``with DynamoDbMeter() as meter: ...`` observes every DynamoDB request made while it is active, whoever makes
it (pynamodb, boto3, the Step Functions interpreter's SDK tasks): it wraps moto's request handler
(``DynamoHandler``), so one wrapped call is one request as DynamoDB would receive it. Around each request
it reads the items the request touches from moto's backend, before and after, under one lock held for the
whole request (so no other request changes an item between the two images), and bills by these rules:

- Item size: attribute name lengths plus value sizes, a number 1 byte per two significant digits plus 1, a
  list or map 3 bytes plus 1 per element ("DynamoDB item sizes and formats",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
- Writes, 1 unit per 1 KB rounded up per item: PutItem and UpdateItem the larger of the item before and
  after, DeleteItem the deleted item, BatchWriteItem each item on its own; a conditional write whose
  condition fails is still billed (its item's size, 1 for an item that did not exist); reads 1 unit per
  4 KB (half for eventually consistent), a missing item billed as a 4 KB one, BatchGetItem per item, Query
  and Scan the summed size of the items read *before* the filter, rounded up once per request
  ("Read and write operations",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html, and
  "Managing throughput settings on provisioned tables", ProvisionedThroughput.html#ItemSizeCalculations).
- Transactions: each item twice, prepare and commit ("Amazon DynamoDB Transactions: How it works",
  transaction-apis.html#transaction-capacity-handling). Their index writes are billed once each (the
  page doubles the item's writes, not its propagation to the indexes): an assumption. A ConditionCheck
  is billed as a transactional write of its item's size, and a cancelled transaction as each item's
  failed conditional write, doubled: assumptions too.
- Global secondary indexes ("Provisioned throughput considerations for Global Secondary Indexes",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations):
  an item that enters the index, 1 write of its index entry; that leaves it, 1; whose index key changes,
  2 (delete + put); whose projected attributes change with the key kept, 1; nothing projected changed, or
  absent before and after, 0. An entry is the index keys, the table keys and the projected attributes; a
  Query of an index bills the entries' sizes.

Per partition: each write's units also go to (table or table/index, partition key value), so the hottest
partition key can be found. ``ConsumedCapacity`` from moto is a constant and is not used.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_CHUNK = 4 * KB

_OPERATIONS = {
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "get_item": "GetItem",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
    "transact_get_items": "TransactGetItems",
    "transact_write_items": "TransactWriteItems",
    "query": "Query",
    "scan": "Scan",
}


# --- sizes ---------------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (leading and trailing zeroes trimmed)."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    return math.ceil(significant / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one attribute value in DynamoDB JSON, its name not included."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(_raw(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(len(_raw(b)) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def _raw(data: Any) -> bytes:
    return data if isinstance(data, bytes) else base64.b64decode(data)


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Attribute names (UTF-8 bytes) and values, summed; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_chunks(size: int) -> int:
    return max(1, math.ceil(size / READ_CHUNK))


# --- indexes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexShape:
    name: str
    keys: tuple[str, ...]  # the index's hash key first
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key: frozenset[str]

    def entry(self, item: Mapping[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The item's entry in the index, or None when it lacks an index key (a sparse index)."""
        if item is None or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        kept = set(self.keys) | set(table_keys) | (self.non_key if self.projection == "INCLUDE" else set())
        return {n: v for n, v in item.items() if n in kept}


def index_writes(
    shape: IndexShape,
    table_keys: tuple[str, ...],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> list[tuple[int, Any]]:
    """The writes one table write causes in one GSI: (units, partition key value) each, by the GSI rules."""
    old, new = shape.entry(before, table_keys), shape.entry(after, table_keys)
    hash_key = shape.keys[0]
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [(write_units(item_size(new)), _key(new[hash_key]))]
    if new is None:
        return [(write_units(item_size(old)), _key(old[hash_key]))]
    if any(old[k] != new[k] for k in shape.keys):  # the index key moved: delete the old entry, put the new
        return [
            (write_units(item_size(old)), _key(old[hash_key])),
            (write_units(item_size(new)), _key(new[hash_key])),
        ]
    if old != new:
        return [(write_units(max(item_size(old), item_size(new))), _key(new[hash_key]))]
    return []


def _key(value: Mapping[str, Any]) -> Any:
    ((_, data),) = value.items()
    return data


# --- the meter -----------------------------------------------------------------------------------


@dataclass
class Usage:
    requests: int = 0
    write_units: float = 0.0  # table and index writes
    read_units: float = 0.0
    index_write_units: float = 0.0  # of write_units, those of GSIs
    failed_conditions: int = 0


@dataclass
class DynamoDbMeter:
    """Bills every DynamoDB request made while active (see the module's docstring)."""

    operations: dict[str, Usage] = field(default_factory=dict)
    tables: dict[str, Usage] = field(default_factory=dict)  # "table" and "table/index"
    # Write units per (table or table/index, partition key value).
    partitions: defaultdict[tuple[str, Any], float] = field(default_factory=lambda: defaultdict(float))

    @property
    def write_units(self) -> float:
        return sum(u.write_units for u in self.operations.values())

    @property
    def read_units(self) -> float:
        return sum(u.read_units for u in self.operations.values())

    def by_table(self) -> dict[str, Usage]:
        return dict(self.tables)

    def by_operation(self) -> dict[str, Usage]:
        return dict(self.operations)

    def hottest_partition(self) -> tuple[tuple[str, Any], float] | None:
        return max(self.partitions.items(), key=lambda kv: kv[1]) if self.partitions else None

    def reset(self) -> None:
        with _LOCK:
            self.operations.clear()
            self.tables.clear()
            self.partitions.clear()

    def __enter__(self) -> DynamoDbMeter:
        with _LOCK:
            if not _ACTIVE:
                _install()
            _ACTIVE.append(self)
        return self

    def __exit__(self, *_: Any) -> None:
        with _LOCK:
            _ACTIVE.remove(self)
            if not _ACTIVE:
                _uninstall()

    # What a request cost, added by the request's wrapper.
    def _write(self, operation: str, target: str, units: float, key: Any, *, index: bool = False) -> None:
        self.operations.setdefault(operation, Usage()).write_units += units
        usage = self.tables.setdefault(target, Usage())
        usage.write_units += units
        if index:
            self.operations[operation].index_write_units += units
            self.tables[target.split("/")[0]].index_write_units += units
        self.partitions[(target, key)] += units

    def _read(self, operation: str, target: str, units: float) -> None:
        self.operations.setdefault(operation, Usage()).read_units += units
        self.tables.setdefault(target, Usage()).read_units += units


# One lock for the meters and every metered request: the before-image, the request and the after-image of
# one request are never interleaved with another request's write.
_LOCK = threading.RLock()
_ACTIVE: list[DynamoDbMeter] = []
_ORIGINALS: dict[tuple[type, str], Any] = {}
_SCANNED = threading.local()  # the items a Query or Scan read before its filter, for the request's wrapper


def _install() -> None:
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    for method, operation in _OPERATIONS.items():
        original = getattr(DynamoHandler, method)
        _ORIGINALS[(DynamoHandler, method)] = original
        setattr(DynamoHandler, method, _metered(original, operation))
    for method in ("query", "scan"):
        original = getattr(Table, method)
        _ORIGINALS[(Table, method)] = original
        setattr(Table, method, _reading(original, method))


def _uninstall() -> None:
    for (cls, method), original in _ORIGINALS.items():
        setattr(cls, method, original)
    _ORIGINALS.clear()


def _reading(original: Callable[..., Any], method: str) -> Callable[..., Any]:
    """Table.query/scan: also run without filter and projection, to see the items read before the filter
    (each already projected to the index's entry when it reads an index)."""
    import inspect

    signature = inspect.signature(original)
    unfiltered: dict[str, Any] = (
        {"filter_expression": None, "projection_expressions": None}
        if method == "query"
        else {"filter_expression": None, "projection_expression": None, "filters": {}}
    )

    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        collected = getattr(_SCANNED, "items", None)
        if collected is not None:
            bound = signature.bind(self, *args, **kwargs)
            bound.arguments.update(unfiltered)
            if method == "query":
                bound.arguments.pop("kwargs", None)  # legacy QueryFilter: not used by this project
            items, _, _ = original(*bound.args, **bound.kwargs)
            collected.extend(i.to_json()["Attributes"] for i in items)
        return original(self, *args, **kwargs)

    return read


def _metered(original: Callable[..., Any], operation: str) -> Callable[..., Any]:
    def request(handler: Any, *args: Any, **kwargs: Any) -> Any:
        if not _ACTIVE:
            return original(handler, *args, **kwargs)
        with _LOCK:
            meters = list(_ACTIVE)
            bill = _Bill(handler.dynamodb_backend, handler.body, operation)
            bill.before()
            _SCANNED.items = [] if operation in ("Query", "Scan") else None
            try:
                result = original(handler, *args, **kwargs)
            except Exception as error:
                bill.failed(error)
                bill.charge(meters)
                raise
            finally:
                scanned, _SCANNED.items = _SCANNED.items, None
            bill.after(scanned)
            bill.charge(meters)
            return result

    return request


@dataclass
class _Target:
    table: Any
    key: dict[str, Any]
    kind: str  # Put, Update, Delete, ConditionCheck
    new: dict[str, Any] | None = None  # a Put's item
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class _Bill:
    """One request: what it touched before and after, and what that costs."""

    def __init__(self, backend: Any, body: Mapping[str, Any], operation: str) -> None:
        self.backend, self.body, self.operation = backend, body, operation
        self.writes: list[_Target] = []
        self.reads: list[tuple[str, int, float]] = []  # (table, chunks, units per chunk)
        self.failure: str | None = None
        self.transactional = operation.startswith("Transact")
        self.charges: list[tuple[str, str, float, Any, bool]] = []  # (kind, target, units, key, index)

    def _image(self, table: Any, key: Mapping[str, Any]) -> dict[str, Any] | None:
        hash_value, range_value = self.backend.get_keys_value(table, key)
        item = table.get_item(hash_value, range_value)
        return item.to_json()["Attributes"] if item is not None else None

    def _table(self, name: str) -> Any:
        return self.backend.get_table(name)

    def _target(self, name: str, kind: str, request: Mapping[str, Any]) -> _Target:
        table = self._table(name)
        if kind == "Put":
            item = request["Item"]
            key = {k: item[k] for k in (table.hash_key_attr, table.range_key_attr) if k}
            return _Target(table, key, kind, new=dict(item))
        return _Target(table, dict(request["Key"]), kind)

    def before(self) -> None:
        body, op = self.body, self.operation
        if op == "PutItem":
            self.writes = [self._target(body["TableName"], "Put", body)]
        elif op == "UpdateItem":
            self.writes = [self._target(body["TableName"], "Update", body)]
        elif op == "DeleteItem":
            self.writes = [self._target(body["TableName"], "Delete", body)]
        elif op == "BatchWriteItem":
            for name, requests in body["RequestItems"].items():
                for r in requests:
                    if "PutRequest" in r:
                        self.writes.append(self._target(name, "Put", r["PutRequest"]))
                    else:
                        self.writes.append(self._target(name, "Delete", r["DeleteRequest"]))
        elif op == "TransactWriteItems":
            for entry in body["TransactItems"]:
                ((kind, request),) = entry.items()
                self.writes.append(self._target(request["TableName"], kind, request))
        elif op in ("GetItem", "BatchGetItem", "TransactGetItems"):
            self._point_reads()
        for target in self.writes:
            target.before = self._image(target.table, target.key)

    def _point_reads(self) -> None:
        body, op = self.body, self.operation
        if op == "GetItem":
            requests = [(body["TableName"], body["Key"], bool(body.get("ConsistentRead")))]
        elif op == "BatchGetItem":
            requests = [
                (name, key, bool(spec.get("ConsistentRead")))
                for name, spec in body["RequestItems"].items()
                for key in spec["Keys"]
            ]
        else:
            requests = [(g["Get"]["TableName"], g["Get"]["Key"], True) for g in body["TransactItems"]]
        per_chunk = 2.0 if op == "TransactGetItems" else None
        for name, key, consistent in requests:
            table = self._table(name)
            size = item_size(self._image(table, key))  # a missing item bills as a small one
            self.reads.append((table.name, read_chunks(size), per_chunk or (1.0 if consistent else 0.5)))

    def failed(self, error: Exception) -> None:
        self.failure = type(error).__name__

    def after(self, scanned: list[dict[str, Any]] | None) -> None:
        for target in self.writes:
            target.after = self._image(target.table, target.key)
        if scanned is not None:
            table = self._table(self.body["TableName"])
            index = self.body.get("IndexName")
            consistent = bool(self.body.get("ConsistentRead")) and index is None
            size = sum(item_size(i) for i in scanned)
            name = f"{table.name}/{index}" if index else table.name
            self.reads.append((name, read_chunks(size), 1.0 if consistent else 0.5))

    def charge(self, meters: list[DynamoDbMeter]) -> None:
        factor = 2.0 if self.transactional else 1.0
        refused = self.failure in ("ConditionalCheckFailed", "TransactionCanceledException")
        if self.failure and not refused:  # validation and other errors: nothing done, nothing billed
            self.writes, self.reads = [], []
        for meter in meters:
            meter.operations.setdefault(self.operation, Usage()).requests += 1
            if refused:
                meter.operations[self.operation].failed_conditions += 1
        for target in self.writes:
            table, before = target.table, target.before
            keys = tuple(k for k in (table.hash_key_attr, table.range_key_attr) if k)
            hash_value = _key(target.key[table.hash_key_attr])
            if refused:
                # Nothing written: the request is billed for the item it found (1 unit when none), its
                # indexes untouched.
                size = max(item_size(before), item_size(target.new)) if before is not None else 0
                units = factor * write_units(size)
                for meter in meters:
                    meter._write(self.operation, table.name, units, hash_value)
                continue
            after = target.after
            if target.kind == "ConditionCheck" or target.kind == "Delete":
                size = item_size(before)
            else:
                size = max(item_size(before), item_size(after))
            for meter in meters:
                meter._write(self.operation, table.name, factor * write_units(size), hash_value)
            if target.kind == "ConditionCheck":
                continue
            for index in table.global_indexes or []:
                shape = _shape(index)
                for units, key in index_writes(shape, keys, before, after):
                    for meter in meters:
                        meter._write(self.operation, f"{table.name}/{shape.name}", units, key, index=True)
        for target_name, chunks, per_chunk in self.reads:
            for meter in meters:
                meter._read(self.operation, target_name, chunks * per_chunk)


def _shape(index: Any) -> IndexShape:
    schema = sorted(index.schema, key=lambda k: k["KeyType"] != "HASH")
    projection = index.projection or {}
    return IndexShape(
        index.name,
        tuple(k["AttributeName"] for k in schema),
        projection.get("ProjectionType", "ALL"),
        frozenset(projection.get("NonKeyAttributes", ())),
    )
