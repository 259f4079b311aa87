"""The Lambda functions: runtime, architecture, tracing, logs, environment, code asset, least privilege."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from infra.profile import PUSH_PROVIDER_CN
from shared.config import Settings, env_name
from shared.dal.models import teaching
from shared.dal.models.aed_faults import AedReportModel
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.aed_upkeep import AedInspectionModel, UpkeepReminderModel
from shared.dal.models.certification import (
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
)
from shared.dal.models.cockpit import DistrictModel, RescueSummaryModel
from shared.dal.models.credits import CreditExportModel
from shared.dal.models.debriefs import DebriefModel
from shared.dal.models.dispatch import DeliveryModel, DispatchCentreModel
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import AlertModel, CreditModel, EventModel, IncidentModel, SosKeyModel
from shared.dal.models.responders import ResponderModel
from shared.dal.models.teams import TeamModel
from shared.routes import EVENT_FUNCTIONS, FUNCTIONS, SCHEDULED_FUNCTIONS, WORKFLOW_FUNCTIONS
from tests.infrastructure.conftest import PUSH_FCM_ARN, TEST_CONTEXT, Synthesized
from tests.infrastructure.test_infra_compliance import BUCKET_DEPLOYMENT

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ALL_FUNCTIONS = tuple(
    dict.fromkeys((*FUNCTIONS, *WORKFLOW_FUNCTIONS, *SCHEDULED_FUNCTIONS, *EVENT_FUNCTIONS))
)
ENV_VAR = {spec.model: spec.env_var for spec in c.TABLES}
TABLE_ENV_VARS = set(ENV_VAR.values())

# Written out here, not read from infra/constants: widening a function's access must fail these tests.
READ = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
}
UPDATE = {"dynamodb:UpdateItem"}
READ_UPDATE = READ | UPDATE  # changes items that exist: no PutItem, DeleteItem or BatchWriteItem
READ_WRITE = READ | {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
INDEX_QUERY = {"dynamodb:Query", "dynamodb:Scan"}
EXPECTED_ACCESS: dict[str, dict[Any, set[str]]] = {
    "health": {},
    "responders": {ResponderModel: READ_WRITE, GeoIndexModel: READ_WRITE, CreditModel: READ},
    "aed_registry": {AedModel: READ_WRITE, GeoIndexModel: READ_WRITE},
    "aed_import": {AedModel: READ_WRITE, GeoIndexModel: READ_WRITE},
    "aed_faults": {AedModel: READ_WRITE, GeoIndexModel: READ_WRITE, AedReportModel: READ_WRITE},
    "teaching_courses": {
        teaching.CourseModel: READ_WRITE,
        teaching.TrainingSessionModel: READ_WRITE,
        GeoIndexModel: READ_WRITE,
        teaching.TheoryProgressModel: READ_WRITE,
        teaching.RegistrationModel: READ,
    },
    "teaching_registrations": {
        teaching.TrainingSessionModel: READ_WRITE,
        teaching.RegistrationModel: READ_WRITE,
        teaching.RegistrationKeyModel: READ_WRITE,
        teaching.EvaluationModel: READ_WRITE,
    },
    "teaching_checkins": {
        teaching.TrainingSessionModel: READ,
        teaching.RegistrationModel: READ_WRITE,
        teaching.RegistrationKeyModel: READ,
        teaching.CourseModel: READ,
        teaching.TheoryProgressModel: READ,
    },
    "aed_upkeep": {AedInspectionModel: READ_WRITE, AedModel: READ_WRITE, GeoIndexModel: READ_WRITE},
    "aed_coverage": {GeoIndexModel: READ},
    "aed_upkeep_daily": {AedModel: READ_WRITE, GeoIndexModel: READ_WRITE, UpkeepReminderModel: READ_WRITE},
    "certification_exams": {
        ExaminerModel: READ_WRITE,
        ExamModel: READ_WRITE,
        ExamScoreModel: READ_WRITE,
        CertificateModel: READ_WRITE,
        CertificateNumberModel: UPDATE,
        ResponderModel: READ_WRITE,
        teaching.CourseModel: READ,
        teaching.TrainingSessionModel: READ,
        teaching.RegistrationModel: READ,
        teaching.TheoryProgressModel: READ,
        teaching.EvaluationModel: READ,
    },
    "certification_certificates": {
        CertificateModel: READ_WRITE,
        ResponderModel: UPDATE,
        GeoIndexModel: READ_WRITE,
        teaching.EvaluationModel: READ,
    },
    "certification_reminders": {CertificateModel: READ, CertificateReminderModel: READ_WRITE},
    "rescue_sos": {
        IncidentModel: READ_WRITE,
        SosKeyModel: READ_WRITE,
        AlertModel: READ_WRITE,
        GeoIndexModel: READ_WRITE,  # the open incident's point, for a second SOS to join it
        EventModel: READ_WRITE,  # the caller_joined event written with a merge
        ResponderModel: READ,  # each alert's transaction checks the responder's presence (ConditionCheck)
    },
    "rescue_incidents": {
        IncidentModel: READ_WRITE,
        AlertModel: READ_WRITE,
        EventModel: READ_WRITE,
        CreditModel: READ,
        SosKeyModel: READ_WRITE,  # busy marks, once-only events, releases at a close
        GeoIndexModel: READ_WRITE,
        AedModel: READ_WRITE,
        AedReportModel: READ_WRITE,
        ResponderModel: READ,  # a console incident's wave 1: the alerts check the presence
    },
    "rescue_steps": {
        IncidentModel: READ_WRITE,
        AlertModel: READ_WRITE,
        EventModel: READ_WRITE,
        CreditModel: READ_WRITE,
        ResponderModel: READ_UPDATE,  # the credit balance; a later wave's alerts check the presence
        GeoIndexModel: READ_WRITE,
        AedModel: READ_WRITE,
        SosKeyModel: READ_WRITE,  # wave 2's alert tallies and busy marks, once-only events
        DebriefModel: READ_WRITE,  # the debrief invitations at the finish
    },
    "dispatch_centres": {DispatchCentreModel: READ_WRITE, DeliveryModel: READ_WRITE},  # + the webhooks' log
    # The status webhooks: the trigger reads no table (only its mappings read the streams); the runs read
    # the incident as it stands and the centres, and write the log.
    "dispatch_changes": {},
    "dispatch_webhooks": {
        IncidentModel: READ,
        AlertModel: READ,
        EventModel: READ,
        DispatchCentreModel: READ,
        DeliveryModel: READ_WRITE,
    },
    "dispatch_inbound": {
        DispatchCentreModel: READ,
        IncidentModel: READ_WRITE,
        SosKeyModel: READ_WRITE,
        AlertModel: READ_WRITE,
        EventModel: READ_WRITE,
        GeoIndexModel: READ_WRITE,
        ResponderModel: READ,  # the alerts check the presence
    },
    # The cockpit (shared/dal/cockpit.py): the period's summaries by month (Query), the districts (Scan,
    # GetItem, an admin's PutItem), the responders on duty from the geo index's cells (Query) whose records
    # say their presence has not lapsed (BatchGetItem).
    "cockpit": {
        RescueSummaryModel: READ,
        DistrictModel: READ_WRITE,
        GeoIndexModel: READ,
        ResponderModel: READ,
    },
    # Its stream consumer: an incident, its alerts and events read as they stand (consistent reads); the
    # summary put (conditional on derived_at) or, for a merged SOS, deleted.
    "cockpit_changes": {
        IncidentModel: READ,
        AlertModel: READ,
        EventModel: READ,
        RescueSummaryModel: READ_WRITE,
    },
    # The training figures: sessions by month, their registrations and evaluations, courses, scores by
    # course, certificates by expiry and number, the cohort's responders by key (BatchGetItem). Reads only.
    "cockpit_training": {
        teaching.CourseModel: READ,
        teaching.TrainingSessionModel: READ,
        teaching.RegistrationModel: READ,
        teaching.EvaluationModel: READ,
        ExamScoreModel: READ,
        CertificateModel: READ,
        ResponderModel: READ,
    },
    # The leaderboard (shared/dal/credits.py): credits by month (the by-month index); the responder's
    # opt-in read (GetItem, BatchGetItem) and set (a conditional UpdateItem), never a responder put or
    # deleted.
    "credits": {CreditModel: READ, ResponderModel: READ_UPDATE},
    # The debriefs: the responder's own, their accept (alert) and the close; the admins' call-back list.
    "debriefs": {DebriefModel: READ_WRITE, AlertModel: READ, IncidentModel: READ, ResponderModel: READ},
    # The credits exports and nominations (shared/dal/credits_export.py): the ledger read by month and each
    # listed credit marked (a conditional UpdateItem, never a credit put or deleted); the export records;
    # responders, certificates and incidents read.
    "credits_export": {
        CreditModel: READ_UPDATE,
        CreditExportModel: READ_WRITE,
        ResponderModel: READ,
        CertificateModel: READ,
        IncidentModel: READ,
    },
    # Teams and E-stations: the teams and their circles in the geo index; members and the E-station's AED
    # read by key; the members' alerts by team (the alerts' by-team index) for the leader.
    "teams": {
        TeamModel: READ_WRITE,
        GeoIndexModel: READ_WRITE,
        ResponderModel: READ,
        AedModel: READ,
        AlertModel: READ,
    },
}
# Beyond tables: SMS/push on "*", the dispatch-centre topic, and the rescue state machine.
DIRECT_PUBLISH = {
    "rescue_sos",
    "rescue_incidents",
    "rescue_steps",
    "certification_reminders",
    "teaching_registrations",
    "dispatch_inbound",
}
# Sign AED report photo uploads and views: PutObject and GetObject under the reports prefix only.
REPORT_PHOTOS = {"rescue_incidents", "aed_faults"}
CHECKIN_SECRET = {"teaching_checkins"}  # reads the check-in code signing key
# The dispatch centres' secrets under the stack's prefix: issued (registration, rotation) or read (verifying).
CENTRE_SECRETS = {
    "dispatch_centres": {
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:GetSecretValue",
    },
    "dispatch_inbound": {"secretsmanager:GetSecretValue"},
    "dispatch_webhooks": {"secretsmanager:GetSecretValue"},  # signs the status webhooks
}
# The status webhooks' queues (infra/constructs/dispatch_webhooks.py): who sends to the FIFO queue of changed
# incidents, who consumes it (and parks on the dead-letter queue); the streams their mappings read; where
# a stream batch that keeps failing is described (the mappings' on-failure destination).
STATUS_CHANGES = {"dispatch_centres": "send", "dispatch_changes": "send", "dispatch_webhooks": "consume"}
STREAMS_READ = {
    "dispatch_changes": {IncidentModel, EventModel},
    "cockpit_changes": {IncidentModel, AlertModel, EventModel},  # the cockpit's summaries
}
# Each stream consumer's mappings' on-failure destination (its own queue).
STREAM_FAILURES = {
    "dispatch_changes": "StatusWebhooks/StreamFailures",
    "cockpit_changes": "Cockpit/StreamFailures",
}
STREAM_READ = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
DISPATCH_TOPIC = {"rescue_steps"}
UPKEEP_TOPIC = {"aed_upkeep_daily"}  # reminders to AED managers
STATE_MACHINE_ACTIONS = {
    "rescue_sos": {"states:StartExecution"},
    # POST /v1/incidents: a dispatcher's incident starts its workflow; closes hand the token back.
    "rescue_incidents": {"states:StartExecution", "states:SendTaskSuccess"},
    "rescue_steps": {"states:SendTaskSuccess"},
    "dispatch_inbound": {"states:StartExecution", "states:SendTaskSuccess"},  # a centre raises and closes
}
# dispatch_webhooks: the credit points per reason, for the close it tells a centre (credits_awarded).
DISPATCH_SETTINGS_FUNCTIONS = {
    "rescue_sos",
    "rescue_incidents",
    "rescue_steps",
    "dispatch_inbound",
    "dispatch_webhooks",
}
# Registers app installs for push (PUT /v1/responders/{responder_id}/device): PUSH_APPLICATIONS, and
# sns:CreatePlatformEndpoint on exactly the platform applications given as context.
REGISTER_PUSH = {"responders"}
CREATE_ENDPOINT = "sns:CreatePlatformEndpoint"
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# The models with global secondary indexes.
WITH_INDEXES = {
    GeoIndexModel,
    IncidentModel,
    CreditModel,  # by month: the leaderboard
    DebriefModel,  # the call-back list
    AlertModel,  # by team: a team leader's view of the members' responses
    TeamModel,  # by kind: the admins' lists of teams and of E-stations
    ExamScoreModel,
    CertificateModel,
    teaching.TrainingSessionModel,
    teaching.RegistrationModel,
    teaching.EvaluationModel,
    DeliveryModel,
}


# CDK's own Lambda functions, by construct path below the stack: the BucketDeployment's handler that copies
# the web pages to their bucket at deploy time (a singleton per stack; infra/constructs/web.py). Not ours: its
# code, runtime and role are CDK's (acknowledged in test_infra_compliance.py).
CDK_FUNCTIONS = {f"{BUCKET_DEPLOYMENT}/Resource"}


def our_functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The stack's Lambda functions but CDK's own (CDK_FUNCTIONS, each of which must be there)."""
    functions = synthesized.of_type("AWS::Lambda::Function")
    cdk_ids = {synthesized.logical_id(path) for path in CDK_FUNCTIONS}
    return {k: f for k, f in functions.items() if k not in cdk_ids}


