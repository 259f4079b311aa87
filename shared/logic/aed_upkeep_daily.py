"""The daily AED upkeep run: devices whose pads or battery expired out of search, reminders to their
manager 30 and 7 days ahead and when taken out, overdue inspections counted and reminded, each exactly
once (the rules are in aed_upkeep.py's docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.logic.aed_registry import index_aed
from shared.logic.aed_upkeep import INSPECTION_INTERVAL_MONTHS, expiries, inspection_due_on, upkeep_state
from shared.logic.messages import Text
from shared.logic.ports import Aed, GeoIndex

REMINDER_DAYS = (30, 7)  # days before an expiry
REMINDER_LEASE_S = 300  # a run that took a reminder and died lets the next run send it after this
MARKER_KEEP_DAYS = 400  # markers outlive every run that could ask for them again


class AedCatalog(Protocol):
    def all(self) -> Iterable[Aed]: ...
    def mark_expired(self, aed_id: str, now: datetime) -> Aed | None:
        """Status ok -> expired, only if it is still ok; the updated AED, or None when it was not."""
        ...


class ReminderMarkers(Protocol):
    def take(self, aed_id: str, key: str, now_epoch: int, lease_until: int, keep_until: int) -> bool:
        """True for the one run that may send this reminder: no marker yet, or an unsent one whose
        lease lapsed."""
        ...

    def sent(self, aed_id: str, key: str, at: datetime) -> None: ...
    def release(self, aed_id: str, key: str) -> None: ...


class UpkeepNotices(Protocol):
    def remind(self, *, manager_id: str, aed_id: str, kind: str, subject: str, message: Text) -> None: ...


@dataclass
class UpkeepReport:
    as_of: date
    checked: int = 0
    expired: int = 0  # taken out of search by this run
    reminders_sent: int = 0
    overdue: int = 0  # devices whose inspection is overdue (reminded or not)
    without_manager: int = 0  # devices needing a reminder that have nobody to receive it
    expired_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Reminder:
    key: str  # "<what>#<due date>#<threshold>"
    kind: str
    subject: str  # SNS email subjects: ASCII, under 100 characters
    message: Text
    keep_until: date


def reminder_threshold(days_left: int) -> int | None:
    """The reminder due with ``days_left`` days to an expiry: the smallest threshold not below it."""
    due = [t for t in REMINDER_DAYS if 0 <= days_left <= t]
    return min(due) if due else None


def _reminders(aed: Aed, as_of: date, time_zone: str, taken_out: bool) -> list[_Reminder]:
    keep = timedelta(days=MARKER_KEEP_DAYS)
    found = []
    for expiry in expiries(aed):
        days_left = (expiry.on - as_of).days
        if days_left < 0:
            if taken_out:
                found.append(
                    _Reminder(
                        f"{expiry.part}#{expiry.on.isoformat()}#expired",
                        f"{expiry.part}_expired",
                        f"Rescue Nearby: AED {expiry.part} expired, device out of search",
                        Text(
                            f"upkeep_{expiry.part}_expired",
                            {"aed": aed.name, "on": expiry.on.isoformat()},
                        ),
                        expiry.on + keep,
                    )
                )
            continue
        threshold = reminder_threshold(days_left)
        if threshold is not None:
            found.append(
                _Reminder(
                    f"{expiry.part}#{expiry.on.isoformat()}#{threshold}",
                    f"{expiry.part}_expiry_{threshold}d",
                    f"Rescue Nearby: AED {expiry.part} {'expire' if expiry.part == 'pads' else 'expires'} "
                    f"in {days_left} days",
                    Text(
                        f"upkeep_{expiry.part}_expiring",
                        {"aed": aed.name, "on": expiry.on.isoformat(), "days": str(days_left)},
                    ),
                    expiry.on + keep,
                )
            )
    due = inspection_due_on(aed, time_zone)
    if as_of > due:
        found.append(
            _Reminder(
                f"inspection#{due.isoformat()}#overdue",
                "inspection_overdue",
                "Rescue Nearby: AED inspection overdue",
                Text(
                    "upkeep_inspection_overdue",
                    {
                        "aed": aed.name,
                        "due": due.isoformat(),
                        "months": str(INSPECTION_INTERVAL_MONTHS),
                    },
                ),
                due + keep,
            )
        )
    return found


def _epoch(day: date, time_zone: str) -> int:
    return int(datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone)).timestamp())


def _send_once(
    markers: ReminderMarkers, notices: UpkeepNotices, aed: Aed, reminder: _Reminder, now: datetime, tz: str
) -> bool:
    assert aed.manager_id is not None
    now_epoch = int(now.timestamp())
    if not markers.take(
        aed.aed_id, reminder.key, now_epoch, now_epoch + REMINDER_LEASE_S, _epoch(reminder.keep_until, tz)
    ):
        return False
    try:
        notices.remind(
            manager_id=aed.manager_id,
            aed_id=aed.aed_id,
            kind=reminder.kind,
            subject=reminder.subject,
            message=reminder.message,
        )
    except Exception:
        markers.release(aed.aed_id, reminder.key)  # the retry (Scheduler's, or tomorrow's run) sends it
        raise
    markers.sent(aed.aed_id, reminder.key, now)
    return True


def run_daily_upkeep(
    catalog: AedCatalog,
    geo: GeoIndex,
    markers: ReminderMarkers,
    notices: UpkeepNotices,
    *,
    as_of: date,
    now: datetime,
    time_zone: str,
) -> UpkeepReport:
    """One pass over every AED as of the local date ``as_of``; safe to run again the same day."""
    report = UpkeepReport(as_of=as_of)
    for aed in catalog.all():
        report.checked += 1
        state = upkeep_state(aed, as_of, time_zone)
        taken_out = False
        if state.expired and aed.status == "ok":
            updated = catalog.mark_expired(aed.aed_id, now)
            if updated is not None:  # None: someone changed it since the read; tomorrow's run sees it
                index_aed(geo, updated)
                aed, taken_out = updated, True
                report.expired += 1
                report.expired_ids.append(aed.aed_id)
        if state.inspection_overdue:
            report.overdue += 1
        reminders = _reminders(aed, as_of, time_zone, taken_out or aed.status == "expired")
        if reminders and not aed.manager_id:
            report.without_manager += 1
            continue
        for reminder in reminders:
            if _send_once(markers, notices, aed, reminder, now, time_zone):
                report.reminders_sent += 1
    return report
