"""The rescue state machine's ASL file and its ${placeholders}: CDK and the local runtime both load the
same file through this module, so there is one definition of the workflow."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).resolve().parent.parent / "infra" / "statemachine" / "rescue.asl.json"
PLACEHOLDERS = ("Partition", "IncidentsTable", "RescueStepsFunctionArn")


def render(substitutions: Mapping[str, str]) -> str:
    """The definition with every placeholder filled, as CDK's definition_substitutions does."""
    missing = set(PLACEHOLDERS) - set(substitutions)
    if missing:
        raise ValueError(f"missing ASL substitutions: {sorted(missing)}")
    text = ASL_PATH.read_text(encoding="utf-8")
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    return text


class StepFunctionsWorkflow:
    """The Workflow port on Step Functions: one standard execution per incident, named by its id."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(self, incident_id: str, payload: Mapping[str, object]) -> None:
        # The name makes the start idempotent: a retry finds the execution already running.
        with contextlib.suppress(self.client.exceptions.ExecutionAlreadyExists):
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=incident_id, input=json.dumps(payload)
            )

    def resume(self, token: str) -> None:
        # If the wait already ended (timed out into expiry) there is nothing left to resume.
        with contextlib.suppress(self.client.exceptions.TaskTimedOut, self.client.exceptions.InvalidToken):
            self.client.send_task_success(taskToken=token, output=json.dumps({"closed": True}))
