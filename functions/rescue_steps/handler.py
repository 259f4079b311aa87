"""The rescue workflow's steps, invoked by Step Functions (infra/statemachine/rescue.asl.json).

Metrics, one EMF line per step that did something worth counting: RespondersAlerted and AlertsFailed
(alerts published by later waves and re-deliveries, also when the step then fails for the workflow to
retry it), IncidentsUnanswered (once per incident, by the step that marked it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.logic import debriefs
from shared.logic.rescue import closure, waves
from shared.logic.rescue.tally import AlertTally
from shared.observability import (
    ALERTS_FAILED,
    INCIDENTS_UNANSWERED,
    RESPONDERS_ALERTED,
    count,
    flushed_per_invocation,
    function_metrics,
    logger,
)

metrics = function_metrics()


def _steps(alerts: AlertTally) -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    now = datetime.now(UTC)
    return {
        "redeliver": lambda e: waves.redeliver(
            wiring.incidents(), alerts, e["incident_id"], wiring.policy(), now
        ),
        "assess": lambda e: waves.assess(wiring.incidents(), e["incident_id"]),
        "wave": lambda e: waves.dispatch_wave(
            wiring.incidents(),
            wiring.geo_index(),
            alerts,
            e["incident_id"],
            int(e["wave"]),
            wiring.policy(),
            now,
        ),
        "unanswered": lambda e: waves.declare_unanswered(wiring.incidents(), alerts, e["incident_id"], now),
        "park": lambda e: closure.park_closure_token(
            wiring.incidents(), wiring.workflow(), e["incident_id"], e["token"]
        ),
        "finish": lambda e: {
            **closure.finish(
                wiring.incidents(),
                alerts,
                wiring.aed_claims(),
                wiring.aed_faults(),
                e["incident_id"],
                wiring.policy(),
                now,
            ),
            # After the points: each responder who accepted is invited to the debrief, once (not an alert:
            # the notifier itself, not the alerts' tally). docs/volunteers.md says why at the finish.
            "debriefs_invited": debriefs.invite(
                wiring.incidents(),
                wiring.debriefs(),
                wiring.notifier(),
                e["incident_id"],
                wiring.policy(),
                now,
            ),
        },
    }


@flushed_per_invocation(metrics)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = event.get("action", "")
    logger.append_keys(incident_id=event.get("incident_id"), action=action)
    alerts = AlertTally(wiring.notifier)
    step = _steps(alerts).get(action)
    if step is None:
        raise ValueError(f"unknown rescue step {action!r}")
    try:
        result = step(event) or {}
    finally:  # what went out before a failure went out
        if alerts.published:
            count(metrics, RESPONDERS_ALERTED, alerts.published)
        if alerts.failed:
            count(metrics, ALERTS_FAILED, alerts.failed)
    if action == "unanswered" and result.get("declared"):
        count(metrics, INCIDENTS_UNANSWERED, 1)
    return result
