"""Who is calling: a small interface the API asks, with Cognito behind it.

Cognito does not exist in the China regions (cfn-lint E3006 on AWS::Cognito::UserPool there), so the API
never touches Cognito directly: a China deployment supplies another ``Identity`` (e.g. an OIDC or Lambda
token authorizer that yields the same ``cognito:groups``-style claims) without changing the API construct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra import constants as c
from shared.identity import ROLES
from shared.routes import Route


@dataclass(frozen=True)
class MethodAuth:
    authorization_type: apigw.AuthorizationType
    authorizer: apigw.IAuthorizer | None


class Identity(Protocol):
    """How the API protects a route: anonymous routes get no authorizer, every other one does."""

    groups: tuple[str, ...]

    def method_auth(self, route: Route) -> MethodAuth: ...


ANONYMOUS = MethodAuth(apigw.AuthorizationType.NONE, None)


class CognitoIdentity(Construct):
    """A user pool with one group per role, an app client, and the API's user-pools authorizer."""

    groups: tuple[str, ...] = tuple(sorted(ROLES))

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        if not cdk.Token.is_unresolved(region) and region.startswith("cn-"):
            raise ValueError(f"Cognito is not available in {region}: supply another infra Identity")

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=c.USER_POOL_NAME,
            # Volunteers register themselves for training; roles come only from groups admins assign.
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=c.PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            # TOTP only: SMS MFA would need an SNS role with a wildcard publish permission.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(self.user_pool).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-COG2",
                reason=(
                    "MFA is optional (TOTP offered to everyone): Cognito cannot require MFA per group, and "
                    "requiring it of the citizen volunteers who make up most of the pool would lose "
                    "responders. Dispatcher and admin accounts must enrol TOTP (admin runbook; not enforced "
                    "by this stack)."
                ),
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-COG8",
                reason=(
                    "Essentials tier: Plus is charged per monthly active user and the pool is mostly "
                    "volunteers; the API is additionally protected by WAF and stage throttling."
                ),
            ),
        )
        for group in self.groups:
            cognito.CfnUserPoolGroup(
                self,
                f"Group-{group}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Rescue Nearby role: {group}",
            )
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # used from phones and browsers, which cannot keep a secret
            prevent_user_existence_errors=True,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool]
        )

    def method_auth(self, route: Route) -> MethodAuth:
        if route.anonymous:
            return ANONYMOUS
        return MethodAuth(apigw.AuthorizationType.COGNITO, self.authorizer)
