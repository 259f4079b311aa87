"""The rescue state machine's real ASL file, executed by moto's interpreter against the embedded
DynamoDB (short configured waits; polled with a deadline, never slept on)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3

from shared.dal.models import IncidentModel

DEADLINE_S = 30


def run(aws, incident_id: str, expire_after_seconds: int = 1) -> dict:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=aws.state_machine_arn,
        name=incident_id,
        input=json.dumps({"incident_id": incident_id, "expire_after_seconds": expire_after_seconds}),
    )["executionArn"]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.05)  # polling interval, not a wait for an outcome
    raise AssertionError("execution still running after the deadline")


def incident(incident_id: str, status: str = "dispatching", outcome: str | None = None) -> None:
    IncidentModel(
        incident_id=incident_id,
        status=status,
        lat=30.26,
        lng=120.16,
        created_at=datetime.now(UTC),
        outcome=outcome,
    ).save()


def test_an_incident_left_open_closes_itself_as_expired(aws):
    incident("01INCIDENTOPEN")
    assert run(aws, "01INCIDENTOPEN")["status"] == "SUCCEEDED"
    stored = IncidentModel.get("01INCIDENTOPEN")
    assert (stored.status, stored.outcome) == ("closed", "expired")
    assert stored.closed_at


def test_a_closed_incident_keeps_its_outcome(aws):
    incident("01INCIDENTDONE", status="closed", outcome="rosc")
    assert run(aws, "01INCIDENTDONE")["status"] == "SUCCEEDED"
    stored = IncidentModel.get("01INCIDENTDONE")
    assert (stored.status, stored.outcome) == ("closed", "rosc")
