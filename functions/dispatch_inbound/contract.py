"""The signed routes as the OpenAPI document shows them: the bodies and the Standard Webhooks headers,
declared on Powertools' validating resolver like every other route. handler.py serves them without
declaring either, because it verifies the signature before it reads the body (a body validated first
would answer a 422 to a caller who proved nothing); these routes hand over to handler.py's own."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from functions.dispatch_inbound import handler
from shared.api.dispatch import (
    CentreIncidentAccepted,
    CentreIncidentBody,
    CentreUpdateAnswer,
    CentreUpdateBody,
    SignedCadNo,
    SignedCentreId,
    WebhookId,
    WebhookSignature,
    WebhookTimestamp,
)
from shared.api.http import ERROR_RESPONSES, ErrorResponse, create_app, entry_point

app = create_app()

_SIGNED: dict[int, OpenAPIResponse] = {
    401: {
        "description": (
            "Not signed by a registered centre: unknown centre, no secret issued, a missing header, a "
            "timestamp more than 5 minutes off, or no matching signature (one answer for all; nothing stored)"
        ),
        "content": {"application/json": {"model": ErrorResponse}},
    }
}


@app.post(
    "/v1/dispatch/centres/<centre_id>/incidents",
    responses={
        202: {"description": "Stored; responders are being alerted (the same incident for a repeat)"},
        **ERROR_RESPONSES,
        **_SIGNED,
    },
)
def post_incident(
    centre_id: SignedCentreId,
    body: CentreIncidentBody,
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> Response[CentreIncidentAccepted]:
    answer = handler.raise_incident(app.current_event.raw_event, centre_id)
    return Response(202, content_types.APPLICATION_JSON, answer)


@app.post(
    "/v1/dispatch/centres/<centre_id>/incidents/<cad_incident_no>/updates",
    responses={**ERROR_RESPONSES, **_SIGNED},
)
def post_update(
    centre_id: SignedCentreId,
    cad_incident_no: SignedCadNo,
    body: CentreUpdateBody,
    webhook_id: WebhookId,
    webhook_timestamp: WebhookTimestamp,
    webhook_signature: WebhookSignature,
) -> CentreUpdateAnswer:
    return handler.update(app.current_event.raw_event, centre_id, cad_incident_no)


lambda_handler = entry_point(app)
