"""The one stack: it composes the capability constructs and says what they may do to each other."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra import constants as c
from infra.constructs.aed_faults import ReportPhotos
from infra.constructs.api import RestApi
from infra.constructs.data import DataTables
from infra.constructs.functions import Functions
from infra.constructs.identity import CognitoIdentity
from infra.constructs.notifications import Notifications, push_applications
from infra.constructs.rescue import RescueWorkflow
from infra.constructs.schedules import Schedules
from infra.constructs.teaching import CheckinSecret
from shared.dal.models.rescue import IncidentModel
from shared.routes import WORKFLOW_FUNCTIONS


class RescueNearbyStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        # Validated first: a malformed value fails synthesis before anything is built.
        push = push_applications(self.node.try_get_context(c.PUSH_CONTEXT))
        data = DataTables(self, "Data")
        identity = CognitoIdentity(self, "Identity")
        notifications = Notifications(self, "Notifications", push_applications=push)
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
        Schedules(self, "Schedules", functions=functions.functions)

        cdk.CfnOutput(self, "ApiUrl", value=api.api.url)
        cdk.CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DispatchTopicArn", value=notifications.dispatch_topic.topic_arn)
        cdk.CfnOutput(self, "AedUpkeepTopicArn", value=notifications.upkeep_topic.topic_arn)
