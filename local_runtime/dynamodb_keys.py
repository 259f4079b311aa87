"""The embedded DynamoDB answers a Query from its keys, as DynamoDB does, instead of reading the table.

moto 5.2.5's ``Table.query`` starts from ``all_items()``: every item of the table, sorted, for every
Query (with the Taiwan registry and a city of responders, seconds per SOS). Here each table keeps, per
view (the table itself and each index) and per partition key value, its items' keys sorted as moto
sorts them; a Query takes the partition, bisects the sort-key condition, and hands moto's own
``Table.query`` just those candidates in place of ``all_items()``. Everything else (paging, Limit,
ExclusiveStartKey, filters, projections, counts, errors) stays moto's code.

Kept in step with every path that changes ``Table.items``: ``Table.put_item`` and ``Table.delete_item``
(which PutItem, DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL and table imports all go
through), the backend's ``update_item`` (which changes an item in place) and a failed transaction's
undo (below). A table object whose items arrived another way (a restore from a backup) starts without
keys and builds them on its first Query. moto has no TTL expiry.

TransactWriteItems: moto deep-copies every table a transaction names, to put the copies back if it
fails, which made each alert (a ConditionCheck on the responders' table) copy 20,000 items. Here a
failed transaction puts back the items it named, as they were, and drops the stream records it added.

When a Query is not one this can narrow exactly (legacy QueryFilter, multi-attribute index keys, an
index key stored with another type than declared...), moto answers it the old way. Local runtime only.

Projections (an index's KEYS_ONLY or INCLUDE, a ProjectionExpression or AttributesToGet): moto's
``Item.project`` turns the whole item into plain JSON once per projected path, though a path reads one
top-level attribute. Here each path gets that attribute alone, turned as moto turns it, afresh per path
as moto does (moto merges the paths' values by reference): the same Item, for a fraction of the work.

Replies: moto's generic JSON serializer walks the botocore model for every attribute value (all ten
members of AttributeValue, each looked up through its attribute picker). Here an AttributeValue of
DynamoDB or DynamoDB Streams is written as that walk writes it, in one step; anything unusual (not one
known type) goes the generic way. The same JSON out.

Per item of a Query's reply, moto also sizes each candidate three times (the narrowing once, its paging
twice), deep-copies each match, then (with a projection: the index's KEYS_ONLY or INCLUDE, or a
ProjectionExpression) builds a fresh Item from the copy, whose LimitedSizeDict re-sums the whole item at
every attribute. Here, within a Query, a candidate is sized once (no write runs during a request); a match
that a projection rebuilds is copied but for its attributes (the projection reads them and shares none of
them); and the projected Item's size check sums as it goes: the same limit, the same error.
"""

from __future__ import annotations

import bisect
import copy
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend, dynamo_type
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.models.utilities import bytesize

_ATTR = "_rescue_nearby_sorted_keys"
# moto refuses items over ~405 KB (LimitedSizeDict). The candidates stop one item past the sort-key
# range; moto's 1 MB page check could also trip on a later item only if the range's items, plus that
# item, came near 1 MB: then the whole partition goes to moto.
_LARGEST_ITEM = 410_000
_NARROW_SIZE = RESULT_SIZE_LIMIT - _LARGEST_ITEM

Pk = tuple[DynamoType, DynamoType | None]  # a primary key, as table.items holds it
Entry = tuple[Any, tuple[Any, ...], Pk]  # (sort value, primary key's values, primary key)


@dataclass
class _View:
    """The table (name None) or one index: its partitions' entries, sorted as moto sorts a Query."""

    name: str | None
    hash_attr: str
    hash_type: str | None
    range_attr: str | None
    range_type: str | None
    parts: dict[DynamoType, list[Entry]] = field(default_factory=dict)
    odd: set[Pk] = field(default_factory=set)  # key attributes of another type than declared

    def place(self, pk: Pk, pk_values: tuple[Any, ...], item: Item) -> tuple[DynamoType, Entry] | None:
        part = item.attrs.get(self.hash_attr)
        if part is None:
            return None
        value = item.attrs.get(self.range_attr) if self.range_attr else None
        if part.type != self.hash_type or (value is not None and value.type != self.range_type):
            self.odd.add(pk)
            return None
        if self.range_attr is None:
            return part, ((), pk_values, pk)
        if value is None:  # sparse: moto's Query skips items without the index's sort key
            return None
        return part, (value.cast_value, pk_values, pk)


