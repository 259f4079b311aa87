"""Stopping the embedded AWS (the end of every test, Ctrl-C on `make run`) ends the rescue executions it
runs, whatever each is doing at that moment, and quietly. One left running would send its next task to
moto's server-mode address (http://localhost:5000) or to the real endpoints, print a States.Runtime dump
for each failure into the output, or, after the next start, run against another test's tables."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ServiceResource
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.stepfunctions.parser.utils import TMP_THREADS

from local_runtime import lambda_adapter
from tests.conftest import Api
from tests.integration.rescue_helpers import until


class Embedded:
    """The embedded AWS, stopped by the test itself (the fixture stops it only if the test did not)."""

    def __init__(self) -> None:
        from local_runtime import aws

        self.complaints = Complaints()
        self.threads_before = len(TMP_THREADS)
        self.running = aws.start()
        self.stopped = False
        self.executions: list[Any] = []

    def stop(self) -> None:
        backend = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID]["cn-north-1"]
        # Held here: the mock forgets its executions when it stops.
        self.executions = list(backend.describe_state_machine(self.running.state_machine_arn).executions)
        self.complaints.records.clear()
        self.stopped = True
        self.running.stop()

    def assert_ended(self, ended_as: tuple[str, ...] = ("ABORTED",)) -> None:
        """No interpreter thread moto started since this embedded AWS started still runs, every
        execution has ended, and moto's interpreter complained of nothing meanwhile."""
        started: list[threading.Thread] = TMP_THREADS[self.threads_before :]
        for thread in started:
            thread.join(timeout=2.0)
        assert [thread.name for thread in started if thread.is_alive()] == []
        assert [e.status in ended_as for e in self.executions] == [True], [e.status for e in self.executions]
        assert [r.getMessage()[:200] for r in self.complaints.records] == []


class Complaints(logging.Handler):
    """What moto's Step Functions interpreter logs at WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def embedded() -> Iterator[Embedded]:
    started = Embedded()
    moto_log = logging.getLogger("moto.stepfunctions")
    moto_log.addHandler(started.complaints)
    try:
        yield started
    finally:
        try:
            if not started.stopped:
                started.running.stop()
        finally:
            moto_log.removeHandler(started.complaints)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The workflow steps the in-process Lambda ran, in order."""
    ran: list[str] = []
    invoke = lambda_adapter._functions.invoke

    def recording(name: str, event: dict[str, Any]) -> dict[str, Any]:
        ran.append(str(event.get("action")))
        return invoke(name, event)

    monkeypatch.setattr(lambda_adapter._functions, "invoke", recording)
    return ran


def raise_sos() -> str:
    reply = Api()("POST", "/v1/sos", {"lat": 30.2590, "lng": 120.1605})
    assert reply.status == 202, reply.body
    return str(reply.body["incident_id"])


def hold(
    monkeypatch: pytest.MonkeyPatch, owner: type, method: str
) -> tuple[threading.Event, threading.Event]:
    """Hold moto's interpreter at ``owner.method``: (reached, release)."""
    original = getattr(owner, method)
    reached, release = threading.Event(), threading.Event()

    def held(self: Any, *args: Any, **kwargs: Any) -> Any:
        reached.set()
        release.wait(10)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, held)
    return reached, release


def stop_while_held(embedded: Embedded, reached: threading.Event, release: threading.Event) -> None:
    assert reached.wait(10)
    threading.Timer(0.5, release.set).start()  # let go once stopping has begun
    embedded.stop()


def test_an_execution_still_starting_is_aborted(embedded, monkeypatch, steps):
    # moto's worker parses the ASL before its program can be stopped: hold it there.
    held = hold(monkeypatch, ExecutionWorker, "_get_evaluation_entrypoint")
    raise_sos()
    stop_while_held(embedded, *held)
    # Stopping waits for the program to start, and on a loaded machine its first task state may be
    # entered meanwhile: moto then records the stop of that task as FAILED rather than ABORTED. Either
    # way the execution has ended, quietly, and nothing runs after it (what this test is for).
    embedded.assert_ended(ended_as=("ABORTED", "FAILED"))
    assert steps in ([], ["redeliver"])


def test_a_task_that_has_just_begun_is_aborted(embedded, monkeypatch, steps):
    # The Redeliver task has begun; it has not yet resolved which Lambda to call when the stop comes.
    held = hold(monkeypatch, ServiceResource, "eval")
    raise_sos()
    stop_while_held(embedded, *held)
    # The task then trips over its stopped frame, which moto may record as the execution failing.
    embedded.assert_ended(ended_as=("ABORTED", "FAILED"))
    assert steps == []


def test_a_step_in_flight_finishes_against_the_embedded_aws_then_the_execution_ends(
    embedded, monkeypatch, steps
):
    reached, release = threading.Event(), threading.Event()
    outcomes: list[str] = []
    invoke = lambda_adapter._functions.invoke  # the recording one

    def slow_step(name: str, event: dict[str, Any]) -> dict[str, Any]:
        reached.set()
        release.wait(10)  # the step is still running when the test stops the embedded AWS
        try:
            result = invoke(name, event)
        except Exception as error:
            outcomes.append(f"failed: {error!r}")
            raise
        outcomes.append("done")
        return result

    monkeypatch.setattr(lambda_adapter._functions, "invoke", slow_step)
    raise_sos()
    stop_while_held(embedded, reached, release)
    assert outcomes == ["done"]
    embedded.assert_ended()
    assert steps == ["redeliver"]  # and no step after it


def test_an_execution_waiting_for_its_close_is_aborted(embedded, steps):
    incident_id = raise_sos()  # nobody on duty: waves 1 and 2, unanswered, then it waits for the close
    arn = embedded.running.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + incident_id
    sfn = boto3.client("stepfunctions")

    def waiting_for_the_close() -> bool:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return steps[-1:] == ["park"] and bool(events) and events[-1]["type"] == "TaskSubmitted"

    until(waiting_for_the_close, what="the execution to wait for its close")
    embedded.stop()
    embedded.assert_ended()
    assert steps[-1] == "park"  # neither the expiry nor the finish ran
