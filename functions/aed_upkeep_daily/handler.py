"""The daily AED upkeep run (shared.routes.SCHEDULES): EventBridge Scheduler invokes it in the cloud,
`rescue-nearby aeds upkeep` (through the local runtime's POST /dev/schedules/aed_upkeep_daily) on one
machine. The day it acts for: shared.routes.scheduled_day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.config import settings
from shared.logic import aed_upkeep_daily as logic
from shared.observability import logger
from shared.routes import scheduled_day

config = settings()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    report = logic.run_daily_upkeep(
        wiring.aed_catalog(),
        wiring.geo_index(),
        wiring.upkeep_reminder_markers(),
        wiring.upkeep_notices(),
        as_of=scheduled_day(event or {}, now, config.time_zone),
        now=now,
        time_zone=config.time_zone,
    )
    summary = {
        "as_of": report.as_of.isoformat(),
        "checked": report.checked,
        "expired": report.expired,
        "reminders_sent": report.reminders_sent,
        "overdue": report.overdue,
        "without_manager": report.without_manager,
        "expired_ids": report.expired_ids,
    }
    logger.info("daily upkeep done", extra={k: v for k, v in summary.items() if k != "expired_ids"})
    return summary
