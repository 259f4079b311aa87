"""Registration for a practical session: a seat while there is one, else a place on the waitlist in
arrival order; a cancelled seat goes to the first in line, who is told by SMS.

The rules that keep a session from being overbooked are conditions of the writes themselves
(shared/dal/teaching.py); this module decides which write to try and what to answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Caller
from shared.logic.ids import new_id
from shared.logic.messages import Text
from shared.logic.ports import TextMessages
from shared.logic.teaching.courses import teaches
from shared.logic.teaching.ports import AlreadyRegistered, Contended, TeachingStore
from shared.logic.teaching.records import Registration, Session

# A seat claim alternates between "take a seat" and "join the line" only when a seat is freed or taken in
# between: a handful of rounds at most, unless the session is being torn apart by thousands of writers.
MAX_ROUNDS = 50


class AlreadyRegisteredConflict(Conflict):
    code = "already_registered"

    def __init__(self, registration_id: str) -> None:
        super().__init__("you are registered for this session already")
        self.registration_id = registration_id


@dataclass(frozen=True)
class Registrant:
    name: str
    phone: str
    responder_consent: bool


def register(
    store: TeachingStore, person_id: str, session_id: str, registrant: Registrant, now: datetime
) -> Registration:
    session = store.session(session_id)
    if session is None:
        raise NotFound("no such session")
    if session.ends_at <= now:
        raise Conflict("the session is over", code="session_over")
    registration = Registration(
        registration_id=new_id(),
        session_id=session.session_id,
        course_id=session.course_id,
        person_id=person_id,
        name=registrant.name,
        phone=registrant.phone,
        responder_consent=registrant.responder_consent,
        status="confirmed",
        created_at=now,
    )
    full = session.confirmed >= session.capacity
    try:
        for _ in range(MAX_ROUNDS):
            if not full and store.take_seat(registration):
                break
            if store.join_waitlist(registration):
                break
            full = False  # a seat was freed between the two writes: try for it
        else:
            raise Contended("seats kept changing hands")
    except AlreadyRegistered as already:
        raise AlreadyRegisteredConflict(already.registration_id) from already
    except Contended as error:
        raise Conflict("the session is busy; try again", code="try_again") from error
    written = store.registration(registration.registration_id)
    if written is None:  # written in the transaction above: cannot happen
        raise NotFound("no such registration")
    return written


def visible_registration(store: TeachingStore, caller: Caller, registration_id: str) -> Registration:
    """The registrant, the session's instructor and admins see a registration (a name and a phone) and
    may cancel it; to anyone else, other trainers included, it does not exist: the same 404 as an
    unknown id."""
    registration = store.registration(registration_id)
    if registration is not None and registration.person_id != caller.sub:
        session = store.session(registration.session_id)
        if session is None or not teaches(caller, session):
            registration = None
    if registration is None:
        raise NotFound("no such registration")
    return registration


@dataclass(frozen=True)
class Cancellation:
    registration: Registration
    promoted: Registration | None = None  # who got the seat
    promotion_texted: bool = False


def cancel(
    store: TeachingStore,
    texts: TextMessages,
    caller: Caller,
    registration_id: str,
    now: datetime,
    time_zone: str,
) -> Cancellation:
    """Cancel a registration (idempotent: cancelling a cancelled one answers it as it is)."""
    registration = visible_registration(store, caller, registration_id)
    session = store.session(registration.session_id)
    if session is None:  # sessions are never deleted
        raise NotFound("no such session")
    for _ in range(MAX_ROUNDS):
        if registration.status == "cancelled":
            return Cancellation(registration)
        if registration.checked_in_at is not None:
            raise Conflict("attendance is recorded; the registration stays", code="already_checked_in")
        if session.ends_at <= now:
            raise Conflict("the session is over", code="session_over")
        head = store.waitlist_head(session.session_id) if registration.status == "confirmed" else None
        if store.cancel(registration, head, now):
            texted = head is not None and _tell_promoted(texts, head, session, time_zone)
            cancelled = store.registration(registration_id) or registration
            promoted = store.registration(head.registration_id) if head is not None else None
            return Cancellation(cancelled, promoted, texted)
        # The state moved on (a concurrent cancel, promotion or registration): read it again.
        registration = visible_registration(store, caller, registration_id)
    raise Conflict("the session is busy; try again", code="try_again")


def _tell_promoted(texts: TextMessages, promoted: Registration, session: Session, time_zone: str) -> bool:
    starts = session.starts_at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")
    message = Text(
        "seat_promotion",
        {"site": session.site, "starts": starts, "registration": promoted.registration_id},
    )
    try:
        texts.send(promoted.phone, message)
    except Exception:  # the seat is theirs whatever SMS does; the app shows the confirmed registration
        return False
    return True


def require_self(caller: Caller, registration: Registration) -> None:
    if registration.person_id != caller.sub:
        raise Forbidden("only the registrant may do this")