def function_id(synthesized: Synthesized, name: str) -> str:
    return synthesized.logical_id(f"Functions/{name.title()}/Function/Resource")


def table_id(synthesized: Synthesized, model: Any) -> str:
    spec = next(s for s in c.TABLES if s.model is model)
    return synthesized.logical_id(f"Data/{spec.construct_id}/Resource")


def role_statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def referenced_ids(resource: Any) -> set[str]:
    """Logical ids a policy Resource points at (Ref, GetAtt, or inside a Join)."""
    found: set[str] = set()
    if isinstance(resource, dict):
        if "Ref" in resource:
            found.add(resource["Ref"])
        if "Fn::GetAtt" in resource:
            found.add(resource["Fn::GetAtt"][0])
        for value in resource.values():
            if isinstance(value, list | dict):
                found |= referenced_ids(value)
    elif isinstance(resource, list):
        for item in resource:
            found |= referenced_ids(item)
    return found


def role_of(synthesized: Synthesized, name: str) -> str:
    return str(synthesized.resources[function_id(synthesized, name)]["Properties"]["Role"]["Fn::GetAtt"][0])


def machine_id(synthesized: Synthesized) -> str:
    return synthesized.logical_id("Workflow/StateMachine/Resource")


def machine_arn_by_name(synthesized: Synthesized) -> dict[str, Any]:
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    name = machine["Properties"]["StateMachineName"]
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":stateMachine:{name}",
            ],
        ]
    }


