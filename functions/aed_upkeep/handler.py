"""AED inspections: managers record what they checked, and read an AED's log newest first.

Apart from functions/aed_registry, which serves the anonymous search and map: only this function may write the
inspection log (see infra/constants.FUNCTION_GRANTS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.aed_upkeep import InspectionBody, InspectionOut, InspectionRecorded, Inspections
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ
from shared.config import settings
from shared.logic import aed_upkeep as logic

app = create_app()
config = settings()

InspectionTokenQ = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}\.[0-9A-Z]{26}$", description="from the previous page")
]


def _out(inspection: logic.Inspection) -> InspectionOut:
    return InspectionOut(
        inspection_id=inspection.inspection_id,
        aed_id=inspection.aed_id,
        inspected_on=inspection.inspected_on,
        inspector=inspection.inspector,
        recorded_at=inspection.recorded_at,
        checks=dict(inspection.checks),
        failed=list(inspection.failed),
        pads_expire_on=inspection.pads_expire_on,
        battery_expires_on=inspection.battery_expires_on,
        note=inspection.note,
    )


@app.post("/v1/aeds/<aed_id>/inspections", responses=CREATED_RESPONSES)
def record_inspection(aed_id: str, body: InspectionBody) -> Response[InspectionRecorded]:
    new = logic.NewInspection(
        checks=body.checks.model_dump(),
        inspected_on=body.inspected_on,
        pads_expire_on=body.pads_expire_on,
        battery_expires_on=body.battery_expires_on,
        note=body.note,
    )
    inspection, aed = logic.record_inspection(
        wiring.aeds(),
        wiring.aed_inspections(),
        wiring.geo_index(),
        aed_id,
        new,
        caller=current_caller(app),
        now=datetime.now(UTC),
        time_zone=config.time_zone,
    )
    recorded = InspectionRecorded(**_out(inspection).model_dump(), aed_status=aed.status, aed_fault=aed.fault)
    return Response(201, content_types.APPLICATION_JSON, recorded)


@app.get("/v1/aeds/<aed_id>/inspections", responses=ERROR_RESPONSES)
def list_inspections(aed_id: str, limit: LimitQ = 20, next_token: InspectionTokenQ = None) -> Inspections:
    page = logic.inspections_of(
        wiring.aeds(), wiring.aed_inspections(), current_caller(app), aed_id, limit, next_token
    )
    return Inspections(items=[_out(i) for i in page.items], next_token=page.next_token)


lambda_handler = entry_point(app)
