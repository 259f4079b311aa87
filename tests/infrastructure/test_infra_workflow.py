"""The state machine runs the repo's ASL file with every placeholder bound, may invoke only its steps
function and update only incidents, and nothing in the template depends on itself; topics are encrypted,
SSL-only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import constants as c
from shared.routes import WORKFLOW_FUNCTIONS
from shared.workflow import ASL_PATH, PLACEHOLDERS
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def state_machine(synthesized: Synthesized) -> dict[str, Any]:
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    return machine["Properties"]


def steps_function(synthesized: Synthesized) -> str:
    return synthesized.logical_id("Functions/Rescue_Steps/Function/Resource")


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
    steps = steps_function(synthesized)
    assert substitutions["RescueStepsFunctionArn"] == {"Fn::GetAtt": [steps, "Arn"]}

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
    invoked = {
        s["Parameters"]["FunctionName"]
        for s in definition["States"].values()
        if ":lambda:invoke" in s.get("Resource", "")
    }
    assert invoked == {f"<{{'Fn::GetAtt': ['{steps}', 'Arn']}}>"}
    # The closure wait hands the steps function a task token (resumed with SendTaskSuccess).
    assert any(
        s.get("Resource", "").endswith(":lambda:invoke.waitForTaskToken")
        and s["Parameters"]["Payload"].get("token.$") == "$$.Task.Token"
        for s in definition["States"].values()
    )


@pytest.mark.infra
def test_workflow_may_invoke_its_steps_and_update_incidents_only(synthesized: Synthesized) -> None:
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
    specific = {a: r for a, r in by_action.items() if r != ["*"]}
    assert specific == {
        "dynamodb:UpdateItem": [{"Fn::GetAtt": [incidents, "Arn"]}],
        # The unqualified ARN the ASL names: no "<arn>:*" for versions and aliases.
        "lambda:InvokeFunction": [{"Fn::GetAtt": [steps_function(synthesized), "Arn"]}],
    }
    # What is left on "*" is log delivery and X-Ray only (acknowledged, see test_infra_compliance).
    assert all(a.startswith(("logs:", "xray:")) for a in set(by_action) - set(specific))
    assert "sns:Publish" not in by_action  # the steps function tells the dispatch centre, not the machine


@pytest.mark.infra
def test_state_machine_is_named_so_its_steps_can_resume_it(synthesized: Synthesized) -> None:
    """The steps function gets the machine's ARN written from this name (a Ref would be a cycle)."""
    assert WORKFLOW_FUNCTIONS == ("rescue_steps",)
    name = state_machine(synthesized)["StateMachineName"]
    assert name == f"{c.STACK_NAME}-{c.STATE_MACHINE_NAME_SUFFIX}"
    assert re.fullmatch(r"[\w-]{1,80}", name)
    env = synthesized.resources[steps_function(synthesized)]["Properties"]["Environment"]["Variables"]
    arn = env["RESCUE_STATE_MACHINE_ARN"]
    assert arn["Fn::Join"][1][-1] == f":stateMachine:{name}"
    assert {v["Ref"] for v in arn["Fn::Join"][1] if isinstance(v, dict)} == {
        "AWS::Partition",
        "AWS::Region",
        "AWS::AccountId",
    }


def dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    """Logical id -> the logical ids it refers to (Ref, GetAtt, Sub, DependsOn); pseudo parameters out."""

    def refs(value: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(value, dict):
            if isinstance(value.get("Ref"), str):
                found.add(value["Ref"])
            if "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                found.add(target[0] if isinstance(target, list) else target.split(".")[0])
            if isinstance(value.get("Fn::Sub"), str):
                found |= set(re.findall(r"\$\{([\w]+)", value["Fn::Sub"]))
            for item in value.values():
                found |= refs(item)
        elif isinstance(value, list):
            for item in value:
                found |= refs(item)
        return found

    graph = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        targets = refs(resource.get("Properties", {})) | set(
            depends_on if isinstance(depends_on, list) else [depends_on]
        )
        graph[logical_id] = {t for t in targets if t in resources}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.infra
def test_no_dependency_cycle(synthesized: Synthesized) -> None:
    """The machine names the steps function, and the steps function may resume the machine: the second
    must not be a reference, or CloudFormation refuses the template."""
    graph = dependencies(synthesized.resources)
    assert find_cycle(graph) is None
    machine = synthesized.logical_id("Workflow/StateMachine/Resource")
    assert steps_function(synthesized) in graph[machine]

    # Can fail: the obvious way to hand the steps function the machine's ARN closes a loop.
    broken = json.loads(json.dumps(synthesized.resources))
    broken[steps_function(synthesized)]["Properties"]["Environment"]["Variables"][
        "RESCUE_STATE_MACHINE_ARN"
    ] = {"Ref": machine}
    assert find_cycle(dependencies(broken)) is not None


@pytest.mark.infra
def test_missing_placeholder_value_fails_synthesis() -> None:
    from infra.constructs.rescue import substitutions

    available = {name: "x" for name in PLACEHOLDERS}
    assert substitutions(available) == available
    del available["RescueStepsFunctionArn"]
    with pytest.raises(ValueError, match="RescueStepsFunctionArn"):
        substitutions(available)


@pytest.mark.infra
def test_a_function_without_grants_fails_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    import aws_cdk as cdk

    from infra.constructs.data import DataTables
    from infra.constructs.functions import Functions
    from infra.constructs.notifications import Notifications

    grants = {k: v for k, v in c.FUNCTION_GRANTS.items() if k != "rescue_steps"}
    monkeypatch.setattr(c, "FUNCTION_GRANTS", grants)
    stack = cdk.Stack(cdk.App())
    with pytest.raises(ValueError, match="rescue_steps"):
        Functions(stack, "F", data=DataTables(stack, "D"), notifications=Notifications(stack, "N"))


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


def deployed_states(synthesized: Synthesized) -> dict[str, Any]:
    """The states of the definition the stack deploys (its staged asset, placeholders left in)."""
    key = state_machine(synthesized)["DefinitionS3Location"]["Key"]
    staged = json.loads((synthesized.outdir / f"asset.{key}").read_text(encoding="utf-8"))
    return dict(staged["States"])


def catchers(state: dict[str, Any]) -> dict[str, str]:
    return {error: c["Next"] for c in state.get("Catch", []) for error in c["ErrorEquals"]}


@pytest.mark.infra
def test_the_closure_wait_retries_lambda_errors_but_not_its_timeout(synthesized: Synthesized) -> None:
    await_closure = deployed_states(synthesized)["AwaitClosure"]
    (retry,) = await_closure["Retry"]
    # States.TaskFailed: the function's errors and Lambda's; never States.Timeout (nobody closed it).
    assert retry["ErrorEquals"] == ["States.TaskFailed"] and retry["MaxAttempts"] >= 3
    assert catchers(await_closure) == {"States.Timeout": "ExpireIfStillOpen", "States.ALL": "WaitToExpire"}
    assert await_closure["Catch"][0]["ErrorEquals"] == ["States.Timeout"]  # matched first


@pytest.mark.infra
@pytest.mark.parametrize(
    ("name", "then"),
    [
        ("AssessWave1", "Wave2"),  # cannot tell: more help, the wave step checks the incident itself
        ("AssessWave2", "Unanswered"),
        ("Unanswered", "AwaitClosure"),
        ("ExpireIfStillOpen", "Finish"),
        ("Finish", "FinishLater"),
    ],
)
def test_a_step_failed_through_its_retries_is_caught(synthesized: Synthesized, name: str, then: str) -> None:
    state = deployed_states(synthesized)[name]
    assert state["Retry"]
    assert catchers(state)["States.ALL"] == then
    assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"]


@pytest.mark.infra
def test_every_failure_leads_to_a_finish(synthesized: Synthesized) -> None:
    """Every task either catches every error or is the last finish, and from every state a path leads
    to a state that runs the finish step: no failure ends a rescue without stand-downs, the AED's
    release and the credits."""
    states = deployed_states(synthesized)
    assert not [n for n, s in states.items() if s["Type"] == "Fail"]

    def successors(state: dict[str, Any]) -> set[str]:
        found = {state["Next"]} if "Next" in state else set()
        found |= {c["Next"] for c in state.get("Choices", [])} | (
            {state["Default"]} if "Default" in state else set()
        )
        return found | {c["Next"] for c in state.get("Catch", [])}

    def finishes(state: dict[str, Any]) -> bool:
        return bool(state.get("Parameters", {}).get("Payload", {}).get("action") == "finish")

    # The one task allowed to fail the execution: the finish run again after a failed one.
    last = [n for n, s in states.items() if s["Type"] == "Task" and "States.ALL" not in catchers(s)]
    assert last == ["FinishAgain"]
    for name in states:
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += sorted(successors(states[current]))
        assert any(finishes(states[n]) for n in seen), f"{name} never reaches a finish"
    # The finish runs once more after a pause, then the execution fails (alarmed) for a redrive.
    assert states["FinishLater"]["Type"] == "Wait" and states["FinishLater"]["Next"] == "FinishAgain"
    assert finishes(states["FinishAgain"]) and states["FinishAgain"]["End"] is True
    assert states["FinishAgain"]["Retry"] and "Catch" not in states["FinishAgain"]


@pytest.mark.infra
def test_the_dispatch_centre_subscribes_through_the_context(synthesized_with_push: Synthesized) -> None:
    from tests.infrastructure.conftest import DISPATCH_CENTRE_ENDPOINT

    topic = synthesized_with_push.logical_id("Notifications/DispatchCentreTopic/Resource")
    found = [
        (r["Properties"]["Protocol"], r["Properties"]["Endpoint"])
        for r in synthesized_with_push.of_type("AWS::SNS::Subscription").values()
        if r["Properties"]["TopicArn"] == {"Ref": topic}
    ]
    assert found == [("https", DISPATCH_CENTRE_ENDPOINT)]
