"""The credits exports to the provincial public-credit platform (signed JSON Lines and CSV of a period,
never a credit twice) and the annual nominations for the 最美救护员 selection. Admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import wiring
from shared.api.credits_export import (
    ExportBody,
    ExportCounts,
    ExportFileOut,
    ExportOut,
    ExportPage,
    Nominations,
    NomineeOut,
)
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.config import settings
from shared.logic import credits_export as logic

app = create_app()

DOWNLOAD_URL_S = 900
ExportId = Annotated[str, Path(min_length=1, max_length=64)]
YearQ = Annotated[str, Query(min_length=1, max_length=8, description="YYYY")]
LimitQ = Annotated[int, Query(ge=1, le=logic.MAX_LIMIT, description="at most 100")]
PageTokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]


def _out(export: logic.Export) -> ExportOut:
    files = wiring.credit_export_files()
    return ExportOut(
        export_id=export.export_id,
        period=export.period,
        status=export.status,  # type: ignore[arg-type]
        created_at=export.created_at,
        created_by=export.created_by,
        finished_at=export.finished_at,
        counts=ExportCounts(
            listed=export.listed,
            points=export.points,
            excluded_revoked=export.excluded_revoked,
            already_exported=export.already_exported,
            held_elsewhere=export.held_elsewhere,
        ),
        key_id=export.key_id,
        public_key=export.public_key,
        files=[
            ExportFileOut(
                name=f.name,  # type: ignore[arg-type]
                key=f.key,
                media_type=f.media_type,
                bytes=f.bytes,
                sha256=f.sha256,
                signature=f.signature,
                url=files.url(f.key, DOWNLOAD_URL_S),
                signature_url=files.url(f.key + ".sig", DOWNLOAD_URL_S),
            )
            for f in export.files
        ],
    )


@app.post("/v1/credits/exports", responses=CREATED_RESPONSES)
def create_export(body: ExportBody) -> Response[ExportOut]:
    caller = current_caller(app)
    assert caller.sub is not None
    export = logic.run_export(
        wiring.credit_export_ports(), body.period, caller.sub, datetime.now(UTC), settings().time_zone
    )
    return Response(201, content_types.APPLICATION_JSON, _out(export))


@app.get("/v1/credits/exports", responses=ERROR_RESPONSES)
def list_exports(limit: LimitQ = logic.DEFAULT_LIMIT, next_token: PageTokenQ = None) -> ExportPage:
    items, token = logic.list_exports(wiring.credit_export_records(), limit, next_token)
    return ExportPage(items=[_out(e) for e in items], next_token=token)


@app.get("/v1/credits/exports/<export_id>", responses=ERROR_RESPONSES)
def get_export(export_id: ExportId) -> ExportOut:
    return _out(logic.get_export(wiring.credit_export_records(), export_id))


@app.get("/v1/credits/nominations", responses=ERROR_RESPONSES)
def nominations(year: YearQ, limit: LimitQ = logic.DEFAULT_LIMIT) -> Nominations:
    months = logic.year_months(year)
    ledger = wiring.credit_export_ledger()
    rows = logic.nominations(
        (c for month in months for c in ledger.credits_in_month(month)),
        ledger.outcomes,
        wiring.credit_export_people(),
        limit,
        settings().time_zone,
    )
    return Nominations(
        year=year,
        items=[
            NomineeOut(
                rank=n.rank,
                responder_id=n.responder_id,
                certificate_no=n.certificate_no,
                name=n.name,
                rescues=n.rescues,
                aed_rescues=n.aed_rescues,
                rosc_rescues=n.rosc_rescues,
                points=n.points,
            )
            for n in rows
        ],
    )


lambda_handler = entry_point(app)
