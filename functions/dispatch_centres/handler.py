"""Dispatch centres (admin): register a 120 centre, change its details, rotate its signing secret."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.dispatch import CentreBody, CentreIdPath, CentreOut
from shared.api.http import ERROR_RESPONSES, create_app, entry_point
from shared.config import settings
from shared.logic.dispatch import centres

app = create_app()

Rotate = Annotated[
    bool,
    Query(
        description=(
            "true: issue a new signing secret (shown once in this answer); the one before it verifies for "
            "24 h more"
        )
    ),
]


@app.put("/v1/dispatch/centres/<centre_id>", responses=ERROR_RESPONSES)
def put_centre(centre_id: CentreIdPath, body: CentreBody, rotate: Rotate = False) -> CentreOut:
    registered = centres.put_centre(
        wiring.dispatch_centres(),
        wiring.centre_secrets(),
        centre_id,
        body.name,
        body.callback_url,
        list(body.area),
        rotate=rotate,
        loopback_allowed=settings().dispatch_loopback_callbacks == 1,
        now=datetime.now(UTC),
    )
    return CentreOut.model_validate({**registered.centre.__dict__, "secret": registered.secret})


lambda_handler = entry_point(app)
