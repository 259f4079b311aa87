"""The embedded AWS: moto in-process, with the tables, topics and state machine the CDK app deploys,
built from the same definitions (pynamodb models, the ASL file)."""

from __future__ import annotations

import os
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
        self.mock.stop()


def start() -> EmbeddedAws:
    prepare_environment()
    import boto3
    from moto import mock_aws

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()

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
    topic_arn = boto3.client("sns").create_topic(Name="rescue-nearby-dispatch-centre")["TopicArn"]
    definition = render({"Partition": "aws-cn", "IncidentsTable": settings().incidents_table})
    state_machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="rescue-nearby-rescue",
        definition=definition,
        roleArn="arn:aws-cn:iam::123456789012:role/rescue-nearby-local",
        type="STANDARD",
    )["stateMachineArn"]
    os.environ["DISPATCH_TOPIC_ARN"] = topic_arn
    os.environ["RESCUE_STATE_MACHINE_ARN"] = state_machine_arn
    return EmbeddedAws(mock=mock, dispatch_topic_arn=topic_arn, state_machine_arn=state_machine_arn)
