"""POST /v1/sos: store the emergency, alert wave 1, start the rescue workflow.

Read without pydantic or Powertools' resolver (shared/api/plain.py): this function's cold start is
someone waiting for help. The route as the OpenAPI document shows it is declared in contract.py, from
the same rules; tests/unit/test_plain_requests.py holds the two to the same answers.

Metrics, one EMF line per SOS stored: SosAccepted, RespondersAlerted and AlertsFailed (wave 1's alerts
that SNS took and refused; the workflow re-delivers the refused ones), and SosToFirstAlertMs when
someone was alerted."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from shared import wiring
from shared.api.plain import (
    DATUMS,
    HEADER_MAX_LENGTH,
    LAT_BOUNDS,
    LNG_BOUNDS,
    NOTE_MAX_LENGTH,
    PHONE_PATTERN,
    Problems,
    header,
    json_object_body,
    plain_entry_point,
    response,
)
from shared.geo.datum import to_wgs84
from shared.identity import ANONYMOUS, Caller
from shared.logic.rescue import intake
from shared.logic.rescue.tally import AlertTally
from shared.observability import (
    ALERTS_FAILED,
    RESPONDERS_ALERTED,
    SOS_ACCEPTED,
    SOS_TO_FIRST_ALERT_MS,
    count,
    flushed_per_invocation,
    function_metrics,
    milliseconds,
)

metrics = function_metrics()


def read_sos(event: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """The SOS body's fields (every one, absent ones None: the body an idempotent retry is compared
    by), the Idempotency-Key and the app's device id; a 400 or a 422 naming every field that broke a
    rule."""
    problems = Problems()
    key = problems.optional_text(
        header(event, "Idempotency-Key"), "header.idempotency-key", max_length=HEADER_MAX_LENGTH, clean=False
    )
    device_id = problems.optional_text(
        header(event, "X-Device-Id"), "header.x-device-id", max_length=HEADER_MAX_LENGTH, clean=False
    )
    body = json_object_body(event)
    fields = {
        "lat": problems.number(body, "lat", LAT_BOUNDS),
        "lng": problems.number(body, "lng", LNG_BOUNDS),
        "caller_phone": problems.optional_text(
            body.get("caller_phone"), "caller_phone", pattern=PHONE_PATTERN
        ),
        "note": problems.optional_text(body.get("note"), "note", strip=True, max_length=NOTE_MAX_LENGTH),
        "crs": problems.optional_choice(body, "crs", DATUMS),
    }
    problems.raise_any()
    return fields, key, device_id


def raise_sos(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    received = time.monotonic()
    body, idempotency_key, device_id = read_sos(event)
    lat, lng = to_wgs84(body["lat"], body["lng"], body["crs"])
    alerts = AlertTally(wiring.notifier)
    answer = intake.raise_sos(
        wiring.incidents(),
        wiring.geo_index(),
        alerts,
        wiring.workflow(),
        intake.SosRequest(
            lat=lat,
            lng=lng,
            caller_phone=body["caller_phone"],
            note=body["note"],
            caller=ANONYMOUS,  # API Gateway passes no claims to an anonymous route
            idempotency_key=idempotency_key,
            body=body,
            source_ip=(event.get("requestContext") or {}).get("identity", {}).get("sourceIp"),
            device_id=device_id,
        ),
        wiring.policy(),
        datetime.now(UTC),
    )
    if not answer.replayed:
        count(metrics, SOS_ACCEPTED, 1)
        count(metrics, RESPONDERS_ALERTED, alerts.published)
        count(metrics, ALERTS_FAILED, alerts.failed)
        if alerts.first_published_at is not None:
            milliseconds(metrics, SOS_TO_FIRST_ALERT_MS, (alerts.first_published_at - received) * 1000)
    return response(202, {"incident_id": answer.incident_id, "status": answer.status})


wiring.warm_up_notifier()  # cn profile: the providers' credentials and clients, while the instance starts
lambda_handler = flushed_per_invocation(metrics)(plain_entry_point("POST", "/v1/sos", raise_sos))