class _Keys:
    def __init__(self, table: Table) -> None:
        self.signature = _signature(table)
        types = {a["AttributeName"]: a["AttributeType"] for a in table.attr}
        self.views: dict[str | None, _View] = {
            None: _View(
                None, table.hash_key_attr, table.hash_key_type, table.range_key_attr, table.range_key_type
            )
        }
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) == 1 and len(ranges) <= 1:  # multi-attribute keys: moto's way
                r = ranges[0] if ranges else None
                self.views[index.name] = _View(
                    index.name, hashes[0], types.get(hashes[0]), r, types.get(r or "")
                )
        self.placed: dict[Pk, list[tuple[_View, DynamoType, Entry]]] = {}
        for item in _stored(table):
            self.add((item.hash_key, item.range_key), item)

    def __deepcopy__(self, memo: dict[int, Any]) -> None:
        """A deep copy of a table (a backup) builds its own keys when first needed."""
        return None

    def add(self, pk: Pk, item: Item) -> None:
        pk_values = (pk[0].cast_value,) if pk[1] is None else (pk[0].cast_value, pk[1].cast_value)
        placed = []
        for view in self.views.values():
            spot = view.place(pk, pk_values, item)
            if spot is not None:
                part, entry = spot
                bisect.insort(view.parts.setdefault(part, []), entry)
                placed.append((view, part, entry))
        self.placed[pk] = placed

    def remove(self, pk: Pk) -> None:
        for view, part, entry in self.placed.pop(pk, []):
            entries = view.parts[part]
            del entries[bisect.bisect_left(entries, entry)]
            if not entries:
                del view.parts[part]
        for view in self.views.values():
            view.odd.discard(pk)


def _signature(table: Table) -> Any:
    return (
        tuple((a["AttributeName"], a["AttributeType"]) for a in table.attr),
        tuple(
            (i.name, tuple((k["AttributeName"], k["KeyType"]) for k in i.schema)) for i in table.all_indexes()
        ),
    )


def _stored(table: Table) -> list[Item]:
    if table.range_key_attr:
        return [item for part in table.items.values() for item in part.values()]
    return list(table.items.values())  # type: ignore[arg-type]


def _item(table: Table, pk: Pk) -> Item | None:
    # .get, not []: table.items is a defaultdict, and a look-up must not add a partition
    found = table.items.get(pk[0])
    if found is None or pk[1] is None:
        return found  # type: ignore[return-value]
    return found.get(pk[1])


def _keys(table: Table) -> _Keys:
    keys = table.__dict__.get(_ATTR)
    if keys is None or keys.signature != _signature(table):
        keys = table.__dict__[_ATTR] = _Keys(table)
    return keys


def reindex(table: Table, pk: Pk) -> None:
    """After a write to one item: its entries follow what table.items now holds. (The keys are built
    with a table's first write, so a table loaded in bulk is not read whole by its first Query.)"""
    keys = _keys(table)
    keys.remove(pk)
    item = _item(table, pk)
    if item is not None:
        keys.add(pk, item)


def forget(table: Table) -> None:
    """After a write this cannot follow item by item: the next Query builds the keys afresh."""
    table.__dict__.pop(_ATTR, None)


