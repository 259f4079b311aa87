"""The status webhooks to the 120 dispatch centres in the synthesized template (global and cn profiles):
the incidents' and events' streams (keys only) mapped to dispatch_changes, which may only queue runs on the
FIFO queue of changed incidents; that queue mapped to dispatch_webhooks, which may take its messages (and set
their visibility: the back-off) and park a webhook on the FIFO dead-letter queue; every queue encrypted and
TLS-only; both dead-letter queues alarmed; nobody else touches any of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c
from shared.config import env_name
from shared.dal.models.rescue import AlertModel, EventModel, IncidentModel
from shared.dal.tables import ALL_MODELS
from shared.routes import EVENT_FUNCTIONS, QUEUE_SOURCES, STREAM_SOURCES
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.test_infra_functions import (
    ALL_FUNCTIONS,
    as_list,
    environment,
    function_id,
    referenced_ids,
    role_of,
    role_statements,
    table_id,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PROFILES = ["synthesized", "synthesized_cn"]
CHANGES, PARKED, STREAM_FAILURES = "Changes", "Parked", "StreamFailures"
# Written out, not read from the code: widening anyone's access to the queues must fail here.
SEND = {"sqs:SendMessage"}
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
}
QUEUE_ACCESS: dict[str, dict[str, set[str]]] = {
    "dispatch_centres": {CHANGES: SEND},  # an admin's replay queues a run
    "dispatch_changes": {CHANGES: SEND, STREAM_FAILURES: SEND},  # + its mappings' on-failure destination
    "dispatch_webhooks": {CHANGES: CONSUME, PARKED: SEND},
}
STREAM_READ = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
CHANGES_URL, PARKED_URL = "STATUS_CHANGES_QUEUE_URL", "STATUS_PARKED_QUEUE_URL"
# Who reads which table's stream (through its event source mappings), written out: the status webhooks'
# trigger, and the cockpit's summaries (infra/constructs/cockpit.py, tested in test_infra_cockpit.py).
STREAM_READERS = {
    "dispatch_changes": {IncidentModel, EventModel},
    "cockpit_changes": {IncidentModel, AlertModel, EventModel},
}


@pytest.fixture(params=PROFILES)
def synth(request: pytest.FixtureRequest) -> Synthesized:
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized


def queue_id(s: Synthesized, name: str) -> str:
    return s.logical_id(f"StatusWebhooks/{name}/Resource")


def queue_props(s: Synthesized, name: str) -> dict[str, Any]:
    return dict(s.resources[queue_id(s, name)]["Properties"])


def mappings(s: Synthesized, function: str) -> list[dict[str, Any]]:
    fn = function_id(s, function)
    return [
        r
        for r in s.of_type("AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": fn}
    ]


def function_props(s: Synthesized, name: str) -> dict[str, Any]:
    return dict(s.resources[function_id(s, name)]["Properties"])


def test_the_functions_and_their_sources_are_these() -> None:
    assert {(x.function, x.tables) for x in STREAM_SOURCES} == {
        ("dispatch_changes", ("incidents_table", "events_table")),
        ("cockpit_changes", ("incidents_table", "alerts_table", "events_table")),
    }
    assert {(x.function, x.queue, x.batch_size) for x in QUEUE_SOURCES} == {
        ("dispatch_webhooks", "status_changes_queue_url", 10)
    }
    assert (
        set(EVENT_FUNCTIONS)
        == {"dispatch_changes", "dispatch_webhooks", "cockpit_changes"}
        <= set(ALL_FUNCTIONS)
    )
    assert (env_name("status_changes_queue_url"), env_name("status_parked_queue_url")) == (
        CHANGES_URL,
        PARKED_URL,
    )


def test_both_queues_are_fifo_encrypted_and_the_changes_redrive_to_the_parked(synth: Synthesized) -> None:
    changes, parked = queue_props(synth, CHANGES), queue_props(synth, PARKED)
    for props in (changes, parked):
        assert props["FifoQueue"] is True
        assert props["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in props  # SSE-SQS: no key for the functions to be granted
    assert changes["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [queue_id(synth, PARKED), "Arn"]},
        "maxReceiveCount": 60,  # a backstop: the code parks a webhook itself after 24 h (~30 receives)
    }
    assert "RedrivePolicy" not in parked
    assert changes["MessageRetentionPeriod"] >= 4 * 86400  # a webhook is tried for 24 h from the send
    assert parked["MessageRetentionPeriod"] == 14 * 86400
    # AWS's advice for a Lambda event source: at least 6 times the function's timeout.
    timeout = function_props(synth, "dispatch_webhooks")["Timeout"]
    assert changes["VisibilityTimeout"] >= 6 * timeout


def test_the_stream_failures_queue_is_standard_encrypted_and_kept(synth: Synthesized) -> None:
    props = queue_props(synth, STREAM_FAILURES)
    assert "FifoQueue" not in props  # a stream mapping's on-failure destination cannot be FIFO
    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == 14 * 86400


@pytest.mark.parametrize("name", [CHANGES, PARKED, STREAM_FAILURES])
def test_every_queue_refuses_plain_http_and_allows_nobody_by_policy(synth: Synthesized, name: str) -> None:
    qid = queue_id(synth, name)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::SQS::QueuePolicy").values()
        if {"Ref": qid} in p["Properties"]["Queues"]
    ]
    (statements,) = policies
    assert [s["Effect"] for s in statements] == ["Deny"]  # no Allow: only the roles' grants reach it
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_webhooks_function_has_time_for_its_posts(synth: Synthesized) -> None:
    """Up to ~15 webhooks at 5 s each in one run: 90 s; the trigger only queues (30 s)."""
    webhooks, changes = function_props(synth, "dispatch_webhooks"), function_props(synth, "dispatch_changes")
    assert webhooks["Timeout"] == c.EVENT_FUNCTION_TIMEOUTS_S["dispatch_webhooks"] == 90
    assert changes["Timeout"] == c.EVENT_FUNCTION_TIMEOUTS_S["dispatch_changes"] == 30
    for props in (webhooks, changes):
        assert props["Description"].endswith("(status webhooks)")


def test_the_streams_feed_dispatch_changes(synth: Synthesized) -> None:
    found = mappings(synth, "dispatch_changes")
    sources = [m["Properties"]["EventSourceArn"] for m in found]
    assert sorted(sources, key=json.dumps) == sorted(
        ({"Fn::GetAtt": [table_id(synth, m), "StreamArn"]} for m in (IncidentModel, EventModel)),
        key=json.dumps,
    )
    failures = {"Fn::GetAtt": [queue_id(synth, STREAM_FAILURES), "Arn"]}
    for mapping in found:
        props = mapping["Properties"]
        assert props["StartingPosition"] == "LATEST"
        assert props["BatchSize"] == 100
        assert props.get("MaximumBatchingWindowInSeconds", 0) == 0
        assert props["BisectBatchOnFunctionError"] is True
        assert (
            0 <= props["MaximumRetryAttempts"] <= 10
        )  # bounded (Lambda's default: until the record expires)
        assert props["DestinationConfig"] == {"OnFailure": {"Destination": failures}}
        # The handler raises on failure (the batch again): no partial batch responses.
        assert "FunctionResponseTypes" not in props
        # DynamoDB mappings filter on the `dynamodb` key only: the handler skips removals itself.
        assert "FilterCriteria" not in props
        assert props.get("Enabled", True) is True
        # The role's grants exist before Lambda checks them (it does when the mapping is created).
        assert mapping["DependsOn"] == [
            synth.logical_id("Functions/Dispatch_Changes/Role/DefaultPolicy/Resource")
        ]


def test_the_changes_queue_feeds_dispatch_webhooks(synth: Synthesized) -> None:
    (mapping,) = mappings(synth, "dispatch_webhooks")
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id(synth, CHANGES), "Arn"]}
    assert props["BatchSize"] == QUEUE_SOURCES[0].batch_size == 10
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumBatchingWindowInSeconds" not in props  # FIFO queues take none
    assert props.get("Enabled", True) is True
    assert mapping["DependsOn"] == [
        synth.logical_id("Functions/Dispatch_Webhooks/Role/DefaultPolicy/Resource")
    ]


def test_no_other_event_source_mapping(synth: Synthesized) -> None:
    # dispatch_changes: 2 streams; dispatch_webhooks: the changes queue; cockpit_changes: 3 streams.
    assert len(synth.of_type("AWS::Lambda::EventSourceMapping")) == 6
    fed = {
        m["Properties"]["FunctionName"]["Ref"]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    assert fed == {function_id(synth, name) for name in EVENT_FUNCTIONS}


def test_streams_keys_only_on_exactly_the_incidents_alerts_and_events_tables(synth: Synthesized) -> None:
    streams = {
        model: spec
        for model in ALL_MODELS
        if (spec := synth.resources[table_id(synth, model)]["Properties"].get("StreamSpecification"))
    }
    assert streams == {
        IncidentModel: {"StreamViewType": "KEYS_ONLY"},
        AlertModel: {"StreamViewType": "KEYS_ONLY"},  # the cockpit's summaries count alerts
        EventModel: {"StreamViewType": "KEYS_ONLY"},
    }
    # Each stream is read by some consumer, and only streams that exist are read.
    assert set(streams) == set().union(*STREAM_READERS.values())
    # One source of truth: the model's Meta (what pynamodb and the local runtime create the table with).
    for model in ALL_MODELS:
        view = getattr(model.Meta, "stream_view_type", None)
        assert streams.get(model) == ({"StreamViewType": view} if view else None), model.__name__


def queue_grants(s: Synthesized, role_id: str) -> dict[str, set[str]]:
    """Queue name → the SQS actions the role's policies allow on it."""
    names = {queue_id(s, n): n for n in (CHANGES, PARKED, STREAM_FAILURES)}
    found: dict[str, set[str]] = {}
    for statement in role_statements(s, role_id):
        for resource in as_list(statement["Resource"]):
            for ref in referenced_ids(resource) & set(names):
                found.setdefault(names[ref], set()).update(as_list(statement["Action"]))
    return found