@pytest.mark.infra
def test_one_function_per_folder_in_the_route_table_and_the_workflow(synthesized: Synthesized) -> None:
    assert WORKFLOW_FUNCTIONS == ("rescue_steps",)
    assert set(FUNCTIONS) >= {
        "health",
        "responders",
        "aed_registry",
        "rescue_sos",
        "rescue_incidents",
        "aed_upkeep",
        "aed_coverage",
    }
    functions = our_functions(synthesized)
    assert len(functions) == len(ALL_FUNCTIONS)
    synthesized.assertions.resource_count_is("AWS::Lambda::Function", len(ALL_FUNCTIONS) + len(CDK_FUNCTIONS))
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {f"functions.{name}.handler.lambda_handler" for name in ALL_FUNCTIONS}


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_runtime_and_observability(synthesized: Synthesized, name: str) -> None:
    props = synthesized.resources[function_id(synthesized, name)]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    layer_id = synthesized.logical_id("Functions/Dependencies/Resource")
    assert props["Layers"] == [{"Ref": layer_id}]
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] == 180


@pytest.mark.infra
def test_layer_targets_the_same_runtime(synthesized: Synthesized) -> None:
    synthesized.assertions.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.13"]},
    )


def environment(synthesized: Synthesized, name: str) -> dict[str, Any]:
    return dict(
        synthesized.resources[function_id(synthesized, name)]["Properties"]["Environment"]["Variables"]
    )


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_environment_names_exactly_the_granted_tables(synthesized: Synthesized, name: str) -> None:
    env = environment(synthesized, name)
    assert {k: v for k, v in env.items() if k in TABLE_ENV_VARS} == {
        ENV_VAR[m]: {"Ref": table_id(synthesized, m)} for m in EXPECTED_ACCESS[name]
    }
    aliases = {env_name(f.name) for f in dataclasses.fields(Settings)}
    assert (
        set(env) - {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
        <= aliases
    )
    assert {"TIME_ZONE", "PRESENCE_TTL_SECONDS", "GEO_MAX_QUERIES"} <= set(env)


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_environment_names_the_topic_and_state_machine_where_used(
    synthesized: Synthesized, name: str
) -> None:
    env = environment(synthesized, name)
    topic = synthesized.logical_id("Notifications/DispatchCentreTopic/Resource")
    assert env.get("DISPATCH_TOPIC_ARN") == ({"Ref": topic} if name in DISPATCH_TOPIC else None)
    if name not in STATE_MACHINE_ACTIONS:
        assert "RESCUE_STATE_MACHINE_ARN" not in env
    elif name in WORKFLOW_FUNCTIONS:  # invoked by the machine: a Ref back would be a cycle
        assert env["RESCUE_STATE_MACHINE_ARN"] == machine_arn_by_name(synthesized)
    else:
        assert env["RESCUE_STATE_MACHINE_ARN"] == {"Ref": machine_id(synthesized)}


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_dispatch_settings_where_the_rescue_policy_is_built(synthesized: Synthesized, name: str) -> None:
    """sos, incidents and rescue_steps build the same rescue Policy: the same values, parsed as the code
    parses them, equal to the code's defaults."""
    env = {k: v for k, v in environment(synthesized, name).items() if isinstance(v, str)}
    dispatch = {"WAVE1_RADIUS_M", "WAVE2_SIZE", "WAVE_WAIT_SECONDS", "CPR_SLOTS", "CREDIT_POINTS"}
    if name not in DISPATCH_SETTINGS_FUNCTIONS:
        assert not dispatch & set(env)
        return
    assert dispatch <= set(env)
    assert json.loads(env["CREDIT_POINTS"]) == Settings.from_environ({}).credit_points
    assert Settings.from_environ(env) == Settings.from_environ({})


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_least_privilege(synthesized: Synthesized, name: str) -> None:
    role_id = role_of(synthesized, name)
    role = synthesized.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole
    assert "Policies" not in role
    statements = role_statements(synthesized, role_id)
    table_ids = {table_id(synthesized, m): m for m in {s.model for s in c.TABLES}}
    topic = synthesized.logical_id("Notifications/DispatchCentreTopic/Resource")
    key = synthesized.logical_id("Notifications/TopicKey/Resource")
    log_group = synthesized.resources[function_id(synthesized, name)]["Properties"]["LoggingConfig"][
        "LogGroup"
    ]
    table_actions: dict[Any, set[str]] = {}
    index_actions: dict[Any, set[str]] = {}
    stream_actions: dict[Any, set[str]] = {}
    wildcard: set[str] = set()
    other: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert (
            "Condition" not in statement and "NotAction" not in statement and "NotResource" not in statement
        )
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        assert all(not a.endswith("*") for a in actions), actions
        if resources == ["*"]:
            wildcard |= set(actions)
            continue
        assert "*" not in resources
        for action in actions:
            if not action.startswith("dynamodb:"):
                other.setdefault(action, []).extend(resources)
                continue
            for resource in resources:
                text = str(resource)
                assert "/index/*" not in text, "index access must name each index"
                (ref,) = referenced_ids(resource) & set(table_ids)
                if resource == {"Fn::GetAtt": [ref, "StreamArn"]}:
                    stream_actions.setdefault(table_ids[ref], set()).add(action)
                    continue
                target = index_actions if "/index/" in text else table_actions
                target.setdefault(table_ids[ref], set()).add(action)
    assert table_actions == EXPECTED_ACCESS[name]
    # Streams: read by the event source mappings through the role, each on its own ARN only.
    assert stream_actions == {m: STREAM_READ for m in STREAMS_READ.get(name, set())}
    # Index Queries exactly where the table is read, on every index the model has.
    assert index_actions == {
        m: INDEX_QUERY
        for m, actions in EXPECTED_ACCESS[name].items()
        if m in WITH_INDEXES and actions >= READ
    }
    assert wildcard == XRAY | ({"sns:Publish"} if name in DIRECT_PUBLISH else set())
    expected_other: dict[str, list[Any]] = {
        "logs:CreateLogStream": [{"Fn::GetAtt": [log_group["Ref"], "Arn"]}],
        "logs:PutLogEvents": [{"Fn::GetAtt": [log_group["Ref"], "Arn"]}],
    }
    if name in DISPATCH_TOPIC:
        expected_other["sns:Publish"] = [{"Ref": topic}]
        expected_other["kms:GenerateDataKey"] = [{"Fn::GetAtt": [key, "Arn"]}]
        expected_other["kms:Decrypt"] = [{"Fn::GetAtt": [key, "Arn"]}]
    if name in UPKEEP_TOPIC:
        expected_other["sns:Publish"] = [
            {"Ref": synthesized.logical_id("Notifications/AedUpkeepTopic/Resource")}
        ]
        expected_other["kms:GenerateDataKey"] = [{"Fn::GetAtt": [key, "Arn"]}]
        expected_other["kms:Decrypt"] = [{"Fn::GetAtt": [key, "Arn"]}]
    if name in REPORT_PHOTOS:
        bucket = synthesized.logical_id("ReportPhotos/Bucket/Resource")
        photos = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{c.PHOTO_PREFIX}*"]]}
        expected_other["s3:PutObject"] = [photos]
        expected_other["s3:GetObject"] = [photos]
    if name in CHECKIN_SECRET:
        secret = {"Ref": synthesized.logical_id("CheckinSecret/Secret/Resource")}
        expected_other["secretsmanager:GetSecretValue"] = [secret]
        expected_other["secretsmanager:DescribeSecret"] = [secret]
    if name == "credits_export":  # the exports' files under their prefix, and their signing secret
        bucket = synthesized.logical_id("CreditExports/Bucket/Resource")
        files = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{c.CREDIT_EXPORT_PREFIX}*"]]}
        expected_other["s3:PutObject"] = [files]
        expected_other["s3:GetObject"] = [files]
        signing = {"Ref": synthesized.logical_id("CreditExports/SigningSecret/Resource")}
        expected_other["secretsmanager:GetSecretValue"] = [signing]
        expected_other["secretsmanager:DescribeSecret"] = [signing]
    if name in CENTRE_SECRETS:  # exactly the stack's prefix for centres' secrets, from its partition
        prefix = {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":secretsmanager:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    f":secret:{c.STACK_NAME}/dispatch-centres/*",
                ],
            ]
        }
        for action in CENTRE_SECRETS[name]:
            expected_other[action] = [prefix]
    if name in SCHEDULED_FUNCTIONS:  # its asynchronous invocations' on-failure destination
        failed_runs = synthesized.logical_id("Schedules/FailedRuns/Resource")
        expected_other["sqs:SendMessage"] = [{"Fn::GetAtt": [failed_runs, "Arn"]}]

    def queue(path: str) -> dict[str, Any]:
        return {"Fn::GetAtt": [synthesized.logical_id(f"StatusWebhooks/{path}/Resource"), "Arn"]}

    if STATUS_CHANGES.get(name) == "send":
        expected_other["sqs:SendMessage"] = [queue("Changes")]
    if STATUS_CHANGES.get(name) == "consume":
        for action in (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        ):
            expected_other[action] = [queue("Changes")]
        expected_other["sqs:SendMessage"] = [queue("Parked")]  # a webhook failed for 24 h, parked
    if name in STREAMS_READ:  # its stream mappings' on-failure destination
        failures = synthesized.logical_id(f"{STREAM_FAILURES[name]}/Resource")
        expected_other["sqs:SendMessage"] = [
            *expected_other.get("sqs:SendMessage", []),
            {"Fn::GetAtt": [failures, "Arn"]},
        ]
    machine = (
        machine_arn_by_name(synthesized) if name in WORKFLOW_FUNCTIONS else {"Ref": machine_id(synthesized)}
    )
    for action in STATE_MACHINE_ACTIONS.get(name, set()):
        expected_other[action] = [machine]

    def normalized(found: dict[str, list[Any]]) -> dict[str, list[str]]:
        return {action: sorted(json.dumps(r, sort_keys=True) for r in rs) for action, rs in found.items()}

    assert normalized(other) == normalized(expected_other)


def granted(synthesized: Synthesized, name: str) -> set[tuple[str, str]]:
    """Every (action, resource) a function's role allows, whatever the statements' grouping."""
    return {
        (action, json.dumps(resource, sort_keys=True))
        for statement in role_statements(synthesized, role_of(synthesized, name))
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_no_push_without_the_context(synthesized: Synthesized, name: str) -> None:
    env = environment(synthesized, name)
    assert env.get("PUSH_APPLICATIONS") == ("{}" if name in REGISTER_PUSH else None)
    assert not {action for action, _ in granted(synthesized, name)} & {CREATE_ENDPOINT}


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_push_context_grants_exactly_its_applications(
    synthesized: Synthesized, synthesized_with_push: Synthesized, name: str
) -> None:
    """With push_applications={"fcm": <arn>}: the registering function gets the map and endpoint creation
    in that one application; nothing else changes, for it or any other function."""
    env = environment(synthesized_with_push, name)
    if name in REGISTER_PUSH:
        assert json.loads(env.pop("PUSH_APPLICATIONS")) == {"fcm": PUSH_FCM_ARN}
        without = environment(synthesized, name)
        without.pop("PUSH_APPLICATIONS")
        assert env == without
    else:
        assert env == environment(synthesized, name)
    added = granted(synthesized_with_push, name) - granted(synthesized, name)
    assert added == ({(CREATE_ENDPOINT, json.dumps(PUSH_FCM_ARN))} if name in REGISTER_PUSH else set())
    assert granted(synthesized, name) <= granted(synthesized_with_push, name)


@pytest.mark.infra
def test_push_platforms_are_the_device_routes(synthesized_with_push: Synthesized) -> None:
    from typing import get_args

    from shared.api.responders import DeviceBody

    # SNS platform applications carry the global profile's app platforms; JPush is the cn profile's push
    # provider (no SNS there), so its platform has no application to name.
    device_platforms = set(get_args(DeviceBody.model_fields["platform"].annotation))
    assert set(c.PUSH_PLATFORMS) == device_platforms - {PUSH_PROVIDER_CN}
    # The registering function reads the map as the code does.
    env = environment(synthesized_with_push, "responders")
    settings = Settings.from_environ({"PUSH_APPLICATIONS": env["PUSH_APPLICATIONS"]})
    assert settings.push_applications == {"fcm": PUSH_FCM_ARN}


APNS_ARN = "arn:aws-cn:sns:cn-north-1:123456789012:app/APNS_SANDBOX/rescue-nearby-apns"


@pytest.mark.infra
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ("", {}),
        ("{}", {}),
        ({}, {}),
        (json.dumps({"fcm": PUSH_FCM_ARN}), {"fcm": PUSH_FCM_ARN}),
        ({"apns": APNS_ARN, "fcm": PUSH_FCM_ARN}, {"apns": APNS_ARN, "fcm": PUSH_FCM_ARN}),
    ],
)
def test_push_context_accepts_a_json_string_or_an_object(value: Any, expected: dict[str, str]) -> None:
    from infra.constructs.notifications import push_applications

    assert push_applications(value) == expected


@pytest.mark.infra
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"fcm": ', "is not valid JSON"),
        ("arn:aws:sns:ap-southeast-1:123456789012:app/GCM/rescue-nearby-fcm", "is not valid JSON"),
        ([PUSH_FCM_ARN], "must be a JSON object"),
        ({"gcm": PUSH_FCM_ARN}, r"unknown platform\(s\) \['gcm'\]; allowed: \['apns', 'fcm'\]"),
        ({"fcm": "*"}, "'fcm' must be the ARN of an SNS platform application"),
        ({"fcm": "arn:aws:sns:ap-southeast-1:123456789012:rescue-topic"}, "'fcm' must be the ARN"),
        ({"apns": PUSH_FCM_ARN}, "'apns' must be the ARN of an SNS platform application of platform APNS"),
        ('{"fcm": null}', "'fcm' must be the ARN"),  # as a string: jsii drops a None in an object
    ],
)
def test_malformed_push_context_fails_synthesis(value: Any, message: str, tmp_path: Path) -> None:
    from infra.app import build_app

    with pytest.raises(ValueError, match=rf"CDK context 'push_applications'.*{message}"):
        build_app(outdir=str(tmp_path), context={**TEST_CONTEXT, "push_applications": value}).synth()


@pytest.mark.infra
def test_geo_index_queries_name_every_index(synthesized: Synthesized) -> None:
    from infra.constructs.data import model_schema

    gsis = {g["index_name"] for g in model_schema(GeoIndexModel)["global_secondary_indexes"]}
    geo = table_id(synthesized, GeoIndexModel)
    for name in ALL_FUNCTIONS:
        named = {
            part.removeprefix("/index/")
            for s in role_statements(synthesized, role_of(synthesized, name))
            for r in as_list(s["Resource"])
            if isinstance(r, dict) and "Fn::Join" in r and geo in referenced_ids(r)
            for part in r["Fn::Join"][1]
            if isinstance(part, str)
        }
        reads = EXPECTED_ACCESS[name].get(GeoIndexModel, set()) >= READ
        assert named == (gsis if reads else set()), name


@pytest.mark.infra
def test_only_the_api_invokes_route_functions_and_only_the_workflow_the_steps(
    synthesized: Synthesized,
) -> None:
    invoked = {
        p["Properties"]["FunctionName"]["Fn::GetAtt"][0]
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
    }
    assert invoked == {function_id(synthesized, name) for name in FUNCTIONS}
    assert all(
        p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
    )


@pytest.mark.infra
def test_all_functions_share_one_code_asset(synthesized: Synthesized) -> None:
    keys = {f["Properties"]["Code"]["S3Key"] for f in our_functions(synthesized).values()}
    assert len(keys) == 1, "all functions share one code asset"
    # CDK's handler has its own code: it must not be mistaken for (or replace) ours.
    (cdk_id,) = {synthesized.logical_id(path) for path in CDK_FUNCTIONS}
    assert synthesized.resources[cdk_id]["Properties"]["Code"]["S3Key"] not in keys


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"==", line)
            pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


@pytest.mark.infra
def test_layer_lock_agrees_with_pyproject() -> None:
    pyproject = tomllib.loads(Path(c.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = _pins([d for d in pyproject["project"]["dependencies"] if "==" in d])
    layer = _pins(c.LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    assert {k: layer.get(k) for k in wanted} == wanted
    # What the Lambda runtime ships must not be shadowed by the layer.
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & set(layer)


# ... and the cockpit's training figures: certificate_valid_years says which expiry months hold the
# certificates its period's passes issued (shared/logic/cockpit/training.py).
EXAM_SETTINGS_FUNCTIONS = {"certification_exams", "certification_certificates", "cockpit_training"}


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_exam_settings_where_certificates_are_issued_or_shown(synthesized: Synthesized, name: str) -> None:
    """Pass marks and certificate validity reach exactly the functions that issue and verify
    certificates (and the cockpit, which counts them), parsed as the code parses them, equal to the
    code's defaults (ops tune them there)."""
    env = {k: v for k, v in environment(synthesized, name).items() if isinstance(v, str)}
    names = {"PASS_MARKS", "CERTIFICATE_VALID_YEARS", "CERTIFICATE_VERIFY_URL"}
    if name not in EXAM_SETTINGS_FUNCTIONS:
        assert not names & set(env)
        return
    assert names <= set(env)
    defaults = Settings.from_environ({})
    parsed = Settings.from_environ(env)
    assert (parsed.pass_marks, parsed.certificate_valid_years) == (
        defaults.pass_marks,
        defaults.certificate_valid_years,
    )