def _bounds(entries: list[Entry], op: str, values: list[Any]) -> tuple[int, int] | None:
    """The slice of entries whose sort value meets the condition (a contiguous run of the sorted list)."""

    def left(v: Any) -> int:
        return bisect.bisect_left(entries, v, key=lambda e: e[0])

    def right(v: Any) -> int:
        return bisect.bisect_right(entries, v, key=lambda e: e[0])

    op = op.upper()
    if op in ("=", "EQ"):
        return left(values[0]), right(values[0])
    if op in ("<", "LT"):
        return 0, left(values[0])
    if op in ("<=", "LE"):
        return 0, right(values[0])
    if op in (">", "GT"):
        return right(values[0]), len(entries)
    if op in (">=", "GE"):
        return left(values[0]), len(entries)
    if op == "BETWEEN":
        lo = left(values[0])
        return lo, max(lo, right(values[1]))
    if op == "BEGINS_WITH" and isinstance(values[0], (str, bytes)):
        lo = hi = left(values[0])
        while hi < len(entries) and entries[hi][0].startswith(values[0]):
            hi += 1
        return lo, hi
    return None


def candidates(
    table: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None,
    filter_kwargs: dict[str, Any],
) -> list[Item] | None:
    """What moto's Query would read of all_items() for this Query, in its order, or None: ask moto.

    Only items of the partition can be answered. Of those, moto walks the sorted partition and keeps
    those in the sort-key range (a contiguous run); the items before the run are passed over; the first
    one after it matters only as the item at which a full page stops (LastEvaluatedKey)."""
    if filter_kwargs or (limit is not None and limit < 1) or len(range_key_conditions or []) > 1:
        return None
    keys = _keys(table)
    view = keys.views.get(index_name)
    if view is None or view.odd:
        return None
    if index_name is None:
        part = hash_key
    elif (
        hash_key_conditions and len(hash_key_conditions) == 1 and hash_key_conditions[0][0] == view.hash_attr
    ):
        part = hash_key_conditions[0][1]
    else:
        return None
    if exclusive_start_key is not None:
        needed = {view.hash_attr, view.range_attr, table.hash_key_attr, table.range_key_attr} - {None}
        if not needed <= exclusive_start_key.keys():
            return None  # moto's paging compares each key attribute: let it judge a partial start key
    entries = view.parts.get(part, []) if part is not None else []
    lo, hi = 0, len(entries)
    if range_comparison:
        if view.range_attr is None or any(o.type != view.range_type for o in range_objs):
            return None
        bounds = _bounds(entries, range_comparison, [o.cast_value for o in range_objs])
        if bounds is None:
            return None
        lo, hi = bounds
    found = [_item(table, e[2]) for e in entries[lo:hi]]
    if range_comparison:
        if sum(i.size() for i in found if i is not None) > _NARROW_SIZE:
            found = [_item(table, e[2]) for e in entries]
        elif scan_index_forward and hi < len(entries):
            found.append(_item(table, entries[hi][2]))
        elif not scan_index_forward and lo > 0:
            found.insert(0, _item(table, entries[lo - 1][2]))
    if any(i is None for i in found):
        raise AssertionError(f"{table.name}: the sorted keys name an item the table does not hold")
    return found  # type: ignore[return-value]


class _Candidates:
    """The table as moto's Query sees it, but for all_items(): the candidates. (Not a copy of the table:
    moto tracks every Table instance ever made.)"""

    def __init__(self, table: Table, found: list[Item]) -> None:
        self._table, self._found = table, found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        return self._found


# Within TransactWriteItems a table's deep copy is the table itself: moto's rollback then changes
# nothing, and the undo puts back what the transaction's items were before it.
_IN_TRANSACTION = threading.local()
PATCHED: list[tuple[type, str, Any]] = []  # (class, attribute, moto's own or None): for the test


_LIST_ELEMENT = re.compile(r"(.+)\[(\d+)\]$")  # moto's find_nested_key: 'a[1]' reads attribute 'a'


