"""The Lambda functions: one per folder under functions/ named in shared.routes.FUNCTIONS.

Every function ships the same code asset (the functions/ and shared/ packages) and the same dependency
layer, runs on arm64 Python 3.13 with X-Ray, logs to its own retained log group, and gets only the
tables infra/constants.FUNCTION_TABLES lists for it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants as c
from infra.constructs.data import DataTables
from infra.layer import dependencies_code
from shared.config import Settings
from shared.routes import FUNCTIONS

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


def settings_environment() -> dict[str, str]:
    """Deployment settings every function reads (shared/config.py), at their code defaults."""
    fields = Settings.model_fields
    return {
        str(fields[name].alias): str(fields[name].default)
        for name in ("time_zone", "presence_ttl_s", "geo_max_queries")
    }


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, data: DataTables) -> None:
        super().__init__(scope, construct_id)
        unplanned = [name for name in FUNCTIONS if name not in c.FUNCTION_TABLES]
        if unplanned:
            raise ValueError(f"functions without an entry in infra/constants.FUNCTION_TABLES: {unplanned}")

        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Rescue Nearby run-time dependencies (infra/lambda-requirements.txt)",
        )
        # One asset for all functions: the packages a handler imports, nothing else.
        code = lambda_.Code.from_asset(
            str(c.REPO_ROOT), exclude=list(c.CODE_ASSET_EXCLUDES), ignore_mode=cdk.IgnoreMode.GIT
        )
        env_var = {spec.model: spec.env_var for spec in c.TABLES}
        self.functions: dict[str, lambda_.Function] = {}
        for name in FUNCTIONS:
            models = c.FUNCTION_TABLES[name]
            self.functions[name] = self._function(
                name,
                code,
                environment={
                    **settings_environment(),
                    **{env_var[m]: data.tables[m].table_name for m in models},
                },
            )
            for model in models:
                data.grant_read_write(self.functions[name], model)

    def _function(self, name: str, code: lambda_.Code, environment: dict[str, str]) -> lambda_.Function:
        scope = Construct(self, name.title())
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=logs.RetentionDays[c.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # Our own role rather than AWSLambdaBasicExecutionRole (a managed policy with logs:* on "*"):
        # this function may write to its own log group and nothing else unless granted.
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Rescue Nearby {name} function",
        )
        log_group.grant_write(role)
        fn = lambda_.Function(
            scope,
            "Function",
            code=code,
            handler=f"functions.{name}.handler.lambda_handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=c.FUNCTION_MEMORY_MB,
            timeout=cdk.Duration.seconds(c.FUNCTION_TIMEOUT_S),
            tracing=lambda_.Tracing.ACTIVE,
            layers=[self.layer],
            log_group=log_group,
            role=role,
            environment={
                "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
            description=f"Rescue Nearby: {name} routes",
        )
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
                    "no resource-level permissions (Resource must be *)."
                ),
            )
        )
        cdk.Validations.of(fn).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason=(
                    "Pinned to python3.13: the layer is built from cp313 manylinux2014_aarch64 wheels "
                    "(pydantic-core, pygeohash, wrapt) and the code is tested on 3.13 semantics; move to "
                    "3.14 together with infra/lambda-requirements.txt and the wheelhouse."
                ),
            )
        )
        return fn
