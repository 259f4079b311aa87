"""Check-in without cards: the instructor's screen shows a QR code that changes every 30 s, and a trainee's
app sends the code it scanned.

A code is ``<window>.<signature>``: the number of the 30-second window it was made in, and an HMAC-SHA256
(the deployment's check-in secret) over the session id and that window, cut to 128 bits. Nobody can make
a code for a session or a window without the secret, a code of one session is worthless at another, and a
photo of the screen sent to an absent friend is stale within a minute. A code is accepted from
``GRACE_S`` before its window opens until ``GRACE_S`` after it closes: a scan at the last instant of a
window, or a phone whose request arrives a few seconds late, still counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.teaching.courses import teaches
from shared.logic.teaching.ports import TeachingStore
from shared.logic.teaching.records import Registration, Session

PERIOD_S = 30
GRACE_S = 10
# Trainees arrive early: check-in opens this long before the session starts and closes when it ends.
OPENS_BEFORE = timedelta(minutes=15)
# What the QR code holds: the trainee app opens this link and posts the code to the session's check-ins.
CHECKIN_LINK = "rn://checkin/{session_id}?code={code}"


def window_of(at: datetime) -> int:
    return int(at.timestamp()) // PERIOD_S


def window_start(window: int) -> datetime:
    return datetime.fromtimestamp(window * PERIOD_S, UTC)


def sign(secret: bytes, session_id: str, window: int) -> str:
    digest = hmac.new(secret, f"{session_id}:{window}".encode(), hashlib.sha256).digest()[:16]
    return f"{window}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


class StaleCode(Conflict):
    code = "stale_code"


class InvalidCode(ValidationFailed):
    code = "invalid_code"


def verify(secret: bytes, session_id: str, code: str, now: datetime) -> None:
    """Raise InvalidCode (not ours, or another session's) or StaleCode (ours, but not of now)."""
    window_text, _, _ = code.strip().partition(".")
    if not window_text.isdigit() or len(window_text) > 12:
        raise InvalidCode("code: not a check-in code")
    window = int(window_text)
    if not hmac.compare_digest(sign(secret, session_id, window), code.strip()):
        raise InvalidCode("code: not a check-in code of this session")
    opens = window_start(window) - timedelta(seconds=GRACE_S)
    closes = window_start(window + 1) + timedelta(seconds=GRACE_S)
    if not opens <= now <= closes:
        raise StaleCode("code: no longer current; scan the screen again")


def in_checkin_window(session: Session, now: datetime) -> bool:
    return session.starts_at - OPENS_BEFORE <= now <= session.ends_at


@dataclass(frozen=True)
class CheckinCode:
    code: str
    expires_at: datetime  # when the screen should show the next one
    link: str  # what the QR code encodes


def current_code(
    store: TeachingStore, secret: bytes, caller: Caller, session_id: str, now: datetime
) -> CheckinCode:
    session = _session(store, session_id)
    if not teaches(caller, session):  # sessions are public: others are refused, not told it is unknown
        raise Forbidden("only the session's instructor shows its check-in code")
    window = window_of(now)
    code = sign(secret, session.session_id, window)
    return CheckinCode(
        code=code,
        expires_at=window_start(window + 1),
        link=CHECKIN_LINK.format(session_id=session.session_id, code=code),
    )


def check_in(
    store: TeachingStore, secret: bytes, caller: Caller, session_id: str, code: str, now: datetime
) -> Registration:
    """The caller's confirmed registration, stamped with the check-in time once (again: as it was)."""
    session = _session(store, session_id)
    registration_id = store.registration_of(session.session_id, caller.sub or "")
    registration = store.registration(registration_id) if registration_id else None
    if registration is None:
        raise NotFound("you have no registration for this session")
    if registration.checked_in_at is not None:
        return registration
    if registration.status != "confirmed":
        raise Conflict("only a confirmed seat can check in", code="not_confirmed")
    if not in_checkin_window(session, now):
        raise Conflict(
            "check-in is open from 15 minutes before the session until its end", code="outside_session"
        )
    verify(secret, session.session_id, code, now)
    if not store.theory_complete(session.course_id, registration.person_id):
        raise Conflict("finish the course's theory modules first", code="theory_incomplete")
    store.check_in(registration.registration_id, now)
    stamped = store.registration(registration.registration_id)
    if stamped is None or stamped.checked_in_at is None:  # cancelled between the read and the stamp
        raise Conflict("only a confirmed seat can check in", code="not_confirmed")
    return stamped


@dataclass(frozen=True)
class Attendance:
    session: Session
    registrations: list[Registration]  # live ones: confirmed (checked in or not), then the waitlist

    @property
    def checked_in(self) -> int:
        return sum(1 for r in self.registrations if r.checked_in_at is not None)


def attendance(store: TeachingStore, caller: Caller, session_id: str) -> Attendance:
    session = _session(store, session_id)
    if not teaches(caller, session):
        raise Forbidden("only the session's instructor and admins see its attendance")
    live = [r for r in store.registrations_of_session(session_id) if r.status != "cancelled"]
    live.sort(key=lambda r: (r.status != "confirmed", r.position or 0, r.registration_id))
    return Attendance(session, live)


def _session(store: TeachingStore, session_id: str) -> Session:
    session = store.session(session_id)
    if session is None:
        raise NotFound("no such session")
    return session
