"""The day a scheduled run (AED upkeep, certificate reminders) acts for."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.routes import scheduled_day

LATE_EVENING_UTC = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # Sunday 03:00 in Hangzhou


def test_without_a_date_it_is_today_in_the_deployments_time_zone():
    assert scheduled_day({}, LATE_EVENING_UTC, "Asia/Shanghai") == date(2026, 12, 6)
    assert scheduled_day({}, LATE_EVENING_UTC, "UTC") == date(2026, 12, 5)


def test_a_retry_hours_later_still_acts_for_the_day_it_was_scheduled():
    event = {"scheduled_time": "2026-12-05T18:00:00Z"}  # 02:00 Sunday local, retried at 03:00 Monday
    assert scheduled_day(event, datetime(2026, 12, 6, 19, 0, tzinfo=UTC), "Asia/Shanghai") == date(
        2026, 12, 6
    )


def test_as_of_wins_over_the_schedule():
    event = {"as_of": "2027-01-15", "scheduled_time": "2026-12-05T18:00:00Z"}
    assert scheduled_day(event, LATE_EVENING_UTC, "Asia/Shanghai") == date(2027, 1, 15)
