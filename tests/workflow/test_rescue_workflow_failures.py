"""A step that fails through all its retries must not end the rescue before its finish: the real ASL,
executed by moto against the real step handlers, with one step made to fail.

Each test makes one step fail as Lambda would report it (the handler raises; the adapter answers with
``errorType``), and shows that the execution still reaches ``Finish``, which stands down whoever is
still only alerted, releases the AED and awards the points. Retry back-offs and the fixed wait before a
second finish are shortened (moto sleeps them for real); the states, retries and catches are the file's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from shared.logic.rescue import closure, waves
from tests.conftest import Api
from tests.integration.rescue_helpers import (
    PATIENT,
    aed,
    dispatcher,
    execution,
    finished,
    north_of,
    responder,
    sent,
    sos,
    until,
)

pytestmark = pytest.mark.usefixtures("quick_retries")


class StepFails:
    """Replaces one step's rule with one that raises (the first ``times`` calls, or every call), as a
    throttled table or an unreachable service would: the handler fails, Lambda reports its error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, times: int | None) -> None:
        self.calls = 0
        real: Callable[..., Any] = getattr(module, name)

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if times is None or self.calls <= times:
                raise ConnectionError(f"{name}: the service is unreachable (injected)")
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, failing)


def states_entered(aws: Any, incident_id: str) -> list[str]:
    arn = execution(aws, incident_id)["executionArn"]
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def accept(api: Api, incident_id: str, rid: str) -> Any:
    return api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)


def balance(api: Api, rid: str) -> int:
    return int(api("GET", f"/v1/responders/{rid}/credits", sub=rid).body["balance"])


def close(api: Api, aws: Any, incident_id: str) -> dict[str, Any]:
    reply = dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"})
    assert reply.status == 200, reply.body
    return finished(aws, incident_id)


def aed_released(api: Api) -> bool:
    """The AED is offered again: the runner of a new rescue next to it is sent to fetch it."""
    runner = responder(api, at=north_of(*PATIENT, 145))
    incident_id = sos(api, at=north_of(*PATIENT, 5)).body["incident_id"]
    return bool(accept(api, incident_id, runner).body["role"] == "aed")


def test_an_assessment_that_keeps_failing_still_ends_in_finish(
    api: Api, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aed(api, north_of(*PATIENT, 150))
    runner = responder(api, at=north_of(*PATIENT, 140))
    idle = responder(api, at=north_of(*PATIENT, 400))  # alerted, never answers
    failing = StepFails(monkeypatch, waves, "assess", times=None)  # every attempt of both assessments
    incident_id = sos(api).body["incident_id"]
    assert accept(api, incident_id, runner).body["role"] == "aed"

    until(lambda: "AwaitClosure" in states_entered(aws, incident_id), what="the wait for the close")
    assert failing.calls == 2 * 6  # AssessWave1 and AssessWave2: one attempt and five retries each
    assert close(api, aws, incident_id)["status"] == "SUCCEEDED"

    entered = states_entered(aws, incident_id)
    assert entered == [
        "Redeliver",
        "WaitWave1",
        "AssessWave1",  # failed: on as if more help were needed
        "Wave2",
        "WaitWave2",
        "AssessWave2",  # failed: the dispatch centre is told
        "Unanswered",
        "AwaitClosure",
        "Finish",
    ]
    assert [m["kind"] for m in sent(to=idle)] == ["alert", "stand_down"]
    assert balance(api, runner) == 5  # accepted
    assert aed_released(api)


def test_a_closure_wait_whose_park_fails_is_retried_and_still_resumed_by_the_close(
    api: Api, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(3)]
    parks = StepFails(monkeypatch, closure, "park_closure_token", times=2)
    incident_id = sos(api).body["incident_id"]
    assert [accept(api, incident_id, rid).status for rid in rids[:2]] == [200, 200]  # both CPR slots

    until(lambda: parks.calls == 3, what="the park to be retried until it holds")
    assert close(api, aws, incident_id)["status"] == "SUCCEEDED"

    entered = states_entered(aws, incident_id)
    assert entered[-2:] == ["AwaitClosure", "Finish"]
    assert "WaitToExpire" not in entered and "ExpireIfStillOpen" not in entered
    assert [balance(api, rid) for rid in rids[:2]] == [5, 5]


def test_a_finish_that_fails_through_its_retries_runs_again_later(
    api: Api, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aed(api, north_of(*PATIENT, 150))
    runner = responder(api, at=north_of(*PATIENT, 140))
    idle = responder(api, at=north_of(*PATIENT, 400))
    finishes = StepFails(monkeypatch, closure, "finish", times=7)  # Finish: one attempt, six retries
    incident_id = sos(api).body["incident_id"]
    assert accept(api, incident_id, runner).body["role"] == "aed"

    assert close(api, aws, incident_id)["status"] == "SUCCEEDED"

    assert finishes.calls == 8  # seven by Finish, one by FinishAgain
    assert states_entered(aws, incident_id)[-3:] == ["Finish", "FinishLater", "FinishAgain"]
    assert [m["kind"] for m in sent(to=idle)] == ["alert", "stand_down"]
    assert balance(api, runner) == 5
    assert aed_released(api)
