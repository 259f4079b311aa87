"""IAM on one machine (local_runtime/iam.py): every DynamoDB call a function makes is checked against the
role CDK gives it (infra/constants.FUNCTION_GRANTS), so code that needs a permission its role lacks fails
in every test here as it would fail in AWS, not after deployment. (It is how an SOS's write of its own
merge point, refused to rescue_sos's read-only role on the geo index, came to light.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from infra import constants as c
from local_runtime import iam
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import IncidentModel
from tests.conftest import Api
from tests.integration.rescue_helpers import PATIENT, north_of, responder, sos


@pytest.fixture
def grants(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Change one function's grants for a test; the enforcement reads them afresh."""

    def set_tables(function: str, tables: dict[Any, Any]) -> None:
        changed = dataclasses.replace(c.FUNCTION_GRANTS[function], tables=tables)
        monkeypatch.setitem(c.FUNCTION_GRANTS, function, changed)
        iam._grants.cache_clear()

    yield set_tables
    iam._grants.cache_clear()


def test_an_sos_needs_to_write_its_merge_point_and_may(api: Api) -> None:
    responder(api, at=north_of(*PATIENT, 100))
    assert sos(api).status == 202


def test_a_role_without_the_write_fails_the_call_as_aws_would(api: Api, grants: Any) -> None:
    responder(api, at=north_of(*PATIENT, 100))
    tables = dict(c.FUNCTION_GRANTS["rescue_sos"].tables)
    tables[GeoIndexModel] = c.READ  # the role as it was before the merge point
    grants("rescue_sos", tables)
    reply = sos(api)
    assert reply.status == 500


def test_what_is_refused_is_named_with_its_action_and_table() -> None:
    incidents = IncidentModel.Meta.table_name
    geo = GeoIndexModel.Meta.table_name
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": incidents, "Item": {}}},
            {"ConditionCheck": {"TableName": geo, "Key": {}, "ConditionExpression": "x"}},
        ]
    }
    # rescue_sos: incidents read-write, geo index readable (ConditionCheckItem is a read).
    assert iam._refused("rescue_sos", "TransactWriteItems", transaction) is None
    # aed_coverage reads the geo index only.
    assert iam._refused("aed_coverage", "Query", {"TableName": geo}) is None
    assert iam._refused("aed_coverage", "PutItem", {"TableName": geo}) == f"dynamodb:PutItem on {geo}"
    assert (
        iam._refused("aed_coverage", "TransactWriteItems", transaction) == f"dynamodb:PutItem on {incidents}"
    )
    assert iam._refused("health", "GetItem", {"TableName": incidents}) == f"dynamodb:GetItem on {incidents}"
    writes = {"RequestItems": {geo: []}}
    assert iam._refused("aed_coverage", "BatchWriteItem", writes) == f"dynamodb:BatchWriteItem on {geo}"


def test_an_update_only_grant_allows_no_read_and_no_index_query() -> None:
    updating = next(
        (name, model)
        for name, grants in c.FUNCTION_GRANTS.items()
        for model, access in grants.tables.items()
        if access == c.UPDATE
    )
    name, model = updating
    table = model.Meta.table_name
    assert iam._refused(name, "UpdateItem", {"TableName": table}) is None
    assert iam._refused(name, "GetItem", {"TableName": table}) is not None
    assert iam._refused(name, "Query", {"TableName": table, "IndexName": "any"}) is not None
