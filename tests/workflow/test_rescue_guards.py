"""The rescue workflow's own guards, on its real ASL executed by moto against the real step handlers.

Wave 2 is guarded twice: the state machine does not enter it once every slot is filled (its Choice on
the assessment), and the wave step itself alerts nobody then (tested alone in
tests/unit/test_rescue_guards.py). Here the execution's history shows which states ran, so the state
machine's guard is seen on its own. And wave 2 must reach people wave 1 did not: when the nearest ignore
the alert, the next nearest are alerted, nobody twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
import pytest

from shared import wiring
from shared.dal.models.rescue import IncidentModel
from shared.dal.rescue import DynamoIncidents
from tests.conftest import Api
from tests.integration.rescue_helpers import (
    PATIENT,
    dispatcher,
    execution,
    finished,
    north_of,
    sent,
    sos,
    until,
)
from tests.integration.rescue_helpers import responder as on_duty


def responder(api: Api, metres_north: float) -> str:
    """On duty that many metres north of the patient, with a certificate valid whatever the day."""
    return on_duty(api, at=north_of(*PATIENT, metres_north), expires_on="2099-12-31")


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change the deployment's dispatch policy for one test (handlers read it on every call)."""
    deployed = wiring.policy()

    def set_policy(**changes: Any) -> None:
        monkeypatch.setattr(wiring, "policy", lambda: replace(deployed, **changes))

    return set_policy


def states_entered(aws: Any, incident_id: str) -> list[str]:
    arn = execution(aws, incident_id)["executionArn"]
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def accept(api: Api, incident_id: str, rid: str) -> int:
    reply = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)
    return reply.status


def close_and_finish(api: Api, aws: Any, incident_id: str) -> None:
    assert dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "rosc"}).status == 200
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"


def test_when_the_nearest_ignore_the_alert_wave_two_reaches_the_next_nearest(
    api: Api, aws: Any, policy: Callable[..., None]
) -> None:
    policy(wave1_size=2, wave2_size=2)
    near = [responder(api, m) for m in (100, 200)]  # wave 1: alerted, never answer
    wider = [responder(api, m) for m in (1200, 1300)]  # the next nearest
    farthest = responder(api, 1900)  # would be a third: wave 2 alerts two
    incident_id = sos(api).body["incident_id"]
    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(near)

    until(lambda: IncidentModel.get(incident_id).unanswered, what="wave 2 and its wait to end")

    assert sorted(m["to"] for m in sent(kind="alert")) == sorted(near + wider)  # each once
    assert not sent(to=farthest)
    waves = {a.responder_id: a.wave for a in DynamoIncidents().alerts(incident_id)}
    assert waves == {**dict.fromkeys(near, 1), **dict.fromkeys(wider, 2)}
    close_and_finish(api, aws, incident_id)


def test_every_slot_filled_in_wave_one_and_the_workflow_never_enters_wave_two(
    api: Api, aws: Any, policy: Callable[..., None]
) -> None:
    policy(wave_wait_s=5)  # both accept well within wave 1's wait, even on a busy machine
    near = [responder(api, m) for m in (100, 150)]  # no AED near: two CPR slots
    wider = responder(api, 1500)
    incident_id = sos(api).body["incident_id"]
    assert [accept(api, incident_id, rid) for rid in near] == [200, 200]

    until(lambda: "AwaitClosure" in states_entered(aws, incident_id), what="the wait for the close")

    entered = states_entered(aws, incident_id)
    assert entered[: entered.index("AwaitClosure") + 1] == [
        "Redeliver",
        "WaitWave1",
        "AssessWave1",
        "AfterWave1",
        "AwaitClosure",
    ]
    assert "Wave2" not in entered
    assert not sent(to=wider)
    assert IncidentModel.get(incident_id).wave == 1
    close_and_finish(api, aws, incident_id)
    assert "Wave2" not in states_entered(aws, incident_id)
    assert not sent(to=wider)
