"""The AED service rules on fakes: what leaves search, what comes back, and lost-update protection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.aed_faults import AedFaults, FaultReport, PhotoUpload
from shared.logic.ports import AED_MAP, AED_USABLE, Aed

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MANAGER = Caller("m1", frozenset({"aed_manager"}))  # manages A1 (service())


class Repo:
    def __init__(self, aed: Aed, interfere: int = 0) -> None:
        self.aed, self.interfere, self.saves = aed, interfere, 0

    def get(self, aed_id: str) -> Aed | None:
        return self.aed if aed_id == self.aed.aed_id else None

    def save(self, aed: Aed, expected_updated_at: datetime | None = None) -> None:
        if self.interfere:  # someone else saved between our read and our write
            self.interfere -= 1
            self.aed = replace(self.aed, updated_at=self.aed.updated_at + timedelta(seconds=1))
        if expected_updated_at is not None and expected_updated_at != self.aed.updated_at:
            raise Conflict("changed", code="aed_changed")
        self.saves += 1
        self.aed = aed


class Geo:
    def __init__(self) -> None:
        self.indexed: dict[str, set[str]] = {AED_MAP: set(), AED_USABLE: set()}

    def put(self, kind: str, entity_id: str, *args: Any, **kwargs: Any) -> None:
        self.indexed[kind].add(entity_id)

    def remove(self, kind: str, entity_id: str) -> None:
        self.indexed[kind].discard(entity_id)


class Reports:
    def __init__(self) -> None:
        self.items: dict[str, FaultReport] = {}

    def add(self, report: FaultReport) -> None:
        self.items[report.report_id] = report

    def get(self, aed_id: str, report_id: str) -> FaultReport | None:
        return self.items.get(report_id)

    def list(self, *args: Any) -> tuple[list[FaultReport], str | None]:
        return list(self.items.values()), None

    def resolve(
        self, aed_id: str, report_id: str, state: str, by: str, at: datetime, note: str | None
    ) -> bool:
        if self.items[report_id].state != "open":
            return False
        self.items[report_id] = replace(self.items[report_id], state=state)
        return True


class Photos:
    def upload_slot(self, key: str, content_type: str, max_bytes: int) -> PhotoUpload:
        return PhotoUpload(f"https://s3/{key}", {"key": key}, NOW, max_bytes)

    def view_url(self, key: str) -> str:
        return f"https://s3/{key}?signed"


def service(status: str = "ok", interfere: int = 0, **fields: Any) -> tuple[AedFaults, Repo, Geo]:
    fields = {"manager_id": MANAGER.sub, **fields}
    aed = Aed(
        "A1", 30.0, 120.0, "AED", "24/7", status, NOW - timedelta(days=1), NOW - timedelta(days=1), **fields
    )
    repo, geo = Repo(aed, interfere), Geo()
    return AedFaults(repo, geo, Reports(), Photos()), repo, geo  # type: ignore[arg-type]


def test_a_concurrent_save_is_retried_on_the_fresh_copy_not_overwritten():
    svc, repo, geo = service(interfere=2)
    svc.start_use("A1", "I1", NOW)
    assert repo.aed.status == "in_use" and repo.aed.in_use_by == "I1" and repo.saves == 1
    assert "A1" not in geo.indexed[AED_USABLE] and "A1" in geo.indexed[AED_MAP]


def test_a_save_that_keeps_losing_gives_up_with_a_conflict():
    svc, _, _ = service(interfere=99)
    with pytest.raises(Conflict):
        svc.start_use("A1", "I1", NOW)


def test_closing_one_rescue_leaves_an_aed_another_rescue_is_using():
    svc, repo, _ = service(status="in_use", in_use_by="I2")
    svc.end_use("A1", "I1", NOW)
    assert repo.aed.status == "in_use" and repo.aed.in_use_by == "I2" and repo.saves == 0
    svc.end_use("A1", "I2", NOW)
    assert repo.aed.status == "needs_restock"


def test_a_suspending_report_takes_it_out_of_search_and_clearing_brings_it_back():
    svc, repo, geo = service()
    report, upload = svc.report(
        "A1",
        "locked",
        note=None,
        reporter="r1",
        reporter_role="responder",
        incident_id="I1",
        photo_type="image/png",
        suspend=True,
        now=NOW,
    )
    assert repo.aed.suspended_by == report.report_id and "A1" not in geo.indexed[AED_USABLE]
    assert upload is not None and upload.fields["key"].endswith(f"{report.report_id}.png")
    _, aed = svc.resolve(MANAGER, "A1", report.report_id, "cleared", None, NOW)
    assert aed.suspended_by is None and aed.status == "ok" and "A1" in geo.indexed[AED_USABLE]


def test_a_confirmed_missing_report_marks_it_missing():
    svc, repo, geo = service()
    report, _ = svc.report(
        "A1",
        "missing",
        note="cabinet empty",
        reporter=None,
        reporter_role="public",
        incident_id=None,
        photo_type=None,
        suspend=False,
        now=NOW,
    )
    assert repo.aed.suspended_by is None  # a public report alone changes nothing
    _, aed = svc.resolve(MANAGER, "A1", report.report_id, "confirmed", None, NOW)
    assert (aed.status, aed.fault) == ("missing", "missing") and "A1" not in geo.indexed[AED_USABLE]


def test_restock_needs_new_pads_and_a_device_waiting_for_them():
    svc, _, _ = service(status="needs_restock")
    with pytest.raises(ValidationFailed):
        svc.restock(
            MANAGER,
            "A1",
            pads_expire_on=date(2026, 11, 30),
            battery_expires_on=None,
            today=date(2026, 11, 30),
            now=NOW,
        )
    aed = svc.restock(
        MANAGER,
        "A1",
        pads_expire_on=date(2029, 1, 1),
        battery_expires_on=None,
        today=date(2026, 11, 30),
        now=NOW,
    )
    assert aed.status == "ok" and aed.pads_expire_on == date(2029, 1, 1)
    with pytest.raises(Conflict):
        svc.restock(
            MANAGER,
            "A1",
            pads_expire_on=date(2029, 1, 1),
            battery_expires_on=None,
            today=date(2026, 11, 30),
            now=NOW,
        )


def test_reports_resolutions_and_restocks_are_for_the_aeds_manager_and_admins():
    svc, repo, _ = service(status="needs_restock")
    report, _ = svc.report(
        "A1",
        "locked",
        note=None,
        reporter=None,
        reporter_role="public",
        incident_id=None,
        photo_type=None,
        suspend=False,
        now=NOW,
    )
    other = Caller("m2", frozenset({"aed_manager"}))  # the map shows the AED: refused, not hidden
    with pytest.raises(Forbidden):
        svc.list_reports(other, "A1", None, 20, None)
    with pytest.raises(Forbidden):
        svc.resolve(other, "A1", "no-such-report", "cleared", None, NOW)  # says nothing of reports
    with pytest.raises(Forbidden):
        svc.restock(
            other, "A1", pads_expire_on=date(2029, 1, 1), battery_expires_on=None, today=NOW.date(), now=NOW
        )
    with pytest.raises(NotFound):
        svc.list_reports(other, "no-such-aed", None, 20, None)
    assert repo.aed.status == "needs_restock" and repo.saves == 0
    admin = Caller("a1", frozenset({"admin"}))
    svc.resolve(admin, "A1", report.report_id, "cleared", None, NOW)
    assert (
        svc.restock(
            admin, "A1", pads_expire_on=date(2029, 1, 1), battery_expires_on=None, today=NOW.date(), now=NOW
        ).status
        == "ok"
    )