def project(self: Item, projection_expressions: list[list[str]]) -> Item:
    """moto's Item.project, each path reading only the top-level attribute it names.

    moto's find_nested_key reads, of the item's plain JSON, the key the path's first element names or,
    if that element ends in [n], the key before it: nothing else. So each path gets a dict of just
    those (at most two) attributes, deserialized from a fresh to_regular_json() as Item.to_regular_json
    does; what follows (find_nested_key, merge_dicts, serialize) is moto's code. Paths that each name
    one top-level attribute, none twice (the geo index's, every ProjectionExpression the functions
    send), take the same steps per attribute, with moto's (de)serializer's own per-type steps."""
    attrs = self.attrs
    tops = [expr[0] for expr in projection_expressions]
    if (
        all(len(expr) == 1 for expr in projection_expressions)
        and len(set(tops)) == len(tops)
        and not any(_LIST_ELEMENT.match(top) for top in tops)
    ):
        # Top-level attributes, each named once: find_nested_key hands each value over as it is, and
        # merge_dicts sets it; so each attribute goes its own way through (de)serializing, in moto's order
        plain = {top: _deserialized(attrs[top]) for top in tops if top in attrs}
        return new_item(self.hash_key, self.range_key, {k: _serialized(v) for k, v in plain.items()})
    result: dict[str, Any] = {}
    for expr in projection_expressions:
        first = expr[0]
        names = [first]
        element = _LIST_ELEMENT.match(first)
        if element:
            names.append(element.group(1))
        regular = {
            name: dynamo_type.deserializer.deserialize(attrs[name].to_regular_json())
            for name in names
            if name in attrs
        }
        dynamo_type.merge_dicts(result, dynamo_type.find_nested_key(expr, regular))
    return new_item(self.hash_key, self.range_key, cast(dict[str, Any], _SERIALIZER.serialize(result)["M"]))


# moto's own (boto3's TypeSerializer and TypeDeserializer), with their private per-type steps
_SERIALIZER: Any = dynamo_type.serializer
_DESERIALIZER: Any = dynamo_type.deserializer


def _deserialized(typed: DynamoType) -> Any:
    """deserializer.deserialize(typed.to_regular_json()), directly for a string, number, bool, null, and
    maps and lists of DynamoTypes (whose to_regular_json turns each element, which deserialize turns in
    the same order); sets and binaries go moto's way."""
    kind, value = typed.type, typed.value
    if (kind == "S" and type(value) is str) or (kind == "BOOL" and type(value) is bool):
        return value
    if kind == "N" and type(value) is str:
        return _DESERIALIZER._deserialize_n(value)
    if kind == "NULL":
        return None
    if kind == "M" and type(value) is dict and all(type(v) is DynamoType for v in value.values()):
        return {k: _deserialized(v) for k, v in value.items()}
    if kind == "L" and type(value) is list and all(type(v) is DynamoType for v in value):
        return [_deserialized(v) for v in value]
    return _DESERIALIZER.deserialize(typed.to_regular_json())


def _serialized(value: Any) -> dict[str, Any]:
    """serializer.serialize(value), directly for a str, bool, None, Decimal, dict or list (the types its
    _get_dynamodb_type tells apart first); anything else goes its way."""
    if type(value) is str:
        return {"S": value}
    if type(value) is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if type(value) is Decimal:
        return {"N": _SERIALIZER._serialize_n(value)}
    if type(value) is dict:
        return {"M": {k: _serialized(v) for k, v in value.items()}}
    if type(value) is list:
        return {"L": [_serialized(v) for v in value]}
    return _SERIALIZER.serialize(value)  # type: ignore[no-any-return]


_ITEM_LIMIT = 405000  # moto's LimitedSizeDict: an item over this many bytes raises ItemSizeTooLarge


