"""POST /v1/sos as the OpenAPI document shows it: the request and answer models, the header and the
error responses, declared on Powertools' validating resolver like every other route.

The function serves the route with handler.py, which reads the request without pydantic or the
resolver for its cold start. This resolver is what the document is generated from, and the yardstick
tests/unit/test_plain_requests.py measures handler.py against: every body it is given answers the same
through both, the 202s included (this route hands over to handler.py's own)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response, content_types

from functions.rescue_sos import handler
from shared.api.http import ERROR_RESPONSES, ErrorResponse, create_app, current_caller, entry_point
from shared.api.params import DeviceId, SosIdempotencyKey
from shared.api.rescue import SosAccepted, SosBody

app = create_app()


@app.post(
    "/v1/sos",
    responses={
        202: {"description": "Stored; responders are being alerted"},
        **ERROR_RESPONSES,
        429: {
            "description": "Too many SOS from this device or address in a short time; Retry-After says when",
            "content": {"application/json": {"model": ErrorResponse}},
        },
    },
)
def raise_sos(
    body: SosBody, idempotency_key: SosIdempotencyKey = None, device_id: DeviceId = None
) -> Response[SosAccepted]:
    answer = handler.raise_sos(app.current_event.raw_event, current_caller(app))
    return Response(
        answer["statusCode"], content_types.APPLICATION_JSON, SosAccepted(**json.loads(answer["body"]))
    )


lambda_handler = entry_point(app)
