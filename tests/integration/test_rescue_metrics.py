"""Metrics of the SOS function: one CloudWatch EMF line on stdout per SOS stored, in the RescueNearby
namespace (docs/architecture.md, "Metrics and tracing")."""

from __future__ import annotations

from typing import Any

import pytest

from shared import wiring
from tests.integration.metrics_helpers import emf_lines, emitted
from tests.integration.rescue_helpers import PATIENT, north_of, responder, sos


@pytest.fixture(autouse=True)
def metrics_printed(aws, monkeypatch):
    """The embedded AWS keeps the functions' metrics off its console (local_runtime/aws.py): on again,
    once it has started."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


def sos_metrics(out: str) -> list[dict[str, float]]:
    return emitted(out, "SosAccepted")


def test_an_sos_emits_accepted_and_the_responders_alerted_once(api, capsys):
    for i in range(3):
        responder(api, at=north_of(*PATIENT, 100 + 50 * i))
    responder(api, at=north_of(*PATIENT, 1500))  # beyond wave 1's 1000 m: wave 2's, not the SOS's
    capsys.readouterr()  # what the set-up printed
    reply = sos(api, key="metrics-1")
    assert reply.status == 202
    [emitted_once] = sos_metrics(capsys.readouterr().out)
    first_alert_ms = emitted_once.pop("SosToFirstAlertMs")
    assert emitted_once == {"SosAccepted": 1, "RespondersAlerted": 3, "AlertsFailed": 0}
    assert 0 < first_alert_ms < 30_000  # from the function receiving it to SNS taking the first alert
    again = sos(api, key="metrics-1")  # the app's retry: the same incident, not a second SOS
    assert again.body["incident_id"] == reply.body["incident_id"]
    assert sos_metrics(capsys.readouterr().out) == []


def test_an_sos_nobody_is_near_still_counts_as_accepted(api, capsys):
    capsys.readouterr()
    assert sos(api).status == 202
    assert sos_metrics(capsys.readouterr().out) == [
        {"SosAccepted": 1, "RespondersAlerted": 0, "AlertsFailed": 0}
    ]


def test_alerts_sns_refuses_are_counted_as_failed_not_alerted(api, capsys):
    rids = [responder(api, at=north_of(*PATIENT, 100 + 50 * i)) for i in range(3)]
    unlucky = api("GET", f"/v1/responders/{rids[0]}", sub=rids[0]).body["phone"]

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("PhoneNumber") == unlucky:
            raise ConnectionError("SNS unreachable")

    client = wiring.sns()
    client.meta.events.register("provide-client-params.sns.Publish", refuse)
    try:
        capsys.readouterr()
        assert sos(api).status == 202
        out = capsys.readouterr().out
    finally:
        client.meta.events.unregister("provide-client-params.sns.Publish", refuse)
    [emitted_once] = sos_metrics(out)
    assert emitted_once.pop("SosToFirstAlertMs") > 0
    assert emitted_once == {"SosAccepted": 1, "RespondersAlerted": 2, "AlertsFailed": 1}


def test_a_malformed_sos_emits_nothing(api, capsys):
    capsys.readouterr()
    assert api("POST", "/v1/sos", {"lat": "30.1", "lng": 120.1}).status == 422
    assert emf_lines(capsys.readouterr().out) == []


def test_an_accept_is_counted_once_however_often_it_is_tapped(api, capsys):
    rid = responder(api, at=north_of(*PATIENT, 100))
    incident_id = sos(api).body["incident_id"]
    capsys.readouterr()
    for _ in range(2):
        tapped = api("POST", f"/v1/incidents/{incident_id}/responses", {"action": "accept"}, sub=rid)
        assert tapped.status == 200
    assert emitted(capsys.readouterr().out, "ResponderAccepted") == [{"ResponderAccepted": 1}]
