"""Secrets Manager: the key that signs session check-in codes (shared/logic/teaching/checkin.py). CDK
generates its value at the first deployment (later deployments keep it; replacing it is a runbook step,
docs/deploy.md); only the functions FUNCTION_GRANTS marks ``checkin_secret`` may read it."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.constructs.secrets import generated_key
from shared.config import env_name

CHECKIN_SECRET_ID = env_name("checkin_secret_id")


class CheckinSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = generated_key(
            self,
            "Secret",
            description="Rescue Nearby: HMAC key of the training session check-in codes",
            why_not_rotated=(
                "The key only signs check-in codes valid for one 30-second window plus seconds of "
                "grace; nothing signed with it outlasts a session. Each container reads it once, so a "
                "scheduled rotation mid-session would leave containers disagreeing and refuse valid "
                "codes. A redeploy keeps the value (CloudFormation generates it once): ops replace it "
                "by hand between sessions, then update the check-in function's configuration so every "
                "container reads the new key (docs/deploy.md, check-in key)."
            ),
        )

    def connect(self, functions: dict[str, lambda_.Function]) -> None:
        """Read access and the secret's ARN for the functions that show or accept check-in codes."""
        for name, fn in functions.items():
            if c.FUNCTION_GRANTS[name].checkin_secret:
                self.secret.grant_read(fn)
                fn.add_environment(CHECKIN_SECRET_ID, self.secret.secret_arn)
