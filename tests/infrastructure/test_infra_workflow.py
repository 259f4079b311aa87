"""The state machine runs the repo's ASL file with every placeholder bound; topics are encrypted, SSL-only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared.workflow import ASL_PATH, PLACEHOLDERS
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def state_machine(synthesized: Synthesized) -> dict[str, Any]:
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    return machine["Properties"]


@pytest.mark.infra
def test_standard_traced_and_fully_logged(synthesized: Synthesized) -> None:
    props = state_machine(synthesized)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"


@pytest.mark.infra
def test_definition_is_the_asl_file_with_placeholders_substituted(synthesized: Synthesized) -> None:
    props = state_machine(synthesized)
    substitutions = props["DefinitionSubstitutions"]
    assert set(substitutions) == set(PLACEHOLDERS)
    assert substitutions["Partition"] == {"Ref": "AWS::Partition"}
    incidents = synthesized.logical_id("Data/IncidentsTable/Resource")
    assert substitutions["IncidentsTable"] == {"Ref": incidents}

    # The definition ships as an asset; CloudFormation fills ${...} from DefinitionSubstitutions at deploy
    # time. Do the same here, with each intrinsic rendered as a marker, and read the result.
    key = props["DefinitionS3Location"]["Key"]
    staged = (synthesized.outdir / f"asset.{key}").read_text(encoding="utf-8")
    assert json.loads(staged) == json.loads(ASL_PATH.read_text(encoding="utf-8"))
    rendered = staged
    for name, value in substitutions.items():
        rendered = rendered.replace(
            "${" + name + "}", f"<{json.dumps(value, sort_keys=True)}>".replace('"', "'")
        )
    assert "${" not in rendered
    definition = json.loads(rendered)
    asl = json.loads(ASL_PATH.read_text(encoding="utf-8"))
    assert definition["StartAt"] == asl["StartAt"]
    assert set(definition["States"]) == set(asl["States"])
    tables = {
        s["Parameters"]["TableName"]
        for s in definition["States"].values()
        if s.get("Resource", "").endswith(":dynamodb:updateItem")
    }
    assert tables == {f"<{{'Ref': '{incidents}'}}>"}
    resources = {s["Resource"] for s in definition["States"].values() if "Resource" in s}
    assert all(re.fullmatch(r"arn:<\{'Ref': 'AWS::Partition'\}>:states:::[\w:.]+", r) for r in resources)


@pytest.mark.infra
def test_workflow_may_update_incidents_and_tell_the_dispatch_centre_only(synthesized: Synthesized) -> None:
    role_id = state_machine(synthesized)["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action: dict[str, list[Any]] = {}
    for s in statements:
        for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            by_action.setdefault(action, []).append(s["Resource"])
    incidents = synthesized.logical_id("Data/IncidentsTable/Resource")
    assert [a for a in by_action if a.startswith("dynamodb:")] == ["dynamodb:UpdateItem"]
    assert by_action["dynamodb:UpdateItem"] == [{"Fn::GetAtt": [incidents, "Arn"]}]
    topic = synthesized.logical_id("Notifications/DispatchCentreTopic/Resource")
    assert by_action["sns:Publish"] == [{"Ref": topic}]


@pytest.mark.infra
def test_topics_encrypted_with_a_rotated_key_and_ssl_only(synthesized: Synthesized) -> None:
    topics = synthesized.of_type("AWS::SNS::Topic")
    assert topics
    policies = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    for topic_id, topic in topics.items():
        key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        assert synthesized.resources[key_id]["Properties"]["EnableKeyRotation"] is True
        denies = [
            s
            for p in policies
            if {"Ref": topic_id} in p["Properties"]["Topics"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
        ]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), topic_id
