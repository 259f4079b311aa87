"""The rescue workflow: a standard state machine loaded from the same ASL file the local runtime runs."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from shared.workflow import ASL_PATH, PLACEHOLDERS


def substitutions(available: Mapping[str, str]) -> dict[str, str]:
    """The values for exactly the placeholders shared.workflow declares; a missing one fails synthesis."""
    missing = [name for name in PLACEHOLDERS if name not in available]
    if missing:
        raise ValueError(f"no value for ASL placeholders {missing}: add them in infra/constructs/workflow.py")
    return {name: available[name] for name in PLACEHOLDERS}


class RescueWorkflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, available: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays[c.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(ASL_PATH)),
            definition_substitutions=substitutions(available),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group,
                level=sfn.LogLevel.ALL,
                # Execution input holds caller locations: keep personal data out of the logs.
                include_execution_data=False,
            ),
        )
        cdk.Validations.of(self.state_machine.role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
                    "DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, "
                    "DescribeLogGroups) and X-Ray (xray:PutTraceSegments, PutTelemetryRecords, "
                    "GetSamplingRules, GetSamplingTargets) support no resource-level permissions."
                ),
            )
        )
