"""EventBridge Scheduler: one schedule per shared.routes.SCHEDULES entry, in the deployment's time zone, each
with a role that may invoke exactly its function, retries and a dead-letter queue; the upkeep topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.config import Settings
from shared.routes import SCHEDULED_FUNCTIONS, SCHEDULES
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def schedule_of(synthesized: Synthesized, function: str) -> dict[str, Any]:
    function_id = synthesized.logical_id(f"Functions/{function.title()}/Function/Resource")
    found = [
        r["Properties"]
        for r in synthesized.of_type("AWS::Scheduler::Schedule").values()
        if r["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert len(found) == 1, function
    return found[0]


def test_one_schedule_per_entry_and_a_function_for_each(synthesized: Synthesized) -> None:
    assert "aed_upkeep_daily" in SCHEDULED_FUNCTIONS
    synthesized.assertions.resource_count_is("AWS::Scheduler::Schedule", len(SCHEDULES))
    handlers = {f["Properties"]["Handler"] for f in synthesized.of_type("AWS::Lambda::Function").values()}
    for name in SCHEDULED_FUNCTIONS:
        assert f"functions.{name}.handler.lambda_handler" in handlers


@pytest.mark.parametrize("entry", SCHEDULES, ids=lambda s: s.function)
def test_schedule_runs_its_cron_in_the_deployment_time_zone_with_retries(synthesized, entry) -> None:
    props = schedule_of(synthesized, entry.function)
    assert props["ScheduleExpression"] == entry.cron
    assert props["ScheduleExpressionTimezone"] == Settings.from_environ({}).time_zone == "Asia/Shanghai"
    assert props["State"] == "ENABLED" and props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = props["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 21600}
    queue = synthesized.logical_id("Schedules/DeadLetters/Resource")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    event = json.loads(target["Input"])
    assert event == {
        "schedule": entry.function,
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>",
        "attempt": "<aws.scheduler.attempt-number>",
    }
    assert "as_of" not in event  # only demos and tests run "as of" another day


@pytest.mark.parametrize("entry", SCHEDULES, ids=lambda s: s.function)
def test_schedule_role_may_invoke_exactly_its_function(synthesized, entry) -> None:
    role_id = schedule_of(synthesized, entry.function)["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = synthesized.resources[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    statements = [
        s
        for p in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    function_id = synthesized.logical_id(f"Functions/{entry.function.title()}/Function/Resource")
    queue = synthesized.logical_id("Schedules/DeadLetters/Resource")
    assert sorted(statements, key=lambda s: s["Action"]) == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [function_id, "Arn"]},
        },
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue, "Arn"]}},
    ]


def test_dead_letter_queue_is_encrypted_and_refuses_plain_http(synthesized: Synthesized) -> None:
    queue_id = synthesized.logical_id("Schedules/DeadLetters/Resource")
    assert synthesized.resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statements in policies
        for s in statements
    )


def test_scheduled_functions_may_run_for_minutes(synthesized: Synthesized) -> None:
    for name in SCHEDULED_FUNCTIONS:
        function_id = synthesized.logical_id(f"Functions/{name.title()}/Function/Resource")
        assert synthesized.resources[function_id]["Properties"]["Timeout"] == 300


def test_upkeep_topic_is_encrypted_and_named_to_the_daily_run_only(synthesized: Synthesized) -> None:
    topic = synthesized.logical_id("Notifications/AedUpkeepTopic/Resource")
    key = synthesized.logical_id("Notifications/TopicKey/Resource")
    props = synthesized.resources[topic]["Properties"]
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    publishers = set()
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        if env.get("UPKEEP_TOPIC_ARN") == {"Ref": topic}:
            publishers.add(function["Properties"]["Handler"])
    assert publishers == {"functions.aed_upkeep_daily.handler.lambda_handler"}


def test_each_scheduled_function_fails_into_an_encrypted_queue(synthesized: Synthesized) -> None:
    """EventBridge Scheduler invokes asynchronously: its dead-letter queue catches failed deliveries only.
    A run whose function fails is Lambda's to retry, then goes to the on-failure destination."""
    queue_id = synthesized.logical_id("Schedules/FailedRuns/Resource")
    configs = synthesized.of_type("AWS::Lambda::EventInvokeConfig")
    by_function = {r["Properties"]["FunctionName"]["Ref"]: r for r in configs.values()}
    expected = {
        synthesized.logical_id(f"Functions/{name.title()}/Function/Resource") for name in SCHEDULED_FUNCTIONS
    }
    assert set(by_function) == expected  # the scheduled functions, and only them
    for function_id, config in by_function.items():
        props = config["Properties"]
        assert props["Qualifier"] == "$LATEST"  # what the schedule invokes
        assert props["MaximumRetryAttempts"] == 2
        assert props["MaximumEventAgeInSeconds"] == 21600
        assert props["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
        # Lambda checks the role may send there when the config is created: the grant comes first.
        role_id = synthesized.resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        (policy_id,) = [
            k
            for k, p in synthesized.of_type("AWS::IAM::Policy").items()
            if {"Ref": role_id} in p["Properties"]["Roles"]
        ]
        assert policy_id in config.get("DependsOn", [])
    queue = synthesized.resources[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statements in policies
        for s in statements
    )
    alarms = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]
    assert [(a["MetricName"], a["Threshold"]) for a in alarms] == [("ApproximateNumberOfMessagesVisible", 1)]
