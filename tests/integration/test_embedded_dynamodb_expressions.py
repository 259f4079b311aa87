"""The embedded DynamoDB's parsed expressions (local_runtime/dynamodb_expressions.py) answer as moto does.

A table and its twin take the same random requests: UpdateItem (SET, REMOVE, ADD, DELETE, if_not_exists,
list_append, + and -, nested paths), PutItem and DeleteItem with conditions (comparisons, BETWEEN, IN,
attribute_exists, attribute_not_exists, attribute_type, begins_with, contains, size, AND, OR, NOT,
parentheses), TransactWriteItems, and Query and Scan with filters; names and values placeholders. The table
goes through the kept parses, its twin through moto's own parsing (every request parsed afresh). Each
expression text is drawn from a small pool, so that it comes back with other values, other items, values
missing or left over, values of the wrong type; a few texts are broken. Every reply (errors included:
ConditionalCheckFailed, ValidationException, their messages) and the tables' items must be the same.
"""

from __future__ import annotations

import contextlib
import pickle
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import expressions as update_parsing

from local_runtime import dynamodb_expressions, dynamodb_keys
from tests.integration.moto_twins import moto_as_it_was

TABLE, TWIN = "things", "things-ref"
NAMES = ("a", "b", "n", "s", "ns", "l", "m", "flag")  # besides the keys pk (S) and sk (N)
_SERIALIZER = TypeSerializer()


def _moto() -> contextlib.AbstractContextManager[None]:
    """moto's own expression parsing (for the twin); the rest of the local runtime's patches stay."""
    return moto_as_it_was(dynamodb_expressions.PATCHED)


def _answer(call: Any, **kwargs: Any) -> Any:
    try:
        reply = call(**kwargs)
    except ClientError as error:
        return ("error", {k: v for k, v in error.response.items() if k != "ResponseMetadata"})
    except Exception as error:  # moto's own failure, as it surfaces
        return ("raised", type(error).__name__, str(error))
    reply.pop("ResponseMetadata", None)
    return reply


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(v) for k, v in values.items()}


class Expressions:
    """Random expressions: text with placeholders, and values drawn afresh for each use."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: dict[str, str] = {}
        self.values: dict[str, str] = {}  # placeholder -> the kind of value it takes

    def value(self, kind: str) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = kind
        return placeholder

    def name(self, attribute: str) -> str:
        if self.rng.random() < 0.5:
            self.names[f"#{attribute}"] = attribute
            return f"#{attribute}"
        return attribute

    def path(self, attribute: str | None = None) -> str:
        attribute = attribute or self.rng.choice(NAMES)
        path = self.name(attribute)
        roll = self.rng.random()
        if attribute == "m" and roll < 0.4:
            path += "." + self.name(self.rng.choice(("x", "y")))
        elif attribute == "l" and roll < 0.4:
            path += f"[{self.rng.randint(0, 3)}]"
        return path

    def kind(self, attribute: str) -> str:
        """Mostly the attribute's kind, at times another (a type the expression does not take)."""
        kinds = {"a": "S", "b": "S", "n": "N", "s": "SS", "ns": "NS", "l": "L", "m": "M", "flag": "BOOL"}
        if self.rng.random() < 0.12:
            return self.rng.choice(("S", "N", "SS", "L", "NULL", "BOOL"))
        return kinds[attribute]

    # --- update expressions ----------------------------------------------------------------------------

    def operand(self, attribute: str) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.value(self.kind(attribute))
        if roll < 0.6:
            return self.path(attribute)
        if roll < 0.8:
            return f"if_not_exists({self.path(attribute)}, {self.value(self.kind(attribute))})"
        first, second = self.path("l"), self.value("L")
        return f"list_append({first}, {second})" if roll < 0.9 else f"list_append({second}, {first})"

    def update(self) -> str:
        clauses = []
        free = list(NAMES)  # each attribute in one action (else mostly "two document paths overlap")
        self.rng.shuffle(free)
        for clause in self.rng.sample(("SET", "REMOVE", "ADD", "DELETE"), self.rng.randint(1, 3)):
            attributes = [free.pop() for _ in range(self.rng.randint(1, 2))]
            if clause == "SET":
                actions = []
                for attribute in attributes:
                    value = self.operand(attribute)
                    if attribute == "n" and self.rng.random() < 0.4:
                        value = f"{value} {self.rng.choice('+-')} {self.value(self.kind('n'))}"
                    actions.append(f"{self.path(attribute)} = {value}")
            elif clause == "REMOVE":
                actions = [self.path(a) for a in attributes]
            elif clause == "ADD":
                actions = [f"{self.path(a)} {self.value(self.kind(a))}" for a in attributes]
            else:
                actions = [f"{self.path(a)} {self.value(self.kind(a))}" for a in attributes]
            clauses.append(f"{clause} " + ", ".join(actions))
        if self.rng.random() < 0.05:
            clauses.append(self.rng.choice(("SET", "REMOVE b,", "SET a = :v0 SET b = :v0")))  # broken
        if self.rng.random() < 0.03:
            clauses.append(f"SET {self.name('pk')} = {self.value('S')}")  # a key attribute
        return " ".join(clauses)

    # --- conditions ------------------------------------------------------------------------------------

    def atom(self) -> str:
        attribute = self.rng.choice(NAMES)
        path = self.path(attribute)
        roll = self.rng.random()
        if roll < 0.25:
            op = self.rng.choice(("=", "<>", "<", "<=", ">", ">="))
            return f"{path} {op} {self.value(self.kind(attribute))}"
        if roll < 0.35:
            return f"attribute_exists({path})"
        if roll < 0.45:
            return f"attribute_not_exists({path})"
        if roll < 0.55:
            return f"begins_with({path}, {self.value('S')})"
        if roll < 0.62:
            return f"contains({path}, {self.value(self.rng.choice(('S', 'N')))})"
        if roll < 0.7:
            kind = self.kind(attribute)
            return f"{path} BETWEEN {self.value(kind)} AND {self.value(kind)}"
        if roll < 0.78:
            kind = self.kind(attribute)
            return f"{path} IN ({self.value(kind)}, {self.value(kind)})"
        if roll < 0.86:
            return f"size({path}) > {self.value('N')}"
        if roll < 0.92:
            return f"attribute_type({path}, {self.value('TYPE')})"
        return f"{path} = {path}"

    def condition(self, depth: int = 0) -> str:
        roll = self.rng.random() if depth < 2 else 0.0
        if roll < 0.45:
            return self.atom()
        if roll < 0.6:
            return f"NOT {self.condition(depth + 1)}"
        if roll < 0.75:
            return f"({self.condition(depth + 1)})"
        return f"{self.condition(depth + 1)} {self.rng.choice(('AND', 'OR'))} {self.condition(depth + 1)}"


