"""The one stack: it composes the capability constructs and says what they may do to each other."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra import constants as c
from infra.constructs.aed_faults import ReportPhotos
from infra.constructs.alarms import OpsAlarms
from infra.constructs.api import RestApi
from infra.constructs.data import DataTables
from infra.constructs.functions import Functions
from infra.constructs.identity import CognitoIdentity, oauth_callback_urls, ses_sender
from infra.constructs.notifications import Notifications, push_applications, subscription
from infra.constructs.rescue import RescueWorkflow
from infra.constructs.schedules import Schedules
from infra.constructs.teaching import CheckinSecret
from shared.dal.models.rescue import IncidentModel
from shared.routes import WORKFLOW_FUNCTIONS


class RescueNearbyStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        # Validated first: a malformed value fails synthesis before anything is built.
        context = self.node.try_get_context
        push = push_applications(context(c.PUSH_CONTEXT))
        dispatch_centre = subscription(
            context(c.DISPATCH_CENTRE_ENDPOINT_CONTEXT), c.DISPATCH_CENTRE_ENDPOINT_CONTEXT
        )
        ops_endpoint = subscription(context(c.OPS_ENDPOINT_CONTEXT), c.OPS_ENDPOINT_CONTEXT)
        callbacks = oauth_callback_urls(context(c.OAUTH_CALLBACKS_CONTEXT))
        ses = ses_sender(context(c.SES_IDENTITY_CONTEXT))
        data = DataTables(self, "Data")
        identity = CognitoIdentity(self, "Identity", callback_urls=callbacks, ses=ses)
        notifications = Notifications(
            self, "Notifications", push_applications=push, dispatch_centre_endpoint=dispatch_centre
        )
        functions = Functions(self, "Functions", data=data, notifications=notifications)
        api = RestApi(self, "Http", functions=functions.functions, identity=identity)

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
        )
        # The machine runs its steps in the workflow functions and expires an unclosed incident itself;
        # the steps function tells the dispatch centre (the machine publishes nothing).
        for name in WORKFLOW_FUNCTIONS:
            workflow.grant_invoke(functions.functions[name])
        data.grant(workflow.state_machine, IncidentModel, c.UPDATE)
        functions.connect_workflow(workflow)
        functions.connect_photos(ReportPhotos(self, "ReportPhotos"))
        CheckinSecret(self, "CheckinSecret").connect(functions.functions)
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
            },
            push_applications=push,
            endpoint=ops_endpoint,
        )

        cdk.CfnOutput(self, "ApiUrl", value=api.api.url)
        cdk.CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DispatchTopicArn", value=notifications.dispatch_topic.topic_arn)
        cdk.CfnOutput(self, "AedUpkeepTopicArn", value=notifications.upkeep_topic.topic_arn)
        cdk.CfnOutput(self, "OpsAlarmsTopicArn", value=alarms.topic.topic_arn)
        cdk.CfnOutput(self, "RescueDashboardName", value=alarms.dashboard.dashboard_name)