def new_item(hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> Item:
    """``Item(hash_key, range_key, attrs)`` as moto's Item.__init__ makes it. Its LimitedSizeDict sums the
    sizes of every key and value held at each insert (quadratic); here the sum runs as the keys go in:
    the same sums, so the same ItemSizeTooLarge at the same attribute."""
    item = cast(Item, Item.__new__(Item))  # moto's BaseModel.__new__: tracked as moto tracks each Item
    item.hash_key = hash_key
    item.range_key = range_key
    held = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        size = bytesize(key) + typed.size()
        if total + size > _ITEM_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(held, key, typed)
        total += size
    item.attrs = held
    return item


class _InQuery(threading.local):
    """Within one Query on this thread: the candidates' sizes, and whether its matches are projected."""

    sizes: dict[int, tuple[Item, int]] | None = None
    projected = False


_QUERY = _InQuery()


def _projected(table: Table, index_name: str | None, projection_expressions: list[list[str]] | None) -> bool:
    """Whether moto's Query rebuilds every match through Item.project (then a match's attributes are
    only read: by the index's projection, the filter and the ProjectionExpression)."""
    if projection_expressions:
        return True
    if not index_name:
        return False
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    projection = getattr(index, "projection", None) or {}
    return projection.get("ProjectionType") in ("KEYS_ONLY", "INCLUDE")


class _Unusual(Exception):
    """An attribute value the fast path does not write: the generic serializer does."""


_EMPTY: list[Any] = [None, {}, []]  # what moto's _serialize_type_string passes through unchanged
_SERVICES = ("dynamodb", "dynamodbstreams")


def _string(value: Any) -> Any:
    if not isinstance(value, str):
        raise _Unusual
    return value if value in _EMPTY else str(value)


def _attribute_value(serializer: BaseJSONSerializer, value: Any) -> dict[str, Any]:
    """What moto's JSON serializer writes for an AttributeValue structure (a one-key dict, not None)."""
    if type(value) is not dict or len(value) != 1:
        raise _Unusual
    ((kind, inner),) = value.items()
    if inner is None:
        return {}  # a member None is left out
    if kind in ("S", "N"):
        return {kind: _string(inner)}
    if kind in ("NULL", "BOOL") and isinstance(inner, bool):
        return {kind: inner}
    if kind == "B" and isinstance(inner, (bytes, str)):
        return {kind: serializer._base64(inner)}
    if type(inner) is list and kind in ("SS", "NS"):
        return {kind: [_string(v) for v in inner]}
    if type(inner) is list and kind == "BS" and all(isinstance(v, (bytes, str)) for v in inner):
        return {kind: [serializer._base64(v) for v in inner]}
    if type(inner) is list and kind == "L":
        # a None element: the generic list serializer appends the element itself
        return {kind: [None if v is None else _attribute_value(serializer, v) for v in inner]}
    if type(inner) is dict and kind == "M":
        # a None value: the generic map serializer sets nothing for it
        return {kind: {k: _attribute_value(serializer, v) for k, v in inner.items() if v is not None}}
    raise _Unusual


def _patch(cls: type, name: str, function: Any) -> None:
    PATCHED.append((cls, name, cls.__dict__.get(name)))
    setattr(cls, name, function)


def install() -> None:
    """Patch moto's DynamoDB (idempotent)."""
    if PATCHED:
        return
    query, put_item, delete_item = Table.query, Table.put_item, Table.delete_item
    update_item, transact_write_items = DynamoDBBackend.update_item, DynamoDBBackend.transact_write_items

    def narrowed_query(
        self: Table,
        hash_key: DynamoType | None,
        range_comparison: str | None,
        range_objs: list[DynamoType],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
        range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Item], int, dict[str, Any] | None]:
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        _QUERY.sizes, _QUERY.projected = {}, _projected(self, index_name, projection_expressions)
        try:
            found = candidates(
                self, *args, index_name, hash_key_conditions, range_key_conditions, filter_kwargs
            )
            return query(  # type: ignore[no-any-return]
                self if found is None else cast(Table, _Candidates(self, found)),
                *args,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )
        finally:
            _QUERY.sizes, _QUERY.projected = None, False

    def put(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            pk = _pk(self, item_attrs)
            if pk is None:
                forget(self)
            else:
                reindex(self, pk)

    def delete(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            if self.range_key_attr and range_key is None:
                forget(self)  # moto pops the whole partition then: let the next Query rebuild
            else:
                reindex(self, (hash_key, range_key))

    def update(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            # in place, on the item table.items holds (and perhaps half done, if it raised)
            table = self.tables.get(table_name)
            if table is not None:
                pk = _pk(table, key)
                if pk is None:
                    forget(table)
                else:
                    reindex(table, pk)

    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        named = _named(self, transact_items)
        if named is None:  # a key this cannot read: moto's own copies then
            transact_write_items(self, transact_items)
            return
        before = {(id(t), pk): (t, pk, copy.deepcopy(_item(t, pk))) for t, pk in named}
        tables = {id(t): t for t, _ in named}
        streamed = {i: len(t.stream_shard.items) for i, t in tables.items() if t.stream_shard is not None}
        _IN_TRANSACTION.active = True
        try:
            transact_write_items(self, transact_items)
        except BaseException:
            for table, pk, item in before.values():
                _restore(table, pk, item)
            for i, count in streamed.items():
                del tables[i].stream_shard.items[count:]  # type: ignore[union-attr]
            raise
        finally:
            _IN_TRANSACTION.active = False

    def deepcopy_table(self: Table, memo: dict[int, Any]) -> Table:
        if getattr(_IN_TRANSACTION, "active", False):
            return self
        new = copy.copy(self)  # as copy.deepcopy does by default: a new instance, then its state copied
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    _patch(Table, "query", narrowed_query)
    _patch(Table, "put_item", put)
    _patch(Table, "delete_item", delete)
    _patch(Table, "__deepcopy__", deepcopy_table)
    _patch(DynamoDBBackend, "update_item", update)
    _patch(DynamoDBBackend, "transact_write_items", transact)
    _patch(Item, "project", project)

    item_size, deepcopy_item = Item.size, Item.__deepcopy__

    def sized_once(self: Item) -> int:
        sizes = _QUERY.sizes
        if sizes is None:
            return item_size(self)
        known = sizes.get(id(self))
        if known is None or known[0] is not self:  # (the item kept alive with its size: no id reused)
            known = sizes[id(self)] = (self, item_size(self))
        return known[1]

    def copied(self: Item, memo: dict[int, Any]) -> Item:
        if not _QUERY.projected:
            return deepcopy_item(self, memo)  # type: ignore[no-any-return]
        # Item.__deepcopy__ but for the attributes: the projection that follows reads them, copies
        # what it keeps, and hands out none of them
        light = cast(Item, Item.__new__(Item))
        memo[id(self)] = light
        light.hash_key = copy.deepcopy(self.hash_key, memo)
        light.range_key = copy.deepcopy(self.range_key, memo)
        light.attrs = self.attrs
        return light

    _patch(Item, "size", sized_once)
    _patch(Item, "__deepcopy__", copied)

    structure = BaseJSONSerializer._serialize_type_structure

    def serialize_structure(
        self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if (
            key
            and value is not None
            and shape.name == "AttributeValue"
            and self.service_model.service_name in _SERVICES
        ):
            try:
                written = _attribute_value(self, value)
            except _Unusual:
                pass
            else:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        structure(self, serialized, value, shape, key)

    _patch(BaseJSONSerializer, "_serialize_type_structure", serialize_structure)


def _named(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Pk]] | None:
    """The items a transaction may write: each op's table and key (an op on no table writes nothing)."""
    named = []
    for op_item in transact_items:
        for op_type, op in op_item.items():
            table = backend.tables.get(op.get("TableName", "")) if isinstance(op, dict) else None
            if table is None:
                continue
            pk = _pk(table, op.get("Item") if op_type == "Put" else op.get("Key"))
            if pk is None:
                return None
            named.append((table, pk))
    return named


def _restore(table: Table, pk: Pk, item: Item | None) -> None:
    if pk[1] is None:
        if item is None:
            table.items.pop(pk[0], None)
        else:
            table.items[pk[0]] = item  # type: ignore[assignment]
    elif item is None:
        table.items.get(pk[0], {}).pop(pk[1], None)  # type: ignore[attr-defined]
    else:
        table.items[pk[0]][pk[1]] = item  # type: ignore[index]
    reindex(table, pk)


def _pk(table: Table, attrs: dict[str, Any] | None) -> Pk | None:
    """The primary key a write named, or None if it named none moto could have written."""
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])  # type: ignore[index]
        if table.range_key_attr is None:
            return hash_value, None
        return hash_value, DynamoType(attrs[table.range_key_attr])  # type: ignore[index]
    except Exception:  # a malformed request: moto refused it before writing
        return None
