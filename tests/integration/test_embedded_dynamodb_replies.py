"""A Query's reply from the embedded DynamoDB (local_runtime/dynamodb_keys.py) costs less per item and is
the same: top-level projections (de)serialized in one step, each candidate sized once per Query, a match
that a projection rebuilds not deep-copied first. Nothing of a reply is the table's own.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local_runtime import dynamodb_keys
from tests.integration.moto_twins import moto_as_it_was
from tests.integration.test_embedded_dynamodb_keys import _SERIALIZER, STRINGS, _nested

TOPS = ("a", "b", "c", "m", "l", "n", "a[0]", "x.y", "nope")


def _raw(value: Any) -> Any:
    """A DynamoType down to its stored Python values and their types (bytes stay apart from str)."""
    if isinstance(value, DynamoType):
        return (value.type, type(value.value).__name__, _raw(value.value))
    if isinstance(value, dict):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_raw(v) for v in value]
    return value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_top_level_projection_answers_as_moto_does(seed: int) -> None:
    """Paths that each name one top-level attribute (the geo index's, the functions' own): every type,
    numbers written as 1E+2 or 1.50, sets, binaries, maps and lists nested a few deep."""
    dynamodb_keys.install()
    theirs = next(o for cls, name, o in dynamodb_keys.PATCHED if (cls, name) == (Item, "project"))
    rng = random.Random(seed)
    for _ in range(400):
        plain = {name: _nested(rng, 0) for name in rng.sample(TOPS, rng.randint(0, len(TOPS)))}
        plain["pk"] = rng.choice(STRINGS)
        attrs = {k: _SERIALIZER.serialize(v) for k, v in plain.items()}
        item = Item(hash_key=DynamoType(attrs["pk"]), range_key=None, attrs=attrs)
        paths = [[top] for top in rng.sample(TOPS, rng.randint(1, len(TOPS)))]
        expected = theirs(item, paths)
        got = dynamodb_keys.project(item, paths)
        assert (got.hash_key, got.range_key) == (expected.hash_key, expected.range_key)
        assert _raw(got.attrs) == _raw(expected.attrs), paths
        assert list(got.attrs) == list(expected.attrs)


def _moto() -> contextlib.AbstractContextManager[None]:
    """moto's own Query, projections and copies."""
    return moto_as_it_was(dynamodb_keys.PATCHED)


@pytest.fixture
def client() -> Iterator[Any]:
    dynamodb_keys.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="cn-north-1")
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "col", "lat")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "included",
                    "KeySchema": [
                        {"AttributeName": "col", "KeyType": "HASH"},
                        {"AttributeName": "lat", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["m", "n"]},
                },
                {
                    "IndexName": "everything",
                    "KeySchema": [{"AttributeName": "col", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_a_reply_shares_nothing_with_the_table(client: Any) -> None:
    """Changing a Query's Items in place (as a caller of the backend could) leaves the table as it was:
    with a projection (rebuilt from the stored item's attributes) and without one (a deep copy)."""
    for n in range(3):
        client.put_item(
            TableName="t",
            Item={
                "pk": {"S": "p"},
                "sk": {"S": str(n)},
                "col": {"S": "c"},
                "lat": {"S": str(n)},
                "m": {"M": {"x": {"L": [{"S": "deep"}]}}},
                "n": {"N": "1.50"},
            },
        )
    backend = dynamodb_backends["123456789012"]["cn-north-1"]
    stored = client.scan(TableName="t")["Items"]
    queries: list[dict[str, Any]] = [
        {"index_name": "included", "hash_key_dict": None, "projection_expressions": None},
        {"index_name": "included", "hash_key_dict": None, "projection_expressions": [["m"], ["pk"]]},
        {"index_name": "everything", "hash_key_dict": None, "projection_expressions": None},
        {"index_name": "everything", "hash_key_dict": None, "projection_expressions": [["m"]]},
        {"index_name": None, "hash_key_dict": {"S": "p"}, "projection_expressions": None},
        {"index_name": None, "hash_key_dict": {"S": "p"}, "projection_expressions": [["m"], ["n"]]},
    ]
    for query in queries:
        index = query["index_name"]
        items, _, _ = backend.query(
            "t",
            range_comparison=None,
            range_value_dicts=[],
            limit=None,
            exclusive_start_key=None,
            scan_index_forward=True,
            hash_key_conditions=[("col", {"S": "c"})] if index else [("pk", {"S": "p"})],
            **query,
        )
        assert len(items) == 3, query
        for item in items:
            m = item.attrs.get("m")
            if m is not None:
                m.value["x"].value.append(DynamoType({"S": "changed"}))
                m.value["y"] = DynamoType({"S": "added"})
            item.attrs.pop("n", None)
            item.hash_key.value = "changed"
        assert client.scan(TableName="t")["Items"] == stored, query


def test_each_query_sizes_its_items_afresh(client: Any) -> None:
    """moto ends a page at 1 MB. An item that grew between two Queries is measured as it is now (the
    sizes are kept within one Query, no longer): the second Query's page ends where moto's ends."""
    for n in range(3):
        item = {"pk": {"S": "p"}, "sk": {"S": str(n)}, "blob": {"S": "x" * 300_000}}
        client.put_item(TableName="t", Item=item)
    query = {
        "TableName": "t",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
    }
    first = client.query(**query)
    assert first["Count"] == 3 and "LastEvaluatedKey" not in first
    client.update_item(  # in place: the very Item object the first Query sized
        TableName="t",
        Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
        UpdateExpression="SET more = :more",
        ExpressionAttributeValues={":more": {"S": "x" * 100_000}},
    )
    second = client.query(**query)
    with _moto():
        expected = client.query(**query)
    for reply in (second, expected):
        reply.pop("ResponseMetadata")
    assert second == expected and second["Count"] == 2 and "LastEvaluatedKey" in second


def test_a_projected_item_is_made_as_moto_makes_it() -> None:
    """new_item (a running sum) makes Item's attributes, and refuses the same items at the same size,
    as moto's LimitedSizeDict (a sum of everything held at each insert)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    rng = random.Random(7)
    refused = made = 0
    for _ in range(200):
        attrs = {
            f"a{n}": _SERIALIZER.serialize("x" * rng.choice((10, 100_000, 150_000, 200_000)))
            for n in range(rng.randint(1, 5))
        }
        attrs[rng.choice(tuple(attrs))] = _SERIALIZER.serialize(_nested(rng, 0))
        try:
            expected = Item(hash_key=DynamoType({"S": "k"}), range_key=None, attrs=attrs)
        except ItemSizeTooLarge:
            with pytest.raises(ItemSizeTooLarge):
                dynamodb_keys.new_item(DynamoType({"S": "k"}), None, attrs)
            refused += 1
            continue
        got = dynamodb_keys.new_item(DynamoType({"S": "k"}), None, attrs)
        assert type(got.attrs) is type(expected.attrs) and _raw(got.attrs) == _raw(expected.attrs)
        made += 1
    assert refused > 30 and made > 30, (refused, made)
