"""The daily AED upkeep run (shared.routes.SCHEDULES): EventBridge Scheduler invokes it in the cloud,
`rescue-nearby aeds upkeep` (through the local runtime's POST /dev/schedules/aed_daily_upkeep) on one
machine.

The event may carry ``as_of`` (YYYY-MM-DD: run as of that local date, for demos and tests; the schedule
never sets it) and ``scheduled_time`` (set by the schedule: a retry hours later still acts for the day it
was scheduled). Neither: today in the deployment's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
from botocore.config import Config

from shared.config import settings
from shared.dal.geo_index import DynamoGeoIndex
from shared.dal.upkeep_repositories import DynamoAedCatalog, DynamoReminderMarkers
from shared.logic import upkeep as logic
from shared.messaging.upkeep_sns import SnsUpkeepNotices
from shared.observability import logger

config = settings()
catalog = DynamoAedCatalog()
geo = DynamoGeoIndex(max_queries=config.geo_max_queries)
markers = DynamoReminderMarkers()
notices = SnsUpkeepNotices(
    boto3.client("sns", region_name=config.region, config=Config(retries={"mode": "standard"})),
    config.upkeep_topic_arn,
)


def as_of_date(event: dict[str, Any], now: datetime) -> date:
    if event.get("as_of"):
        return date.fromisoformat(str(event["as_of"]))
    if event.get("scheduled_time"):
        scheduled = datetime.fromisoformat(str(event["scheduled_time"]).replace("Z", "+00:00"))
        return logic.local_today(scheduled, config.time_zone)
    return logic.local_today(now, config.time_zone)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    report = logic.run_daily_upkeep(
        catalog,
        geo,
        markers,
        notices,
        as_of=as_of_date(event or {}, now),
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
