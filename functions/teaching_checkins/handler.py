"""Check-in without cards: the instructor's screen shows a QR code that changes every 30 s; a trainee with
a confirmed seat sends the code it scanned. The only function that holds the signing key."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import segno

from shared import wiring
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.teaching import CheckinBody, CheckinCodeOut, CheckinOut
from shared.logic.teaching import checkin

app = create_app()


def _qr_svg(text: str) -> str:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False)
    return out.getvalue().decode()


@app.get("/v1/sessions/<session_id>/checkin-code", responses=ERROR_RESPONSES)
def checkin_code(session_id: str) -> CheckinCodeOut:
    shown = checkin.current_code(
        wiring.teaching(), wiring.checkin_secret(), current_caller(app), session_id, datetime.now(UTC)
    )
    return CheckinCodeOut(
        code=shown.code, expires_at=shown.expires_at, link=shown.link, svg=_qr_svg(shown.link)
    )


@app.post("/v1/sessions/<session_id>/checkins", responses=ERROR_RESPONSES)
def check_in(session_id: str, body: CheckinBody) -> CheckinOut:
    registration = checkin.check_in(
        wiring.teaching(),
        wiring.checkin_secret(),
        current_caller(app),
        session_id,
        body.code,
        datetime.now(UTC),
    )
    assert registration.checked_in_at is not None  # check_in answers only a stamped registration
    return CheckinOut(registration_id=registration.registration_id, checked_in_at=registration.checked_in_at)


lambda_handler = entry_point(app)
