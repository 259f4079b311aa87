"""Certificate expiry reminders (shared.routes.SCHEDULES): an SMS to each holder 60, 30 and 7 days before
their certificate's last valid day, exactly once per (certificate, threshold). EventBridge Scheduler
invokes it daily in the cloud; POST /dev/schedules/certification_reminders on one machine. The day it
acts for: shared.routes.scheduled_day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.config import settings
from shared.logic.certification import certificates as logic
from shared.observability import logger
from shared.routes import scheduled_day

config = settings()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    today = scheduled_day(event or {}, now, config.time_zone)
    run = logic.send_reminders(
        wiring.certificates(),
        wiring.certificate_reminder_log(),
        wiring.text_messages(),
        today=today,
        now=now,
        time_zone=config.time_zone,
    )
    summary = {
        "as_of": today.isoformat(),
        "reminders_sent": len(run.sent),
        "already_sent": run.already_sent,
        "skipped": run.skipped,
        "sent": [{"certificate_no": number, "days_before": days} for number, days in run.sent],
    }
    logger.info("certificate reminders done", extra={k: v for k, v in summary.items() if k != "sent"})
    return summary
