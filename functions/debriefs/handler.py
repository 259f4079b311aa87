"""The debrief after a rescue: a responder's own (submit, read, with the outcome that may be shared), the
admins' call-back list and a call marked done (docs/volunteers.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import wiring
from shared.api.debriefs import (
    CallDoneBody,
    CallDoneOut,
    CallRequestList,
    CallRequestOut,
    DebriefBody,
    DebriefOut,
    ScaleItemOut,
    ScaleOut,
    SharedOutcome,
)
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ
from shared.errors import ValidationFailed
from shared.logic import debriefs as logic
from shared.logic.rescue.ports import Incident

app = create_app()

IncidentId = Annotated[str, Path(min_length=1, max_length=128)]
ResponderId = Annotated[str, Path(min_length=1, max_length=128)]
NeedsCallQ = Annotated[
    bool, Query(description="true: the debriefs that need a call not yet done (the only list)")
]
TokenQ = Annotated[str | None, Query(max_length=1000, description="from the previous page")]

SCALE = ScaleOut(
    name=logic.SCALE,
    source=logic.SCALE_SOURCE,
    answers=list(logic.ANSWER_LABELS),
    items=[ScaleItemOut(item_id=i.item_id, en=i.en, zh=i.zh) for i in logic.SCALE_ITEMS],
    cut_off=logic.CUT_OFF,
)


def _out(debrief: logic.Debrief, incident: Incident) -> DebriefOut:
    outcome = logic.shared_outcome(incident)
    return DebriefOut(
        incident_id=debrief.incident_id,
        responder_id=debrief.responder_id,
        status="submitted" if debrief.submitted_at else "invited" if debrief.invited_at else "open",
        invited_at=debrief.invited_at,
        submitted_at=debrief.submitted_at,
        did=debrief.did,
        note=debrief.note,
        ies6=debrief.answers,
        score=debrief.score,
        band=debrief.band,  # type: ignore[arg-type]
        call_me=debrief.call_me,
        needs_call=debrief.needs_call,
        call_done=debrief.call_done_at is not None,
        shared_outcome=SharedOutcome.model_validate(outcome) if outcome else None,
        scale=SCALE,
    )


@app.put("/v1/incidents/<incident_id>/debrief", responses=ERROR_RESPONSES)
def submit(incident_id: IncidentId, body: DebriefBody) -> DebriefOut:
    answers = logic.Answers(did=list(body.did), answers=list(body.ies6), call_me=body.call_me, note=body.note)
    debrief, incident = logic.submit(
        wiring.incidents(), wiring.debriefs(), current_caller(app), incident_id, answers, datetime.now(UTC)
    )
    return _out(debrief, incident)


@app.get("/v1/incidents/<incident_id>/debrief", responses=ERROR_RESPONSES)
def read(incident_id: IncidentId) -> DebriefOut:
    debrief, incident = logic.read(wiring.incidents(), wiring.debriefs(), current_caller(app), incident_id)
    return _out(debrief, incident)


@app.get("/v1/debriefs", responses=ERROR_RESPONSES)
def call_list(needs_call: NeedsCallQ, limit: LimitQ = 20, next_token: TokenQ = None) -> CallRequestList:
    if not needs_call:
        raise ValidationFailed("needs_call: only true is listed (the debriefs that need a call not yet done)")
    page = logic.call_list(wiring.debriefs(), wiring.contacts(), limit, next_token)
    return CallRequestList(
        items=[
            CallRequestOut(
                incident_id=r.debrief.incident_id,
                responder_id=r.debrief.responder_id,
                name=r.contact.name if r.contact else None,
                phone=r.contact.phone if r.contact else None,
                asked_at=r.debrief.submitted_at,  # type: ignore[arg-type]
                score=r.debrief.score,
                band=r.debrief.band,  # type: ignore[arg-type]
                call_me=r.debrief.call_me,
                note=r.debrief.note,
            )
            for r in page.items
        ],
        next_token=page.next_token,
    )


@app.post("/v1/debriefs/<incident_id>/<responder_id>/call-done", responses=ERROR_RESPONSES)
def call_done(incident_id: IncidentId, responder_id: ResponderId, body: CallDoneBody) -> CallDoneOut:
    done = logic.mark_call_done(
        wiring.debriefs(), current_caller(app), incident_id, responder_id, datetime.now(UTC)
    )
    return CallDoneOut(
        incident_id=done.incident_id,
        responder_id=done.responder_id,
        call_done_at=done.call_done_at,  # type: ignore[arg-type]
        call_done_by=done.call_done_by or "",
    )


lambda_handler = entry_point(app)
