"""The rescue workflow's steps, invoked by Step Functions (infra/statemachine/rescue.asl.json)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.logic import rescue as logic
from shared.observability import logger
from shared.rescue_wiring import aed_service, rescue

wired = rescue()


def _steps() -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    now = datetime.now(UTC)
    return {
        "redeliver": lambda e: logic.redeliver(
            wired.store, wired.notifier, e["incident_id"], wired.policy, now
        ),
        "assess": lambda e: logic.assess(wired.store, e["incident_id"]),
        "wave": lambda e: logic.dispatch_wave(
            wired.store, wired.geo, wired.notifier, e["incident_id"], int(e["wave"]), wired.policy, now
        ),
        "unanswered": lambda e: logic.declare_unanswered(wired.store, wired.notifier, e["incident_id"], now),
        "park": lambda e: logic.park_closure_token(wired.store, wired.workflow, e["incident_id"], e["token"]),
        "finish": lambda e: logic.finish(
            wired.store, wired.notifier, wired.claims, aed_service(), e["incident_id"], wired.policy, now
        ),
    }


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = event.get("action", "")
    logger.append_keys(incident_id=event.get("incident_id"), action=action)
    step = _steps().get(action)
    if step is None:
        raise ValueError(f"unknown rescue step {action!r}")
    return step(event) or {}
