"""The rescue workflow: a standard state machine loaded from the same ASL file the local runtime runs."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from shared.workflow import ASL_PATH, PLACEHOLDERS


def substitutions(available: Mapping[str, str]) -> dict[str, str]:
    """The values for exactly the placeholders shared.workflow declares; a missing one fails synthesis."""
    missing = [name for name in PLACEHOLDERS if name not in available]
    if missing:
        raise ValueError(f"no value for ASL placeholders {missing}: add them in infra/constructs/rescue.py")
    return {name: available[name] for name in PLACEHOLDERS}


def state_machine_name(stack: cdk.Stack) -> str:
    return f"{stack.stack_name}-{c.STATE_MACHINE_NAME_SUFFIX}"


def state_machine_arn_by_name(stack: cdk.Stack) -> str:
    """The state machine's ARN written from its name and the pseudo parameters, referring to no resource:
    what a function the machine invokes uses, since a Ref back to the machine would be a cycle."""
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(stack),
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


class RescueWorkflow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, available: Mapping[str, str], tracing: bool = True
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays[c.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(stack),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(ASL_PATH)),
            definition_substitutions=substitutions(available),
            tracing_enabled=tracing,  # X-Ray: not in the China regions
            logs=sfn.LogOptions(
                destination=log_group,
                level=sfn.LogLevel.ALL,
                # Execution input holds caller locations: keep personal data out of the logs.
                include_execution_data=False,
            ),
        )
        self.arn_by_name = state_machine_arn_by_name(stack)
        if not tracing:
            cdk.Validations.of(self.state_machine).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-SF2",
                    reason=(
                        "No X-Ray in the cn profile: the China regions have no X-Ray integration with "
                        "Lambda (AWS China docs, Lambda differences), so a trace would stop at every step; "
                        "each execution is kept in its history (the incident id is its name) and logged to "
                        "CloudWatch Logs at level ALL (docs/deploy.md, China profile)."
                    ),
                )
            )
        cdk.Validations.of(self.state_machine.role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
                    "DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, "
                    "DescribeLogGroups) and X-Ray (xray:PutTraceSegments, PutTelemetryRecords, "
                    "GetSamplingRules, GetSamplingTargets) support no resource-level permissions."
                    if tracing
                    else "Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, "
                    "UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
                    "DescribeResourcePolicies, DescribeLogGroups) supports no resource-level permissions."
                ),
            )
        )

    def grant_invoke(self, fn: lambda_.IFunction) -> None:
        # Not fn.grant_invoke: that adds "<arn>:*" (every version and alias) for a machine that invokes the
        # unqualified ARN only.
        iam.Grant.add_to_principal(
            grantee=self.state_machine, actions=["lambda:InvokeFunction"], resource_arns=[fn.function_arn]
        )
