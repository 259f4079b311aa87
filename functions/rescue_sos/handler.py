"""POST /v1/sos: store the emergency, alert wave 1, start the rescue workflow.

Metrics, one EMF line per SOS stored: SosAccepted, RespondersAlerted and AlertsFailed (wave 1's alerts
that SNS took and refused; the workflow re-delivers the refused ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header

from shared import wiring
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.api.rescue import SosAccepted, SosBody
from shared.geo.datum import to_wgs84
from shared.identity import ANONYMOUS
from shared.logic.rescue import intake
from shared.logic.rescue.tally import AlertTally
from shared.observability import (
    ALERTS_FAILED,
    RESPONDERS_ALERTED,
    SOS_ACCEPTED,
    count,
    flushed_per_invocation,
    function_metrics,
)

app = create_app()
metrics = function_metrics()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Apps always send one; a retry with the same key and body gets the same incident",
    ),
]


@app.post(
    "/v1/sos", responses={202: {"description": "Stored; responders are being alerted"}, **ERROR_RESPONSES}
)
def raise_sos(body: SosBody, idempotency_key: IdempotencyKey = None) -> Response[SosAccepted]:
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    alerts = AlertTally(wiring.notifier)
    answer = intake.raise_sos(
        wiring.incidents(),
        wiring.geo_index(),
        alerts,
        wiring.workflow(),
        intake.SosRequest(
            lat=lat,
            lng=lng,
            caller_phone=body.caller_phone,
            note=body.note,
            caller=ANONYMOUS,  # API Gateway passes no claims to an anonymous route
            idempotency_key=idempotency_key,
            body=body.model_dump(mode="json"),
        ),
        wiring.policy(),
        datetime.now(UTC),
    )
    if not answer.replayed:
        count(metrics, SOS_ACCEPTED, 1)
        count(metrics, RESPONDERS_ALERTED, alerts.published)
        count(metrics, ALERTS_FAILED, alerts.failed)
    return Response(
        202, content_types.APPLICATION_JSON, SosAccepted(incident_id=answer.incident_id, status=answer.status)
    )


lambda_handler = flushed_per_invocation(metrics)(entry_point(app))
