"""What takes an AED out of service and what brings it back: fault reports and their resolution, use
in a rescue (``in_use``, then ``needs_restock``) and the restock that returns it to ``ok``.

Rules (docs/aed-faults.md):
- Anyone may report an AED ``locked``, ``missing``, ``broken`` or ``wrong_location``. A report made from
  inside a rescue by someone in it (shared.logic.rescue.assignment.report_aed_in_rescue) suspends the
  AED from every search at once: whoever found it locked at 3 a.m. would find it locked for the next
  patient too. Other reports wait for the manager and leave the AED in search (one anonymous report
  cannot switch off an AED).
- The manager confirms (status ``faulty``, or ``missing``, with the fault named) or clears the report
  (the suspension it caused ends). Reports, their resolution and the restock are the AED's manager's
  and admins' (``shared.logic.aed_registry.managed_aed``: other managers 403).
- ``aed_attached`` marks the AED ``in_use``; the rescue's close moves it to ``needs_restock``; a manager
  confirming new pads returns it to ``ok``. Every status but ``ok`` keeps it out of search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.aed_registry import index_aed, managed_aed
from shared.logic.ids import new_id
from shared.logic.ports import Aed, AedRepository, GeoIndex

REPORT_KINDS = ("locked", "missing", "broken", "wrong_location")
DECISIONS = ("confirmed", "cleared")
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "image/webp": "webp"}
PHOTO_MAX_BYTES = 10 * 1024 * 1024
_CHANGE_ATTEMPTS = 5


@dataclass
class FaultReport:
    aed_id: str
    report_id: str
    kind: str
    state: str  # open, confirmed, cleared
    created_at: datetime
    reporter: str | None  # the caller's sub; None when anonymous
    reporter_role: str  # anonymous, responder, dispatcher, aed_manager, admin, public
    suspends: bool  # made inside a rescue: the AED left search with it
    note: str | None = None
    incident_id: str | None = None
    photo_key: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None


@dataclass(frozen=True)
class PhotoUpload:
    """A presigned S3 POST: the app posts ``fields`` plus the file (field ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class ReportStore(Protocol):
    def add(self, report: FaultReport) -> None: ...
    def get(self, aed_id: str, report_id: str) -> FaultReport | None: ...
    def list(
        self, aed_id: str, state: str | None, limit: int, next_token: str | None
    ) -> tuple[list[FaultReport], str | None]: ...
    def resolve(
        self, aed_id: str, report_id: str, state: str, by: str, at: datetime, note: str | None
    ) -> bool: ...


class PhotoStore(Protocol):
    def upload_slot(self, key: str, content_type: str, max_bytes: int) -> PhotoUpload: ...
    def view_url(self, key: str) -> str: ...


def change_aed(
    repo: AedRepository, geo: GeoIndex, aed_id: str, change: Callable[[Aed], Aed | None], now: datetime
) -> Aed:
    """Read, change, save only if nobody saved in between (else re-read and retry), re-index.
    ``change`` returns None when there is nothing to do."""
    for _ in range(_CHANGE_ATTEMPTS):
        aed = repo.get(aed_id)
        if aed is None:
            raise NotFound("AED not found")
        changed = change(aed)
        if changed is None:
            return aed
        # updated_at is the version the next writer's condition checks: it must move forward.
        changed = replace(changed, updated_at=max(now, aed.updated_at + timedelta(microseconds=1)))
        try:
            repo.save(changed, expected_updated_at=aed.updated_at)
        except Conflict:
            continue
        index_aed(geo, changed)
        return changed
    raise Conflict("the AED kept changing; try again", code="aed_changed")


class AedFaults:
    """The AED side of reports, rescues and restocks, on the repository and the geo index."""

    def __init__(self, repo: AedRepository, geo: GeoIndex, reports: ReportStore, photos: PhotoStore) -> None:
        self.repo, self.geo, self.reports, self.photos = repo, geo, reports, photos

    def report(
        self,
        aed_id: str,
        kind: str,
        *,
        note: str | None,
        reporter: str | None,
        reporter_role: str,
        incident_id: str | None,
        photo_type: str | None,
        suspend: bool,
        now: datetime,
    ) -> tuple[FaultReport, PhotoUpload | None]:
        if kind not in REPORT_KINDS:
            raise ValidationFailed(f"kind: one of {', '.join(REPORT_KINDS)}")
        if photo_type is not None and photo_type not in PHOTO_TYPES:
            raise ValidationFailed(f"photo_content_type: one of {', '.join(PHOTO_TYPES)}")
        if self.repo.get(aed_id) is None:
            raise NotFound("AED not found")
        report_id = new_id()
        photo_key = f"aed-reports/{aed_id}/{report_id}.{PHOTO_TYPES[photo_type]}" if photo_type else None
        report = FaultReport(
            aed_id=aed_id,
            report_id=report_id,
            kind=kind,
            state="open",
            created_at=now,
            reporter=reporter,
            reporter_role=reporter_role,
            suspends=suspend,
            note=note or None,
            incident_id=incident_id,
            photo_key=photo_key,
        )
        self.reports.add(report)
        if suspend:
            change_aed(
                self.repo,
                self.geo,
                aed_id,
                lambda a: None if a.suspended_by else replace(a, suspended_by=report_id),
                now,
            )
        upload = None
        if photo_key and photo_type:
            upload = self.photos.upload_slot(photo_key, photo_type, PHOTO_MAX_BYTES)
        return report, upload

    def resolve(
        self, caller: Caller, aed_id: str, report_id: str, decision: str, note: str | None, now: datetime
    ) -> tuple[FaultReport, Aed]:
        if decision not in DECISIONS:
            raise ValidationFailed(f"decision: one of {', '.join(DECISIONS)}")
        managed_aed(self.repo, caller, aed_id)  # before the report: nothing about it shows to others
        by = str(caller.sub)
        report = self.reports.get(aed_id, report_id)
        if report is None:
            raise NotFound("report not found")
        if report.state != "open" or not self.reports.resolve(aed_id, report_id, decision, by, now, note):
            raise Conflict("the report was already resolved", code="already_resolved")

        def apply(aed: Aed) -> Aed:
            suspended_by = None if aed.suspended_by == report_id else aed.suspended_by
            if decision == "cleared":
                return replace(aed, suspended_by=suspended_by)
            status = "missing" if report.kind == "missing" else "faulty"
            return replace(aed, status=status, fault=report.kind, suspended_by=suspended_by)

        aed = change_aed(self.repo, self.geo, aed_id, apply, now)
        resolved = replace(report, state=decision, resolved_at=now, resolved_by=by, resolution_note=note)
        return resolved, aed

    def list_reports(
        self, caller: Caller, aed_id: str, state: str | None, limit: int, next_token: str | None
    ) -> tuple[list[FaultReport], str | None]:
        managed_aed(self.repo, caller, aed_id)
        return self.reports.list(aed_id, state, limit, next_token)

    def photo_url(self, report: FaultReport) -> str | None:
        return self.photos.view_url(report.photo_key) if report.photo_key else None

    # --- rescues -------------------------------------------------------------------------------

    def start_use(self, aed_id: str, incident_id: str, now: datetime) -> Aed:
        """``aed_attached``: the device is on a patient, out of search until restocked."""
        return change_aed(
            self.repo,
            self.geo,
            aed_id,
            lambda a: (
                None
                if a.status == "in_use" and a.in_use_by == incident_id
                else replace(a, status="in_use", in_use_by=incident_id)
            ),
            now,
        )

    def end_use(self, aed_id: str, incident_id: str, now: datetime) -> Aed:
        """The rescue closed: pads were used, so the device waits for its manager's restock. Only the
        use this incident started ends here (a later use by another rescue is left alone)."""

        def apply(aed: Aed) -> Aed | None:
            if aed.status == "in_use" and aed.in_use_by not in (None, incident_id):
                return None
            if aed.status == "needs_restock" and aed.in_use_by in (None, incident_id):
                return None
            return replace(aed, status="needs_restock", in_use_by=None)

        return change_aed(self.repo, self.geo, aed_id, apply, now)

    def restock(
        self,
        caller: Caller,
        aed_id: str,
        *,
        pads_expire_on: date,
        battery_expires_on: date | None,
        today: date,
        now: datetime,
    ) -> Aed:
        """The AED's manager confirms new pads (their expiry date required: it is on the package)."""
        managed_aed(self.repo, caller, aed_id)
        if pads_expire_on <= today:
            raise ValidationFailed("pads_expire_on: new pads expire in the future")
        if battery_expires_on is not None and battery_expires_on <= today:
            raise ValidationFailed("battery_expires_on: an expired battery cannot return to service")

        def apply(aed: Aed) -> Aed:
            if aed.status != "needs_restock":
                raise Conflict(
                    f"the AED is {aed.status}, not waiting for a restock", code="not_awaiting_restock"
                )
            return replace(
                aed,
                status="ok",
                in_use_by=None,
                pads_expire_on=pads_expire_on,
                battery_expires_on=battery_expires_on or aed.battery_expires_on,
            )

        return change_aed(self.repo, self.geo, aed_id, apply, now)