def _draw(rng: random.Random, kind: str) -> Any:
    if kind == "S":
        return rng.choice(("", "a", "ab", "b", "ba", "x"))
    if kind == "N":
        return rng.choice((Decimal(-1), Decimal(0), Decimal(1), Decimal("2.5"), Decimal(7)))
    if kind == "SS":
        return set(rng.sample(("a", "b", "c", "d"), rng.randint(1, 3)))
    if kind == "NS":
        return set(rng.sample((Decimal(1), Decimal(2), Decimal(3)), rng.randint(1, 2)))
    if kind == "L":
        return [rng.choice(("a", Decimal(1), True)) for _ in range(rng.randint(0, 3))]
    if kind == "M":
        return {k: rng.choice(("a", Decimal(2))) for k in rng.sample(("x", "y"), rng.randint(0, 2))}
    if kind == "BOOL":
        return rng.random() < 0.5
    if kind == "TYPE":
        return rng.choice(("S", "N", "SS", "NS", "L", "M", "BOOL", "NULL"))
    return None  # NULL


class World:
    def __init__(self, client: Any, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.updates = [self.template("update") for _ in range(25)]
        self.conditions = [self.template("condition") for _ in range(25)]
        self.compared = self.errors = self.conditional_failures = 0

    def template(self, kind: str) -> tuple[str, dict[str, str], dict[str, str]]:
        made = Expressions(self.rng)
        text = made.update() if kind == "update" else made.condition()
        return text, made.names, made.values

    def expression(self, pool: list[Any], kwargs: dict[str, Any], field: str) -> None:
        """A text of the pool (at times a fresh one), its names, and fresh values for its placeholders."""
        if self.rng.random() < 0.1:
            pool.append(self.template("update" if pool is self.updates else "condition"))
        text, names, kinds = self.rng.choice(pool)
        kwargs[field] = text
        if names and self.rng.random() < 0.2:  # the same text naming other attributes
            names = {placeholder: self.rng.choice(NAMES) for placeholder in names}
        if names:
            kwargs.setdefault("ExpressionAttributeNames", {}).update(names)
        values = kwargs.setdefault("ExpressionAttributeValues", {})
        for placeholder, kind in kinds.items():
            if self.rng.random() > 0.03:  # at times a value the text needs is missing
                values[placeholder] = _draw(self.rng, kind)
        if self.rng.random() < 0.03:
            values[":unused"] = "x"
        if not values:
            del kwargs["ExpressionAttributeValues"]  # an empty one is refused whatever the text

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"pk": self.rng.choice("pq"), "sk": Decimal(self.rng.randint(0, 3))}
        kinds = {"a": "S", "b": "S", "n": "N", "s": "SS", "ns": "NS", "l": "L", "m": "M", "flag": "BOOL"}
        for name in NAMES:
            if self.rng.random() < 0.6:
                item[name] = _draw(self.rng, kinds[name])
        return item

    def key(self) -> dict[str, Any]:
        return {"pk": self.rng.choice("pq"), "sk": Decimal(self.rng.randint(0, 3))}

    def request(self) -> tuple[str, dict[str, Any]]:
        roll = self.rng.random()
        kwargs: dict[str, Any] = {"TableName": TABLE}
        if roll < 0.45:
            kwargs.update(Key=self.key(), ReturnValues=self.rng.choice(("ALL_NEW", "ALL_OLD", "UPDATED_NEW")))
            self.expression(self.updates, kwargs, "UpdateExpression")
            if self.rng.random() < 0.4:
                self.expression(self.conditions, kwargs, "ConditionExpression")
            return "update_item", kwargs
        if roll < 0.6:
            kwargs["Item"] = self.item()
            if self.rng.random() < 0.6:
                self.expression(self.conditions, kwargs, "ConditionExpression")
            return "put_item", kwargs
        if roll < 0.68:
            kwargs["Key"] = self.key()
            self.expression(self.conditions, kwargs, "ConditionExpression")
            return "delete_item", kwargs
        if roll < 0.82:
            ops = []
            for key in self.rng.sample([{"pk": p, "sk": Decimal(s)} for p in "pq" for s in range(4)], 3):
                op: dict[str, Any] = {"TableName": TABLE}
                kind = self.rng.choice(("Update", "ConditionCheck", "Put", "Delete"))
                if kind == "Update":
                    op["Key"] = key
                    self.expression(self.updates, op, "UpdateExpression")
                    if self.rng.random() < 0.6:
                        self.expression(self.conditions, op, "ConditionExpression")
                elif kind == "Put":
                    op["Item"] = {**self.item(), **key}
                    if self.rng.random() < 0.6:
                        self.expression(self.conditions, op, "ConditionExpression")
                else:
                    op["Key"] = key
                    self.expression(self.conditions, op, "ConditionExpression")
                ops.append({kind: op})
            return "transact_write_items", {"TransactItems": ops}
        kwargs = {"TableName": TABLE}
        self.expression(self.conditions, kwargs, "FilterExpression")
        if roll < 0.92:
            kwargs["KeyConditionExpression"] = "pk = :pk"
            kwargs.setdefault("ExpressionAttributeValues", {})[":pk"] = self.rng.choice("pq")
            return "query", kwargs
        return "scan", kwargs

    def step(self) -> None:
        operation, kwargs = self.request()
        call = getattr(self.client, operation)
        mine = _answer(call, **_typed_request(kwargs, TABLE))
        with _moto():
            theirs = _answer(call, **_typed_request(kwargs, TWIN))
        theirs = _renamed(theirs)
        assert mine == theirs, f"{operation} {kwargs}"
        self.compared += 1
        if isinstance(mine, tuple):
            self.errors += 1
            self.conditional_failures += "ConditionalCheckFailed" in repr(mine)
        assert self.items(TABLE) == self.items(TWIN), f"{operation} {kwargs}"

    def items(self, table: str) -> list[Any]:
        items = self.client.scan(TableName=table)["Items"]
        return sorted(items, key=lambda i: (i["pk"]["S"], Decimal(i["sk"]["N"])))


