"""bench/billing.py bills moto's DynamoDB by AWS's documented rules: one small hand-built case per rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench.billing import DynamoDbMeter, item_size, number_size

TABLE = "things"


@pytest.fixture
def ddb() -> Iterator[Any]:
    """A table keyed by id with two GSIs: `by-city` (city, rk; projecting `note`) and `by-tag` (tag; keys
    only)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "city", "AttributeType": "S"},
                {"AttributeName": "rk", "AttributeType": "N"},
                {"AttributeName": "tag", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-city",
                    "KeySchema": [
                        {"AttributeName": "city", "KeyType": "HASH"},
                        {"AttributeName": "rk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
                },
                {
                    "IndexName": "by-tag",
                    "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        )
        yield client


def put(ddb: Any, **attrs: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=_item(attrs))


def _item(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in attrs.items()}


def update(ddb: Any, id_: str, expression: str, values: dict[str, Any] | None = None) -> None:
    kwargs: dict[str, Any] = {"ExpressionAttributeValues": _item(values)} if values else {}
    ddb.update_item(TableName=TABLE, Key={"id": {"S": id_}}, UpdateExpression=expression, **kwargs)


def metered(action: Any) -> DynamoDbMeter:
    with DynamoDbMeter() as meter:
        action()
    return meter


def index_units(meter: DynamoDbMeter, index: str) -> float:
    usage = meter.by_table().get(f"{TABLE}/{index}")
    return usage.write_units if usage else 0.0


# --- item sizes ("DynamoDB item sizes and formats") ----------------------------------------------------


def test_item_size_counts_names_and_values_by_type():
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"名": {"S": "杭州"}}) == 3 + 6  # UTF-8 bytes, name and value
    assert number_size("120.1605") == 5  # 7 significant digits: 4 bytes, plus 1
    assert number_size("1000") == 2  # trailing zeroes trimmed
    assert item_size({"ok": {"BOOL": True}, "n": {"NULL": True}}) == 3 + 2
    # A map: 3 bytes, plus per element 1 byte, its name and its value.
    assert item_size({"m": {"M": {"a": {"S": "xy"}, "b": {"N": "7"}}}}) == 1 + 3 + (1 + 1 + 2) + (1 + 1 + 2)
    assert item_size({"l": {"L": [{"S": "x"}, {"S": "yz"}]}}) == 1 + 3 + (1 + 1) + (1 + 2)


# --- table writes ----------------------------------------------------------------------------------


def test_a_write_is_one_unit_per_kilobyte_rounded_up(ddb):
    meter = metered(lambda: put(ddb, id="a", body="x" * 1500))
    assert meter.by_table()[TABLE].write_units == 2


def test_an_update_bills_the_larger_of_before_and_after(ddb):
    put(ddb, id="a", body="x" * 2500)
    meter = metered(lambda: update(ddb, "a", "REMOVE body"))  # after: a few bytes; before: 3 KB
    assert meter.by_table()[TABLE].write_units == 3


def test_a_delete_bills_the_deleted_item(ddb):
    put(ddb, id="a", body="x" * 1100)
    meter = metered(lambda: ddb.delete_item(TableName=TABLE, Key={"id": {"S": "a"}}))
    assert meter.write_units == 2


def test_a_failed_conditional_write_is_still_billed(ddb):
    put(ddb, id="a", body="x" * 2100)

    def refused() -> None:
        with pytest.raises(ClientError):
            ddb.put_item(
                TableName=TABLE, Item=_item({"id": "a"}), ConditionExpression="attribute_not_exists(id)"
            )

    meter = metered(refused)
    assert meter.write_units == 3  # the existing item's size
    assert meter.by_operation()["PutItem"].failed_conditions == 1
    assert ddb.get_item(TableName=TABLE, Key={"id": {"S": "a"}})["Item"]["body"]  # nothing was written


def test_batch_write_rounds_each_item_on_its_own(ddb):
    items = [{"PutRequest": {"Item": _item({"id": f"i{n}", "body": "x" * 600})}} for n in range(2)]
    meter = metered(lambda: ddb.batch_write_item(RequestItems={TABLE: items}))
    assert meter.write_units == 2  # ~0.6 KB each: 1 + 1
    sizes = {"j": 500, "k": 3500}
    big = [{"PutRequest": {"Item": _item({"id": i, "body": "x" * n})}} for i, n in sizes.items()]
    meter = metered(lambda: ddb.batch_write_item(RequestItems={TABLE: big}))
    assert meter.write_units == 1 + 4


def test_a_transactional_write_bills_each_item_twice(ddb):
    items = [{"Put": {"TableName": TABLE, "Item": _item({"id": f"t{n}"})}} for n in range(3)]
    meter = metered(lambda: ddb.transact_write_items(TransactItems=items))
    assert meter.write_units == 6


# --- index writes ("Provisioned throughput considerations for Global Secondary Indexes") -------------


def test_a_new_item_with_the_index_key_writes_the_index_once_and_one_without_it_not_at_all(ddb):
    meter = metered(lambda: put(ddb, id="a", city="hz", rk=1, note="n"))
    assert index_units(meter, "by-city") == 1
    assert index_units(meter, "by-tag") == 0  # no tag: absent from that sparse index
    assert meter.write_units == 2


def test_changing_an_index_key_writes_the_index_twice(ddb):
    put(ddb, id="a", city="hz", rk=1)
    meter = metered(lambda: update(ddb, "a", "SET rk = :r", {":r": 2}))
    assert index_units(meter, "by-city") == 2  # delete the old entry, put the new


def test_removing_an_index_key_writes_the_index_once(ddb):
    put(ddb, id="a", city="hz", rk=1, tag="x")
    meter = metered(lambda: update(ddb, "a", "REMOVE tag"))
    assert index_units(meter, "by-tag") == 1
    assert index_units(meter, "by-city") == 0  # nothing it holds changed


def test_changing_only_a_projected_attribute_writes_the_index_once(ddb):
    put(ddb, id="a", city="hz", rk=1, note="old")
    meter = metered(lambda: update(ddb, "a", "SET note = :n", {":n": "new"}))
    assert index_units(meter, "by-city") == 1


def test_changing_nothing_projected_writes_no_index(ddb):
    put(ddb, id="a", city="hz", rk=1, tag="x", extra="o")
    meter = metered(lambda: update(ddb, "a", "SET extra = :o", {":o": "p"}))
    assert index_units(meter, "by-city") == 0 and index_units(meter, "by-tag") == 0
    assert meter.write_units == 1  # the table's own write


def test_a_put_that_rewrites_the_same_item_writes_no_index(ddb):
    put(ddb, id="a", city="hz", rk=1, note="n")
    meter = metered(lambda: put(ddb, id="a", city="hz", rk=1, note="n"))
    assert meter.write_units == 1


def test_index_writes_count_per_partition_key(ddb):
    meter = metered(lambda: [put(ddb, id=f"p{n}", city="hz", rk=n) for n in range(3)])
    assert meter.hottest_partition() == ((f"{TABLE}/by-city", "hz"), 3)


# --- reads -------------------------------------------------------------------------------------------


def test_reads_are_per_4_kb_and_half_when_eventually_consistent(ddb):
    put(ddb, id="a", body="x" * 5000)
    key = {"id": {"S": "a"}}
    assert metered(lambda: ddb.get_item(TableName=TABLE, Key=key)).read_units == 1  # 8 KB, halved
    assert metered(lambda: ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)).read_units == 2
    missing = {"id": {"S": "nobody"}}
    assert metered(lambda: ddb.get_item(TableName=TABLE, Key=missing, ConsistentRead=True)).read_units == 1


