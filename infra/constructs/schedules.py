"""EventBridge Scheduler: one schedule per shared.routes.SCHEDULES entry, its cron read in the
deployment's time zone (shared/config.py Settings.time_zone, as the functions read it).

Each schedule has its own role, which may invoke exactly its function; Scheduler retries a failed
invocation and parks what it could not deliver in an encrypted dead-letter queue (an alarm-worthy
place: a daily upkeep run that never happened). Scheduler invokes asynchronously, so a delivered run whose
function then fails is Lambda's to retry (constants.SCHEDULED_ASYNC_RETRY_ATTEMPTS); what still fails goes
to a second encrypted queue, the functions' on-failure destination (``failed_runs``), with the event and the
error. Both queues are alarmed (infra/constructs/alarms.py). The function receives the input below; the
local runtime's POST /dev/schedules/<function> builds the same event (local_runtime/schedules.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from shared.config import default_value
from shared.routes import SCHEDULES, Schedule


def schedule_input(schedule: Schedule) -> dict[str, str]:
    """The event a scheduled function gets: Scheduler fills in its context attributes at each run."""
    return {
        "schedule": schedule.function,
        "scheduled_time": scheduler.ContextAttribute.scheduled_time,
        "execution_id": scheduler.ContextAttribute.execution_id,
        "attempt": scheduler.ContextAttribute.attempt_number,
    }


def deployment_time_zone() -> str:
    return str(default_value("time_zone"))


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        time_zone: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        zone = cdk.TimeZone.of(time_zone or deployment_time_zone())
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        cdk.Validations.of(self.dead_letters).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="The dead-letter queue of the EventBridge schedules: it needs none of its own.",
            )
        )
        # Runs Scheduler delivered whose function failed through Lambda's retries: the invocation record
        # (event, error, attempts), kept 14 days for ops to read and re-run (docs/deploy.md).
        self.failed_runs = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        cdk.Validations.of(self.failed_runs).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="The on-failure destination of the scheduled functions: a dead-letter queue itself.",
            )
        )
        self.schedules: dict[str, scheduler.Schedule] = {}
        for entry in SCHEDULES:
            function = functions[entry.function]
            scope_ = Construct(self, entry.function.title().replace("_", ""))
            role = iam.Role(
                scope_,
                "Role",
                assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                description=f"EventBridge Scheduler: invoke {entry.function} only",
            )
            # Exactly the function (the Lambda target's own grant would add its versions and aliases too,
            # "<arn>:*", so the target gets a view of the role that ignores grants), and the dead letters.
            role.add_to_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn])
            )
            role.add_to_policy(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn])
            )
            self.schedules[entry.function] = scheduler.Schedule(
                scope_,
                "Schedule",
                description=entry.description,
                schedule=scheduler.ScheduleExpression.expression(entry.cron, zone),
                target=targets.LambdaInvoke(
                    function,
                    input=scheduler.ScheduleTargetInput.from_object(schedule_input(entry)),
                    role=role.without_policy_updates(),
                    retry_attempts=c.SCHEDULE_RETRY_ATTEMPTS,
                    max_event_age=cdk.Duration.seconds(c.SCHEDULE_MAX_EVENT_AGE_S),
                    dead_letter_queue=self.dead_letters,
                ),
            )
            self._on_failure(scope_, function)

    def _on_failure(self, scope: Construct, function: lambda_.IFunction) -> None:
        """Lambda's retries and on-failure destination for the function's asynchronous invocations. The
        role gets exactly sqs:SendMessage on the queue (the L2 destination would add GetQueueAttributes and
        GetQueueUrl, which Lambda does not need), in place before the config: Lambda checks it then."""
        grant = iam.Grant.add_to_principal(
            grantee=function, actions=["sqs:SendMessage"], resource_arns=[self.failed_runs.queue_arn]
        )
        config = lambda_.CfnEventInvokeConfig(
            scope,
            "AsyncInvoke",
            function_name=function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=c.SCHEDULED_ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=c.SCHEDULE_MAX_EVENT_AGE_S,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=self.failed_runs.queue_arn
                )
            ),
        )
        grant.apply_before(config)
