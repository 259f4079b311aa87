"""The status webhooks to the dispatch centres (shared.routes.QUEUE_SOURCES): the FIFO queue of changed
incidents in, signed POSTs to the centres' callback URLs out (shared/logic/dispatch/outbound.py).

A message only says "this incident changed", so the messages of one incident in a batch make one run
(which reads the incident as it stands). When that run must try again later, the incident's first
message stays, invisible for the back-off, reported failed; its later ones are done with (the retry
covers them). A FIFO group waits while one of its messages is in flight: nothing of that incident
overtakes the webhook being retried, and the group is not held for the queue's whole visibility timeout
by messages that only repeat the first. Other incidents in the batch go on."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.config import settings
from shared.logic.dispatch import outbound
from shared.observability import logger


def _time_left(context: Any) -> Any:
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        deadline = time.monotonic() + 60
        return lambda: deadline - time.monotonic()
    return lambda: context.get_remaining_time_in_millis() / 1000


def run_incident(incident_id: str, centre_ids: set[str], context: Any) -> int | None:
    """One run for the incident; seconds until it must run again, or None."""
    config = settings()
    out = outbound.Outbound(
        records=wiring.incidents(),
        centres=wiring.dispatch_centres(),
        log=wiring.delivery_log(),
        secrets=wiring.centre_secrets(),
        poster=wiring.callback_poster(),
        parked=wiring.parked_webhooks(),
        now=lambda: datetime.now(UTC),
        time_left_s=_time_left(context),
        retention_s=config.retention_days * 86400,
        credit_points=wiring.policy().credit_points,
        first_retry_s=config.webhook_first_retry_s,
    )
    retry: int | None = None
    # A replay names its centre (the incident's records may be gone by then).
    named: list[str | None] = [*sorted(centre_ids)] or [None]
    for centre_id in named:
        result = outbound.run(incident_id, out, also_centre=centre_id)
        logger.info(
            "status webhooks run",
            extra={
                "incident_id": incident_id,
                "sent": result.sent,
                "parked": result.parked,
                "retry_after_s": result.retry_after_s,
            },
        )
        if result.retry_after_s is not None:
            retry = min(retry or result.retry_after_s, result.retry_after_s)
    return retry


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = settings()
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for record in event.get("Records", []):
        by_incident.setdefault(record["attributes"]["MessageGroupId"], []).append(record)
    failures = []
    for incident_id, records in by_incident.items():
        centres = {json.loads(r["body"]).get("centre_id") for r in records} - {None}
        try:
            retry = run_incident(incident_id, centres, context)
        except Exception:  # an outage of DynamoDB, Secrets Manager...: this incident again, soon
            logger.exception("status webhooks run failed", extra={"incident_id": incident_id})
            attempts = int(records[0]["attributes"].get("ApproximateReceiveCount", "1"))
            retry = outbound.retry_delay_s(attempts, config.webhook_first_retry_s)
        if retry is None:
            continue
        first = records[0]
        wiring.sqs().change_message_visibility(
            QueueUrl=config.status_changes_queue_url,
            ReceiptHandle=first["receiptHandle"],
            VisibilityTimeout=retry,
        )
        failures.append({"itemIdentifier": first["messageId"]})
    return {"batchItemFailures": failures}