def test_a_transactional_read_bills_double(ddb):
    put(ddb, id="a")
    meter = metered(
        lambda: ddb.transact_get_items(
            TransactItems=[{"Get": {"TableName": TABLE, "Key": {"id": {"S": "a"}}}}]
        )
    )
    assert meter.read_units == 2


def test_batch_get_rounds_each_item(ddb):
    put(ddb, id="a", body="x" * 1500)
    put(ddb, id="b", body="x" * 6500)
    keys = [{"id": {"S": "a"}}, {"id": {"S": "b"}}]
    meter = metered(lambda: ddb.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}}))
    assert meter.read_units == 1 + 2  # 4 KB + 8 KB, not ceil(8 KB / 4 KB)


def test_a_query_bills_the_items_read_before_its_filter_rounded_once(ddb):
    for n in range(3):
        put(ddb, id=f"q{n}", city="hz", rk=n, note="x" * 1500)  # index entries ~1.5 KB each
    meter = metered(
        lambda: ddb.query(
            TableName=TABLE,
            IndexName="by-city",
            KeyConditionExpression="city = :c",
            FilterExpression="#r > :big",
            ExpressionAttributeNames={"#r": "rk"},
            ExpressionAttributeValues={":c": {"S": "hz"}, ":big": {"N": "100"}},
        )
    )
    # Nothing returned, ~4.5 KB read: 2 chunks of 4 KB, eventually consistent (a GSI): 1 unit.
    assert meter.read_units == 1
    assert meter.by_table()[f"{TABLE}/by-city"].read_units == 1