def _typed_request(value: Any, table: str) -> Any:
    """The low-level client's request: typed attribute values, and the table's name."""
    if isinstance(value, dict):
        typed: dict[str, Any] = {}
        for k, v in value.items():
            if k in ("Item", "Key", "ExpressionAttributeValues"):
                typed[k] = _typed(v)
            elif k == "TableName":
                typed[k] = table
            else:
                typed[k] = _typed_request(v, table)
        return typed
    if isinstance(value, list):
        return [_typed_request(v, table) for v in value]
    return value


def _renamed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (TABLE if v == TWIN else _renamed(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_renamed(v) for v in value)
    if isinstance(value, str):
        return value.replace(TWIN, TABLE)
    return value


@pytest.fixture
def client() -> Iterator[Any]:
    dynamodb_keys.install()
    dynamodb_expressions.install()
    dynamodb_expressions.clear()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="cn-north-1")
        for name in (TABLE, TWIN):
            client.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        yield client


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_parses_answer_as_moto_does(client: Any, seed: int) -> None:
    world = World(client, random.Random(seed))
    for _ in range(500):
        world.step()
    # Both ways were taken often: requests that went through, and each kind of refusal
    assert world.compared - world.errors > 100, (world.compared, world.errors)
    assert world.errors > 100 and world.conditional_failures > 40, (world.errors, world.conditional_failures)
    assert len(world.items(TABLE)) > 2


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often moto itself reads a condition text, an update text."""
    counts = {"condition": 0, "update": 0}
    lex = ConditionExpressionParser._lex_condition_expression
    tokenize = update_parsing.ExpressionTokenizer.make_list

    def lexed(self: Any) -> Any:
        counts["condition"] += 1
        return lex(self)

    def tokenized(text: str) -> Any:
        counts["update"] += 1
        return tokenize(text)

    monkeypatch.setattr(ConditionExpressionParser, "_lex_condition_expression", lexed)
    monkeypatch.setattr(update_parsing.ExpressionTokenizer, "make_list", staticmethod(tokenized))
    return counts


def test_each_text_is_parsed_once_and_answers_with_each_request_values(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _counting(monkeypatch)
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}
    update = "SET #n = if_not_exists(#n, :zero) + :step, #t = list_append(if_not_exists(#t, :empty), :tag)"
    condition = "attribute_not_exists(#n) OR (#n < :cap AND NOT begins_with(#w, :no))"
    for step, (tag, cap) in enumerate([("a", 10), ("b", 10), ("c", 3), ("d", 10)]):
        args = {
            "TableName": TABLE,
            "Key": key,
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#n": "n", "#t": "tags", "#w": "who"},
            "ExpressionAttributeValues": _typed(
                {":zero": 0, ":step": step + 1, ":empty": [], ":tag": [tag], ":cap": cap, ":no": "x"}
            ),
            "ReturnValues": "ALL_NEW",
        }
        try:
            reply = client.update_item(**args)
        except ClientError as error:
            assert (step, error.response["Error"]["Code"]) == (2, "ConditionalCheckFailedException")
            continue
        # each request's values, not the first one's: n = 1, then 1 + 2, then (refused: 3 < 3 fails) 3 + 4
        assert reply["Attributes"]["n"] == {"N": {0: "1", 1: "3", 3: "7"}[step]}
        assert reply["Attributes"]["tags"]["L"][-1] == {"S": tag}
    # moto read each text once: the handler's and the backend's parses of later requests were kept ones
    assert counts == {"condition": 1, "update": 1}
    # A value the text needs and the request lacks: moto's own refusal, though the text is kept
    args["ExpressionAttributeValues"] = _typed(
        {":zero": 0, ":step": 1, ":empty": [], ":tag": ["e"], ":no": "x"}
    )
    refused = _answer(client.update_item, **args)
    with _moto():
        refused_by_moto = _answer(client.update_item, **{**args, "TableName": TWIN})
    assert refused == refused_by_moto == ("raised", "KeyError", "':cap'")


def test_a_kept_update_tree_is_never_changed(client: Any) -> None:
    """moto's validator turns the tree it is given into the validated one, in place: it must be handed a
    copy, never the kept tree (else the next request would find the first one's values in it)."""
    update = "SET #a = :a, #l = list_append(if_not_exists(#l, :empty), :more) ADD #n :one REMOVE #r"
    names = {"#a": "a", "#l": "l", "#n": "n", "#r": "r"}
    kept = update_parsing.UpdateExpressionParser.make(update)
    before = pickle.dumps(kept)
    for value in ("x", "y", "z"):
        client.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "p"}, "sk": {"N": "0"}},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_typed({":a": value, ":empty": [], ":more": [value], ":one": 1}),
        )
        item = client.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"N": "0"}})["Item"]
        assert item["a"] == {"S": value}
    assert update_parsing.UpdateExpressionParser.make(update) is kept
    assert pickle.dumps(kept) == before
    assert item["l"] == {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]} and item["n"] == {"N": "3"}


