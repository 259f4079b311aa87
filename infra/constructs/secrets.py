"""A key that CloudFormation generates once (64 characters, no punctuation) and nobody rotates on a
schedule: the constructs that need one say why (cdk-nag's AwsSolutions-SMG4, acknowledged with that
reason) and how ops replace it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


def generated_key(
    scope: Construct, construct_id: str, *, description: str, why_not_rotated: str
) -> secretsmanager.Secret:
    secret = secretsmanager.Secret(
        scope,
        construct_id,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=64, exclude_punctuation=True
        ),
    )
    cdk.Validations.of(secret).acknowledge(cdk.Acknowledgment(id="AwsSolutions-SMG4", reason=why_not_rotated))
    return secret
