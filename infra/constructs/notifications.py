"""SNS topics: the dispatch centre hears about incidents no volunteer answered.

Encrypted with a customer-managed key (rotated yearly) rather than alias/aws/sns: the AWS-managed key's
policy cannot be extended, so Step Functions and other service principals could not publish to it.
Publishers get exactly sns:Publish plus the two KMS actions SNS needs on that key.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants as c


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
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

    def grant_publish(self, grantee: iam.IGrantable, topic: sns.ITopic) -> None:
        # Not topic.grant_publish: that adds kms:GenerateDataKey*, a wildcard SNS does not need.
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[topic.topic_arn])
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[self.key.key_arn]
        )
