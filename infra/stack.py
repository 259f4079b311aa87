"""The one stack: it composes the capability constructs and says what they may do to each other."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra import constants as c
from infra.constructs.api import RestApi
from infra.constructs.data import DataTables
from infra.constructs.functions import Functions
from infra.constructs.identity import CognitoIdentity
from infra.constructs.notifications import Notifications
from infra.constructs.workflow import RescueWorkflow
from shared.dal.models import IncidentModel


class RescueNearbyStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        data = DataTables(self, "Data")
        identity = CognitoIdentity(self, "Identity")
        notifications = Notifications(self, "Notifications")
        functions = Functions(self, "Functions", data=data)
        api = RestApi(self, "Http", functions=functions.functions, identity=identity)

        incidents = data.tables[IncidentModel]
        workflow = RescueWorkflow(
            self,
            "Workflow",
            available={
                "Partition": cdk.Aws.PARTITION,
                "IncidentsTable": incidents.table_name,
                "DispatchTopicArn": notifications.dispatch_topic.topic_arn,
            },
        )
        data.grant_update_item(workflow.state_machine, IncidentModel)
        # The workflow tells the dispatch centre about incidents no volunteer answered.
        notifications.grant_publish(workflow.state_machine, notifications.dispatch_topic)

        cdk.CfnOutput(self, "ApiUrl", value=api.api.url)
        cdk.CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DispatchTopicArn", value=notifications.dispatch_topic.topic_arn)
