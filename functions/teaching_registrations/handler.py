"""Registrations for practical sessions (seat or waitlist, never overbooked), cancellations that promote
the first in line, and the trainee's course evaluation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response, content_types

from shared import wiring
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.teaching import EvaluationBody, EvaluationOut, NewRegistrationBody, RegistrationOut
from shared.config import settings
from shared.logic.teaching import evaluations, registrations
from shared.logic.teaching.records import Registration
from shared.observability import logger

app = create_app()
config = settings()


@app.exception_handler(registrations.AlreadyRegisteredConflict)
def already_registered(error: registrations.AlreadyRegisteredConflict) -> Response[str]:
    """The contract's error body; the registration the person holds is named in the message and, for
    clients, in the Location header."""
    message = f"{error.message}: registration {error.registration_id}"
    return Response(
        409,
        content_types.APPLICATION_JSON,
        json.dumps({"error": {"code": error.code, "message": message}}, ensure_ascii=False),
        headers={"Location": f"/v1/registrations/{error.registration_id}"},
    )


def _out(registration: Registration) -> RegistrationOut:
    return RegistrationOut.model_validate(registration, from_attributes=True)


@app.post("/v1/sessions/<session_id>/registrations", responses=CREATED_RESPONSES)
def register(session_id: str, body: NewRegistrationBody) -> Response[RegistrationOut]:
    registrant = registrations.Registrant(body.name, body.phone, body.responder_consent)
    person = current_caller(app).sub or ""
    registration = registrations.register(
        wiring.teaching(), person, session_id, registrant, datetime.now(UTC)
    )
    return Response(201, content_types.APPLICATION_JSON, _out(registration))


@app.get("/v1/registrations/<registration_id>", responses=ERROR_RESPONSES)
def get_registration(registration_id: str) -> RegistrationOut:
    return _out(registrations.visible_registration(wiring.teaching(), current_caller(app), registration_id))


@app.delete("/v1/registrations/<registration_id>", responses=ERROR_RESPONSES)
def cancel_registration(registration_id: str) -> RegistrationOut:
    outcome = registrations.cancel(
        wiring.teaching(),
        wiring.text_messages(),
        current_caller(app),
        registration_id,
        datetime.now(UTC),
        config.time_zone,
    )
    if outcome.promoted is not None and not outcome.promotion_texted:
        logger.warning("promotion SMS failed", extra={"registration_id": outcome.promoted.registration_id})
    return _out(outcome.registration)


@app.post("/v1/registrations/<registration_id>/evaluation", responses=CREATED_RESPONSES)
def evaluate(registration_id: str, body: EvaluationBody) -> Response[EvaluationOut]:
    evaluation = evaluations.evaluate(
        wiring.teaching(),
        current_caller(app),
        registration_id,
        rating=body.rating,
        comment=body.comment,
        now=datetime.now(UTC),
    )
    return Response(
        201, content_types.APPLICATION_JSON, EvaluationOut.model_validate(evaluation, from_attributes=True)
    )


lambda_handler = entry_point(app)
