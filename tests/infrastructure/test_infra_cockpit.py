"""The Red Cross cockpit's rescue summaries in the synthesized template (global and cn profiles,
infra/constructs/cockpit.py): the incidents', alerts' and events' streams (keys only) mapped to
cockpit_changes, whose failing batches are described on an on-failure queue of its own, encrypted,
TLS-only, alarmed, a stack output for the runbook, reached by no other role. Its table grants are in
test_infra_functions.py (EXPECTED_ACCESS, STREAMS_READ), the streams' readers in
test_infra_dispatch_webhooks.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c
from shared.dal.models.rescue import AlertModel, EventModel, IncidentModel
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.test_infra_dispatch_webhooks import mappings
from tests.infrastructure.test_infra_functions import (
    ALL_FUNCTIONS,
    as_list,
    function_id,
    referenced_ids,
    role_of,
    role_statements,
    table_id,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

CONSUMER = "cockpit_changes"
FAILURES = "Cockpit/StreamFailures"


@pytest.fixture(params=["synthesized", "synthesized_cn"])
def synth(request: pytest.FixtureRequest) -> Synthesized:
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized


def failures_id(s: Synthesized) -> str:
    return s.logical_id(f"{FAILURES}/Resource")


def test_the_streams_feed_cockpit_changes(synth: Synthesized) -> None:
    found = mappings(synth, CONSUMER)
    sources = [m["Properties"]["EventSourceArn"] for m in found]
    assert sorted(sources, key=json.dumps) == sorted(
        ({"Fn::GetAtt": [table_id(synth, m), "StreamArn"]} for m in (IncidentModel, AlertModel, EventModel)),
        key=json.dumps,
    )
    failures = {"Fn::GetAtt": [failures_id(synth), "Arn"]}
    for mapping in found:
        props = mapping["Properties"]
        assert props["StartingPosition"] == "LATEST"
        assert props["BatchSize"] == 100
        assert props.get("MaximumBatchingWindowInSeconds", 0) == 0
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 <= props["MaximumRetryAttempts"] <= 10  # bounded, then described and skipped
        assert props["DestinationConfig"] == {"OnFailure": {"Destination": failures}}
        assert "FunctionResponseTypes" not in props  # the handler raises: the batch again
        assert "FilterCriteria" not in props  # keys-only records: the handler skips removals itself
        assert props.get("Enabled", True) is True
        # The role's grants (stream reads, the on-failure queue) exist before Lambda checks them.
        assert mapping["DependsOn"] == [
            synth.logical_id("Functions/Cockpit_Changes/Role/DefaultPolicy/Resource")
        ]


def test_the_consumer_has_its_timeout_and_says_what_it_is(synth: Synthesized) -> None:
    props = synth.resources[function_id(synth, CONSUMER)]["Properties"]
    assert props["Timeout"] == c.EVENT_FUNCTION_TIMEOUTS_S[CONSUMER] == 60
    assert props["Description"] == "Rescue Nearby: cockpit_changes (cockpit summaries)"


def test_the_failures_queue_is_standard_encrypted_kept_and_tls_only(synth: Synthesized) -> None:
    props = synth.resources[failures_id(synth)]["Properties"]
    assert "FifoQueue" not in props  # a stream mapping's on-failure destination cannot be FIFO
    assert props["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in props
    assert props["MessageRetentionPeriod"] == 14 * 86400
    (statements,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::SQS::QueuePolicy").values()
        if {"Ref": failures_id(synth)} in p["Properties"]["Queues"]
    ]
    assert [s["Effect"] for s in statements] == ["Deny"]  # no Allow: only the role's grant reaches it
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_consumer_may_send_to_the_failures_queue(synth: Synthesized) -> None:
    def grants(role_id: str) -> set[str]:
        return {
            action
            for statement in role_statements(synth, role_id)
            for resource in as_list(statement["Resource"])
            if failures_id(synth) in referenced_ids(resource)
            for action in as_list(statement["Action"])
        }

    for name in ALL_FUNCTIONS:
        assert grants(role_of(synth, name)) == ({"sqs:SendMessage"} if name == CONSUMER else set()), name
    others = set(synth.of_type("AWS::IAM::Role")) - {role_of(synth, name) for name in ALL_FUNCTIONS}
    for role in others:
        assert grants(role) == set(), role


def test_the_failures_queue_is_alarmed_with_its_runbook(synth: Synthesized) -> None:
    props = synth.resources[synth.logical_id("Alarms/DeadLettersCockpitStreamFailures/Resource")][
        "Properties"
    ]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [failures_id(synth), "QueueName"]}}
    ]
    assert (props["Statistic"], props["Threshold"]) == ("Maximum", 1)
    assert props["AlarmActions"] == [{"Ref": synth.logical_id("Alarms/Topic/Resource")}]
    description: Any = props["AlarmDescription"]
    assert "cockpit" in description and "cockpit_changes" in description and "docs/deploy.md" in description
    assert "dispatch centre" not in description  # not the status webhooks' runbook
    output = synth.template["Outputs"]["CockpitStreamFailuresQueueUrl"]
    assert output["Value"] == {"Ref": failures_id(synth)}
