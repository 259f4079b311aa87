"""The embedded AWS: moto in-process, with the tables, topics and state machine the CDK app deploys,
built from the same definitions (pynamodb models, the ASL file)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from typing import Any

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "cn-north-1",
    "AWS_REGION": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "RescueNearbyLocal",
}


def prepare_environment() -> None:
    """Before anything imports shared.config: local credentials that can never reach real AWS."""
    for key, value in LOCAL_ENV.items():
        os.environ[key] = value


@dataclass
class EmbeddedAws:
    mock: Any
    dispatch_topic_arn: str
    state_machine_arn: str

    def stop(self) -> None:
        """Stop running executions first: their interpreter threads would otherwise outlive the mock
        and call an AWS that is gone."""
        import boto3

        sfn = boto3.client("stepfunctions")
        running = sfn.list_executions(stateMachineArn=self.state_machine_arn, statusFilter="RUNNING")
        for execution in running["executions"]:
            # Best effort: moto raises for an execution whose worker has not started yet.
            with contextlib.suppress(Exception):
                sfn.stop_execution(executionArn=execution["executionArn"], cause="local runtime stopping")
        self.mock.stop()


_WRITE_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def _atomic_dynamodb_writes() -> None:
    """DynamoDB applies each conditional write atomically; moto checks the condition, then writes, with
    nothing in between held. Concurrent requests (50 accepts for 3 slots) would all pass the check, so
    the embedded DynamoDB applies one write at a time, as the real one does per item."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _DYNAMODB_WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "atomic", False):
            continue

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _WRITE_LOCK:
                return _original(self, *args, **kwargs)

        atomic.atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)


def start() -> EmbeddedAws:
    prepare_environment()
    _atomic_dynamodb_writes()
    from local_runtime import powertools_threads

    powertools_threads.install()  # concurrent instances are threads here: one event each, as in Lambda
    import boto3
    from moto import mock_aws

    from local_runtime import lambda_adapter

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    lambda_adapter.install()

    from shared.config import settings
    from shared.dal.models import ALL_MODELS, TTL_ATTRIBUTES
    from shared.workflow import render

    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    dynamodb = boto3.client("dynamodb")
    for model, attribute in TTL_ATTRIBUTES.items():
        dynamodb.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    role = boto3.client("iam").create_role(RoleName="rescue-nearby-local", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    steps_arn = boto3.client("lambda").create_function(
        FunctionName=lambda_adapter.function_name("rescue_steps"),
        Runtime="python3.13",
        Role=role,
        Handler="functions.rescue_steps.handler.lambda_handler",
        Code={"ZipFile": b"runs in-process: local_runtime/lambda_adapter.py"},
        Architectures=["arm64"],
    )["FunctionArn"]
    s3 = boto3.client("s3")
    s3.create_bucket(
        Bucket=settings().photo_bucket,
        CreateBucketConfiguration={"LocationConstraint": settings().region},  # type: ignore[typeddict-item]
    )
    sns = boto3.client("sns")
    topic_arn = sns.create_topic(Name="rescue-nearby-dispatch-centre")["TopicArn"]
    upkeep_topic_arn = sns.create_topic(Name="rescue-nearby-aed-upkeep")["TopicArn"]
    push_applications = {
        app: sns.create_platform_application(Name=f"rescue-nearby-{app}", Platform=platform, Attributes={})[
            "PlatformApplicationArn"
        ]
        for app, platform in (("fcm", "GCM"), ("apns", "APNS"))
    }
    definition = render(
        {
            "Partition": "aws-cn",
            "IncidentsTable": settings().incidents_table,
            "RescueStepsFunctionArn": steps_arn,
        }
    )
    state_machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="rescue-nearby-rescue", definition=definition, roleArn=role, type="STANDARD"
    )["stateMachineArn"]
    # The check-in signing key, generated per run as CDK generates it per deployment.
    checkin_secret_arn = boto3.client("secretsmanager").create_secret(
        Name="rescue-nearby-checkin-signing", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    # The handlers read these like any other setting: set them before the first handler imports.
    os.environ["CHECKIN_SECRET_ID"] = checkin_secret_arn
    os.environ["DISPATCH_TOPIC_ARN"] = topic_arn
    os.environ["UPKEEP_TOPIC_ARN"] = upkeep_topic_arn
    os.environ["RESCUE_STATE_MACHINE_ARN"] = state_machine_arn
    os.environ["PUSH_APPLICATIONS"] = json.dumps(push_applications)
    settings.cache_clear()
    return EmbeddedAws(mock=mock, dispatch_topic_arn=topic_arn, state_machine_arn=state_machine_arn)


def serve_photo_uploads(host: str) -> Any:
    """Presigned photo uploads must reach the embedded S3 from outside this process (a phone, curl):
    moto's server on a free port shares the in-process backends, and the handlers sign for its address."""
    from moto.server import ThreadedMotoServer

    from shared.config import settings

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    os.environ["PHOTO_UPLOAD_ENDPOINT"] = f"http://{host}:{port}"
    settings.cache_clear()
    return server
