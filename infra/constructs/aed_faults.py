"""S3: photos attached to AED fault reports. Apps upload straight to S3 with a presigned POST (type and
size enforced by the POST policy), so the bytes never pass through API Gateway or a Lambda."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants as c


class ReportPhotos(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # A report's photo is evidence until its manager decided; kept a while after, then gone.
            lifecycle_rules=[
                s3.LifecycleRule(
                    prefix=c.PHOTO_PREFIX,
                    expiration=cdk.Duration.days(c.PHOTO_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            # Photos are evidence, not state: keep them if the stack is deleted.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(self.bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason=(
                    "Server access logs would need a second bucket for photos that are only written "
                    "through short-lived presigned POSTs issued by one function and read through "
                    "presigned GETs by managers; CloudTrail records who issued them."
                ),
            )
        )

    def grant_reports(self, grantee: iam.IGrantable) -> None:
        """Sign uploads and views of report photos: exactly PutObject and GetObject under the reports
        prefix (a presigned request carries the signer's rights, so nothing more)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject", "s3:GetObject"],
            resource_arns=[self.bucket.arn_for_objects(f"{c.PHOTO_PREFIX}*")],
        )
        role = getattr(grantee, "role", None) or grantee
        bucket = cdk.Stack.of(self).get_logical_id(cast(cdk.CfnElement, self.bucket.node.default_child))
        cdk.Validations.of(cast(Construct, role)).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{c.PHOTO_PREFIX}*]",
                reason=(
                    "Report photos are keyed aed-reports/<aed_id>/<report_id>.<ext>, ids minted per report: "
                    "the prefix is the narrowest resource the signer can hold."
                ),
            )
        )
