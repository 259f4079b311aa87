"""The Red Cross cockpit's rescue summaries (docs/cockpit.md): the incidents', alerts' and events' streams
(keys only) mapped to cockpit_changes, which re-derives each changed incident's summary. Built from
shared.routes.STREAM_SOURCES as the status webhooks' mappings are (infra/constructs/dispatch_webhooks.py):
batches of 100 handed over at once, a failing batch split in two and retried, then described on an
on-failure queue (alarmed as a dead-letter queue) and skipped. The streams are read on their own ARNs.
The tables themselves (summaries, districts) are the data construct's, from the pynamodb models."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra.constructs.data import DataTables
from shared.config import env_name
from shared.routes import STREAM_SOURCES

CONSUMER = "cockpit_changes"


class CockpitSummaries(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: DataTables,
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        (stream,) = [s for s in STREAM_SOURCES if s.function == CONSUMER]
        fn = functions[CONSUMER]
        self.stream_failures = sqs.Queue(
            self,
            "StreamFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(c.STATUS_STREAM_FAILURES_RETENTION_DAYS),
        )
        cdk.Validations.of(self.stream_failures).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason=(
                    "The on-failure destination of the cockpit summaries' stream mappings: a dead-letter "
                    "queue itself (alarmed), so it needs none of its own."
                ),
            )
        )
        failures = iam.Grant.add_to_principal(
            grantee=fn, actions=["sqs:SendMessage"], resource_arns=[self.stream_failures.queue_arn]
        )
        self.mappings: dict[str, lambda_.CfnEventSourceMapping] = {}
        for setting in stream.tables:
            spec = next(s for s in c.TABLES if s.env_var == env_name(setting))
            mapping = data.map_stream(
                self,
                f"CockpitChanges{spec.construct_id}",
                fn,
                spec.model,
                on_failure=self.stream_failures.queue_arn,
                on_failure_grant=failures,
            )
            self.mappings[f"{CONSUMER}:{setting}"] = mapping
