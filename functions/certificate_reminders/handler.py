"""Certificate expiry reminders (shared.routes.SCHEDULES): an SMS to each holder 60, 30 and 7 days before
their certificate's last valid day, exactly once per (certificate, threshold). EventBridge Scheduler
invokes it daily in the cloud; POST /dev/schedules/certificate_reminders on one machine.

The event may carry ``as_of`` (YYYY-MM-DD: run as of that local date, for demos and tests; the schedule
never sets it) and ``scheduled_time`` (set by the schedule: a retry hours later still acts for the day it
was scheduled). Neither: today in the deployment's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
from botocore.config import Config

from shared.config import settings
from shared.dal.certification import DynamoCertificates, DynamoReminderLog
from shared.logic.training import certificates as logic
from shared.messaging.sns import SnsTextMessages
from shared.observability import logger

config = settings()
store = DynamoCertificates()
log = DynamoReminderLog()
texts = SnsTextMessages(
    boto3.client("sns", region_name=config.region, config=Config(retries={"mode": "standard"}))
)


def as_of_date(event: dict[str, Any], now: datetime) -> date:
    if event.get("as_of"):
        return date.fromisoformat(str(event["as_of"]))
    if event.get("scheduled_time"):
        scheduled = datetime.fromisoformat(str(event["scheduled_time"]).replace("Z", "+00:00"))
        return logic.local_day(scheduled, config.time_zone)
    return logic.local_day(now, config.time_zone)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    today = as_of_date(event or {}, now)
    run = logic.send_reminders(store, log, texts, today=today, now=now, time_zone=config.time_zone)
    summary = {
        "as_of": today.isoformat(),
        "reminders_sent": len(run.sent),
        "already_sent": run.already_sent,
        "skipped": run.skipped,
        "sent": [{"certificate_no": number, "days_before": days} for number, days in run.sent],
    }
    logger.info("certificate reminders done", extra={k: v for k, v in summary.items() if k != "sent"})
    return summary
