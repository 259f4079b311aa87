"""The Red Cross cockpit's training figures: the funnel registered → attended → passed → certified → on
duty, certificates expiring, sessions and instructors (shared/logic/cockpit/training.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.cockpit_training import (
    ExpiringOut,
    FunnelOut,
    InstructorOut,
    SessionOut,
    TrainingFigures,
)
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.config import settings
from shared.logic.cockpit import training as logic

app = create_app()
config = settings()


@app.get("/v1/cockpit/training", responses=ERROR_RESPONSES)
def training(
    from_: Annotated[date, Query(alias="from", description="first day, YYYY-MM-DD (local)")],
    to: Annotated[date, Query(description="last day, inclusive; at most 366 days in all")],
) -> TrainingFigures:
    report = logic.training_report(
        wiring.training_records(),
        wiring.exams(),
        wiring.certificates(),
        wiring.training_duty(),
        first=from_,
        last=to,
        now=datetime.now(UTC),
        time_zone=config.time_zone,
        valid_years=config.certificate_valid_years,
    )
    return TrainingFigures.model_validate(
        {
            "from": report.first,
            "to": report.last,
            "funnel": FunnelOut.model_validate(report.funnel, from_attributes=True),
            "certificates_expiring": ExpiringOut(
                within_30_days=report.expiring[30], within_60_days=report.expiring[60]
            ),
            "sessions": [SessionOut.model_validate(s, from_attributes=True) for s in report.sessions],
            "instructors": [
                InstructorOut.model_validate(i, from_attributes=True) for i in report.instructors
            ],
        }
    )


lambda_handler = entry_point(app)
