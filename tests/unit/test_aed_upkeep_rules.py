"""AED upkeep rules, pure: expiry, reminders once at 30 and 7 days, overdue inspections, and what an
inspection does to the device."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from shared.errors import ValidationFailed
from shared.identity import Caller
from shared.logic.aed_upkeep import (
    CHECKS,
    Inspection,
    InspectionPage,
    NewInspection,
    add_months,
    record_inspection,
    upkeep_state,
)
from shared.logic.aed_upkeep_daily import reminder_threshold, run_daily_upkeep
from shared.logic.ports import AED_USABLE, Aed, Hit

TZ = "Asia/Shanghai"
CREATED = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Hangzhou
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 on 2026-11-30 in Hangzhou
TODAY = date(2026, 11, 30)
ALL_PASS = dict.fromkeys(CHECKS, "pass")


def aed(**changes) -> Aed:
    base = Aed(
        aed_id="a1",
        lat=30.26,
        lng=120.16,
        name="湖滨银泰",
        opening_hours="24/7",
        status="ok",
        created_at=CREATED,
        updated_at=CREATED,
        manager_id="m1",
        last_inspected_on=date(2026, 9, 1),
    )
    return replace(base, **changes)


class FakeGeo:
    def __init__(self) -> None:
        self.usable: set[str] = set()

    def put(self, kind, entity_id, lat, lng, expires_at=None, attributes=None, **options) -> None:
        if kind == AED_USABLE:
            self.usable.add(entity_id)

    def remove(self, kind, entity_id) -> None:
        if kind == AED_USABLE:
            self.usable.discard(entity_id)

    def nearby(self, *args) -> list[Hit]:
        raise NotImplementedError

    def in_box(self, *args) -> list[Hit]:
        raise NotImplementedError


class FakeCatalog:
    def __init__(self, *aeds: Aed) -> None:
        self.aeds = {a.aed_id: a for a in aeds}

    def all(self) -> Iterable[Aed]:
        return list(self.aeds.values())

    def mark_expired(self, aed_id: str, now: datetime) -> Aed | None:
        current = self.aeds[aed_id]
        if current.status != "ok":
            return None
        self.aeds[aed_id] = replace(current, status="expired", updated_at=now)
        return self.aeds[aed_id]

    # AedRepository, for inspections
    def get(self, aed_id: str) -> Aed | None:
        return self.aeds.get(aed_id)

    def save(self, updated: Aed, expected_updated_at: datetime | None = None) -> None:
        assert expected_updated_at in (None, self.aeds[updated.aed_id].updated_at)
        self.aeds[updated.aed_id] = updated

    def create(self, new: Aed) -> None:
        self.aeds[new.aed_id] = new


class FakeMarkers:
    def __init__(self) -> None:
        self.markers: dict[tuple[str, str], dict] = {}

    def take(self, aed_id, key, now_epoch, lease_until, keep_until) -> bool:
        marker = self.markers.get((aed_id, key))
        if marker and (marker["sent"] or marker["lease_until"] >= now_epoch):
            return False
        self.markers[(aed_id, key)] = {"sent": False, "lease_until": lease_until}
        return True

    def sent(self, aed_id, key, at) -> None:
        self.markers[(aed_id, key)]["sent"] = True

    def release(self, aed_id, key) -> None:
        self.markers.pop((aed_id, key), None)


class FakeNotices:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict] = []
        self.fail = fail

    def remind(self, **message) -> None:
        if self.fail:
            raise ConnectionError("SNS unavailable")
        self.sent.append(message)


class FakeLog:
    def __init__(self) -> None:
        self.items: list[Inspection] = []

    def add(self, inspection: Inspection) -> None:
        self.items.append(inspection)

    def page(self, aed_id, limit, after_key) -> InspectionPage:
        raise NotImplementedError


def run(catalog, markers, notices, geo=None, as_of=TODAY):
    return run_daily_upkeep(catalog, geo or FakeGeo(), markers, notices, as_of=as_of, now=NOW, time_zone=TZ)


def kinds(notices: FakeNotices) -> list[str]:
    return [m["kind"] for m in notices.sent]


def test_expired_pads_take_an_ok_device_out_of_search_and_tell_the_manager_once():
    catalog = FakeCatalog(aed(pads_expire_on=date(2026, 11, 29)))
    geo, markers, notices = FakeGeo(), FakeMarkers(), FakeNotices()
    geo.usable.add("a1")
    first = run(catalog, markers, notices, geo)
    second = run(catalog, markers, notices, geo)
    assert catalog.aeds["a1"].status == "expired"
    assert "a1" not in geo.usable
    assert (first.expired, second.expired) == (1, 0)
    assert kinds(notices) == ["pads_expired"]
    assert notices.sent[0]["manager_id"] == "m1" and notices.sent[0]["aed_id"] == "a1"
    assert notices.sent[0]["subject"].isascii() and len(notices.sent[0]["subject"]) < 100


def test_the_expiry_day_itself_is_still_usable():
    catalog = FakeCatalog(aed(battery_expires_on=TODAY))
    report = run(catalog, FakeMarkers(), FakeNotices())
    assert report.expired == 0 and catalog.aeds["a1"].status == "ok"


def test_a_device_out_of_search_for_another_reason_keeps_its_status():
    catalog = FakeCatalog(aed(status="needs_restock", pads_expire_on=date(2026, 11, 1)))
    report = run(catalog, FakeMarkers(), FakeNotices())
    assert report.expired == 0 and catalog.aeds["a1"].status == "needs_restock"


@pytest.mark.parametrize(
    ("days_left", "threshold"), [(31, None), (30, 30), (8, 30), (7, 7), (1, 7), (0, 7), (-1, None)]
)
def test_reminder_thresholds(days_left, threshold):
    assert reminder_threshold(days_left) == threshold


def test_reminders_at_30_and_7_days_each_exactly_once_even_twice_a_day():
    catalog = FakeCatalog(aed(pads_expire_on=date(2026, 12, 30)))  # 30 days from TODAY
    markers, notices = FakeMarkers(), FakeNotices()
    sent = []
    for day in (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 23)):
        sent.append(run(catalog, markers, notices, as_of=day).reminders_sent)
    sent.append(run(catalog, markers, notices, as_of=date(2026, 12, 23)).reminders_sent)
    assert sent == [1, 0, 0, 1, 0]
    assert kinds(notices) == ["pads_expiry_30d", "pads_expiry_7d"]


def test_a_device_registered_a_few_days_before_expiry_gets_only_the_7_day_reminder():
    catalog = FakeCatalog(aed(battery_expires_on=date(2026, 12, 5)))
    notices = FakeNotices()
    run(catalog, FakeMarkers(), notices)
    assert kinds(notices) == ["battery_expiry_7d"]


def test_a_failed_publish_releases_the_reminder_for_the_retry():
    catalog = FakeCatalog(aed(pads_expire_on=date(2026, 12, 20)))
    markers = FakeMarkers()
    with pytest.raises(ConnectionError):
        run(catalog, markers, FakeNotices(fail=True))
    retry = FakeNotices()
    assert run(catalog, markers, retry).reminders_sent == 1
    assert kinds(retry) == ["pads_expiry_30d"]


def test_inspection_overdue_six_months_after_the_last_or_after_registration():
    inspected = aed(last_inspected_on=date(2026, 5, 29))
    never = aed(aed_id="a2", last_inspected_on=None, created_at=datetime(2026, 5, 31, 20, tzinfo=UTC))
    fresh = aed(aed_id="a3", last_inspected_on=date(2026, 5, 30))
    assert upkeep_state(inspected, TODAY, TZ).inspection_overdue
    # Registered 2026-06-01 04:00 Hangzhou time: due 2026-12-01, not overdue yet.
    assert upkeep_state(never, TODAY, TZ).inspection_due_on == date(2026, 12, 1)
    assert not upkeep_state(never, TODAY, TZ).inspection_overdue
    assert not upkeep_state(fresh, TODAY, TZ).inspection_overdue  # due today: overdue tomorrow
    markers, notices = FakeMarkers(), FakeNotices()
    report = run(FakeCatalog(inspected, never, fresh), markers, notices)
    again = run(FakeCatalog(inspected, never, fresh), markers, notices)
    assert (report.overdue, again.overdue) == (1, 1)  # still overdue, counted every day
    assert kinds(notices) == ["inspection_overdue"]  # reminded once per due date


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), 6) == date(2027, 5, 30)


def test_without_a_manager_nothing_is_sent_but_the_device_still_leaves_search():
    catalog = FakeCatalog(aed(manager_id=None, pads_expire_on=date(2026, 11, 1)))
    notices = FakeNotices()
    report = run(catalog, FakeMarkers(), notices)
    assert report.expired == 1 and report.without_manager == 1 and notices.sent == []


def inspect(catalog, geo, checks=None, **fields):
    return record_inspection(
        catalog,
        FakeLog(),
        geo,
        "a1",
        NewInspection(checks={**ALL_PASS, **(checks or {})}, **fields),
        caller=Caller("m1", frozenset({"aed_manager"})),  # its manager
        now=NOW,
        time_zone=TZ,
    )


def test_a_failed_check_takes_the_device_out_of_search_and_a_clean_one_brings_it_back():
    catalog, geo = FakeCatalog(aed()), FakeGeo()
    geo.usable.add("a1")
    inspection, after = inspect(catalog, geo, {"battery": "fail", "signage": "fail"})
    assert inspection.failed == ("battery", "signage")
    assert (after.status, after.fault) == ("faulty", "inspection:battery,signage")
    assert "a1" not in geo.usable
    _, fixed = inspect(catalog, geo)
    assert (fixed.status, fixed.fault, fixed.last_inspected_on) == ("ok", None, TODAY)
    assert "a1" in geo.usable


def test_new_dates_from_an_inspection_bring_an_expired_device_back():
    catalog, geo = FakeCatalog(aed(status="expired", pads_expire_on=date(2026, 11, 1))), FakeGeo()
    _, still = inspect(catalog, geo)
    assert still.status == "expired"  # every check passed, but the pads on record are past
    _, back = inspect(catalog, geo, pads_expire_on=date(2028, 11, 1))
    assert back.status == "ok" and back.pads_expire_on == date(2028, 11, 1) and "a1" in geo.usable


def test_an_inspection_leaves_a_reported_fault_to_its_own_flow():
    catalog = FakeCatalog(aed(status="faulty", fault="locked"))
    _, after = inspect(catalog, FakeGeo())
    assert (after.status, after.fault) == ("faulty", "locked")


def test_a_back_dated_inspection_joins_the_log_without_changing_the_device():
    catalog = FakeCatalog(aed(last_inspected_on=date(2026, 11, 20)))
    inspection, after = inspect(catalog, FakeGeo(), {"battery": "fail"}, inspected_on=date(2026, 10, 1))
    assert inspection.failed == ("battery",)
    assert after.status == "ok" and after.last_inspected_on == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("checks", "fields", "message"),
    [
        ({"battery": "maybe"}, {}, "battery must be pass or fail"),
        ({}, {"inspected_on": date(2026, 12, 1)}, "future"),
        ({}, {"pads_expire_on": date(2026, 11, 1)}, "pads_sealed_in_date: passed"),
    ],
)
def test_inconsistent_inspections_are_refused(checks: Mapping[str, str], fields, message):
    with pytest.raises(ValidationFailed, match=message):
        inspect(FakeCatalog(aed()), FakeGeo(), checks, **fields)
