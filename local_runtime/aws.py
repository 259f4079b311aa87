"""The embedded AWS: moto in-process, with the tables, topics and state machine the CDK app deploys,
built from the same definitions (pynamodb models, the ASL file)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "cn-north-1",
    "AWS_REGION": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    # The functions' metrics are EMF lines on stdout, for CloudWatch: nothing reads them here, and they
    # would run through `make demo`'s timeline. The metric tests turn them back on.
    "POWERTOOLS_METRICS_DISABLED": "true",
    # The local 120 stand-in listens on loopback: a centre's callback_url may be http://127.0.0.1:<port>
    # here, never in a deployment (shared/config.py).
    "DISPATCH_LOOPBACK_CALLBACKS": "1",
}

# How long stopping the embedded AWS waits for executions to end: longer than the rescue workflow's
# longest retry back-off (16 s), during which an execution that was told to stop has not ended yet.
EXECUTIONS_END_WITHIN_S = 30.0


def prepare_environment() -> None:
    """Before anything imports shared.config: local credentials that can never reach real AWS."""
    for key, value in LOCAL_ENV.items():
        os.environ[key] = value


@dataclass
class EmbeddedAws:
    mock: Any
    dispatch_topic_arn: str
    state_machine_arn: str
    providers: Any = None  # the cn profile's provider stand-ins (local_runtime/providers/local.py)
    pollers: list[Any] = field(default_factory=list)

    def start_pollers(self) -> None:
        """Streams and queues to their functions, as Lambda's event source mappings (the status webhooks
        to dispatch centres): `make run` starts them; a test that needs them asks."""
        from local_runtime import lambda_adapter, pollers

        if not self.pollers:
            self.pollers = pollers.start(lambda_adapter.invoke)

    def stop(self) -> None:
        """End every execution, then the mock. An execution that outlived the mock would go on calling
        AWS: moto's interpreter then sends its Lambda and DynamoDB tasks to moto's server-mode address
        (http://localhost:5000) or to the real cn-north-1 endpoints, and logs each failure as a
        States.Runtime error with the state's whole dump; after the next start it would run against
        another test's tables."""
        from local_runtime import pollers

        pollers.stop(self.pollers)
        try:
            with _aborts_unlogged():
                leftover = self._end_executions()
        finally:
            self.mock.stop()
            if self.providers is not None:
                self.providers.stop()
        if leftover:
            raise RuntimeError(f"executions still running when the embedded AWS stopped: {leftover}")

    def _end_executions(self, deadline_s: float = EXECUTIONS_END_WITHIN_S) -> list[str]:
        """Stop every running execution and wait until each has ended; returns those that did not in
        time. Stopping is not ending: moto's interpreter finishes the step it is in (a Lambda task whose
        handler is still writing, a retry's back-off) before the execution ends, and that step needs
        the mock it started with."""
        import boto3

        sfn = boto3.client("stepfunctions")
        deadline = time.monotonic() + deadline_s
        while True:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=self.state_machine_arn, statusFilter="RUNNING"
            )
            running = [e["executionArn"] for page in pages for e in page["executions"]]
            if not running or time.monotonic() > deadline:
                return running
            # Again on every pass: stopping twice changes nothing, and it also wakes a token wait that
            # the execution entered after the previous pass.
            for arn in running:
                sfn.stop_execution(executionArn=arn, cause="local runtime stopping")
            time.sleep(0.02)


@contextlib.contextmanager
def _aborts_unlogged() -> Iterator[None]:
    """moto's interpreter logs what an abort cuts short as a failure, with the state's whole dump: a
    task that had begun finds its frame stopped and fails as States.Runtime ('dict' object has no
    attribute 'region'). That is the abort doing its job, not news; the handlers' own logs stay."""
    interpreter = logging.getLogger("moto.stepfunctions.parser")
    level = interpreter.level
    interpreter.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        interpreter.setLevel(level)