def test_the_queues_are_reached_exactly_by_these_functions_with_these_actions(synth: Synthesized) -> None:
    for name in ALL_FUNCTIONS:
        assert queue_grants(synth, role_of(synth, name)) == QUEUE_ACCESS.get(name, {}), name
    # Nor any other role in the stack (the API's, the workflow's, the schedules'...).
    roles = set(synth.of_type("AWS::IAM::Role")) - {role_of(synth, name) for name in ALL_FUNCTIONS}
    for role in roles:
        assert queue_grants(synth, role) == {}, role
    # No wildcard SQS action or resource anywhere.
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = as_list(statement["Action"])
            if any(a.startswith("sqs:") for a in actions):
                assert "*" not in as_list(statement["Resource"]) and "sqs:*" not in actions


def test_dispatch_changes_reads_the_streams_and_no_table(synth: Synthesized) -> None:
    statements = role_statements(synth, role_of(synth, "dispatch_changes"))
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert {a for s in dynamodb for a in as_list(s["Action"])} == STREAM_READ
    resources = sorted((r for s in dynamodb for r in as_list(s["Resource"])), key=json.dumps)
    assert resources == sorted(
        ({"Fn::GetAtt": [table_id(synth, m), "StreamArn"]} for m in (IncidentModel, EventModel)),
        key=json.dumps,
    )
    env = environment(synth, "dispatch_changes")
    assert not {k for k in env if k.endswith("_TABLE")}


