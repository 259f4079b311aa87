"""The embedded DynamoDB's sorted keys (local_runtime/dynamodb_keys.py) answer every Query as moto does.

Each randomized table has a twin of the same schema. Both take the same random writes (puts, updates
that set, change or remove index keys, deletes, batch writes, transactions, conditional writes that
fail); the table goes through the patched moto, its twin through moto as it was (its own Query, writes
and transactions: the twin never has sorted keys). Every write's outcome, every Query (each key
condition, both directions, limits, each page, filters, projections, counts) and every Scan must answer
the same for both; after each write, the Queries go to the partitions its items left and entered, and
the table's sorted keys must be what a fresh build from its items makes.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import dynamo_to_dict

from local_runtime import dynamodb_keys
from tests.integration.moto_twins import moto_as_it_was

REF = "-ref"
STRINGS = ("a", "ab", "abc", "abd", "b", "ba", "bz", "c", "é", "éa", "z", "zz")
NUMBERS = (
    Decimal("-3"),
    Decimal("-1.5"),
    Decimal("0"),
    Decimal("0.5"),
    Decimal("2"),
    Decimal("10"),
    Decimal("100.25"),
)
BINARIES = (b"\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00")
OPS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")

# Each table's key schema and its indexes', as (attribute, type, role); items often lack an index's key
TABLES: dict[str, dict[str, Any]] = {
    "hash_only": {
        "keys": [("pk", "S", "HASH")],
        "gsis": {"g_num": [("gh", "S", "HASH"), ("gn", "N", "RANGE")], "g_hash": [("gh", "S", "HASH")]},
        "lsis": {},
    },
    "num_sort": {
        "keys": [("pk", "S", "HASH"), ("sk", "N", "RANGE")],
        "gsis": {"g_str": [("gn", "N", "HASH"), ("gs", "S", "RANGE")], "g_hash": [("gh", "S", "HASH")]},
        "lsis": {"l_str": [("pk", "S", "HASH"), ("ls", "S", "RANGE")]},
    },
    "str_sort": {
        "keys": [("pk", "N", "HASH"), ("sk", "S", "RANGE")],
        "gsis": {
            "g_bin": [("gh", "S", "HASH"), ("gb", "B", "RANGE")],
            "g_num": [("gh", "S", "HASH"), ("gn", "N", "RANGE")],
        },
        "lsis": {"l_num": [("pk", "N", "HASH"), ("ln", "N", "RANGE")]},
    },
}
DOMAINS = {"S": STRINGS, "N": NUMBERS, "B": BINARIES}


def _types(spec: dict[str, Any]) -> dict[str, str]:
    every = spec["keys"] + [k for ks in (*spec["gsis"].values(), *spec["lsis"].values()) for k in ks]
    return {name: kind for name, kind, _ in every}


def _sorted_partitions(table: str) -> set[str]:
    spec = TABLES[table]
    return {
        keys[0][0] for keys in (spec["keys"], *spec["gsis"].values(), *spec["lsis"].values()) if len(keys) > 1
    }


def _create(client: Any, name: str, spec: dict[str, Any]) -> None:
    def schema(keys: list[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"AttributeName": n, "KeyType": role} for n, _, role in keys]

    projections: list[dict[str, Any]] = [{"ProjectionType": "ALL"}, {"ProjectionType": "KEYS_ONLY"}]
    projections.append({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]})
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": schema(spec["keys"]),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in _types(spec).items()],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalSecondaryIndexes": [
            {"IndexName": i, "KeySchema": schema(k), "Projection": projections[n % 3]}
            for n, (i, k) in enumerate(spec["gsis"].items())
        ],
    }
    if spec["lsis"]:
        args["LocalSecondaryIndexes"] = [
            {"IndexName": i, "KeySchema": schema(k), "Projection": projections[(n + 1) % 3]}
            for n, (i, k) in enumerate(spec["lsis"].items())
        ]
    client.create_table(**args)


def _moto() -> contextlib.AbstractContextManager[None]:
    """moto as it was before the patch: its own Query, writes and transactions (for the twins)."""
    return moto_as_it_was(dynamodb_keys.PATCHED)


def _answer(call: Any, **kwargs: Any) -> Any:
    try:
        reply = call(**kwargs)
    except ClientError as error:
        return ("error", error.response["Error"].get("Code"), error.response.get("Item"))
    reply.pop("ResponseMetadata", None)
    return reply


_TYPED = ("Item", "Key", "ExpressionAttributeValues")
_SERIALIZER = TypeSerializer()


def _typed(value: Any) -> Any:
    """The low-level client's attribute values ({"S": ...}) from plain ones."""
    if isinstance(value, dict):
        return {
            k: {n: _SERIALIZER.serialize(x) for n, x in v.items()} if k in _TYPED else _typed(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def _rename(value: Any, names: dict[str, str]) -> Any:
    """The same request or reply with the twins' table names (in TableName, and RequestItems' keys)."""
    if isinstance(value, dict):
        renamed: dict[str, Any] = {
            k: (names.get(v, v) if k == "TableName" else _rename(v, names)) for k, v in value.items()
        }
        if "RequestItems" in renamed:
            renamed["RequestItems"] = {names.get(k, k): v for k, v in renamed["RequestItems"].items()}
        return renamed
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value


class World:
    def __init__(self, client: Any, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.names = {name: name + REF for name in TABLES}
        self.narrowed = 0  # Queries the sorted keys answered (not handed back to moto whole)
        self.queries = 0

    def both(self, operation: str, **kwargs: Any) -> Any:
        """The same request to the tables (patched Query) and to their twins (moto's Query)."""
        call = getattr(self.client, operation)
        kwargs = _typed(kwargs)
        mine = _answer(call, **kwargs)
        with _moto():
            theirs = _answer(call, **_rename(kwargs, self.names))
        theirs = _rename(theirs, {twin: name for name, twin in self.names.items()})  # ConsumedCapacity's
        assert mine == theirs, f"{operation} {kwargs}"
        return mine

    # --- writes --------------------------------------------------------------------------------------

    def value(self, kind: str, table: str | None = None, name: str | None = None) -> Any:
        """A random value; of the first three only for a partition key with a sort key beside it, so
        that partitions hold several items to page through and to bisect."""
        if table is not None and name in _sorted_partitions(table):
            return self.rng.choice(DOMAINS[kind][:3])
        return self.rng.choice(DOMAINS[kind])

    def key(self, table: str) -> dict[str, Any]:
        keys = TABLES[table]["keys"]
        return {n: self.value(t, table, n) for n, t, _ in keys}

    def item(self, table: str) -> dict[str, Any]:
        item = self.key(table)
        for name, kind in _types(TABLES[table]).items():
            if name not in item and self.rng.random() < 0.7:  # sparse indexes: the key is often absent
                item[name] = self.value(kind, table, name)
        item["v"] = self.rng.randint(0, 9)
        if self.rng.random() < 0.3:
            item["blob"] = "x" * self.rng.randint(0, 2000)
        return item

    def condition(self, kwargs: dict[str, Any], table: str) -> None:
        choice = self.rng.random()
        if choice < 0.2:
            kwargs["ConditionExpression"] = "attribute_not_exists(#k)"
            kwargs["ExpressionAttributeNames"] = {"#k": TABLES[table]["keys"][0][0]}
        elif choice < 0.4:
            kwargs["ConditionExpression"] = "v < :c"
            kwargs.setdefault("ExpressionAttributeValues", {})[":c"] = self.rng.randint(0, 9)
        if "ConditionExpression" in kwargs and self.rng.random() < 0.5:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"

    def update_args(self, table: str) -> dict[str, Any]:
        sets, removes, values = [], [], {}
        for n, (name, kind) in enumerate(
            t for t in _types(TABLES[table]).items() if t[0] not in ("pk", "sk")
        ):
            roll = self.rng.random()
            if roll < 0.3:
                sets.append(f"{name} = :a{n}")
                values[f":a{n}"] = self.value(kind, table, name)
            elif roll < 0.45:
                removes.append(name)
        sets.append("v = :v")
        values[":v"] = self.rng.randint(0, 9)
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {"Key": self.key(table), "UpdateExpression": expression, "ExpressionAttributeValues": values}

    def write(self) -> None:
        """One random write to both worlds, then Queries on the partitions its items left and entered."""
        table = self.rng.choice(list(TABLES))
        roll = self.rng.random()
        touched: list[tuple[str, dict[str, Any]]] = []
        if roll < 0.35:
            kwargs: dict[str, Any] = {"TableName": table, "Item": self.item(table)}
            self.condition(kwargs, table)
            touched.append((table, self.pk(table, kwargs["Item"])))
            operation = "put_item"
        elif roll < 0.6:
            kwargs = {"TableName": table, **self.update_args(table), "ReturnValues": "ALL_NEW"}
            self.condition(kwargs, table)
            touched.append((table, kwargs["Key"]))
            operation = "update_item"
        elif roll < 0.75:
            kwargs = {"TableName": table, "Key": self.key(table), "ReturnValues": "ALL_OLD"}
            self.condition(kwargs, table)
            touched.append((table, kwargs["Key"]))
            operation = "delete_item"
        elif roll < 0.87:
            requests: dict[str, dict[str, Any]] = {}  # one request per key, as BatchWriteItem demands
            for _ in range(self.rng.randint(1, 8)):
                if self.rng.random() < 0.7:
                    item = self.item(table)
                    requests[repr(sorted(self.pk(table, item).items()))] = {"PutRequest": {"Item": item}}
                    touched.append((table, self.pk(table, item)))
                else:
                    key = self.key(table)
                    requests[repr(sorted(key.items()))] = {"DeleteRequest": {"Key": key}}
                    touched.append((table, key))
            kwargs = {"RequestItems": {table: list(requests.values())}}
            operation = "batch_write_item"
        else:
            kwargs = {"TransactItems": self.transaction(touched)}
            operation = "transact_write_items"
        partitions = {p for name, key in touched for p in self.partitions(name, key)}
        self.both(operation, **kwargs)
        partitions |= {p for name, key in touched for p in self.partitions(name, key)}
        for name, index, value in self.rng.sample(sorted(partitions, key=repr), min(2, len(partitions))):
            self.query(name, index, value)
        for name in {name for name, _ in touched}:
            _assert_in_step(self.backend.tables[name])
            assert _stream(self.backend.tables[name]) == _stream(self.backend.tables[name + REF]), name

    @property
    def backend(self) -> Any:
        return dynamodb_backends["123456789012"]["cn-north-1"]

    def partitions(self, table: str, key: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
        """(table, index or None, partition value) of each view the item with this key is in now."""
        found = self.client.get_item(TableName=table, Key=_typed({"Key": key})["Key"]).get("Item")
        if found is None:
            return []
        item = TypeDeserializer().deserialize({"M": found})
        spec = TABLES[table]
        views = [(None, spec["keys"]), *spec["gsis"].items(), *spec["lsis"].items()]
        return [(table, index, item[keys[0][0]]) for index, keys in views if keys[0][0] in item]

    @staticmethod
    def pk(table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {n: item[n] for n, _, _ in TABLES[table]["keys"]}

    def transaction(self, touched: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        ops, seen = [], set()
        for _ in range(self.rng.randint(1, 4)):
            table = self.rng.choice(list(TABLES))
            kind = self.rng.choice(("Put", "Update", "Delete", "ConditionCheck"))
            if kind == "Put":
                op: dict[str, Any] = {"TableName": table, "Item": self.item(table)}
                key = self.pk(table, op["Item"])
            elif kind == "Update":
                op = {"TableName": table, **self.update_args(table)}
                key = op["Key"]
            else:
                op = {"TableName": table, "Key": self.key(table)}
                key = op["Key"]
            if kind == "ConditionCheck" or self.rng.random() < 0.5:
                op["ConditionExpression"] = "attribute_exists(v) AND v > :c"
                op.setdefault("ExpressionAttributeValues", {})[":c"] = self.rng.randint(0, 5)
            if (table, repr(sorted(key.items()))) not in seen:
                seen.add((table, repr(sorted(key.items()))))
                ops.append({kind: op})
                touched.append((table, key))
        return ops

    # --- reads ---------------------------------------------------------------------------------------

    def query(self, table: str | None = None, index: str | None = None, partition: Any = None) -> None:
        """A random Query, paged to its end; on a random partition unless told which."""
        if table is None:
            table = self.rng.choice(list(TABLES))
            spec = TABLES[table]
            index = self.rng.choice([None, *spec["gsis"], *spec["lsis"]])
        spec = TABLES[table]
        keys = spec["keys"] if index is None else {**spec["gsis"], **spec["lsis"]}[index]
        (hash_name, hash_kind, _), *rest = keys
        values: dict[str, Any] = {
            ":h": self.value(hash_kind, table, hash_name) if partition is None else partition
        }
        condition = "#h = :h"
        names = {"#h": hash_name}
        if rest and self.rng.random() < 0.8:
            range_name, range_kind, _ = rest[0]
            names["#r"] = range_name
            op = self.rng.choice(OPS if range_kind != "N" else OPS[:-1])
            values[":a"], values[":b"] = sorted((self.value(range_kind), self.value(range_kind)))
            if self.rng.random() < 0.1:
                values[":a"], values[":b"] = values[":b"], values[":a"]  # an empty BETWEEN
            if op == "BETWEEN":
                condition += " AND #r BETWEEN :a AND :b"
            elif op == "begins_with":
                condition += " AND begins_with(#r, :a)"
                del values[":b"]
            else:
                condition += f" AND #r {op} :a"
                del values[":b"]
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": self.rng.random() < 0.5,
        }
        if index:
            kwargs["IndexName"] = index
        if self.rng.random() < 0.6:
            kwargs["Limit"] = self.rng.choice((1, 2, 3, 7))
        roll = self.rng.random()
        if roll < 0.25:
            kwargs["FilterExpression"] = "v >= :f"
            values[":f"] = self.rng.randint(0, 9)
        elif roll < 0.35:
            kwargs["FilterExpression"] = "attribute_exists(blob)"
        roll = self.rng.random()
        if roll < 0.2:
            kwargs["Select"] = "COUNT"
        elif roll < 0.4 and not index:
            kwargs["ProjectionExpression"] = "#h, v"
        self.pages("query", kwargs)

    def pages(self, operation: str, kwargs: dict[str, Any]) -> None:
        for _ in range(100):
            reply = self.both(operation, **kwargs)
            if "error" in reply:  # refused alike (a BETWEEN upside down...): nothing reached the table
                return
            self.queries += operation == "query"
            if "LastEvaluatedKey" not in reply:
                return
            kwargs = {**kwargs, "ExclusiveStartKey": reply["LastEvaluatedKey"]}  # already typed
        raise AssertionError(f"{operation} paged on and on: {kwargs}")

    def scan(self) -> None:
        table = self.rng.choice(list(TABLES))
        kwargs: dict[str, Any] = {"TableName": table}
        indexes = list(TABLES[table]["gsis"]) + list(TABLES[table]["lsis"])
        if self.rng.random() < 0.5:
            kwargs["IndexName"] = self.rng.choice(indexes)
        if self.rng.random() < 0.5:
            kwargs["Limit"] = self.rng.choice((1, 5, 20))
        if self.rng.random() < 0.3:
            kwargs["FilterExpression"] = "v < :f"
            kwargs["ExpressionAttributeValues"] = {":f": self.rng.randint(0, 9)}
        self.pages("scan", kwargs)


def _stream(table: Table) -> list[Any]:
    """The table's stream records (a failed transaction leaves none), without their ids and times."""
    assert table.stream_shard is not None
    return [
        (r.record["eventName"], *(r.record["dynamodb"].get(k) for k in ("Keys", "NewImage", "OldImage")))
        for r in table.stream_shard.items
    ]


def _assert_in_step(table: Table) -> None:
    """The table's sorted keys, if built, are what a fresh build from its items makes."""
    keys = table.__dict__.get(dynamodb_keys._ATTR)
    if keys is not None:
        fresh = dynamodb_keys._Keys(table)
        assert {n: (v.parts, v.odd) for n, v in keys.views.items()} == {
            n: (v.parts, v.odd) for n, v in fresh.views.items()
        }, table.name


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[World]:
    dynamodb_keys.install()
    candidates = dynamodb_keys.candidates
    with mock_aws():
        client = boto3.client("dynamodb", region_name="cn-north-1")
        for name, spec in TABLES.items():
            _create(client, name, spec)
            _create(client, name + REF, spec)
        world = World(client, random.Random(request.param))

        def counted(*args: Any, **kwargs: Any) -> Any:
            found = candidates(*args, **kwargs)
            world.narrowed += found is not None
            return found

        monkeypatch.setattr(dynamodb_keys, "candidates", counted)
        yield world


@pytest.mark.parametrize("world", [1, 2], indirect=True)
def test_sorted_keys_answer_as_moto_does(world: World) -> None:
    for step in range(150):
        roll = world.rng.random()
        if roll < 0.5 or step < 20:
            world.write()
        elif roll < 0.92:
            world.query()
        else:
            world.scan()
    # The sorted keys did the answering (moto's whole-table way is the fallback, not the rule)...
    assert world.narrowed >= 0.95 * world.queries > 80
    # ...and only for the tables read through them.
    tables = world.backend.tables
    assert all(dynamodb_keys._ATTR not in tables[n + REF].__dict__ for n in TABLES)


def _nested(rng: random.Random, depth: int) -> Any:
    """A random attribute value: scalars of every type, sets, and maps and lists nested a few deep."""
    roll = rng.random() if depth < 3 else rng.random() * 0.6
    if roll < 0.1:
        return rng.choice(STRINGS)
    if roll < 0.2:
        return rng.choice((*NUMBERS, Decimal("1E+2"), Decimal("1.50")))
    if roll < 0.3:
        return rng.choice(BINARIES)
    if roll < 0.35:
        return rng.choice((True, False, None))
    if roll < 0.45:
        return set(rng.sample(STRINGS, rng.randint(1, 4)))
    if roll < 0.5:
        return set(rng.sample(NUMBERS, rng.randint(1, 3)))
    if roll < 0.6:
        return set(rng.sample(BINARIES, rng.randint(1, 3)))
    if roll < 0.8:
        return {rng.choice("abcm"): _nested(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_nested(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _path(rng: random.Random) -> list[str]:
    """A projection path as moto's parser hands it over: ["a", "m[1]", "b"], at times naming nothing."""
    path = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(("a", "b", "c", "m", "l", "pk", "nope", "a[0]"))
        path.append(name + (f"[{rng.randint(0, 4)}]" if rng.random() < 0.3 else ""))
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_projection_answers_as_moto_does(seed: int) -> None:
    """Item.project (patched: each path reads only its top-level attribute) makes the Item moto makes,
    for nested maps, lists, list elements, sets, binaries, paths naming nothing or overlapping."""
    dynamodb_keys.install()
    ours = Item.project
    theirs = next(
        original for cls, name, original in dynamodb_keys.PATCHED if (cls, name) == (Item, "project")
    )
    assert ours is dynamodb_keys.project and theirs is not None and theirs is not ours
    rng = random.Random(seed)
    compared = nested = 0
    for _ in range(400):
        plain = {
            name: _nested(rng, 0) for name in rng.sample(("a", "b", "c", "m", "l", "a[0]"), rng.randint(0, 6))
        }
        plain["pk"] = rng.choice(STRINGS)
        attrs = {k: _SERIALIZER.serialize(v) for k, v in plain.items()}
        item = Item(hash_key=DynamoType(attrs["pk"]), range_key=None, attrs=attrs)
        paths = [_path(rng) for _ in range(rng.randint(1, 5))]
        try:
            expected: Any = theirs(item, paths)
        except Exception as error:  # moto's own failure (a path into a scalar...) must be ours too
            with pytest.raises(type(error)):
                ours(item, paths)
            continue
        got = ours(item, paths)
        assert (got.hash_key, got.range_key, got.attrs) == (
            expected.hash_key,
            expected.range_key,
            expected.attrs,
        )
        assert got.to_json() == expected.to_json(), paths  # and so in the same order
        compared += 1
        nested += any(len(p) > 1 or "[" in p[0] for p in paths) and bool(expected.attrs)
    assert compared > 250 and nested > 50, (compared, nested)


@pytest.mark.parametrize("seed", [1, 2])
def test_replies_are_written_as_moto_writes_them(seed: int) -> None:
    """The AttributeValue fast path writes, byte for byte, the JSON moto's generic serializer writes:
    Query replies (dynamodb) and GetRecords replies (dynamodbstreams), every type nested a few deep."""
    dynamodb_keys.install()
    ours = BaseJSONSerializer._serialize_type_structure
    theirs = next(
        original
        for cls, name, original in dynamodb_keys.PATCHED
        if (cls, name) == (BaseJSONSerializer, "_serialize_type_structure")
    )
    assert theirs is not None and theirs is not ours
    rng = random.Random(seed)

    def written(service: str, operation: str, result: Any, structure: Any) -> str:
        serializer = get_serializer_class(service, "json")(
            operation_model=get_service_model(service).operation_model(operation),
            value_picker=XFormedAttributePicker(response_transformers=None),
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(BaseJSONSerializer, "_serialize_type_structure", structure)
            return str(serializer.serialize(result)["body"])

    fast = 0
    for n in range(150):
        items = []
        for _ in range(rng.randint(0, 4)):
            plain = {
                name: _nested(rng, 0) for name in rng.sample(("a", "b", "c", "m", "l"), rng.randint(0, 5))
            }
            items.append(dynamo_to_dict({k: DynamoType(_SERIALIZER.serialize(v)) for k, v in plain.items()}))
        if n % 10 == 0 and items:  # what the generic way must take: a value of no known type, a None
            items[0]["odd"] = {"X": "1"}
            items[0]["gone"] = None
        query = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if items and rng.random() < 0.3:
            query["LastEvaluatedKey"] = items[-1]
        expected = written("dynamodb", "Query", query, theirs)
        assert written("dynamodb", "Query", query, ours) == expected
        records = {
            "Records": [
                {"eventName": "MODIFY", "dynamodb": {"Keys": i, "NewImage": i, "OldImage": i}} for i in items
            ],
            "NextShardIterator": "it",
        }
        assert written("dynamodbstreams", "GetRecords", records, ours) == written(
            "dynamodbstreams", "GetRecords", records, theirs
        )
        fast += bool(items)
    assert fast > 100
