"""Alarms ops act on: each one on its metric and threshold, every one to the encrypted ops topic (which
CloudWatch may use), every queue watched, and the rescue dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import constants as c
from infra.constructs.notifications import subscription
from tests.infrastructure.conftest import OPS_ALARM_ENDPOINT, PUSH_FCM_ARN, Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

SERVICE = [{"Name": "service", "Value": "rescue-nearby"}]


def expected_alarms(s: Synthesized) -> dict[str, tuple[str, str, Any, str, int, float]]:
    """Alarm id → (namespace, metric, dimensions, statistic, period s, threshold), written out."""

    def function(name: str) -> list[dict[str, Any]]:
        return [
            {"Name": "FunctionName", "Value": {"Ref": s.logical_id(f"Functions/{name}/Function/Resource")}}
        ]

    def queue(path: str) -> list[dict[str, Any]]:
        queue_id = s.logical_id(f"{path}/Resource")
        return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]

    machine = [{"Name": "StateMachineArn", "Value": {"Ref": s.logical_id("Workflow/StateMachine/Resource")}}]
    return {
        "SosErrors": ("AWS/Lambda", "Errors", function("Rescue_Sos"), "Sum", 60, 1),
        "IncidentsErrors": ("AWS/Lambda", "Errors", function("Rescue_Incidents"), "Sum", 60, 1),
        "DispatchInboundErrors": ("AWS/Lambda", "Errors", function("Dispatch_Inbound"), "Sum", 60, 1),
        "RescueStepsErrors": ("AWS/Lambda", "Errors", function("Rescue_Steps"), "Sum", 300, 5),
        "IncidentUnanswered": ("RescueNearby", "IncidentsUnanswered", SERVICE, "Sum", 60, 1),
        "AlertsFailed": ("RescueNearby", "AlertsFailed", SERVICE, "Sum", 60, 1),
        "SmsDeliveryFailed": (
            "AWS/SNS",
            "NumberOfNotificationsFailed",
            [{"Name": "PhoneNumber", "Value": "PhoneNumber"}],
            "Sum",
            300,
            3,
        ),
        "RescueExecutionsFailed": ("AWS/States", "ExecutionsFailed", machine, "Sum", 300, 1),
        "RescueExecutionsTimedOut": ("AWS/States", "ExecutionsTimedOut", machine, "Sum", 300, 1),
        "LambdaThrottles": ("AWS/Lambda", "Throttles", None, "Sum", 60, 1),  # the account's, every function
        "Api5xx": ("AWS/ApiGateway", "5XXError", [{"Name": "ApiName", "Value": c.API_NAME}], "Sum", 60, 1),
        "DeadLettersSchedules": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue("Schedules/DeadLetters"),
            "Maximum",
            300,
            1,
        ),
        "DeadLettersScheduledRunFailures": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue("Schedules/FailedRuns"),
            "Maximum",
            300,
            1,
        ),
        # The status webhooks to the 120 centres: a webhook parked after 24 h, a stream batch not queued.
        "DeadLettersStatusWebhooksParked": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue("StatusWebhooks/Parked"),
            "Maximum",
            300,
            1,
        ),
        "DeadLettersStatusStreamFailures": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue("StatusWebhooks/StreamFailures"),
            "Maximum",
            300,
            1,
        ),
        # The cockpit's rescue summaries: a stream batch cockpit_changes failed through its retries.
        "DeadLettersCockpitStreamFailures": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            queue("Cockpit/StreamFailures"),
            "Maximum",
            300,
            1,
        ),
    }


def alarm(s: Synthesized, alarm_id: str) -> dict[str, Any]:
    return dict(s.resources[s.logical_id(f"Alarms/{alarm_id}/Resource")]["Properties"])


def ops_topic(s: Synthesized) -> dict[str, str]:
    return {"Ref": s.logical_id("Alarms/Topic/Resource")}


def test_the_alarms_are_exactly_these(synthesized: Synthesized) -> None:
    names = {a["Properties"]["AlarmName"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert names == {f"{c.STACK_NAME}-{alarm_id}" for alarm_id in expected_alarms(synthesized)}


@pytest.mark.parametrize(
    "alarm_id",
    [
        "SosErrors",
        "IncidentsErrors",
        "DispatchInboundErrors",
        "RescueStepsErrors",
        "IncidentUnanswered",
        "AlertsFailed",
        "SmsDeliveryFailed",
        "RescueExecutionsFailed",
        "RescueExecutionsTimedOut",
        "LambdaThrottles",
        "Api5xx",
        "DeadLettersSchedules",
        "DeadLettersScheduledRunFailures",
        "DeadLettersStatusWebhooksParked",
        "DeadLettersStatusStreamFailures",
        "DeadLettersCockpitStreamFailures",
    ],
)
def test_alarm_watches_its_metric_and_tells_the_ops_topic(synthesized: Synthesized, alarm_id: str) -> None:
    namespace, metric, dimensions, statistic, period, threshold = expected_alarms(synthesized)[alarm_id]
    props = alarm(synthesized, alarm_id)
    assert (props["Namespace"], props["MetricName"], props.get("Dimensions")) == (
        namespace,
        metric,
        dimensions,
    )
    assert (props["Statistic"], props["Period"], props["Threshold"]) == (statistic, period, threshold)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (1, 1)
    assert props["TreatMissingData"] == "notBreaching"  # these metrics are written only when it happens
    assert props["AlarmActions"] == [ops_topic(synthesized)]
    assert props["OKActions"] == [ops_topic(synthesized)]
    assert "docs/deploy.md" in props["AlarmDescription"] and len(props["AlarmDescription"].split()) >= 15


def test_every_queue_in_the_stack_has_a_message_alarm(synthesized: Synthesized) -> None:
    """Every queue here but the status webhooks' work queue is a dead-letter queue: a message in any of
    them is a run that did not happen."""
    work = {synthesized.logical_id("StatusWebhooks/Changes/Resource")}
    queues = set(synthesized.of_type("AWS::SQS::Queue")) - work
    assert len(queues) >= 4
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == queues


def test_ops_topic_is_encrypted_and_cloudwatch_may_publish_and_encrypt(synthesized: Synthesized) -> None:
    topic_id = synthesized.logical_id("Alarms/Topic/Resource")
    key_id = synthesized.logical_id("Alarms/TopicKey/Resource")
    topic = synthesized.resources[topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = synthesized.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Resource": "*",
    } in key["KeyPolicy"]["Statement"]
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.of_type("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish" and allow["Resource"] == {"Ref": topic_id}
    # Only this account's alarms (no confused deputy).
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert source[-1] == ":alarm:*" and {"Ref": "AWS::AccountId"} in source
    assert any(s["Effect"] == "Deny" for s in policy)  # and SSL only


def test_no_subscription_without_the_context(synthesized: Synthesized) -> None:
    assert synthesized.of_type("AWS::SNS::Subscription") == {}


def test_ops_endpoint_context_subscribes_to_the_ops_topic(synthesized_with_push: Synthesized) -> None:
    s = synthesized_with_push
    subscriptions = {
        (json.dumps(r["Properties"]["TopicArn"]), r["Properties"]["Protocol"], r["Properties"]["Endpoint"])
        for r in s.of_type("AWS::SNS::Subscription").values()
    }
    assert (json.dumps(ops_topic(s)), "email", OPS_ALARM_ENDPOINT) in subscriptions


def test_push_applications_get_a_delivery_alarm_each(synthesized_with_push: Synthesized) -> None:
    props = alarm(synthesized_with_push, "PushDeliveryFailedFcm")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert props["Dimensions"] == [
        {"Name": "Application", "Value": PUSH_FCM_ARN.rsplit("/", 1)[1]},
        {"Name": "Platform", "Value": "GCM"},
    ]
    assert (props["Statistic"], props["Period"], props["Threshold"]) == ("Sum", 300, 3)
    assert props["AlarmActions"] == [ops_topic(synthesized_with_push)]


@pytest.mark.parametrize(
    ("value", "protocol"),
    [
        ("ops@rescue-nearby.cn", "email"),
        ("https://cad.dispatch-120.cn/sns", "https"),
        ("+8657112345678", "sms"),
        (None, None),
        ("  ", None),
    ],
)
def test_subscription_context_values(value: Any, protocol: str | None) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    found = subscription(value, "ops_alarm_endpoint")
    if protocol is None:
        assert found is None
        return
    assert found is not None
    topic = sns.Topic(cdk.Stack(cdk.App()), "T")
    assert found.bind(topic).protocol.value.lower() == protocol


@pytest.mark.parametrize("value", ["http://cad.example.cn/sns", "mailto:ops@x.cn", "0571-120", ["a@b.cn"]])
def test_a_malformed_subscription_context_fails_synthesis(value: Any) -> None:
    with pytest.raises(ValueError, match="ops_alarm_endpoint"):
        subscription(value, "ops_alarm_endpoint")


def dashboard_body(s: Synthesized) -> str:
    """The dashboard's JSON with each intrinsic (Ref, GetAtt) written as <logical id>."""
    (dashboard,) = s.of_type("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return "".join(
        p
        if isinstance(p, str)
        else f"<{p.get('Ref') or p['Fn::GetAtt'][0]}>"
        if "Ref" in p or "Fn::GetAtt" in p
        else "<?>"
        for p in parts
    )


