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
        # Presigning is computed by the function, no API call, so nothing records it; the uploads and
        # views themselves are S3 requests, which the server access log records (who, from which IP, which
        # key, when). SSE-S3: the encryption S3 log delivery supports. (cdk-nag does not ask a log
        # target bucket for access logs of its own.)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(c.PHOTO_ACCESS_LOG_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
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
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="photos/",
            # Photos are evidence, not state: keep them if the stack is deleted.
            removal_policy=cdk.RemovalPolicy.RETAIN,
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
