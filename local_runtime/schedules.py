"""POST /dev/schedules/<function>: run a scheduled function now, in-process, with the event EventBridge
Scheduler sends it (infra/constructs/schedules.py builds the same input from Scheduler's context
attributes), plus the optional ``as_of`` date the schedule itself never sets."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from local_runtime.lambdas import Functions
from shared.routes import SCHEDULES


class ScheduleError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def scheduler_event(function: str, scheduled_time: datetime) -> dict[str, Any]:
    """What Scheduler passes as the Lambda event (the schedule's Input, context attributes filled in)."""
    return {
        "schedule": function,
        "scheduled_time": scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": str(uuid.uuid4()),
        "attempt": "1",
    }


def run(functions: Functions, function: str, request: Any) -> dict[str, Any]:
    if function not in {s.function for s in SCHEDULES}:
        raise ScheduleError(404, "not_found", "no such scheduled function")
    if request is None:
        request = {}
    if not isinstance(request, dict):
        raise ScheduleError(422, "validation_failed", 'expected {"as_of": "YYYY-MM-DD"} or no body')
    event = scheduler_event(function, datetime.now(UTC))
    if request.get("as_of") is not None:
        try:
            event["as_of"] = date.fromisoformat(str(request["as_of"])).isoformat()
        except ValueError as error:
            raise ScheduleError(422, "validation_failed", "as_of: a date, YYYY-MM-DD") from error
    result: dict[str, Any] = functions.invoke(function, event)
    return result
