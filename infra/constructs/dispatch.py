"""The 120 link's signing secrets (docs/dispatch.md): one Secrets Manager secret per dispatch centre, made
at run time when an admin registers the centre (the stack cannot know the centres), each named under one
prefix per stack, ``<stack name>/dispatch-centres/``. This construct gives that prefix to the functions
FUNCTION_GRANTS marks ``centre_secrets`` and lets them touch secrets under it and nothing else: "read" may
GetSecretValue (verifying a centre's calls), "issue" may also CreateSecret and PutSecretValue (registration
and rotation). No DeleteSecret, no resource policy, no rotation Lambda (a centre's secret is rotated by
an admin's PUT ?rotate=true: the centre must be given the new one). The centres' table is DataTables'.

ARNs are written from the stack's partition, region and account (no literal ``arn:aws:``): the same
template serves the China regions. A secret's ARN ends in a random suffix (``-AbCdEf``), so the grant is
the prefix with a trailing ``*``: every centre's secret, and nothing outside the prefix."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from shared.config import env_name

DISPATCH_SECRET_PREFIX = env_name("dispatch_secret_prefix")
READ_ACTIONS = ("secretsmanager:GetSecretValue",)
ISSUE_ACTIONS = ("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", *READ_ACTIONS)


def secret_prefix(stack: cdk.Stack) -> str:
    return f"{stack.stack_name}/dispatch-centres/"


class DispatchCentres(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.prefix = secret_prefix(stack)
        self.secrets_arn = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{self.prefix}*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    def _as_nag_shows(self, arn: str) -> str:
        """The ARN as cdk-nag names it in a finding: pseudo parameters as <AWS::Region>; in a stack whose
        region is known (the cn profile), CDK has already written partition and region out."""
        resolved = cdk.Stack.of(self).resolve(arn)
        if isinstance(resolved, str):
            return resolved
        parts = resolved["Fn::Join"][1]
        return "".join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)

    def connect(self, functions: dict[str, lambda_.Function]) -> None:
        """The secrets' prefix and rights for the functions that read or issue centres' secrets."""
        for name, fn in functions.items():
            access = c.FUNCTION_GRANTS[name].centre_secrets
            if access is None:
                continue
            fn.add_environment(DISPATCH_SECRET_PREFIX, self.prefix)
            actions = ISSUE_ACTIONS if access == "issue" else READ_ACTIONS
            iam.Grant.add_to_principal(grantee=fn, actions=list(actions), resource_arns=[self.secrets_arn])
            cdk.Validations.of(fn.role or fn).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{self._as_nag_shows(self.secrets_arn)}]",
                    reason=(
                        "One secret per 120 dispatch centre, created at run time when an admin registers "
                        "the centre, so no secret can be named in the template; Secrets Manager also ends "
                        "every secret's ARN with a random suffix. The grant is the stack's own prefix for "
                        f"centres' secrets, {self.prefix}, and only "
                        + ", ".join(actions)
                        + " (no DeleteSecret, no resource policies)."
                    ),
                )
            )
