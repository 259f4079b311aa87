"""Teaching's pure rules: check-in codes and their window, the check-in period, paging, and the
registration logic's choices (seat, line, promotion, SMS) against an in-memory store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.messages import Text
from shared.logic.teaching import checkin, courses, registrations, theory
from shared.logic.teaching.ports import AlreadyRegistered, TheoryDone
from shared.logic.teaching.records import Course, Evaluation, Registration, Session, TheoryModule

SECRET = b"k" * 48
T0 = datetime(2026, 12, 5, 1, 0, 0, tzinfo=UTC)  # 09:00 in Hangzhou; a multiple of 30 s


# -- check-in codes --------------------------------------------------------------------------------
def test_a_code_names_its_window_and_changes_every_30_seconds():
    first = checkin.sign(SECRET, "s1", checkin.window_of(T0))
    same_window = checkin.sign(SECRET, "s1", checkin.window_of(T0 + timedelta(seconds=29)))
    next_window = checkin.sign(SECRET, "s1", checkin.window_of(T0 + timedelta(seconds=30)))
    assert first == same_window != next_window
    assert first.split(".")[0] == str(int(T0.timestamp()) // 30)
    assert checkin.sign(SECRET, "s2", checkin.window_of(T0)) != first  # per session
    assert checkin.sign(b"x" * 48, "s1", checkin.window_of(T0)) != first  # per secret


@pytest.mark.parametrize(
    ("seconds_after_window_start", "accepted"),
    [(-11, False), (-10, True), (0, True), (29, True), (35, True), (40, True), (41, False), (90, False)],
)
def test_a_code_is_accepted_from_10_s_before_its_window_until_10_s_after(
    seconds_after_window_start, accepted
):
    code = checkin.sign(SECRET, "s1", checkin.window_of(T0))
    at = T0 + timedelta(seconds=seconds_after_window_start)
    if accepted:
        checkin.verify(SECRET, "s1", code, at)
    else:
        with pytest.raises(checkin.StaleCode):
            checkin.verify(SECRET, "s1", code, at)


@pytest.mark.parametrize("code", ["", "abc", "123", "123.", "-5.abc", "9" * 13 + ".x", "59.tampered"])
def test_anything_not_signed_for_the_session_is_invalid(code):
    with pytest.raises(checkin.InvalidCode):
        checkin.verify(SECRET, "s1", code, T0)
    foreign = checkin.sign(SECRET, "s2", checkin.window_of(T0))
    with pytest.raises(checkin.InvalidCode):
        checkin.verify(SECRET, "s1", foreign, T0)


def test_check_in_opens_15_minutes_before_the_start_and_closes_at_the_end():
    session = _session(capacity=1)
    assert not checkin.in_checkin_window(session, session.starts_at - timedelta(minutes=15, seconds=1))
    assert checkin.in_checkin_window(session, session.starts_at - timedelta(minutes=15))
    assert checkin.in_checkin_window(session, session.ends_at)
    assert not checkin.in_checkin_window(session, session.ends_at + timedelta(seconds=1))


def test_pages_are_offsets_and_foreign_tokens_are_refused():
    page = courses.page_of(list(range(5)), 2, None)
    assert (page.items, page.next_token) == ([0, 1], "2")
    assert courses.page_of(list(range(5)), 2, "4").next_token is None
    for bad in ("x", "-1", "999999"):
        with pytest.raises(ValidationFailed):
            courses.page_of(list(range(5)), 2, bad)


# -- the logic against an in-memory store -----------------------------------------------------------
def _session(capacity: int, starts: datetime = T0) -> Session:
    return Session(
        "s1", "c1", "西湖", 30.25, 120.16, starts, starts + timedelta(hours=4), capacity, "inst", T0
    )


@dataclass
class FakeStore:
    """Seats and a line, as shared/dal/teaching.py keeps them (without the concurrency)."""

    session_: Session
    course_: Course = field(
        default_factory=lambda: Course(
            "c1", "救护员培训", "t", T0, theory_modules=[TheoryModule("m1", "CPR", 45)]
        )
    )
    regs: dict[str, Registration] = field(default_factory=dict)
    line: list[str] = field(default_factory=list)
    done: dict[tuple[str, str], TheoryDone] = field(default_factory=dict)
    evaluations: list[Evaluation] = field(default_factory=list)

    def course(self, course_id):
        return self.course_ if course_id == "c1" else None

    def session(self, session_id):
        return replace(self.session_, waitlisted=len(self.line)) if session_id == "s1" else None

    def registration(self, registration_id):
        r = self.regs.get(registration_id)
        if r is None:
            return None
        place = self.line.index(registration_id) + 1 if registration_id in self.line else None
        return replace(r, position=place)

    def registration_of(self, session_id, person_id):
        return next(
            (
                r.registration_id
                for r in self.regs.values()
                if r.person_id == person_id and r.status != "cancelled"
            ),
            None,
        )

    def registrations_of_session(self, session_id):
        return [self.registration(i) for i in self.regs]

    def _claim(self, registration, status):
        existing = self.registration_of(registration.session_id, registration.person_id)
        if existing:
            raise AlreadyRegistered(existing)
        self.regs[registration.registration_id] = replace(registration, status=status)

    def take_seat(self, registration):
        if self.session_.confirmed >= self.session_.capacity:
            return False
        self._claim(registration, "confirmed")
        self.session_.confirmed += 1
        return True

    def join_waitlist(self, registration):
        if self.session_.confirmed < self.session_.capacity:
            return False
        self._claim(registration, "waitlisted")
        self.line.append(registration.registration_id)
        return True

    def waitlist_head(self, session_id):
        return self.registration(self.line[0]) if self.line else None

    def cancel(self, registration, promote, now):
        self.regs[registration.registration_id] = replace(registration, status="cancelled", position=None)
        if registration.status == "waitlisted":
            self.line.remove(registration.registration_id)
        elif promote is not None:
            self.line.remove(promote.registration_id)
            self.regs[promote.registration_id] = replace(promote, status="confirmed", position=None)
        else:
            self.session_.confirmed -= 1
        return True

    def check_in(self, registration_id, at):
        self.regs[registration_id] = replace(self.regs[registration_id], checked_in_at=at)
        return True

    def theory_done(self, course_id, person_id):
        return [d for (c, p), d in self.done.items() if p == person_id]

    def theory_complete(self, course_id, person_id):
        return all((m.module_id, person_id) in self.done for m in self.course_.theory_modules)

    def mark_theory(self, course_id, person_id, module_id, at, score):
        self.done[(module_id, person_id)] = TheoryDone(module_id, at, score)

    def unmark_theory(self, course_id, person_id, module_id):
        self.done.pop((module_id, person_id), None)


class Texts:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def send(self, phone: str, message: Text) -> None:
        if self.fail:
            raise RuntimeError("SNS is down")
        self.sent.append((phone, message.body))


def _register(store, person, n):
    who = registrations.Registrant(f"学员{n}", f"+86138{n:08d}", True)
    return registrations.register(store, person, "s1", who, T0 - timedelta(days=1))


def _me(person: str) -> Caller:
    return Caller(sub=person, roles=frozenset())


def test_seats_then_the_line_then_promotion_of_the_first_with_a_text():
    store = FakeStore(_session(capacity=2))
    people = [_register(store, f"p{n}", n) for n in range(5)]
    assert [(r.status, r.position) for r in people] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    with pytest.raises(registrations.AlreadyRegisteredConflict) as already:
        _register(store, "p3", 3)
    assert already.value.registration_id == people[3].registration_id

    texts = Texts()
    outcome = registrations.cancel(store, texts, _me("p0"), people[0].registration_id, T0, "Asia/Shanghai")
    assert outcome.registration.status == "cancelled"
    assert outcome.promoted is not None and outcome.promoted.registration_id == people[2].registration_id
    assert outcome.promotion_texted and texts.sent[0][0] == "+8613800000002"
    assert "2026-12-05 09:00" in texts.sent[0][1]  # the start in the deployment's time zone
    assert [store.registration(r.registration_id).position for r in people[3:]] == [1, 2]


def test_a_failed_text_does_not_undo_the_promotion():
    store = FakeStore(_session(capacity=1))
    seat, waiting = _register(store, "p0", 0), _register(store, "p1", 1)
    outcome = registrations.cancel(
        store, Texts(fail=True), _me("p0"), seat.registration_id, T0, "Asia/Shanghai"
    )
    assert not outcome.promotion_texted
    assert store.registration(waiting.registration_id).status == "confirmed"


def test_cancel_refusals_and_visibility():
    store = FakeStore(_session(capacity=1))
    seat = _register(store, "p0", 0)
    with pytest.raises(NotFound):
        registrations.cancel(store, Texts(), _me("p9"), seat.registration_id, T0, "Asia/Shanghai")
    with pytest.raises(Conflict) as over:
        registrations.cancel(store, Texts(), _me("p0"), seat.registration_id, T0 + timedelta(hours=5), "UTC")
    assert over.value.code == "session_over"
    store.check_in(seat.registration_id, T0)
    with pytest.raises(Conflict) as attended:
        registrations.cancel(store, Texts(), _me("p0"), seat.registration_id, T0, "UTC")
    assert attended.value.code == "already_checked_in"


def test_a_registration_and_the_attendance_are_for_the_sessions_instructor_not_every_trainer():
    store = FakeStore(_session(capacity=1))
    seat = _register(store, "p0", 0)
    instructor = Caller("inst", frozenset({"trainer"}))
    other_trainer = Caller("t2", frozenset({"trainer"}))
    admin = Caller("a", frozenset({"admin"}))
    for caller in (_me("p0"), instructor, _me("inst"), admin):  # the instructor, whatever their roles
        assert registrations.visible_registration(store, caller, seat.registration_id) == seat
    with pytest.raises(NotFound) as hidden:
        registrations.visible_registration(store, other_trainer, seat.registration_id)
    with pytest.raises(NotFound) as unknown:
        registrations.visible_registration(store, admin, "no-such-registration")
    assert hidden.value.message == unknown.value.message  # the same answer for both
    with pytest.raises(NotFound):
        registrations.cancel(store, Texts(), other_trainer, seat.registration_id, T0, "UTC")
    assert checkin.attendance(store, instructor, "s1").registrations == [seat]
    assert checkin.attendance(store, admin, "s1").registrations == [seat]
    with pytest.raises(Forbidden):  # sessions are public: refused, not hidden
        checkin.attendance(store, other_trainer, "s1")
    cancelled = registrations.cancel(store, Texts(), instructor, seat.registration_id, T0, "UTC")
    assert cancelled.registration.status == "cancelled"


def test_registration_closes_when_the_session_is_over():
    store = FakeStore(_session(capacity=1))
    who = registrations.Registrant("x", "+8613800000000", True)
    with pytest.raises(Conflict) as over:
        registrations.register(store, "p0", "s1", who, T0 + timedelta(hours=4))
    assert over.value.code == "session_over"
    with pytest.raises(NotFound):
        registrations.register(store, "p0", "nope", who, T0)


def test_check_in_needs_the_theory_and_is_idempotent():
    store = FakeStore(_session(capacity=1))
    seat = _register(store, "p0", 0)
    code = checkin.sign(SECRET, "s1", checkin.window_of(T0))
    with pytest.raises(Conflict) as incomplete:
        checkin.check_in(store, SECRET, _me("p0"), "s1", code, T0)
    assert incomplete.value.code == "theory_incomplete"
    theory.record(store, "p0", "c1", "m1", completed=True, score=None, now=T0)
    first = checkin.check_in(store, SECRET, _me("p0"), "s1", code, T0)
    later = T0 + timedelta(minutes=30)
    again = checkin.check_in(store, SECRET, _me("p0"), "s1", "stale-or-anything", later)
    assert first.checked_in_at == again.checked_in_at == T0
    assert first.registration_id == seat.registration_id


def test_only_the_instructor_or_an_admin_gets_the_code():
    store = FakeStore(_session(capacity=1))
    shown = checkin.current_code(store, SECRET, _me("inst"), "s1", T0 + timedelta(seconds=7))
    assert shown.expires_at == T0 + timedelta(seconds=30)
    assert shown.link == f"rn://checkin/s1?code={shown.code}"
    assert checkin.current_code(store, SECRET, Caller("a", frozenset({"admin"})), "s1", T0).code == shown.code
    with pytest.raises(Forbidden):
        checkin.current_code(store, SECRET, Caller("t", frozenset({"trainer"})), "s1", T0)


def test_session_rules():
    store = FakeStore(_session(capacity=1))

    class Geo:
        def put(self, *args, **kwargs):
            self.put_args = (args, kwargs)

    def new(**changes):
        base = courses.NewSession("c1", "西湖", 30.2, 120.1, T0, T0 + timedelta(hours=3), 20, "inst")
        return replace(base, **changes)

    created = []
    store.create_session = created.append  # type: ignore[attr-defined]
    geo = Geo()
    session = courses.create_session(store, geo, new(), T0 - timedelta(days=1))  # type: ignore[arg-type]
    assert created == [session]
    assert geo.put_args[1]["expires_at"] == int((T0 + timedelta(hours=3)).timestamp())  # lapses at its end
    for bad in (
        new(ends_at=T0),
        new(ends_at=T0 + timedelta(hours=25)),
        new(starts_at=T0.replace(tzinfo=None)),
        new(capacity=0),
    ):
        with pytest.raises(ValidationFailed):
            courses.create_session(store, geo, bad, T0 - timedelta(days=1))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):  # already over
        courses.create_session(store, geo, new(), T0 + timedelta(hours=3))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        courses.create_session(store, geo, new(course_id="nope"), T0 - timedelta(days=1))  # type: ignore[arg-type]