def test_the_tree_only_checks_are_kept_per_names_and_table(client: Any) -> None:
    """The validator's checks that read the tree alone are skipped only for the names and the table's
    key attributes they passed with: the same text may name a key attribute under other names, or
    update a table where that attribute is a key."""
    client.create_table(
        TableName="keyed-by-a",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    update = "SET #x = :v, #y = :w"
    values = _typed({":v": "1", ":w": "2"})
    things = {"TableName": TABLE, "Key": _typed({"pk": "p", "sk": 0})}
    keyed = {"TableName": "keyed-by-a", "Key": _typed({"a": "k"})}
    answers = []
    for target, names in [
        (things, {"#x": "a", "#y": "b"}),  # passes: sets a and b
        (keyed, {"#x": "a", "#y": "b"}),  # a is this table's key
        (things, {"#x": "a", "#y": "a"}),  # the same path twice
        (things, {"#x": "b", "#y": "pk"}),  # a key attribute
        (things, {"#x": "a", "#y": "b"}),
    ]:
        args = {**target, "UpdateExpression": update, "ExpressionAttributeNames": names}
        answers.append(_answer(client.update_item, **args, ExpressionAttributeValues=values))
    codes = [a[1]["Error"]["Code"] if isinstance(a, tuple) else "ok" for a in answers]
    assert codes == ["ok", "ValidationException", "ValidationException", "ValidationException", "ok"], answers