def _stop_executions_as_step_functions_does() -> None:
    """StopExecution aborts an execution whatever it is doing; moto's only flags it for the interpreter,
    which misses two cases. An execution whose worker has not started its program yet (it parses the
    ASL first) has nothing to flag: moto raises AttributeError, or drops the flag, and the execution
    runs on. A task waiting for its token (the rescue's AwaitClosure, until the incident expires)
    never looks at the flag. Here stopping waits for the program to start, flags it, then wakes every
    token wait."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess
    from moto.stepfunctions.parser.backend.execution import Execution

    original = Execution.stop
    if getattr(original, "aborts", False):
        return

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        worker = self.exec_worker
        ready_by = time.monotonic() + 5.0
        while worker is not None and not _program_started(worker) and time.monotonic() < ready_by:
            time.sleep(0.005)
        original(self, stop_date=stop_date, error=error, cause=cause)
        if worker is None:
            return
        # Woken with an empty result: the interpreter records the task as done and, seeing the flag,
        # ends the execution as aborted before the next state. Woken with an error or a timeout instead,
        # it would take the state's Catch and record the execution as failed.
        for token, endpoint in list(worker.env.callback_pool_manager._pool.items()):
            endpoint.notify(CallbackOutcomeSuccess(callback_id=token, output="null"))

    stop.aborts = True  # type: ignore[attr-defined]
    Execution.stop = stop  # type: ignore[method-assign]


def _parse_each_definition_once() -> None:
    """moto's interpreter parses the state machine's ASL with ANTLR at every execution's start (~90 ms of
    CPU here), inside the SOS's time: the SOS starts the rescue's execution. Parsed once per definition;
    each execution gets a deep copy (~8 ms), a tree as fresh as a parse: the parsed original is never
    evaluated, so it never takes the heap keys a component gives itself on first use."""
    import copy
    import functools

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if getattr(ExecutionWorker._get_evaluation_entrypoint, "parsed_once", False):
        return
    parsed = functools.lru_cache(maxsize=8)(lambda definition: AmazonStateLanguageParser.parse(definition)[0])
    lock = threading.Lock()

    def entrypoint(self: Any) -> Any:
        with lock:  # one parse per definition, and no copy taken while another thread copies
            return copy.deepcopy(parsed(self._evaluation_details.state_machine_details.definition))

    entrypoint.parsed_once = True  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = entrypoint  # type: ignore[method-assign]


def _list_handler_methods_once() -> None:
    """moto finds each request's handler by listing its response class's functions (inspect.getmembers,
    ~0.5 ms a request: a tenth of a GetItem here). Those functions are fixed once the embedded AWS has
    started (its own wrappers keep moto's names), so each class is listed once."""
    import functools

    from moto.core import responses

    if getattr(responses.method_names_from_class, "listed_once", False):
        return
    listed = functools.cache(responses.method_names_from_class)
    listed.listed_once = True  # type: ignore[attr-defined]
    responses.method_names_from_class = listed


def _program_started(worker: Any) -> bool:
    """The interpreter's program state is None until the program starts; only then can it be stopped."""
    return worker.env is not None and worker.env.program_state() is not None


_WRITE_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# moto's request handlers read and copy items outside the backend's write (update_item deep-copies the
# old item first), and its writes change items in place: a read racing a write failed with "dictionary
# changed size during iteration". Each request is applied whole, one at a time.
_DYNAMODB_REQUESTS = (
    *_DYNAMODB_WRITES,
    "get_item",
    "batch_get_item",
    "transact_get_items",
    "query",
    "scan",
)


def _atomic_dynamodb_writes() -> None:
    """DynamoDB applies each conditional write atomically; moto checks the condition, then writes, with
    nothing in between held. Concurrent requests (50 accepts for 3 slots) would all pass the check, so
    the embedded DynamoDB applies one request at a time, as the real one does per item."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for cls, names in ((DynamoDBBackend, _DYNAMODB_WRITES), (DynamoHandler, _DYNAMODB_REQUESTS)):
        for name in names:
            original = getattr(cls, name)
            if getattr(original, "atomic", False):
                continue

            def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                with _WRITE_LOCK:
                    return _original(self, *args, **kwargs)

            atomic.atomic = True  # type: ignore[attr-defined]
            setattr(cls, name, atomic)


def start() -> EmbeddedAws:
    prepare_environment()
    _atomic_dynamodb_writes()
    from local_runtime import dynamodb_keys

    dynamodb_keys.install()  # Queries from sorted keys, transactions undone by item: no table read whole
    from local_runtime import dynamodb_expressions

    dynamodb_expressions.install()  # each condition and update expression text parsed once
    _stop_executions_as_step_functions_does()
    _parse_each_definition_once()
    _list_handler_methods_once()
    from local_runtime import powertools_threads

    powertools_threads.install()  # concurrent instances are threads here: one event each, as in Lambda
    from local_runtime import iam

    iam.install()  # each function's DynamoDB calls checked against its role, as IAM checks them
    import boto3
    from moto import mock_aws

    from local_runtime import lambda_adapter

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    lambda_adapter.install()

    from shared.config import settings
    from shared.dal.tables import ALL_MODELS, TTL_ATTRIBUTES
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
    providers = None
    if settings().profile == "cn":
        # No SNS mobile push or SMS in the China regions: the providers' stand-ins instead.
        from local_runtime.providers import local

        providers = local.start(boto3.client("secretsmanager"))
        push_applications: dict[str, str] = {}
    else:
        push_applications = {
            app: sns.create_platform_application(
                Name=f"rescue-nearby-{app}", Platform=platform, Attributes={}
            )["PlatformApplicationArn"]
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
    # The status webhooks' queues, with infra/constructs/dispatch_webhooks.py's settings: FIFO, the dead
    # letters' too.
    from infra import constants as c

    day_s = 86400
    sqs = boto3.client("sqs")
    parked_url = sqs.create_queue(
        QueueName="rescue-nearby-status-parked.fifo",
        Attributes={
            "FifoQueue": "true",
            "MessageRetentionPeriod": str(c.STATUS_PARKED_RETENTION_DAYS * day_s),
        },
    )["QueueUrl"]
    parked_arn = sqs.get_queue_attributes(QueueUrl=parked_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    changes_url = sqs.create_queue(
        QueueName="rescue-nearby-status-changes.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": str(
                c.EVENT_FUNCTION_TIMEOUTS_S["dispatch_webhooks"] * c.STATUS_CHANGES_VISIBILITY_FACTOR
            ),
            "MessageRetentionPeriod": str(c.STATUS_CHANGES_RETENTION_DAYS * day_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": parked_arn, "maxReceiveCount": c.STATUS_CHANGES_MAX_RECEIVES}
            ),
        },
    )["QueueUrl"]
    # The check-in signing key, generated per run as CDK generates it per deployment.
    checkin_secret_arn = boto3.client("secretsmanager").create_secret(
        Name="rescue-nearby-checkin-signing", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    # The credits exports' signing key seed and bucket, as CDK makes them (infra/constructs/credits.py).
    credit_export_secret_arn = boto3.client("secretsmanager").create_secret(
        Name="rescue-nearby-credit-export-signing", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    s3.create_bucket(
        Bucket=settings().credit_exports_bucket,
        CreateBucketConfiguration={"LocationConstraint": settings().region},  # type: ignore[typeddict-item]
    )
    os.environ["CREDIT_EXPORT_SECRET_ID"] = credit_export_secret_arn
    # The handlers read these like any other setting: set them before the first handler imports.
    os.environ["CHECKIN_SECRET_ID"] = checkin_secret_arn
    os.environ["STATUS_CHANGES_QUEUE_URL"] = changes_url
    os.environ["STATUS_PARKED_QUEUE_URL"] = parked_url
    os.environ["DISPATCH_TOPIC_ARN"] = topic_arn
    os.environ["UPKEEP_TOPIC_ARN"] = upkeep_topic_arn
    os.environ["RESCUE_STATE_MACHINE_ARN"] = state_machine_arn
    os.environ["PUSH_APPLICATIONS"] = json.dumps(push_applications)
    settings.cache_clear()
    return EmbeddedAws(
        mock=mock, dispatch_topic_arn=topic_arn, state_machine_arn=state_machine_arn, providers=providers
    )


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
