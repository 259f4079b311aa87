"""AED registry imports (aed managers, admins): up to 100 registry entries per request, upserted by
(source, source_id); see shared/logic/aed_import.py and docs/aed-import.md."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from shared import wiring
from shared.api.aed_import import ImportAnswer, ImportBody, ImportResult, parse_item
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.config import settings
from shared.dal.aed_import import BatchedGeoIndex
from shared.logic import aed_import as logic

app = create_app()
config = settings()


@app.post("/v1/aeds/import", responses=ERROR_RESPONSES)
def import_aeds(body: ImportBody) -> ImportAnswer:
    outcomes = logic.import_aeds(
        wiring.aed_imports(),
        BatchedGeoIndex(wiring.geo_index()),
        body.source,
        [parse_item(raw) for raw in body.items],
        caller=current_caller(app),
        now=datetime.now(UTC),
    )
    return ImportAnswer(results=[ImportResult(**asdict(o)) for o in outcomes])


lambda_handler = entry_point(app)
