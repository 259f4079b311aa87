"""AED upkeep: the inspection log and the expiry of pads and batteries (the daily run that acts on both
is in aed_upkeep_daily.py).

Rules (docs/aed-upkeep.md tells managers the same):
- Dates are inclusive, in the deployment's time zone: pads that "expire on" 2026-12-01 are usable through
  that day; the run on 2026-12-02 finds them expired.
- The daily run takes a device whose pads or battery expired from ``ok`` to ``expired`` (out of search at
  once). Devices in another status are already out of search and keep it (a fault report or a restock
  says more than an expiry does); they still get the reminders.
- Reminders go to the AED's manager 30 and 7 days before each expiry, and once when the device is taken
  out of search: each exactly once per (AED, part, expiry date, threshold), however often the run goes.
  A device first seen 5 days before its expiry gets the 7-day reminder only (the 30-day one is moot).
- An inspection is due 6 calendar months after the last one; a device never inspected, 6 months after it
  was registered. Overdue devices are counted and their manager reminded once per due date.
- An inspection with a failed check takes an ``ok`` (or ``expired``) device out of search: status
  ``faulty``, fault ``inspection:<failed checks>``. An inspection with every check passed puts a device
  that an inspection or an expiry took out back in search if no date on record is past (else it is
  ``expired``). Only the latest inspection (by date) changes the device; a back-dated entry only joins
  the log. Other statuses (a fault report, a rescue's use) are left to their own flows.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.errors import ValidationFailed
from shared.identity import Caller
from shared.logic.aed_faults import change_aed
from shared.logic.aed_registry import managed_aed
from shared.logic.ids import new_id
from shared.logic.ports import Aed, AedRepository, GeoIndex

CHECKS = ("self_test_light", "pads_sealed_in_date", "battery", "cabinet", "signage")
PARTS = {"pads": "pads_expire_on", "battery": "battery_expires_on"}  # what expires -> the Aed field
INSPECTION_INTERVAL_MONTHS = 6
INSPECTION_FAULT = "inspection:"


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer (Aug 31 + 6 -> Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- the state of one device -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expiry:
    part: str  # pads, battery
    on: date


@dataclass(frozen=True)
class UpkeepState:
    next_expiry: Expiry | None  # the earliest expiry date, past or not
    expired: tuple[str, ...]  # parts whose date is past
    inspection_due_on: date
    inspection_overdue: bool


def expiries(aed: Aed) -> list[Expiry]:
    found = [Expiry(part, getattr(aed, attr)) for part, attr in PARTS.items() if getattr(aed, attr)]
    return sorted(found, key=lambda e: (e.on, e.part))


def inspection_due_on(aed: Aed, time_zone: str) -> date:
    since = aed.last_inspected_on or local_today(aed.created_at, time_zone)
    return add_months(since, INSPECTION_INTERVAL_MONTHS)


def upkeep_state(aed: Aed, today: date, time_zone: str) -> UpkeepState:
    known = expiries(aed)
    due = inspection_due_on(aed, time_zone)
    return UpkeepState(
        next_expiry=known[0] if known else None,
        expired=tuple(e.part for e in known if e.on < today),
        inspection_due_on=due,
        inspection_overdue=today > due,
    )


# --- inspections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inspection:
    inspection_id: str
    aed_id: str
    inspected_on: date
    inspector: str
    recorded_at: datetime
    checks: Mapping[str, str]  # every one of CHECKS: "pass" or "fail"
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    note: str | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c for c in CHECKS if self.checks.get(c) != "pass")

    @property
    def key(self) -> str:
        """Orders an AED's log by inspection date, then by recording order (ULIDs sort by time)."""
        return f"{self.inspected_on.isoformat()}#{self.inspection_id}"


@dataclass(frozen=True)
class NewInspection:
    checks: Mapping[str, str]
    inspected_on: date | None = None
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class InspectionPage:
    items: list[Inspection]
    next_token: str | None


class InspectionLog(Protocol):
    def add(self, inspection: Inspection) -> None: ...
    def page(self, aed_id: str, limit: int, after_key: str | None) -> InspectionPage:
        """Newest first; ``after_key`` is the key of the last item of the previous page."""
        ...


def _check_new_inspection(new: NewInspection, today: date) -> date:
    missing = [c for c in CHECKS if new.checks.get(c) not in ("pass", "fail")]
    if missing:
        raise ValidationFailed(f"checks: each of {', '.join(missing)} must be pass or fail")
    inspected_on = new.inspected_on or today
    if inspected_on > today:
        raise ValidationFailed("inspected_on: may not be in the future")
    # A check that passed contradicts a date the same inspector reports as already past.
    for check, given in (
        ("pads_sealed_in_date", new.pads_expire_on),
        ("battery", new.battery_expires_on),
    ):
        if new.checks[check] == "pass" and given is not None and given < inspected_on:
            raise ValidationFailed(f"{check}: passed, but the expiry date given is before the inspection")
    return inspected_on


def _after_inspection(
    aed: Aed, inspection: Inspection, today: date, time_zone: str
) -> tuple[str, str | None]:
    """The status and fault the device has after its latest inspection."""
    by_inspection = aed.status == "faulty" and (aed.fault or "").startswith(INSPECTION_FAULT)
    if inspection.failed:
        if aed.status in ("ok", "expired") or by_inspection:
            return "faulty", INSPECTION_FAULT + ",".join(inspection.failed)
        return aed.status, aed.fault
    if aed.status in ("ok", "expired") or by_inspection:
        if upkeep_state(aed, today, time_zone).expired:
            return "expired", None  # every check passed, but a date on record is past
        return "ok", None if by_inspection else aed.fault
    return aed.status, aed.fault


def record_inspection(
    repo: AedRepository,
    log: InspectionLog,
    geo: GeoIndex,
    aed_id: str,
    new: NewInspection,
    *,
    caller: Caller,
    now: datetime,
    time_zone: str,
) -> tuple[Inspection, Aed]:
    """The AED's manager (or an admin) records an inspection: they are its inspector."""
    managed_aed(repo, caller, aed_id)
    today = local_today(now, time_zone)
    inspected_on = _check_new_inspection(new, today)
    inspection = Inspection(
        inspection_id=new_id(),
        aed_id=aed_id,
        inspected_on=inspected_on,
        inspector=str(caller.sub),
        recorded_at=now,
        checks={c: new.checks[c] for c in CHECKS},
        pads_expire_on=new.pads_expire_on,
        battery_expires_on=new.battery_expires_on,
        note=new.note or None,
    )
    log.add(inspection)

    def apply(current: Aed) -> Aed | None:
        if current.last_inspected_on is not None and inspected_on < current.last_inspected_on:
            return None  # back-dated: the device's state comes from a later inspection
        updated = replace(
            current,
            last_inspected_on=inspected_on,
            pads_expire_on=new.pads_expire_on or current.pads_expire_on,
            battery_expires_on=new.battery_expires_on or current.battery_expires_on,
        )
        status, fault = _after_inspection(updated, inspection, today, time_zone)
        return replace(updated, status=status, fault=fault)

    return inspection, change_aed(repo, geo, aed_id, apply, now)


def inspections_of(
    repo: AedRepository, log: InspectionLog, caller: Caller, aed_id: str, limit: int, next_token: str | None
) -> InspectionPage:
    managed_aed(repo, caller, aed_id)
    return log.page(aed_id, limit, next_token)
