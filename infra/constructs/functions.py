"""The Lambda functions: one per folder under functions/ named in shared.routes.FUNCTIONS (reached by
routes), shared.routes.WORKFLOW_FUNCTIONS (invoked by the rescue state machine) or
shared.routes.SCHEDULED_FUNCTIONS (invoked on a clock: infra/constructs/schedules.py) or
shared.routes.EVENT_FUNCTIONS (fed by DynamoDB streams and an SQS queue:
infra/constructs/dispatch_webhooks.py).

Every function ships the same code asset (the functions/ and shared/ packages) and the same dependency
layer, runs on Python 3.13 on the profile's architecture (arm64 in the global profile, x86_64 by default in
the cn one) with X-Ray where the partition has it (not in the China regions), logs to its own retained log
group, and may do only what infra/constants.FUNCTION_GRANTS lists for it.

In the cn profile (infra/profile.py) SNS has no SMS and no mobile push: the functions that send
(FunctionGrants.sends_messages) get the mainland providers' settings instead of sns:Publish on "*", and
read the providers' credentials (ProviderCredentials, infra/constructs/notifications.py); fan-out to the
dispatch centre and AED managers stays on the SNS topics.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants as c
from infra.constructs.aed_faults import ReportPhotos
from infra.constructs.data import DataTables
from infra.constructs.notifications import Notifications
from infra.constructs.rescue import RescueWorkflow
from infra.layer import dependencies_code, function_code
from infra.profile import GLOBAL_PROFILE, Profile
from shared.config import default_value, env_name
from shared.routes import EVENT_FUNCTIONS, FUNCTIONS, SCHEDULED_FUNCTIONS, WORKFLOW_FUNCTIONS

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
ARCHITECTURE = ARCHITECTURES[GLOBAL_PROFILE.architecture]
ALL_FUNCTIONS: tuple[str, ...] = tuple(
    dict.fromkeys((*FUNCTIONS, *WORKFLOW_FUNCTIONS, *SCHEDULED_FUNCTIONS, *EVENT_FUNCTIONS))
)
# What each event source function (shared.routes.EVENT_FUNCTIONS) serves, for its description.
_EVENT_PURPOSES: dict[str, str] = {
    "dispatch_changes": "status webhooks",
    "dispatch_webhooks": "status webhooks",
    "cockpit_changes": "cockpit summaries",
}

# Settings (shared/config.py field names) written into the environment at their code defaults, so a
# deployment sees and tunes them in one place: every function's, and the rescue Policy's, which the sos,
# incidents and rescue_steps functions must agree on.
COMMON_SETTINGS = ("time_zone", "presence_ttl_s", "geo_max_queries")
DISPATCH_SETTINGS = (
    "wave1_radius_m",
    "wave1_size",
    "wave2_radius_m",
    "wave2_size",
    "wave_wait_s",
    "cpr_slots",
    "aed_slots",
    "aed_radius_m",
    "incident_expire_s",
    "notice_lease_s",
    "credit_points",
    "sos_per_ip",
    "sos_per_device",
    "sos_window_s",
    "alerts_per_hour",
    "alerts_per_day",
    "merge_radius_m",
    "merge_window_s",
    "retention_days",
)
# The exams and certificates functions must agree on these (a pass issues what verification shows).
EXAM_SETTINGS = ("pass_marks", "certificate_valid_years", "certificate_verify_url")
DISPATCH_TOPIC_ARN = "DISPATCH_TOPIC_ARN"
UPKEEP_TOPIC_ARN = "UPKEEP_TOPIC_ARN"
PUSH_APPLICATIONS = env_name("push_applications")
RESCUE_STATE_MACHINE_ARN = "RESCUE_STATE_MACHINE_ARN"
PHOTO_BUCKET = env_name("photo_bucket")
DEPLOYMENT_PROFILE = env_name("profile")


def _env_value(value: object) -> str:
    # Settings.from_environ parses CREDIT_POINTS and PUSH_APPLICATIONS as JSON.
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def settings_environment(*, dispatch: bool = False, exams: bool = False) -> dict[str, str]:
    """Deployment settings a function reads (shared/config.py), at their code defaults."""
    names = COMMON_SETTINGS + (DISPATCH_SETTINGS if dispatch else ()) + (EXAM_SETTINGS if exams else ())
    return {env_name(name): _env_value(default_value(name)) for name in names}


def channel_environment(profile: Profile) -> dict[str, str]:
    """What a function that sends reads in the cn profile (shared/config.py): who carries texts and pushes,
    the approved signature and template codes, and Tencent's application when Tencent sends. The
    credentials are not here: PROVIDER_SECRET_ID names the secret that holds them."""
    environment = {
        env_name("sms_provider"): profile.sms_provider,
        env_name("push_provider"): profile.push_provider,
        env_name("sms_sign_name"): profile.sms_sign_name,
        env_name("sms_templates"): _env_value(dict(profile.sms_templates)),
    }
    if profile.sms_provider == "tencent":
        environment[env_name("tencent_sms_app_id")] = profile.tencent_sms_app_id
        environment[env_name("tencent_sms_region")] = profile.tencent_sms_region
    return environment


# What each function that publishes straight to phones (FunctionGrants.direct_publish) sends, and to whom:
# the reason its role's sns:Publish on "*" is acknowledged with. A direct publisher missing here fails
# synthesis, so every acknowledgement says what that function really does.
_RESPONDER_REACH = (
    "an SMS to a phone number has no resource ARN to name, and app push goes to per-device platform "
    "endpoints created at run time; the code publishes only to the numbers and endpoints stored on the "
    "incident's alerts."
)
DIRECT_PUBLISH_REASONS: dict[str, str] = {
    "rescue_sos": f"sns:Publish on * sends wave 1's alerts straight to responders: {_RESPONDER_REACH}",
    "rescue_incidents": (
        f"sns:Publish on * sends stand-downs and AED re-routes straight to responders: {_RESPONDER_REACH}"
    ),
    "rescue_steps": (
        "sns:Publish on * sends later waves' alerts, re-deliveries and stand-downs straight to responders: "
        f"{_RESPONDER_REACH}"
    ),
    "dispatch_inbound": (
        "sns:Publish on * sends wave 1's alerts of an incident a 120 dispatch centre raised straight to "
        f"responders: {_RESPONDER_REACH}"
    ),
    "teaching_registrations": (
        "sns:Publish on * sends one SMS to a waitlisted trainee when a seat frees up and they are promoted: "
        "an SMS to a phone number has no resource ARN to name; the code texts only the phone number stored "
        "on the promoted registration."
    ),
    "certification_reminders": (
        "sns:Publish on * sends certificate expiry reminders by SMS (60, 30 and 7 days ahead): an SMS to a "
        "phone number has no resource ARN to name; the code texts only the holder's phone number stored on "
        "each expiring certificate."
    ),
}


def _role_wildcard_reason(name: str, grants: c.FunctionGrants, profile: Profile) -> str | None:
    """Why the function's role holds Resource "*", or None when it holds none (the cn profile: no X-Ray,
    no SNS SMS)."""
    reasons = []
    if profile.tracing:
        reasons.append(
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions (Resource must be *)."
        )
    if grants.direct_publish:
        if name not in DIRECT_PUBLISH_REASONS:
            raise ValueError(
                f"{name} publishes straight to phones (direct_publish): say what and to whom in "
                "infra/constructs/functions.DIRECT_PUBLISH_REASONS"
            )
        if not profile.china:
            reasons.append(DIRECT_PUBLISH_REASONS[name])
    return " ".join(reasons) or None


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: DataTables,
        notifications: Notifications,
        profile: Profile = GLOBAL_PROFILE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.profile = profile
        self.architecture = ARCHITECTURES[profile.architecture]
        unplanned = [name for name in ALL_FUNCTIONS if name not in c.FUNCTION_GRANTS]
        if unplanned:
            raise ValueError(f"functions without an entry in infra/constants.FUNCTION_GRANTS: {unplanned}")
        stale = [name for name in c.FUNCTION_GRANTS if name not in ALL_FUNCTIONS]
        if stale:
            raise ValueError(f"infra/constants.FUNCTION_GRANTS names functions that do not exist: {stale}")
        untimed = [
            name
            for name in EVENT_FUNCTIONS
            if name not in c.EVENT_FUNCTION_TIMEOUTS_S or name not in _EVENT_PURPOSES
        ]
        if untimed:
            raise ValueError(
                "event source functions without infra/constants.EVENT_FUNCTION_TIMEOUTS_S or a purpose "
                f"(_EVENT_PURPOSES): {untimed}"
            )

        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies_code(profile.architecture),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[self.architecture],
            description="Rescue Nearby run-time dependencies (infra/lambda-requirements.txt)",
        )
        self.code = function_code()
        env_var = {spec.model: spec.env_var for spec in c.TABLES}
        self.functions: dict[str, lambda_.Function] = {}
        for name in ALL_FUNCTIONS:
            grants = c.FUNCTION_GRANTS[name]
            environment = {
                **settings_environment(dispatch=grants.dispatch_settings, exams=grants.exam_settings),
                **{env_var[m]: data.tables[m].table_name for m in grants.tables},
            }
            if grants.dispatch_topic:
                environment[DISPATCH_TOPIC_ARN] = notifications.dispatch_topic.topic_arn
            if grants.upkeep_topic:
                environment[UPKEEP_TOPIC_ARN] = notifications.upkeep_topic.topic_arn
            if grants.register_push and not profile.china:
                # "{}" when no push: the code then answers 422 and alerts go by SMS
                environment[PUSH_APPLICATIONS] = _env_value(notifications.push_applications)
            if profile.china:
                environment[DEPLOYMENT_PROFILE] = profile.name
                if grants.sends_messages:
                    environment.update(channel_environment(profile))
            fn = self.functions[name] = self.function(
                self,
                name,
                handler=f"functions.{name}.handler.lambda_handler",
                environment=environment,
                timeout_s=(
                    c.SCHEDULED_FUNCTION_TIMEOUT_S
                    if name in SCHEDULED_FUNCTIONS
                    else c.EVENT_FUNCTION_TIMEOUTS_S[name]
                    if name in EVENT_FUNCTIONS
                    else c.FUNCTION_TIMEOUT_S
                ),
                description=(
                    f"Rescue Nearby: {name} (rescue workflow steps)"
                    if name in WORKFLOW_FUNCTIONS
                    else f"Rescue Nearby: {name} (scheduled)"
                    if name in SCHEDULED_FUNCTIONS
                    else f"Rescue Nearby: {name} ({_EVENT_PURPOSES[name]})"
                    if name in EVENT_FUNCTIONS
                    else f"Rescue Nearby: {name} routes"
                ),
                wildcard_reason=_role_wildcard_reason(name, grants, profile),
            )
            for model, access in grants.tables.items():
                data.grant(fn, model, access)
            if grants.direct_publish and not profile.china:
                notifications.grant_direct_publish(fn)
            if grants.dispatch_topic:
                notifications.grant_publish(fn, notifications.dispatch_topic)
            if grants.upkeep_topic:
                notifications.grant_publish(fn, notifications.upkeep_topic)
            if grants.register_push and not profile.china:
                notifications.grant_register_push(fn)

    def connect_photos(self, photos: ReportPhotos) -> None:
        """The photo bucket for the functions that sign report photo uploads and views."""
        for name, fn in self.functions.items():
            if c.FUNCTION_GRANTS[name].report_photos:
                fn.add_environment(PHOTO_BUCKET, photos.bucket.bucket_name)
                photos.grant_reports(fn)

    def connect_workflow(self, workflow: RescueWorkflow) -> None:
        """The state machine's ARN and permissions for the functions that start or resume executions.

        A function the machine invokes (WORKFLOW_FUNCTIONS) gets the ARN written from the machine's name:
        a Ref would make the machine (which names the function) and the function (its environment and
        role policy) depend on each other, a cycle CloudFormation refuses. The others get the Ref, which
        also orders their creation after the machine's.
        """
        for name, fn in self.functions.items():
            grants = c.FUNCTION_GRANTS[name]
            actions = [
                *(["states:StartExecution"] if grants.start_rescue else []),
                *(["states:SendTaskSuccess"] if grants.resume_rescue else []),
            ]
            if not actions:
                continue
            invoked_by_machine = name in WORKFLOW_FUNCTIONS
            arn = workflow.arn_by_name if invoked_by_machine else workflow.state_machine.state_machine_arn
            fn.add_environment(RESCUE_STATE_MACHINE_ARN, arn)
            iam.Grant.add_to_principal(grantee=fn, actions=actions, resource_arns=[arn])

    def function(
        self,
        scope: Construct,
        name: str,
        *,
        handler: str,
        environment: dict[str, str],
        timeout_s: int,
        description: str,
        wildcard_reason: str | None,
    ) -> lambda_.Function:
        """A function on the shared code asset and layer: its own retained log group, its own role that
        may write there and nothing else (until granted), the profile's architecture and tracing. Also
        used for the cn profile's API authorizer (infra/constructs/identity.py)."""
        scope = Construct(scope, name.title())
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
            code=self.code,
            handler=handler,
            runtime=RUNTIME,
            architecture=self.architecture,
            memory_size=c.FUNCTION_MEMORY_MB,
            timeout=cdk.Duration.seconds(timeout_s),
            # No X-Ray integration in the China regions: no tracing config at all there (Lambda's
            # PassThrough mode would still add the X-Ray permissions).
            tracing=lambda_.Tracing.ACTIVE if self.profile.tracing else lambda_.Tracing.DISABLED,
            layers=[self.layer],
            log_group=log_group,
            role=role,
            environment={
                "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
            description=description,
        )
        if wildcard_reason:
            cdk.Validations.of(role).acknowledge(
                cdk.Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=wildcard_reason)
            )
        platform = c.LAYER_PLATFORMS[self.profile.architecture]
        cdk.Validations.of(fn).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason=(
                    f"Pinned to python3.13: the layer is built from cp313 {platform} wheels "
                    "(pydantic-core, pygeohash) and the code is tested on 3.13 semantics; move to "
                    "3.14 together with infra/lambda-requirements.txt and the wheelhouse."
                ),
            )
        )
        return fn