def test_dashboard_shows_the_rescue_loop(synthesized: Synthesized) -> None:
    body = json.loads(dashboard_body(synthesized))
    metrics = [m for w in body["widgets"] for m in w["properties"].get("metrics", [])]
    sos = f"<{synthesized.logical_id('Functions/Rescue_Sos/Function/Resource')}>"
    wanted = [
        ["RescueNearby", "SosToFirstAlertMs", "service", "rescue-nearby"],
        ["RescueNearby", "ResponderAccepted", "service", "rescue-nearby"],
        ["AWS/Lambda", "Duration", "FunctionName", sos],
        ["AWS/ApiGateway", "Latency", "ApiName", c.API_NAME],  # POST /v1/sos
        ["RescueNearby", "SosAccepted", "service", "rescue-nearby"],
        ["RescueNearby", "RespondersAlerted", "service", "rescue-nearby"],  # alerts sent
        ["RescueNearby", "AlertsFailed", "service", "rescue-nearby"],
        ["AWS/ApiGateway", "Count", "ApiName", c.API_NAME],  # answers, accept or decline
        ["RescueNearby", "IncidentsUnanswered", "service", "rescue-nearby"],
        ["AWS/SNS", "NumberOfNotificationsFailed", "PhoneNumber", "PhoneNumber"],
    ]
    for prefix in wanted:
        assert any(m[: len(prefix)] == prefix for m in metrics), prefix
    text = json.dumps(body)
    assert "/v1/incidents/{incident_id}/responses" in text and '"/v1/sos"' in text
    assert "p50" in text and "p99" in text  # the latency as percentiles, not sums
    (status,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_ids = {synthesized.logical_id(f"Alarms/{a}/Resource") for a in expected_alarms(synthesized)}
    assert set(re.findall(r"<(\w+)>", json.dumps(status))) == alarm_ids
