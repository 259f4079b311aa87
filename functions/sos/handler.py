"""POST /v1/sos: store the emergency, alert wave 1, start the rescue workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header

from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.api.schemas import SosAccepted, SosBody
from shared.geo.datum import to_wgs84
from shared.identity import ANONYMOUS
from shared.logic import rescue as logic
from shared.rescue_wiring import rescue

app = create_app()
wired = rescue()

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
    answer = logic.raise_sos(
        wired.store,
        wired.geo,
        wired.notifier,
        wired.workflow,
        logic.SosRequest(
            lat=lat,
            lng=lng,
            caller_phone=body.caller_phone,
            note=body.note,
            caller=ANONYMOUS,  # API Gateway passes no claims to an anonymous route
            idempotency_key=idempotency_key,
            body=body.model_dump(mode="json"),
        ),
        wired.policy,
        datetime.now(UTC),
    )
    return Response(
        202, content_types.APPLICATION_JSON, SosAccepted(incident_id=answer.incident_id, status=answer.status)
    )


lambda_handler = entry_point(app)
