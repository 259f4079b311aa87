"""The cockpit's rescue summaries (docs/cockpit.md, Rescues): the incidents', alerts' and events' DynamoDB
Streams (keys only) in; each changed incident's summary re-derived from its records as they stand and
stored. Idempotent and order-free: a replayed or late batch derives the same summary, and a run that
began earlier never overwrites one that began later. Never on the SOS's path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.config import settings
from shared.logic.cockpit import rescues
from shared.observability import logger


def changed_incidents(event: dict[str, Any]) -> list[str]:
    """The incidents whose incident, alert or event was inserted or changed in the batch, once each, in
    the batch's order. A removal is TTL's (alerts and events go after the retention): the summary keeps
    what they said, so removals wake nothing."""
    seen: dict[str, None] = {}
    for record in event.get("Records", []):
        if record.get("eventName") in ("INSERT", "MODIFY"):
            seen[record["dynamodb"]["Keys"]["incident_id"]["S"]] = None
    return list(seen)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = settings()
    records, store = wiring.incidents(), wiring.rescue_summaries()
    done: dict[str, int] = {}
    for incident_id in changed_incidents(event):  # raises: the stream hands the batch over again
        result = rescues.refresh(
            records,
            store,
            incident_id,
            now=datetime.now(UTC),
            time_zone=config.time_zone,
            retention_days=config.retention_days,
        )
        done[result] = done.get(result, 0) + 1
    return done
