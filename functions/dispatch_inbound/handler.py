"""What a 120 dispatch centre's CAD system sends: incidents and updates on them, signed as Standard
Webhooks specifies (docs/dispatch.md). API Gateway passes these routes without a token; here the
signature is verified over the raw body and headers before anything else is read, and whatever fails
(an unknown centre, a bad or stale signature) is the same 401 with nothing stored.

The routes as the OpenAPI document shows them (bodies, the webhook headers) are declared in contract.py:
a body validated before the signature would answer a 422 to anyone."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from shared import wiring
from shared.api.dispatch import (
    CentreIncidentAccepted,
    CentreIncidentBody,
    CentreUpdateAnswer,
    CentreUpdateBody,
    SignedCadNo,
    SignedCentreId,
)
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.api.plain import json_object_body
from shared.geo.datum import to_wgs84
from shared.logic.dispatch import inbound
from shared.logic.rescue.tally import AlertTally
from shared.observability import (
    ALERTS_FAILED,
    RESPONDERS_ALERTED,
    count,
    flushed_per_invocation,
    function_metrics,
    logger,
)

app = create_app()
metrics = function_metrics()  # RespondersAlerted and AlertsFailed of a new incident's wave 1
Model = TypeVar("Model", bound=BaseModel)


def signed_body(event: dict[str, Any], centre_id: str, model: type[Model]) -> tuple[Model, str]:
    """The body, read and validated only once the call is proven to be the centre's (401 otherwise),
    and the call's webhook-id."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded") and raw:  # not with this API (no binary media types): as API Gateway does
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    try:
        _, webhook_id = inbound.authenticate(
            wiring.dispatch_centres(),
            wiring.centre_secrets(),
            centre_id,
            raw,
            dict(event.get("headers") or {}),
            datetime.now(UTC),
        )
    except inbound.NotSigned as refused:
        logger.warning("dispatch call refused", extra={"centre_id": centre_id, "reason": refused.reason})
        raise
    try:
        return model.model_validate(json_object_body(event)), webhook_id
    except ValidationError as error:  # answered as every route's 422 (shared/api/http.py)
        problems = error.errors(include_url=False, include_input=False)
        raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems]) from None


def raise_incident(event: dict[str, Any], centre_id: str) -> CentreIncidentAccepted:
    body, webhook_id = signed_body(event, centre_id, CentreIncidentBody)
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    alerts = AlertTally(wiring.notifier)
    answer = inbound.raise_incident(
        wiring.incidents(),
        wiring.geo_index(),
        alerts,
        wiring.workflow(),
        centre_id,
        webhook_id,
        inbound.CentreCall(
            cad_incident_no=body.cad_incident_no,
            nature=body.nature,
            lat=lat,
            lng=lng,
            address=body.address or None,
            floor=body.floor or None,
            callback_phone=body.callback_phone,
            note=body.note or None,
            call_received_at=body.call_received_at.astimezone(UTC) if body.call_received_at else None,
        ),
        wiring.policy(),
        datetime.now(UTC),
    )
    if not answer.replayed:
        count(metrics, RESPONDERS_ALERTED, alerts.published)
        count(metrics, ALERTS_FAILED, alerts.failed)
    return CentreIncidentAccepted(incident_id=answer.incident_id, status=answer.status)


def update(event: dict[str, Any], centre_id: str, cad_incident_no: str) -> CentreUpdateAnswer:
    body, webhook_id = signed_body(event, centre_id, CentreUpdateBody)
    answer = inbound.apply_update(
        wiring.incidents(),
        wiring.centre_keys(),
        wiring.workflow(),
        centre_id,
        cad_incident_no,
        webhook_id,
        body.type,
        body.outcome,
        wiring.policy(),
        datetime.now(UTC),
    )
    return CentreUpdateAnswer(
        incident_id=answer.incident_id,
        cad_incident_no=cad_incident_no,
        type=answer.type,
        status=answer.status,
        outcome=answer.outcome,
    )


@app.post("/v1/dispatch/centres/<centre_id>/incidents", responses=ERROR_RESPONSES)
def post_incident(centre_id: SignedCentreId) -> Response[CentreIncidentAccepted]:
    answer = raise_incident(app.current_event.raw_event, centre_id)
    return Response(202, content_types.APPLICATION_JSON, answer)


@app.post("/v1/dispatch/centres/<centre_id>/incidents/<cad_incident_no>/updates", responses=ERROR_RESPONSES)
def post_update(centre_id: SignedCentreId, cad_incident_no: SignedCadNo) -> CentreUpdateAnswer:
    return update(app.current_event.raw_event, centre_id, cad_incident_no)


wiring.warm_up_notifier()  # cn profile: the providers' credentials and clients, while the instance starts
lambda_handler = flushed_per_invocation(metrics)(entry_point(app))
