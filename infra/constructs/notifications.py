"""SNS: the dispatch centre's topic (incidents no volunteer answered), the "AED upkeep" topic (reminders
to AED managers, filtered per manager: docs/aed-upkeep.md), and direct publishing of alerts and
stand-downs to responders' phones (SMS) and app endpoints (push).

Encrypted with a customer-managed key (rotated yearly) rather than alias/aws/sns: the AWS-managed key's
policy cannot be extended, so Step Functions and other service principals could not publish to it.
Publishers get exactly sns:Publish plus the two KMS actions SNS needs on that key.

App push needs SNS mobile platform applications, which hold the push credentials (FCM key, APNs
certificate): ops create them outside the stack and pass their ARNs as the `push_applications` context
value (constants.PUSH_CONTEXT). The function that registers devices may create endpoints in exactly those.

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
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import constants as c

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
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where} is not valid JSON ({error}); expected e.g. {example}") from None
    if not isinstance(value, Mapping):
        raise ValueError(
            f"{where} must be a JSON object of app platform to platform application ARN, "
            f"got {type(value).__name__}; expected e.g. {example}"
        )
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


def subscription(value: object, context_key: str) -> sns.ITopicSubscription | None:
    """A topic subscription from a CDK context value: an email address, an https:// URL or an E.164 phone
    number (SMS); absent or empty: none. Anything else raises ValueError naming the context value, which
    fails synthesis. Email and HTTPS subscriptions wait for their owner's confirmation (SNS sends it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _HTTPS.fullmatch(text):
        return subscriptions.UrlSubscription(text, protocol=sns.SubscriptionProtocol.HTTPS)
    if text is not None and _EMAIL.fullmatch(text):
        return subscriptions.EmailSubscription(text)
    if text is not None and _PHONE.fullmatch(text):
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
