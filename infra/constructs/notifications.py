"""SNS: the dispatch centre's topic (incidents no volunteer answered), the "AED upkeep" topic (reminders
to AED managers, filtered per manager: docs/aed-upkeep.md), and direct publishing of alerts and
stand-downs to responders' phones (SMS) and app endpoints (push).

Encrypted with a customer-managed key (rotated yearly) rather than alias/aws/sns: the AWS-managed key's
policy cannot be extended, so Step Functions and other service principals could not publish to it.
Publishers get exactly sns:Publish plus the two KMS actions SNS needs on that key.

App push needs SNS mobile platform applications, which hold the push credentials (FCM key, APNs
certificate): ops create them outside the stack and pass their ARNs as the `push_applications` context
value (constants.PUSH_CONTEXT). The function that registers devices may create endpoints in exactly those.

In the cn profile (infra/profile.py) SNS has neither SMS nor mobile push: the topics stay (fan-out to the
dispatch centre and AED managers by email, HTTPS, SQS or Lambda), nothing publishes straight to phones,
and the functions that send use the mainland providers instead, with their credentials in the
``ProviderCredentials`` secret (below).

The dispatch centre subscribes to its topic outside the stack (runbook: docs/deploy.md), or through the
optional `dispatch_centre_endpoint` context value (constants.DISPATCH_CENTRE_ENDPOINT_CONTEXT): an email
address, an https:// URL (the centre's own system) or an E.164 phone number, parsed by ``subscription``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import constants as c
from infra.profile import context_object
from shared.config import env_name

# arn:<partition>:sns:<region>:<account>:app/<SNS platform>/<name> (SNS allows 1-256 of [A-Za-z0-9_.-]).
PLATFORM_APPLICATION_ARN = re.compile(
    r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app/(?P<platform>[A-Z_]+)/[A-Za-z0-9_.-]{1,256}"
)


def push_applications(value: object) -> dict[str, str]:
    """The `push_applications` context value as {app platform: platform application ARN}.

    Accepts a JSON object string (what `cdk -c push_applications='{...}'` passes) or an object (cdk.json,
    or a test's context); absent, empty or "{}" means no push. Anything else raises ValueError, which
    fails synthesis before any resource is built.
    """
    where = f"CDK context {c.PUSH_CONTEXT!r}"
    example = f"""-c {c.PUSH_CONTEXT}='{{"fcm": "arn:aws:sns:<region>:<account>:app/GCM/<name>"}}'"""
    value = context_object(value, where, "of app platform to platform application ARN", example)
    unknown = sorted(str(k) for k in value if k not in c.PUSH_PLATFORMS)
    if unknown:
        raise ValueError(f"{where}: unknown platform(s) {unknown}; allowed: {sorted(c.PUSH_PLATFORMS)}")
    applications: dict[str, str] = {}
    for platform, arn in sorted(value.items()):
        match = PLATFORM_APPLICATION_ARN.fullmatch(arn) if isinstance(arn, str) else None
        sns_platforms = sorted(c.PUSH_PLATFORMS[platform])
        if match is None or match["platform"] not in sns_platforms:
            raise ValueError(
                f"{where}: {platform!r} must be the ARN of an SNS platform application of platform "
                f"{' or '.join(sns_platforms)} (arn:<partition>:sns:<region>:<account>:app/"
                f"{sns_platforms[0]}/<name>), got {arn!r}"
            )
        applications[platform] = arn
    return applications


# What a subscription endpoint given as context may be: SNS's own formats for these three protocols.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+[1-9]\d{6,14}")  # E.164
_HTTPS = re.compile(r"https://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?")


def subscription(value: object, context_key: str, *, sms: bool = True) -> sns.ITopicSubscription | None:
    """A topic subscription from a CDK context value: an email address, an https:// URL or an E.164 phone
    number (SMS; not with ``sms`` false: SNS in the China regions sends no SMS); absent or empty: none.
    Anything else raises ValueError naming the context value, which fails synthesis. Email and HTTPS
    subscriptions wait for their owner's confirmation (SNS sends it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _HTTPS.fullmatch(text):
        return subscriptions.UrlSubscription(text, protocol=sns.SubscriptionProtocol.HTTPS)
    if text is not None and _EMAIL.fullmatch(text):
        return subscriptions.EmailSubscription(text)
    if text is not None and _PHONE.fullmatch(text):
        if not sms:
            raise ValueError(
                f"CDK context {context_key!r}: SNS in the China regions sends no SMS; subscribe an email "
                "address or an https:// URL"
            )
        return subscriptions.SmsSubscription(text)
    raise ValueError(
        f"CDK context {context_key!r} must be an email address, an https:// URL or an E.164 phone number "
        f"(+<country code><number>), got {value!r}"
    )


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        push_applications: Mapping[str, str] | None = None,
        dispatch_centre_endpoint: sns.ITopicSubscription | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # App platform -> SNS platform application ARN (see push_applications()); empty: no app push.
        self.push_applications: dict[str, str] = dict(sorted((push_applications or {}).items()))
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Rescue Nearby SNS topics",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.dispatch_topic = sns.Topic(
            self,
            "DispatchCentreTopic",
            display_name=c.DISPATCH_TOPIC_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )
        if dispatch_centre_endpoint is not None:
            self.dispatch_topic.add_subscription(dispatch_centre_endpoint)
        # Reminders to AED managers (expiries, overdue inspections). Each message carries the attributes
        # manager_id and aed_id: a manager subscribes an email or phone with a filter policy on manager_id.
        self.upkeep_topic = sns.Topic(
            self,
            "AedUpkeepTopic",
            display_name=c.UPKEEP_TOPIC_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )

    def grant_publish(self, grantee: iam.IGrantable, topic: sns.ITopic) -> None:
        # Not topic.grant_publish: that adds kms:GenerateDataKey*, a wildcard SNS does not need.
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[topic.topic_arn])
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[self.key.key_arn]
        )

    @staticmethod
    def grant_direct_publish(grantee: iam.IGrantable) -> None:
        """sns:Publish with PhoneNumber (SMS) or TargetArn (a mobile platform endpoint). An SMS has no
        resource ARN, so IAM can only express this as Resource "*"; the caller acknowledges the cdk-nag
        finding (AwsSolutions-IAM5) with its reason."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=["*"])

    def grant_register_push(self, grantee: iam.IGrantable) -> None:
        """sns:CreatePlatformEndpoint on exactly the push platform applications; none given, no grant."""
        if self.push_applications:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["sns:CreatePlatformEndpoint"],
                resource_arns=sorted(set(self.push_applications.values())),
            )


# --- the cn profile: the SMS and push providers' credentials ----------------------------------------
# Secrets Manager, cn profile: the mainland SMS and push providers' credentials (``ProviderCredentials``).
#
# The stack creates the secret with a placeholder and no credential in it: nothing secret is in the
# template, the repository or CDK context. Ops put the providers' credentials in after the first deploy
# (docs/deploy.md, "China profile"), as one JSON object:
#
#     {"alibaba": {"access_key_id", "access_key_secret"}, "tencent": {"secret_id", "secret_key"},
#      "jpush": {"app_key", "master_secret"}}
#
# Later deploys keep what ops put there (CloudFormation generates the placeholder once, at creation). Only
# the functions that send (FunctionGrants.sends_messages) may read it, and they get its ARN as
# PROVIDER_SECRET_ID (shared/config.py); every other function has neither.

PROVIDER_SECRET_ID = env_name("provider_secret_id")
# What the placeholder says to whoever opens the secret before ops filled it in. Not credentials: a
# function that reads it finds no provider's keys and refuses to send (loudly: AlertsFailed).
PLACEHOLDER = {"replace_with": "the providers' credentials as JSON: docs/deploy.md, China profile"}


class ProviderCredentials(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=(
                "Rescue Nearby: SMS and push providers' credentials (Alibaba Cloud or Tencent Cloud SMS, "
                "JPush), as JSON; put in by ops after deploy (docs/deploy.md)"
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(PLACEHOLDER),
                generate_string_key="placeholder",
                exclude_punctuation=True,
            ),
        )
        cdk.Validations.of(self.secret).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "The secret holds API keys that the providers issue in their own consoles (an Alibaba "
                    "Cloud RAM AccessKey, a Tencent Cloud SecretId/SecretKey, a JPush master secret): "
                    "Secrets Manager cannot create or revoke them, so a rotation function could only do "
                    "it holding an administrator credential of each provider account, a bigger secret "
                    "than the one rotated. Ops rotate them in the provider consoles and put the new JSON "
                    "here (docs/deploy.md, China profile)."
                ),
            )
        )

    def connect(self, functions: Mapping[str, lambda_.Function]) -> None:
        """Read access and the secret's ARN for exactly the functions that send."""
        for name, fn in functions.items():
            if c.FUNCTION_GRANTS[name].sends_messages:
                self.secret.grant_read(fn)
                fn.add_environment(PROVIDER_SECRET_ID, self.secret.secret_arn)
