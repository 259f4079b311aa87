"""The credits exports to the provincial public-credit platform (shared/logic/credits_export.py): the S3
bucket that keeps each export's files and their detached signatures, and the Secrets Manager secret whose
generated value seeds the ed25519 key that signs them. Only the functions FUNCTION_GRANTS marks
``credit_exports`` may write the files and read the secret."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants as c
from infra.constructs.secrets import generated_key
from shared.config import env_name

CREDIT_EXPORTS_BUCKET = env_name("credit_exports_bucket")
CREDIT_EXPORT_SECRET_ID = env_name("credit_export_secret_id")


class CreditExports(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        # An export is a record sent to a public body: kept (versioned, retained with the stack gone), its
        # reads and writes in the server access log the photos' bucket keeps too.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=cdk.Duration.days(1))],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="credit-exports/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.secret = generated_key(
            self,
            "SigningSecret",
            description="Rescue Nearby: seed of the ed25519 key that signs the credits exports",
            why_not_rotated=(
                "The value seeds the ed25519 key the provincial platform verifies exports with: a new "
                "value is a new public key, which the platform must be given first. Rotation is a "
                "planned step (docs/volunteers.md, Credits), never a schedule; every export records "
                "the key id and public key it was signed with."
            ),
        )

    def connect(self, functions: dict[str, lambda_.Function]) -> None:
        for name, fn in functions.items():
            if not c.FUNCTION_GRANTS[name].credit_exports:
                continue
            self.secret.grant_read(fn)
            fn.add_environment(CREDIT_EXPORT_SECRET_ID, self.secret.secret_arn)
            fn.add_environment(CREDIT_EXPORTS_BUCKET, self.bucket.bucket_name)
            # Write the files, and sign the admins' downloads (a presigned GET carries the signer's rights).
            iam.Grant.add_to_principal(
                grantee=fn,
                actions=["s3:PutObject", "s3:GetObject"],
                resource_arns=[self.bucket.arn_for_objects(f"{c.CREDIT_EXPORT_PREFIX}*")],
            )
            bucket = cdk.Stack.of(self).get_logical_id(cast(cdk.CfnElement, self.bucket.node.default_child))
            role = cast(Construct, fn.role)
            cdk.Validations.of(role).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{c.CREDIT_EXPORT_PREFIX}*]",
                    reason=(
                        "Export files are keyed credit-exports/<period>/<export_id>/<file>, ids minted per "
                        "export: the prefix is the narrowest resource the writer can hold."
                    ),
                )
            )