def test_only_the_mapped_function_reads_a_stream(synth: Synthesized) -> None:
    """A stream is read by the roles of the functions mapped to it, exactly those streams, nobody else."""
    tables = {table_id(synth, m): m for m in ALL_MODELS}
    readers = {role_of(synth, name): name for name in STREAM_READERS}
    read: dict[str, set[Any]] = {}
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if set(as_list(statement["Action"])) & STREAM_READ:
                assert set(as_list(statement["Action"])) <= STREAM_READ
                assert "*" not in as_list(statement["Resource"])  # never ListStreams on "*"
                (role,) = policy["Properties"]["Roles"]
                assert role["Ref"] in readers, role
                for resource in as_list(statement["Resource"]):
                    (ref,) = referenced_ids(resource)
                    assert resource == {"Fn::GetAtt": [ref, "StreamArn"]}
                    read.setdefault(readers[role["Ref"]], set()).add(tables[ref])
    assert read == STREAM_READERS
    # ... and each function's mappings are on exactly the streams it reads.
    for name, models in STREAM_READERS.items():
        sources = sorted((m["Properties"]["EventSourceArn"] for m in mappings(synth, name)), key=json.dumps)
        assert sources == sorted(
            ({"Fn::GetAtt": [table_id(synth, m), "StreamArn"]} for m in models), key=json.dumps
        ), name


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_environment_names_the_queues_it_may_use(synth: Synthesized, name: str) -> None:
    env = environment(synth, name)
    access = set().union(*QUEUE_ACCESS.get(name, {}).values())
    changes, parked = {"Ref": queue_id(synth, CHANGES)}, {"Ref": queue_id(synth, PARKED)}
    assert env.get(CHANGES_URL) == (changes if access else None)
    assert env.get(PARKED_URL) == (parked if name == "dispatch_webhooks" else None)


@pytest.mark.parametrize(
    ("alarm_id", "queue"),
    [("DeadLettersStatusWebhooksParked", PARKED), ("DeadLettersStatusStreamFailures", STREAM_FAILURES)],
)
def test_both_dead_letter_queues_are_alarmed(synth: Synthesized, alarm_id: str, queue: str) -> None:
    props = synth.resources[synth.logical_id(f"Alarms/{alarm_id}/Resource")]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id(synth, queue), "QueueName"]}}
    ]
    assert (props["Statistic"], props["Threshold"]) == ("Maximum", 1)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["AlarmActions"] == [{"Ref": synth.logical_id("Alarms/Topic/Resource")}]
    description = props["AlarmDescription"]
    assert "scheduled run" not in description and "docs/deploy.md" in description
    assert "dispatch centre" in description or "dispatch_changes" in description


def test_the_runbook_queues_are_outputs(synth: Synthesized) -> None:
    outputs = synth.template["Outputs"]
    for output, queue in (
        ("StatusChangesQueueUrl", CHANGES),
        ("StatusParkedQueueUrl", PARKED),
        ("StatusStreamFailuresQueueUrl", STREAM_FAILURES),
    ):
        assert outputs[output]["Value"] == {"Ref": queue_id(synth, queue)}
