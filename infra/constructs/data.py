"""The DynamoDB tables, derived from the pynamodb models so CloudFormation and the code cannot drift: keys,
indexes, TTL, and a stream where the model's Meta asks for one (``stream_view_type``, which is also what
pynamodb and the local runtime create the table with)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from pynamodb.models import Model

from infra import constants as c
from shared.dal.tables import ALL_MODELS, TTL_ATTRIBUTES

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}
_STREAM_VIEWS = {
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
}

# Item-level actions only: no Scan of whole tables beyond what the read path needs, no DescribeTable
# (pynamodb knows the schema from the model), no table management.


def model_schema(model: type[Model]) -> dict[str, Any]:
    """What pynamodb sends to CreateTable for this model (the local runtime creates tables the same way)."""
    return dict(model._get_schema())


def stream_view(model: type[Model]) -> str | None:
    """The stream the model's Meta asks for (pynamodb's ``stream_view_type``), or None: no stream."""
    view = getattr(model.Meta, "stream_view_type", None)
    return str(view) if view is not None else None


def _key(schema: Mapping[str, Any], key_schema: Iterable[Mapping[str, str]], key_type: str) -> Any:
    types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    for element in key_schema:
        if element["KeyType"] == key_type:
            name = element["AttributeName"]
            return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
    return None


class DataTables(Construct):
    """One on-demand, point-in-time-recoverable, encrypted table per pynamodb model."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        specs = {spec.model: spec for spec in c.TABLES}
        missing = [m.__name__ for m in ALL_MODELS if m not in specs]
        if missing:
            raise ValueError(f"models without a table in infra/constants.TABLES: {missing}")
        self.tables: dict[type[Model], dynamodb.Table] = {
            model: self._table(specs[model].construct_id, model) for model in ALL_MODELS
        }

    def _table(self, construct_id: str, model: type[Model]) -> dynamodb.Table:
        schema = model_schema(model)
        if schema["local_secondary_indexes"]:
            raise NotImplementedError(f"{model.__name__}: local secondary indexes are not mapped yet")
        table = dynamodb.Table(
            self,
            construct_id,
            partition_key=_key(schema, schema["key_schema"], "HASH"),
            sort_key=_key(schema, schema["key_schema"], "RANGE"),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=TTL_ATTRIBUTES.get(model),
            stream=_STREAM_VIEWS[view] if (view := stream_view(model)) is not None else None,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for gsi in schema["global_secondary_indexes"]:
            projection = gsi["projection"]
            table.add_global_secondary_index(
                index_name=gsi["index_name"],
                partition_key=_key(gsi, gsi["key_schema"], "HASH"),
                sort_key=_key(gsi, gsi["key_schema"], "RANGE"),
                projection_type=_PROJECTIONS[projection["ProjectionType"]],
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table

    def index_arns(self, model: type[Model]) -> list[str]:
        table = self.tables[model]
        return [
            f"{table.table_arn}/index/{g['index_name']}"
            for g in model_schema(model)["global_secondary_indexes"]
        ]

    def grant(self, grantee: iam.IGrantable, model: type[Model], access: c.Access) -> None:
        """One table for one access level (infra/constants.Access); item-level actions, no wildcard ARNs."""
        table_arn = self.tables[model].table_arn
        actions = c.TABLE_ACTIONS[access]
        iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[table_arn])
        index_arns = self.index_arns(model)
        if access != c.UPDATE and index_arns:
            # Queries on the named indexes (an index cannot be written to directly).
            iam.Grant.add_to_principal(
                grantee=grantee, actions=list(c.INDEX_ACTIONS), resource_arns=index_arns
            )

    def stream_arn(self, model: type[Model]) -> str:
        """The ARN of the model's table's stream (its Meta's ``stream_view_type``)."""
        arn = self.tables[model].table_stream_arn
        if stream_view(model) is None or arn is None:
            raise ValueError(f"{model.__name__} has no stream: give its Meta a stream_view_type")
        return arn

    def map_stream(
        self,
        scope: Construct,
        construct_id: str,
        fn: lambda_.IFunction,
        model: type[Model],
        *,
        on_failure: str,
        on_failure_grant: iam.Grant,
    ) -> lambda_.CfnEventSourceMapping:
        """``fn`` fed by the table's (keys-only) stream: newest first, in batches, a failing batch split and
        retried, then its records' positions sent to the ``on_failure`` queue (ARN), which ``fn`` may send
        to (``on_failure_grant``). The mapping waits for both grants. No filter criteria: DynamoDB
        mappings filter on the record's `dynamodb` key only (the Lambda guide, "Using event filtering with
        a DynamoDB event source"), and with keys-only streams nothing there tells a removal apart; the
        handlers skip TTL removals themselves. The handlers raise on a failure (the whole batch again)."""
        read = self.grant_stream_read(fn, model)
        mapping = lambda_.CfnEventSourceMapping(
            scope,
            construct_id,
            function_name=fn.function_name,
            event_source_arn=self.stream_arn(model),
            starting_position="LATEST",
            batch_size=c.STATUS_STREAM_BATCH_SIZE,
            maximum_batching_window_in_seconds=0,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=c.STATUS_STREAM_RETRY_ATTEMPTS,
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(destination=on_failure)
            ),
        )
        read.apply_before(mapping)
        on_failure_grant.apply_before(mapping)
        return mapping

    def grant_stream_read(self, grantee: iam.IGrantable, model: type[Model]) -> iam.Grant:
        """What a Lambda event source mapping reads the table's stream with (constants.STREAM_READ_ACTIONS),
        on that stream's ARN only (the L2 grant would add dynamodb:ListStreams on "*")."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(c.STREAM_READ_ACTIONS), resource_arns=[self.stream_arn(model)]
        )
