"""The status webhooks' trigger (shared.routes.STREAM_SOURCES): the incidents' and the events' DynamoDB
Streams (keys only) in; one run per changed incident onto the FIFO queue out (its group: the incident,
so its runs take turns and its webhooks go in order). Nothing here is on the SOS's path: the streams
carry what is already written."""

from __future__ import annotations

from typing import Any

from shared import wiring
from shared.observability import logger


def changed_incidents(event: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(incident, deduplication id, None) per incident in the batch, in the batch's order: an item's
    insert or change (not its removal by TTL). The deduplication id is the last record's sequence number
    for it (with its table's name), so a batch the stream hands over again queues nothing twice (SQS
    keeps ids 5 minutes)."""
    last: dict[str, str] = {}
    for record in event.get("Records", []):
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        change = record["dynamodb"]
        incident_id = change["Keys"]["incident_id"]["S"]
        # Sequence numbers are per stream, and two tables' streams come here: the table is in the id.
        table = str(record.get("eventSourceARN", "")).split(":table/", 1)[-1].split("/", 1)[0]
        last.pop(incident_id, None)  # re-inserted: the order of the last change
        last[incident_id] = f"{incident_id}.{table}.{change['SequenceNumber']}"
    return [(incident_id, dedup, None) for incident_id, dedup in last.items()]


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runs = changed_incidents(event)
    if runs:
        wiring.status_changes().changed_many(runs)  # raises: the stream hands the batch over again
    return {"queued": len(runs)}
