"""Operations: the CloudWatch alarms ops act on, all sent to one encrypted ops topic, and one dashboard of
the rescue loop (SOS, alerts, answers, the unanswered).

Each alarm says in its description what broke and what to do (runbook: docs/deploy.md, "Alarms"). The ops
topic is encrypted with its own customer-managed key, whose policy lets CloudWatch encrypt (an alarm
publishing to a topic under the AWS-managed key fails); its topic policy lets exactly this account's
alarms publish. Who gets the alarms is a subscription: the `ops_alarm_endpoint` context value
(constants.OPS_ENDPOINT_CONTEXT), or one made in the console.

In the cn profile (``sms_via_sns`` false) SNS sends no SMS and no push: there is no SNS SMS or push metric to
alarm on or graph, so neither exists there; the providers' refusals count in ``AlertsFailed``, and their
delivery receipts are in their consoles (the dashboard says where).

Metrics the dashboard would want but the functions do not emit yet (SOS → first alert latency, accepted
answers) are shown by their nearest proxy, with a note naming the metric that would replace it.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from shared.observability import (
    ALERTS_FAILED,
    INCIDENTS_UNANSWERED,
    RESPONDER_ACCEPTED,
    RESPONDERS_ALERTED,
    SOS_ACCEPTED,
    SOS_TO_FIRST_ALERT_MS,
)

MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)
RUNBOOK = "Runbook: docs/deploy.md, Alarms."
# What a message in a dead-letter queue means and what to do, by its label in ``dead_letter_queues``; the
# others are the schedules' (infra/constructs/schedules.py).
SCHEDULED_DEAD_LETTERS = (
    "a scheduled run that did not happen or failed. Read the message (event and error), fix, re-run it, "
    "then delete the message."
)
DEAD_LETTERS: dict[str, str] = {
    "StatusWebhooksParked": (
        "a status webhook to a 120 dispatch centre failed for 24 h and was parked (or SQS gave up on an "
        "incident's run after 60 receives): the centre did not hear that status. Read the message (centre, "
        "delivery, last result), fix the centre's callback or tell the centre, replay the delivery (admin "
        "API), then delete the message."
    ),
    "StatusStreamFailures": (
        "changes to incidents or their events were not queued for the status webhooks (dispatch_changes "
        "failed through its retries): the centres hear of those incidents at their next change only. Read "
        "the message (stream, shard, the batch's arrival times), fix the cause, queue a run for each "
        "incident changed in that window, then delete the message."
    ),
    "CockpitStreamFailures": (
        "changes to incidents, alerts or events did not reach the cockpit's rescue summaries "
        "(cockpit_changes failed through its retries): the cockpit's figures miss those changes until the "
        "incident changes again. Read the message (stream, shard, the batch's arrival times), fix the cause, "
        "invoke cockpit_changes with a MODIFY record for each incident changed in that window, then delete "
        "the message."
    ),
}
# SNS reports SMS published straight to phone numbers (not through a topic) under this dimension.
SMS_DIMENSIONS = {"PhoneNumber": "PhoneNumber"}


def platform_metric_dimensions(application_arn: str) -> dict[str, str]:
    """SNS's push metrics per platform application: arn:...:app/<PLATFORM>/<name> → Application, Platform."""
    platform, name = application_arn.split(":app/", 1)[1].split("/", 1)
    return {"Application": name, "Platform": platform}


def platform_metric(metric_name: str, application_arn: str, period: cdk.Duration) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/SNS",
        metric_name=metric_name,
        dimensions_map=platform_metric_dimensions(application_arn),
        statistic="Sum",
        period=period,
    )


def emitted(metric_name: str, period: cdk.Duration = MINUTE, statistic: str = "Sum") -> cw.Metric:
    """A metric the functions emit in CloudWatch embedded metric format (shared/observability.py)."""
    return cw.Metric(
        namespace=c.METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": c.SERVICE_NAME},
        statistic=statistic,
        period=period,
    )


def sms_metric(metric_name: str, period: cdk.Duration = FIVE_MINUTES) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/SNS",
        metric_name=metric_name,
        dimensions_map=SMS_DIMENSIONS,
        statistic="Sum",
        period=period,
    )


def api_method_metric(metric_name: str, method: str, resource: str, statistic: str) -> cw.Metric:
    """API Gateway's per-method metrics (the stage has detailed metrics on)."""
    return cw.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric_name,
        dimensions_map={"ApiName": c.API_NAME, "Stage": c.API_STAGE, "Method": method, "Resource": resource},
        statistic=statistic,
        period=MINUTE,
    )


class OpsAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        api: apigw.RestApi,
        state_machine: sfn.IStateMachine,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        push_applications: Mapping[str, str],
        endpoint: sns.ITopicSubscription | None = None,
        sms_via_sns: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.sms_via_sns = sms_via_sns
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Rescue Nearby operations alarms topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # CloudWatch encrypts the alarm messages it publishes to the topic with this key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name=c.OPS_TOPIC_DISPLAY_NAME, master_key=self.key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        if endpoint is not None:
            self.topic.add_subscription(endpoint)
        self._action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cw.Alarm] = {}

        sos, incidents, steps = (functions[n] for n in ("rescue_sos", "rescue_incidents", "rescue_steps"))
        self._alarm(
            "SosErrors",
            sos.metric_errors(period=MINUTE, statistic="Sum"),
            1,
            "The SOS function failed (unhandled error, timeout or crash): a bystander's SOS may have no "
            "incident or no wave 1. The app retries with its Idempotency-Key; look at the function's logs.",
        )
        self._alarm(
            "IncidentsErrors",
            incidents.metric_errors(period=MINUTE, statistic="Sum"),
            1,
            "The incidents function failed: accepts, on-scene events or closes of a live rescue may be lost.",
        )
        self._alarm(
            "DispatchInboundErrors",
            functions["dispatch_inbound"].metric_errors(period=MINUTE, statistic="Sum"),
            1,
            "The function taking the 120 dispatch centres' incidents and updates failed (unhandled error, "
            "timeout or crash): a centre's cardiac arrest may have no wave 1, or its update was not applied. "
            "The centre retries the same webhook (nothing is done twice); read the function's logs.",
        )
        self._alarm(
            "RescueStepsErrors",
            steps.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            5,
            "A rescue workflow step failed through its retries (5 or more errors in 5 minutes; one retried "
            "error does not alarm). The execution goes on past it (wave 2, unanswered, the close), but that "
            "step's work (an assessment, a wave, a park, a finish) was not done: read the step's logs.",
        )
        self._alarm(
            "IncidentUnanswered",
            emitted(INCIDENTS_UNANSWERED),
            1,
            "An incident ended its last wave with slots open: no volunteer is coming. The dispatch centre's "
            "topic was told; check that the centre got it (its subscription) and sent help.",
        )
        self._alarm(
            "AlertsFailed",
            emitted(ALERTS_FAILED),
            1,
            "SNS refused alert publishes (throttling, the SMS spend limit, permissions): the workflow "
            "re-delivers them, but responders are alerted late."
            if sms_via_sns
            else "The SMS or push provider refused alert sends (throttling, its daily caps, the credentials "
            "in ProviderCredentials, an unapproved template code): the workflow re-delivers them, but "
            "responders are alerted late.",
        )
        if sms_via_sns:
            self._alarm(
                "SmsDeliveryFailed",
                sms_metric("NumberOfNotificationsFailed"),
                3,
                "SMS that SNS accepted did not reach phones (3 or more in 5 minutes): the account's SMS "
                "spend limit, a sender registration, carriers. Responders are not reached and nothing "
                "retries.",
            )
        for platform, arn in sorted(push_applications.items()):
            self._alarm(
                f"PushDeliveryFailed{platform.title()}",
                platform_metric("NumberOfNotificationsFailed", arn, FIVE_MINUTES),
                3,
                f"App pushes ({platform}) that SNS accepted were not delivered (3 or more in 5 minutes): "
                "expired push credentials on the platform application, or disabled endpoints.",
            )
        self._alarm(
            "RescueExecutionsFailed",
            state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
            1,
            "A rescue execution failed: its finish (stand-downs, AED release, credits) failed twice, five "
            "minutes apart. Redrive the execution once the cause is fixed (it reruns only the finish).",
        )
        self._alarm(
            "RescueExecutionsTimedOut",
            state_machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"),
            1,
            "A rescue execution timed out before its finish: stand-downs, AED release and credits not "
            "done. Redrive it.",
        )
        self._alarm(
            "LambdaThrottles",
            lambda_.Function.metric_all_throttles(period=MINUTE, statistic="Sum"),
            1,
            "Lambda throttled an invocation in this account and region: its concurrency is used up, and the "
            "next SOS may be refused. Raise the account's concurrency quota or find the runaway caller.",
        )
        self._alarm(
            "Api5xx",
            api.metric_server_error(period=MINUTE, statistic="Sum"),
            1,
            "The API answered 5xx: every bad input is a 4xx, so this is a bug, a timeout or an outage "
            "(throttled or failing functions). Read the access log and the function's logs.",
        )
        for label, queue in sorted(dead_letter_queues.items()):
            self._alarm(
                f"DeadLetters{label}",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
                1,
                f"A message waits in the {label} dead-letter queue: "
                + DEAD_LETTERS.get(label, SCHEDULED_DEAD_LETTERS),
            )
        self.dashboard = self._dashboard(stack, sos, push_applications)

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        threshold: float,
        why: str,
    ) -> cw.Alarm:
        """At or above ``threshold`` in one period: ALARM, to the ops topic (and OK when it clears). No data
        is no news: these metrics are only written when something happened."""
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=f"{cdk.Stack.of(self).stack_name}-{construct_id}",
            alarm_description=f"{why} {RUNBOOK}",
            metric=metric,
            threshold=threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm
        return alarm

    def _dashboard(
        self, stack: cdk.Stack, sos: lambda_.IFunction, push_applications: Mapping[str, str]
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{stack.stack_name}-rescue",
            default_interval=cdk.Duration.hours(24),
        )
        dashboard.add_widgets(
            cw.TextWidget(
                markdown=(
                    "# Rescue Nearby: SOS to help\n"
                    "**SOS → first alert**: `SosToFirstAlertMs` (`rescue_sos`: from the function receiving "
                    "the SOS to SNS taking its first alert; API Gateway's own time is in `POST /v1/sos` "
                    "latency). **Acceptances**: `ResponderAccepted` (`rescue_incidents`, one per responder "
                    "who accepts)."
                ),
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="SOS → first alert",
                left=[
                    emitted(SOS_TO_FIRST_ALERT_MS, MINUTE, "p50").with_(label="SOS → first alert p50"),
                    emitted(SOS_TO_FIRST_ALERT_MS, MINUTE, "p99").with_(label="SOS → first alert p99"),
                    sos.metric_duration(statistic="p99", period=MINUTE, label="SOS function p99"),
                    api_method_metric("Latency", "POST", "/v1/sos", "p99").with_(label="POST /v1/sos p99"),
                ],
                left_y_axis=cw.YAxisProps(label="ms", show_units=False),
                width=12,
            ),
            cw.GraphWidget(
                title="SOS and alerts sent",
                left=[
                    emitted(SOS_ACCEPTED, FIVE_MINUTES).with_(label="SOS accepted"),
                    emitted(RESPONDERS_ALERTED, FIVE_MINUTES).with_(label="responders alerted"),
                    emitted(ALERTS_FAILED, FIVE_MINUTES).with_(label="alert publishes refused"),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Acceptances, answers and incidents unanswered",
                left=[
                    emitted(RESPONDER_ACCEPTED, FIVE_MINUTES).with_(label="responders accepted"),
                    api_method_metric("Count", "POST", "/v1/incidents/{incident_id}/responses", "Sum").with_(
                        period=FIVE_MINUTES, label="answers (accept or decline)"
                    ),
                    emitted(INCIDENTS_UNANSWERED, FIVE_MINUTES).with_(label="incidents unanswered"),
                ],
                width=12,
            ),
            cw.SingleValueWidget(
                title="Unanswered incidents, last 24 h",
                metrics=[emitted(INCIDENTS_UNANSWERED, cdk.Duration.hours(24))],
                width=6,
            ),
            cw.GraphWidget(
                title="SMS and app push delivered and failed",
                left=[
                    sms_metric("NumberOfNotificationsDelivered").with_(label="SMS delivered"),
                    sms_metric("NumberOfNotificationsFailed").with_(label="SMS failed"),
                    *(
                        platform_metric("NumberOfNotificationsFailed", arn, FIVE_MINUTES).with_(
                            label=f"push failed ({platform})"
                        )
                        for platform, arn in sorted(push_applications.items())
                    ),
                ],
                width=6,
            )
            if self.sms_via_sns
            else cw.TextWidget(
                markdown=(
                    "### SMS and app push\n"
                    "Sent by the providers, not SNS: delivery receipts are in their consoles (Alibaba Cloud "
                    "SMS or Tencent Cloud SMS: send records; JPush: push history). Sends they refused count "
                    "in **alert publishes refused** (left) and the `AlertsFailed` alarm."
                ),
                width=6,
                height=6,
            ),
        )
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=4)
        )
        return dashboard
