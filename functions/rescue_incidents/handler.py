"""Incidents: the dispatcher's and the alerted responder's views, answers, events, closing; the
dispatchers' list of every incident and a rescue's timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shared import wiring
from shared.api.aed_faults import PhotoUploadOut, RescueReportBody, RescueReportCreated
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import EventIdempotencyKey, LimitQ
from shared.api.plain import HEADER_MAX_LENGTH
from shared.api.rescue import (
    AedAssignment,
    CloseAnswer,
    CloseBody,
    ConsoleIncidentBody,
    EventAnswer,
    EventBody,
    IncidentList,
    IncidentListItem,
    IncidentView,
    ResponseAnswer,
    ResponseBody,
    SosAccepted,
    Timeline,
    TimelineEntry,
)
from shared.geo.datum import to_wgs84
from shared.logic.rescue import assignment, closure, console, intake, view
from shared.observability import RESPONDER_ACCEPTED, count, flushed_per_invocation, function_metrics

app = create_app()
metrics = function_metrics()  # ResponderAccepted, one per accept

ListQ = Annotated[
    Literal["open", "closed"],
    Query(description="open: dispatching, responding or on scene; closed: closed (also when expired)"),
]
SinceQ = Annotated[
    datetime | None,
    Query(description="only incidents created at this instant or later; ISO 8601 with offset"),
]
ListTokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]
ConsoleIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=HEADER_MAX_LENGTH,
        description=(
            "Required: one per incident the dispatcher raises (the console makes one per form), so a double "
            "click or a retry raises it once; the same key with another body is 409. Each dispatcher's own"
        ),
    ),
]
ACCEPTED_RESPONSES: dict[int, OpenAPIResponse] = {
    202: {"description": "Stored, wave 1 alerted"},
    **ERROR_RESPONSES,
}


@app.post("/v1/incidents", responses=ACCEPTED_RESPONSES)
def raise_for_caller(
    body: ConsoleIncidentBody, idempotency_key: ConsoleIdempotencyKey
) -> Response[SosAccepted]:
    """A dispatcher raises an incident for a caller: the SOS's own intake (waves, roles, the AED, the
    workflow), source "console", the dispatcher its creator (past the SOS's per-source limits; its
    alerts pass the responders' hourly caps and count, as every staff incident's do)."""
    lat, lng = to_wgs84(body.lat, body.lng, body.crs)
    answer = intake.raise_sos(
        wiring.incidents(),
        wiring.geo_index(),
        wiring.notifier(),
        wiring.workflow(),
        intake.SosRequest(
            lat=lat,
            lng=lng,
            caller_phone=body.caller_phone,
            note=body.note,
            caller=current_caller(app),
            idempotency_key=idempotency_key,
            body=body.model_dump(),
            source="console",
        ),
        wiring.policy(),
        datetime.now(UTC),
    )
    accepted = SosAccepted(incident_id=answer.incident_id, status=answer.status)
    return Response(202, content_types.APPLICATION_JSON, accepted)


@app.get("/v1/incidents", responses=ERROR_RESPONSES)
def list_incidents(
    status: ListQ = "open", since: SinceQ = None, limit: LimitQ = 20, next_token: ListTokenQ = None
) -> IncidentList:
    page = console.list_incidents(wiring.incidents(), status, since, limit, next_token)
    return IncidentList(
        items=[IncidentListItem.model_validate(console.listed(i)) for i in page.items],
        next_token=page.next_token,
    )


@app.get("/v1/incidents/<incident_id>/timeline", responses=ERROR_RESPONSES)
def timeline(incident_id: str) -> Timeline:
    entries = console.timeline(wiring.incidents(), current_caller(app), incident_id)
    return Timeline(items=[TimelineEntry.model_validate(e) for e in entries])


@app.get("/v1/incidents/<incident_id>", responses=ERROR_RESPONSES)
def get_incident(incident_id: str) -> IncidentView:
    return IncidentView.model_validate(
        view.view_incident(wiring.incidents(), current_caller(app), incident_id)
    )


@app.post("/v1/incidents/<incident_id>/responses", responses=ERROR_RESPONSES)
def respond(incident_id: str, body: ResponseBody) -> ResponseAnswer:
    answer = assignment.respond(
        wiring.incidents(),
        wiring.notifier(),
        current_caller(app),
        incident_id,
        body.action,
        wiring.policy(),
        datetime.now(UTC),
    )
    if answer is None:
        return ResponseAnswer(role=None)
    if answer.fresh:
        count(metrics, RESPONDER_ACCEPTED, 1)
    aed = AedAssignment(**answer.aed.__dict__) if answer.aed else None
    return ResponseAnswer(role="aed" if answer.role == "aed" else "cpr", aed=aed)


@app.post("/v1/incidents/<incident_id>/events", responses=ERROR_RESPONSES)
def report(incident_id: str, body: EventBody, idempotency_key: EventIdempotencyKey = None) -> EventAnswer:
    lat, lng = body.lat, body.lng
    if lat is not None and lng is not None:
        lat, lng = to_wgs84(lat, lng, body.crs)
    event = assignment.record_event(
        wiring.incidents(),
        wiring.aed_faults(),
        current_caller(app),
        incident_id,
        body.type,
        lat,
        lng,
        datetime.now(UTC),
        idempotency_key,
    )
    return EventAnswer(incident_id=incident_id, type=event.type, at=event.at)


@app.post("/v1/incidents/<incident_id>/aed-reports", responses=CREATED_RESPONSES)
def report_aed(incident_id: str, body: RescueReportBody) -> Response[RescueReportCreated]:
    outcome = assignment.report_aed_in_rescue(
        wiring.incidents(),
        wiring.notifier(),
        wiring.aed_faults(),
        current_caller(app),
        incident_id,
        body.aed_id,
        body.kind,
        body.note,
        body.photo_content_type,
        wiring.policy(),
        datetime.now(UTC),
    )
    own = outcome.assignment
    answer = RescueReportCreated(
        report_id=outcome.report.report_id,
        state=outcome.report.state,
        upload=PhotoUploadOut(**outcome.upload.__dict__) if outcome.upload else None,
        role=("aed" if own.role == "aed" else "cpr") if own else None,
        aed=AedAssignment(**own.aed.__dict__) if own and own.aed else None,
        rerouted=outcome.rerouted,
    )
    return Response(201, content_types.APPLICATION_JSON, answer)


@app.post("/v1/incidents/<incident_id>/close", responses=ERROR_RESPONSES)
def close(incident_id: str, body: CloseBody) -> CloseAnswer:
    closed = closure.close_incident(
        wiring.incidents(), wiring.workflow(), incident_id, body.outcome, datetime.now(UTC)
    )
    return CloseAnswer(incident_id=incident_id, status=closed.status, outcome=closed.outcome or body.outcome)


lambda_handler = flushed_per_invocation(metrics)(entry_point(app))
