"""The local pollers, and Step Functions' Lambda tasks, wait while the gateway serves a request
(local_runtime/pollers.py: REQUESTS; local_runtime/lambda_adapter.py), and go on anyway once
YIELD_AT_MOST_S has passed, so a busy gateway cannot starve them."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from local_runtime import pollers

DEADLINE_S = 10.0


class _Counting(pollers._Poller):
    """A poller whose poll counts itself and signals."""

    def __init__(self) -> None:
        super().__init__("counting")
        self.polls = 0
        self.polled = threading.Event()

    def run(self) -> None:
        while self.next_poll():
            self.polls += 1
            self.polled.set()


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE_S} s: {what}")
        time.sleep(0.01)


@pytest.fixture
def poller(monkeypatch: pytest.MonkeyPatch) -> _Counting:
    monkeypatch.setattr(pollers, "POLL_EVERY_S", 0.01)
    monkeypatch.setattr(pollers, "REQUESTS", pollers.InFlight())
    return _Counting()


def test_a_poller_waits_for_the_gateway_to_be_idle(
    poller: _Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pollers, "YIELD_AT_MOST_S", 60.0)  # beyond the test: only idleness releases it
    poller.start()
    try:
        _until(lambda: poller.polls >= 3, "the poller polls while the gateway is idle")
        with pollers.REQUESTS.serving(), pollers.REQUESTS.serving():  # two requests at once
            # A poll already under way when the requests arrived may finish; then none starts.
            poller.polled.clear()
            poller.polled.wait(0.3)
            poller.polled.clear()
            settled = poller.polls
            assert not poller.polled.wait(0.3), "a poller polled while requests were served"
            assert poller.polls == settled
        _until(lambda: poller.polls > settled, "the poller polls again once the gateway is idle")
    finally:
        poller.stop()
        poller.join(DEADLINE_S)
    assert not poller.is_alive()


def test_a_busy_gateway_does_not_starve_a_poller(poller: _Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pollers, "YIELD_AT_MOST_S", 0.2)
    with pollers.REQUESTS.serving():  # a request that never ends
        poller.start()
        try:
            _until(lambda: poller.polls >= 3, "the poller polls anyway after YIELD_AT_MOST_S")
        finally:
            poller.stop()
            poller.join(DEADLINE_S)
    assert not poller.is_alive()


def test_a_stopped_poller_stops_while_waiting(poller: _Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pollers, "YIELD_AT_MOST_S", 60.0)
    with pollers.REQUESTS.serving():
        poller.start()
        poller.stop()
        # it leaves at most when its wait for idleness ends: here, when the request does
    _until(lambda: not poller.is_alive(), "the poller stops")
    assert poller.polls == 0


class _Steps:
    """The workflow's function, recording each invocation."""

    def __init__(self) -> None:
        self.invoked = threading.Event()

    def invoke(self, module: str, event: dict[str, object]) -> dict[str, object]:
        self.invoked.set()
        return {"module": module, **event}


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> _Steps:
    """Step Functions' Lambda task path (local_runtime/lambda_adapter.py) onto a recording function."""
    from local_runtime import lambda_adapter

    monkeypatch.setattr(pollers, "REQUESTS", pollers.InFlight())
    recording = _Steps()
    monkeypatch.setattr(lambda_adapter, "_functions", recording)
    lambda_adapter.install()
    return recording


def _run_task(event: str) -> tuple[str, bool, str]:
    """What moto's Step Functions does for a Lambda task: invoke the function."""
    from moto.awslambda.models import LambdaFunction

    from local_runtime import lambda_adapter

    function = SimpleNamespace(function_name=lambda_adapter.function_name("rescue_steps"))
    return LambdaFunction._invoke_lambda(function, event)  # type: ignore[arg-type,no-any-return]


def test_a_workflow_task_waits_for_the_gateway_to_be_idle(
    steps: _Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pollers, "YIELD_AT_MOST_S", 60.0)  # beyond the test: only idleness releases it
    answers: list[tuple[str, bool, str]] = []
    task = threading.Thread(target=lambda: answers.append(_run_task('{"step": "redeliver"}')))
    with pollers.REQUESTS.serving():  # the SOS that started the execution is still being answered
        task.start()
        assert not steps.invoked.wait(0.3), "a workflow task ran while the gateway served a request"
    assert steps.invoked.wait(DEADLINE_S), "the task runs once the gateway is idle"
    task.join(DEADLINE_S)
    assert answers == [('{"module": "rescue_steps", "step": "redeliver"}', False, "")]


def test_a_busy_gateway_does_not_starve_a_workflow_task(
    steps: _Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pollers, "YIELD_AT_MOST_S", 0.2)
    with pollers.REQUESTS.serving():  # a request that never ends
        answer = _run_task("{}")
    assert steps.invoked.is_set()
    assert answer == ('{"module": "rescue_steps"}', False, "")
