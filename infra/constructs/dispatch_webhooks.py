"""Status webhooks to the 120 dispatch centres (docs/dispatch.md): what carries an incident's changes from
its tables to the functions that post them, apart from the SOS's path (nothing here runs while an SOS is
taken; the streams carry what is already written).

    incidents' and events' streams (keys only) --mapping--> dispatch_changes --SendMessage--> changes.fifo
    changes.fifo --mapping, batches of 10--> dispatch_webhooks --POST--> the centres
                                                           \\--SendMessage--> parked.fifo (after 24 h)

One construct, because these are one capability: the FIFO queue of changed incidents (one message group
per incident, so an incident's runs take turns and its webhooks go out in order), its FIFO dead-letter
queue ("parked": a webhook that failed for 24 h, or a run SQS gave up on), the queue of stream batches
dispatch_changes could not queue (the streams' on-failure destination), and the three event source
mappings, built from shared.routes.STREAM_SOURCES and QUEUE_SOURCES (the list the local runtime's pollers
follow too). Both dead-letter queues are alarmed (infra/constructs/alarms.py).

Who may touch the queues is FUNCTION_GRANTS[name].status_changes: "send" gets the changes queue's URL and
sqs:SendMessage on it; "consume" gets both URLs, what its mapping and its back-off need on the changes
queue (receive, delete, attributes, visibility) and sqs:SendMessage on the parked queue. The streams are
read on their own ARNs (DataTables.grant_stream_read), never Resource "*". Every grant is in place before
the mapping that needs it: Lambda checks the role when it creates one.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from pynamodb.models import Model

from infra import constants as c
from infra.constructs.data import DataTables
from shared.config import env_name
from shared.routes import QUEUE_SOURCES, STREAM_SOURCES

STATUS_CHANGES_QUEUE_URL = env_name("status_changes_queue_url")
STATUS_PARKED_QUEUE_URL = env_name("status_parked_queue_url")
SEND_ACTIONS = ("sqs:SendMessage",)  # SendMessageBatch is authorized as sqs:SendMessage
# What Lambda's SQS event source mapping needs (receive, delete, the queue's attributes) and the back-off
# (a message's visibility set to its retry delay). No GetQueueUrl: the URL is in the environment.
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)


def _model_of_setting(setting: str) -> type[Model]:
    """The model whose table name the setting holds (shared.routes.StreamSource.tables)."""
    found = [spec.model for spec in c.TABLES if spec.env_var == env_name(setting)]
    if len(found) != 1:
        raise ValueError(f"stream source {setting!r}: no table in infra/constants.TABLES reads it")
    return found[0]


class StatusWebhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: DataTables,
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        queues = {source.queue for source in QUEUE_SOURCES}
        if queues != {"status_changes_queue_url"}:
            raise ValueError(
                f"shared.routes.QUEUE_SOURCES names queues this construct has none for: {queues}"
            )
        (consumer,) = QUEUE_SOURCES
        consumer_timeout_s = c.EVENT_FUNCTION_TIMEOUTS_S[consumer.function]

        # What SQS parks after STATUS_CHANGES_MAX_RECEIVES receives, and what dispatch_webhooks parks
        # itself after 24 h of failed tries: FIFO, as a FIFO queue's dead-letter queue must be.
        self.parked = sqs.Queue(
            self,
            "Parked",
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(c.STATUS_PARKED_RETENTION_DAYS),
        )
        self.changes = sqs.Queue(
            self,
            "Changes",
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(c.STATUS_CHANGES_RETENTION_DAYS),
            visibility_timeout=cdk.Duration.seconds(c.STATUS_CHANGES_VISIBILITY_FACTOR * consumer_timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.parked, max_receive_count=c.STATUS_CHANGES_MAX_RECEIVES
            ),
        )
        # Stream batches dispatch_changes failed on through its retries: Lambda writes where they were
        # (table, shard, sequence numbers), not the records. Standard: Lambda's on-failure destination for
        # a stream cannot be a FIFO queue.
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
                    "The on-failure destination of the status webhooks' stream mappings: a dead-letter "
                    "queue itself (alarmed), so it needs none of its own."
                ),
            )
        )
        self._grant_queues(functions)

        self.mappings: dict[str, lambda_.CfnEventSourceMapping] = {}
        for stream in STREAM_SOURCES:
            if stream.function != "dispatch_changes":  # the cockpit's is infra/constructs/cockpit.py
                continue
            fn = functions[stream.function]
            failures = iam.Grant.add_to_principal(
                grantee=fn, actions=list(SEND_ACTIONS), resource_arns=[self.stream_failures.queue_arn]
            )
            for setting in stream.tables:
                model = _model_of_setting(setting)
                construct = next(spec.construct_id for spec in c.TABLES if spec.model is model)
                mapping = data.map_stream(
                    self,
                    f"{stream.function.title().replace('_', '')}{construct}",
                    fn,
                    model,
                    on_failure=self.stream_failures.queue_arn,
                    on_failure_grant=failures,
                )
                self.mappings[f"{stream.function}:{setting}"] = mapping

        fn = functions[consumer.function]
        mapping = lambda_.CfnEventSourceMapping(
            self,
            f"{consumer.function.title().replace('_', '')}Changes",
            function_name=fn.function_name,
            event_source_arn=self.changes.queue_arn,
            batch_size=consumer.batch_size,
            # Messages the handler reports failed stay (a back-off, or a FIFO group skipped); the rest go.
            function_response_types=["ReportBatchItemFailures"],
        )
        for grant in self._grants.get(consumer.function, ()):
            grant.apply_before(mapping)
        self.mappings[f"{consumer.function}:{consumer.queue}"] = mapping

    def _grant_queues(self, functions: Mapping[str, lambda_.Function]) -> None:
        """The queues' URLs and rights for the functions FUNCTION_GRANTS marks ``status_changes``."""
        self._grants: dict[str, list[iam.Grant]] = {}
        for name, fn in functions.items():
            access = c.FUNCTION_GRANTS[name].status_changes
            if access is None:
                continue
            fn.add_environment(STATUS_CHANGES_QUEUE_URL, self.changes.queue_url)
            if access == "send":
                grants = [self._grant(fn, SEND_ACTIONS, self.changes)]
            else:
                fn.add_environment(STATUS_PARKED_QUEUE_URL, self.parked.queue_url)
                grants = [
                    self._grant(fn, CONSUME_ACTIONS, self.changes),
                    self._grant(fn, SEND_ACTIONS, self.parked),
                ]
            self._grants[name] = grants

    @staticmethod
    def _grant(fn: lambda_.Function, actions: tuple[str, ...], queue: sqs.IQueue) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=fn, actions=list(actions), resource_arns=[queue.queue_arn])
