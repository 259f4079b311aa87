"""The embedded Step Functions parses the rescue's ASL once per definition (local_runtime/aws.py), and each
execution still gets a program of its own: two rescues running at once share no state machine component,
and a component's per-execution heap key taken by one execution is not the other's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from local_runtime import aws
from shared.workflow import render

DEFINITION = render(
    {
        "Partition": "aws-cn",
        "IncidentsTable": "rescue-nearby-incidents",
        "RescueStepsFunctionArn": "arn:aws-cn:lambda:cn-north-1:123456789012:function:rescue_steps",
    }
)


def _worker(definition: str) -> Any:
    """What the entry point reads of an ExecutionWorker: its state machine's definition."""
    details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
    return SimpleNamespace(_evaluation_details=details)


def _components(program: Any) -> list[Component]:
    """Every state machine component reachable from the program."""
    found: dict[int, Component] = {}
    todo = [program]
    while todo:
        value = todo.pop()
        if isinstance(value, (list, tuple, set, frozenset)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, Component) and id(value) not in found:
            found[id(value)] = value
            todo.extend(vars(value).values())
    return list(found.values())


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The definitions moto's parser was asked to parse."""
    aws._parse_each_definition_once()
    calls: list[str] = []
    parse = AmazonStateLanguageParser.parse

    def counted(definition: str) -> Any:
        calls.append(definition)
        return parse(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counted))
    return calls


def test_each_execution_gets_its_own_program_from_one_parse(parses):
    # A definition no other test has parsed: the process-wide cache holds nothing for it yet.
    definition = DEFINITION.replace('"Comment": "', '"Comment": "asl parsed once: ', 1)
    assert definition != DEFINITION
    first = ExecutionWorker._get_evaluation_entrypoint(_worker(definition))  # type: ignore[arg-type]
    second = ExecutionWorker._get_evaluation_entrypoint(_worker(definition))  # type: ignore[arg-type]
    assert parses == [definition]  # parsed for the first execution only

    ours, theirs = _components(first), _components(second)
    assert len(ours) == len(theirs) > 20  # the whole program, each time
    assert not {id(c) for c in ours} & {id(c) for c in theirs}
    # The first execution's components take their heap keys (the interpreter does so as it runs them)
    ours_evaluated = [c for c in ours if isinstance(c, EvalComponent)]
    assert {c.heap_key for c in ours_evaluated}.isdisjoint(
        c.heap_key for c in theirs if isinstance(c, EvalComponent)
    )


def test_another_definition_is_parsed_for_itself(parses):
    one = DEFINITION.replace('"Comment": "', '"Comment": "asl one: ', 1)
    other = DEFINITION.replace('"Comment": "', '"Comment": "asl other: ', 1)
    ExecutionWorker._get_evaluation_entrypoint(_worker(one))  # type: ignore[arg-type]
    program = ExecutionWorker._get_evaluation_entrypoint(_worker(other))  # type: ignore[arg-type]
    assert parses == [one, other]
    assert program.comment.comment.startswith("asl other: ")
