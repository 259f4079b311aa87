"""Dispatch centres (admin): register a 120 centre, change its details, rotate its signing secret; list
the status webhooks sent to it (those that failed, say) and replay one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared import wiring
from shared.api.dispatch import CentreBody, CentreIdPath, CentreOut, Delivery, DeliveryList, ReplayBody
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ
from shared.config import settings
from shared.logic.dispatch import centres, outbound
from shared.observability import logger

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


StatusQ = Annotated[
    Literal["pending", "delivered", "failed"],
    Query(
        description="failed: parked after 24 h of tries; pending: being tried; delivered: the centre took it"
    ),
]
DeliveryTokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]


@app.get("/v1/dispatch/centres/<centre_id>/deliveries", responses=ERROR_RESPONSES)
def list_deliveries(
    centre_id: CentreIdPath, status: StatusQ = "failed", limit: LimitQ = 20, next_token: DeliveryTokenQ = None
) -> DeliveryList:
    page = outbound.list_deliveries(wiring.delivery_log(), centre_id, status, limit, next_token)
    return DeliveryList(
        items=[Delivery.model_validate(outbound.shown(d)) for d in page.items], next_token=page.next_token
    )


@app.post("/v1/dispatch/centres/<centre_id>/deliveries/<delivery_id>/replay", responses=ERROR_RESPONSES)
def replay_delivery(centre_id: CentreIdPath, delivery_id: str, body: ReplayBody) -> Delivery:
    again = outbound.replay(
        wiring.delivery_log(), wiring.status_changes(), centre_id, delivery_id, datetime.now(UTC)
    )
    logger.info(
        "status webhook replayed",
        extra={
            "centre_id": centre_id,
            "delivery_id": delivery_id,
            "by": current_caller(app).sub,
            "reason": body.reason,
        },
    )
    return Delivery.model_validate(outbound.shown(again))


lambda_handler = entry_point(app)
