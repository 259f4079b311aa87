"""AEDs out of service and back: fault reports (anyone), their resolution and the restock after a
rescue used the pads (managers). Rules: shared/logic/aed_faults.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.aed_faults import (
    NewReportBody,
    PhotoUploadOut,
    ReportCreated,
    ReportOut,
    ReportPage,
    ResolutionBody,
    ResolutionOut,
    RestockBody,
)
from shared.api.aed_registry import AedOut
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ
from shared.config import settings
from shared.logic.aed_faults import FaultReport, PhotoUpload
from shared.logic.aed_registry import usable

app = create_app()
config = settings()

PageTokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]
StateQ = Annotated[
    Literal["open", "confirmed", "cleared"] | None, Query(description="only reports in this state")
]


def report_out(report: FaultReport, photo_url: str | None = None) -> ReportOut:
    return ReportOut(
        report_id=report.report_id,
        aed_id=report.aed_id,
        kind=report.kind,
        state=report.state,  # type: ignore[arg-type]
        created_at=report.created_at,
        note=report.note,
        incident_id=report.incident_id,
        suspends=report.suspends,
        reporter=report.reporter,
        reporter_role=report.reporter_role,
        photo_url=photo_url,
        resolved_at=report.resolved_at,
        resolved_by=report.resolved_by,
        resolution_note=report.resolution_note,
    )


def upload_out(upload: PhotoUpload | None) -> PhotoUploadOut | None:
    return PhotoUploadOut(**upload.__dict__) if upload else None


@app.post("/v1/aeds/<aed_id>/reports", responses=CREATED_RESPONSES)
def report_fault(aed_id: str, body: NewReportBody) -> Response[ReportCreated]:
    # Any signed-in person (a member of the public has a token with no role): the report waits for the
    # manager and the AED stays in search; reports from inside a rescue go through
    # POST /v1/incidents/{incident_id}/aed-reports, which suspends the AED at once.
    caller = current_caller(app)
    report, upload = wiring.aed_faults().report(
        aed_id,
        body.kind,
        note=body.note,
        reporter=caller.sub,
        reporter_role=min(caller.roles, default="public"),
        incident_id=None,
        photo_type=body.photo_content_type,
        suspend=False,
        now=datetime.now(UTC),
    )
    answer = ReportCreated(report_id=report.report_id, state=report.state, upload=upload_out(upload))
    return Response(201, content_types.APPLICATION_JSON, answer)


@app.get("/v1/aeds/<aed_id>/reports", responses=ERROR_RESPONSES)
def list_reports(
    aed_id: str, state: StateQ = None, limit: LimitQ = 20, next_token: PageTokenQ = None
) -> ReportPage:
    faults = wiring.aed_faults()
    items, token = faults.list_reports(current_caller(app), aed_id, state, limit, next_token)
    return ReportPage(items=[report_out(r, faults.photo_url(r)) for r in items], next_token=token)


@app.post("/v1/aeds/<aed_id>/reports/<report_id>/resolution", responses=ERROR_RESPONSES)
def resolve(aed_id: str, report_id: str, body: ResolutionBody) -> ResolutionOut:
    report, aed = wiring.aed_faults().resolve(
        current_caller(app), aed_id, report_id, body.decision, body.note, datetime.now(UTC)
    )
    return ResolutionOut(report=report_out(report), aed_status=aed.status, aed_searchable=usable(aed))


@app.post("/v1/aeds/<aed_id>/restock", responses=ERROR_RESPONSES)
def restock(aed_id: str, body: RestockBody) -> AedOut:
    now = datetime.now(UTC)
    aed = wiring.aed_faults().restock(
        current_caller(app),
        aed_id,
        pads_expire_on=body.pads_expire_on,
        battery_expires_on=body.battery_expires_on,
        today=now.astimezone(ZoneInfo(config.time_zone)).date(),
        now=now,
    )
    return AedOut.model_validate(aed, from_attributes=True)


lambda_handler = entry_point(app)
