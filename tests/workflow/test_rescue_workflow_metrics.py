"""Metrics of the rescue workflow's steps (functions/rescue_steps), printed on moto's threads while the
real ASL runs: the responders a later wave alerts, and an incident nobody answered, counted once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.metrics_helpers import emitted
from tests.integration.rescue_helpers import (
    PATIENT,
    dispatcher,
    finished,
    north_of,
    responder,
    sos,
    until,
)


@pytest.fixture(autouse=True)
def metrics_printed(aws, monkeypatch):
    """The embedded AWS keeps the functions' metrics off its console (local_runtime/aws.py): on again,
    once it has started."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


class Printed:
    """Everything printed since the test began, whichever thread printed it."""

    def __init__(self, capsys: Any) -> None:
        self.capsys, self.text = capsys, ""

    def emitted(self, name: str) -> list[dict[str, float]]:
        self.text += self.capsys.readouterr().out
        return emitted(self.text, name)


def test_wave_two_alerts_and_the_unanswered_incident_are_counted(api, aws, capsys):
    wider = [responder(api, at=north_of(*PATIENT, 1500 + 100 * i)) for i in range(2)]
    printed = Printed(capsys)
    incident_id = sos(api).body["incident_id"]
    assert printed.emitted("SosAccepted") == [{"SosAccepted": 1, "RespondersAlerted": 0, "AlertsFailed": 0}]
    assert until(lambda: printed.emitted("IncidentsUnanswered"), what="IncidentsUnanswered") == [
        {"IncidentsUnanswered": 1}
    ]
    assert printed.emitted("RespondersAlerted") == [
        {"SosAccepted": 1, "RespondersAlerted": 0, "AlertsFailed": 0},
        {"RespondersAlerted": len(wider)},  # wave 2, from the workflow
    ]
    # The step retried (its answer lost, say) finds the incident marked: not counted again.
    again = api.functions.invoke("rescue_steps", {"action": "unanswered", "incident_id": incident_id})
    assert again["unanswered"] is True
    assert printed.emitted("IncidentsUnanswered") == [{"IncidentsUnanswered": 1}]
    dispatcher(api, "POST", f"/v1/incidents/{incident_id}/close", {"outcome": "false_alarm"})
    assert finished(aws, incident_id)["status"] == "SUCCEEDED"
