"""The one stack: it composes the capability constructs and says what they may do to each other, for the
deployment profile it is given (infra/profile.py): global (Cognito, SNS SMS and push) or cn (the AWS China
regions: OIDC authorizer, mainland SMS and push providers)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra import constants as c
from infra.constructs.aed_faults import ReportPhotos
from infra.constructs.alarms import OpsAlarms
from infra.constructs.api import RestApi
from infra.constructs.cockpit import CockpitSummaries
from infra.constructs.credits import CreditExports
from infra.constructs.data import DataTables
from infra.constructs.dispatch import DispatchCentres
from infra.constructs.dispatch_webhooks import StatusWebhooks
from infra.constructs.functions import Functions
from infra.constructs.identity import CognitoIdentity, OidcIdentity, oauth_callback_urls, ses_sender
from infra.constructs.notifications import (
    Notifications,
    ProviderCredentials,
    push_applications,
    subscription,
)
from infra.constructs.rescue import RescueWorkflow
from infra.constructs.schedules import Schedules
from infra.constructs.teaching import CheckinSecret
from infra.constructs.web import WEB_CONTEXT, WEB_TILES_CONTEXT, WebPages, web_enabled, web_tiles
from infra.profile import GLOBAL_PROFILE, Profile
from infra.web_assets import assemble
from shared.config import default_value, env_name
from shared.dal.models.rescue import IncidentModel
from shared.routes import WORKFLOW_FUNCTIONS

# Context values the cn profile refuses: what they configure does not exist in the China regions.
_GLOBAL_ONLY_CONTEXT = {
    c.PUSH_CONTEXT: "SNS mobile push",
    c.SES_IDENTITY_CONTEXT: "Cognito",
    c.OAUTH_CALLBACKS_CONTEXT: "Cognito",
}


class RescueNearbyStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, profile: Profile = GLOBAL_PROFILE, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        self.profile = profile
        # Validated first: a malformed value fails synthesis before anything is built.
        context = self.node.try_get_context
        if profile.china:
            for key, missing in _GLOBAL_ONLY_CONTEXT.items():
                if context(key) not in (None, "", "{}", "[]", {}, []):
                    raise ValueError(f"CDK context {key!r}: the cn profile has no {missing} (docs/deploy.md)")
        push = push_applications(context(c.PUSH_CONTEXT))
        sms = not profile.china  # SNS sends SMS outside China only
        dispatch_centre = subscription(
            context(c.DISPATCH_CENTRE_ENDPOINT_CONTEXT), c.DISPATCH_CENTRE_ENDPOINT_CONTEXT, sms=sms
        )
        ops_endpoint = subscription(context(c.OPS_ENDPOINT_CONTEXT), c.OPS_ENDPOINT_CONTEXT, sms=sms)
        callbacks = oauth_callback_urls(context(c.OAUTH_CALLBACKS_CONTEXT))
        ses = ses_sender(context(c.SES_IDENTITY_CONTEXT))
        data = DataTables(self, "Data")
        cognito = (
            None if profile.china else CognitoIdentity(self, "Identity", callback_urls=callbacks, ses=ses)
        )
        notifications = Notifications(
            self, "Notifications", push_applications=push, dispatch_centre_endpoint=dispatch_centre
        )
        functions = Functions(self, "Functions", data=data, notifications=notifications, profile=profile)
        # The authorizer runs on the functions' code asset and layer, so it comes after them.
        identity = cognito or OidcIdentity(self, "Identity", functions=functions)
        api = RestApi(
            self,
            "Http",
            functions=functions.functions,
            identity=identity,
            tracing=profile.tracing,
            json_auth_errors=profile.china,
        )

        # The web pages (S3 + CloudFront, config.json written at deploy time) and the API's CORS for them;
        # `-c web=off` leaves them out (docs/deploy.md, Web pages).
        web = None
        if web_enabled(context(WEB_CONTEXT)):
            web = WebPages(
                self,
                "Web",
                folder=assemble(),
                api=api.api,
                china=profile.china,
                tiles=web_tiles(context(WEB_TILES_CONTEXT)),
                sign_in_origins=identity.web_sign_in_origins(),
            )
            api.allow_web_origin(web.origin)
            for fn in functions.functions.values():
                fn.add_environment(env_name("web_origin"), web.origin)
            web.deploy(
                identity=identity.web_sign_in(web.origin),
                docs_url="",
                time_zone=str(default_value("time_zone")),
            )

        incidents = data.tables[IncidentModel]
        steps = functions.functions["rescue_steps"]
        workflow = RescueWorkflow(
            self,
            "Workflow",
            available={
                "Partition": cdk.Aws.PARTITION,
                "IncidentsTable": incidents.table_name,
                "RescueStepsFunctionArn": steps.function_arn,
            },
            tracing=profile.tracing,
        )
        # The machine runs its steps in the workflow functions and expires an unclosed incident itself;
        # the steps function tells the dispatch centre (the machine publishes nothing).
        for name in WORKFLOW_FUNCTIONS:
            workflow.grant_invoke(functions.functions[name])
        data.grant(workflow.state_machine, IncidentModel, c.UPDATE)
        functions.connect_workflow(workflow)
        photos = ReportPhotos(self, "ReportPhotos")
        functions.connect_photos(photos)
        # The credits exports' files and signing key (docs/volunteers.md, Credits).
        CreditExports(self, "CreditExports", access_logs=photos.access_logs).connect(functions.functions)
        CheckinSecret(self, "CheckinSecret").connect(functions.functions)
        # The 120 link: the dispatch centres' signing secrets (one per centre, made at run time).
        DispatchCentres(self, "DispatchCentres").connect(functions.functions)
        # Status webhooks to the centres: the incidents' and events' streams, the FIFO queue of changes.
        webhooks = StatusWebhooks(self, "StatusWebhooks", data=data, functions=functions.functions)
        # The cockpit's rescue summaries: the incidents', alerts' and events' streams (docs/cockpit.md).
        cockpit = CockpitSummaries(self, "Cockpit", data=data, functions=functions.functions)
        # cn: the SMS and push providers' credentials, for the functions that send only.
        providers = ProviderCredentials(self, "ProviderCredentials") if profile.china else None
        if providers is not None:
            providers.connect(functions.functions)
        # Clock-driven functions (shared.routes.SCHEDULES), each on its own EventBridge schedule.
        schedules = Schedules(self, "Schedules", functions=functions.functions)
        # What ops act on: alarms to the ops topic, and the rescue dashboard.
        alarms = OpsAlarms(
            self,
            "Alarms",
            functions=functions.functions,
            api=api.api,
            state_machine=workflow.state_machine,
            dead_letter_queues={
                "Schedules": schedules.dead_letters,
                "ScheduledRunFailures": schedules.failed_runs,
                "StatusWebhooksParked": webhooks.parked,
                "StatusStreamFailures": webhooks.stream_failures,
                "CockpitStreamFailures": cockpit.stream_failures,
            },
            push_applications=push,
            endpoint=ops_endpoint,
            sms_via_sns=not profile.china,
        )

        cdk.CfnOutput(self, "ApiUrl", value=api.api.url)
        if web is not None:
            cdk.CfnOutput(self, "WebUrl", value=f"{web.origin}/")
            cdk.CfnOutput(self, "WebDistributionDomain", value=web.distribution.distribution_domain_name)
        if cognito is not None:
            cdk.CfnOutput(self, "UserPoolId", value=cognito.user_pool.user_pool_id)
            cdk.CfnOutput(self, "UserPoolClientId", value=cognito.client.user_pool_client_id)
        if providers is not None:
            cdk.CfnOutput(self, "ProviderCredentialsSecretArn", value=providers.secret.secret_arn)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DispatchTopicArn", value=notifications.dispatch_topic.topic_arn)
        cdk.CfnOutput(self, "AedUpkeepTopicArn", value=notifications.upkeep_topic.topic_arn)
        cdk.CfnOutput(self, "OpsAlarmsTopicArn", value=alarms.topic.topic_arn)
        # The status webhooks' runbook (docs/deploy.md, Alarms): what ops read, and where a run is queued.
        cdk.CfnOutput(self, "StatusChangesQueueUrl", value=webhooks.changes.queue_url)
        cdk.CfnOutput(self, "StatusParkedQueueUrl", value=webhooks.parked.queue_url)
        cdk.CfnOutput(self, "StatusStreamFailuresQueueUrl", value=webhooks.stream_failures.queue_url)
        # ... and the cockpit summaries' (the CockpitStreamFailures alarm: read it, re-derive, delete).
        cdk.CfnOutput(self, "CockpitStreamFailuresQueueUrl", value=cockpit.stream_failures.queue_url)
        cdk.CfnOutput(self, "RescueDashboardName", value=alarms.dashboard.dashboard_name)
