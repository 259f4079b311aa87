"""The debrief's rules, on fakes (no AWS, no clock: every instant is passed): the IES-6's scoring and
cut-off, strict answers, who may see and submit what, the outcome that may be shared, the invitation sent
once per accepted responder and never lost when a channel fails, and the call marked done."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic import debriefs as logic
from shared.logic.debriefs import DEBRIEF, Answers, CallPage, Debrief
from shared.logic.rescue.notices import NoticesPending
from shared.logic.rescue.policy import OUTCOMES, epoch
from shared.logic.rescue.ports import Alert, Incident, Notice
from tests.unit.test_rescue_guards import POLICY  # notice_lease_s=20

T0 = datetime.fromisoformat("2026-12-06T03:00:00+08:00")  # a Sunday night: nothing here reads the clock
CALM = Answers(did=["cpr"], answers=[1, 0, 1, 0, 1, 0], call_me=False)


class Rescue:
    def __init__(self, incident: Incident, alerts: list[Alert]) -> None:
        self.incident, self._alerts = incident, {a.responder_id: a for a in alerts}

    def get(self, incident_id: str) -> Incident | None:
        return self.incident if incident_id == self.incident.incident_id else None

    def alerts(self, incident_id: str) -> list[Alert]:
        return list(self._alerts.values()) if incident_id == self.incident.incident_id else []

    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None:
        return self._alerts.get(responder_id) if incident_id == self.incident.incident_id else None


class Store:
    """In memory, with the repository's conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Debrief] = {}

    def get(self, incident_id: str, responder_id: str) -> Debrief | None:
        item = self.items.get((incident_id, responder_id))
        return None if item is None else replace(item)

    def of_incident(self, incident_id: str) -> list[Debrief]:
        return [replace(d) for (i, _), d in self.items.items() if i == incident_id]

    def invite(
        self, incident_id: str, responder_id: str, lease_until: int, at: datetime, expires_at: int
    ) -> bool:
        item = self.items.setdefault((incident_id, responder_id), Debrief(incident_id, responder_id))
        if item.invited_at or item.submitted_at:
            return False
        item.invited_at, item.notice, item.notice_lease_until = at, DEBRIEF, lease_until
        return True

    def submit(self, debrief: Debrief, expires_at: int) -> bool:
        item = self.items.get((debrief.incident_id, debrief.responder_id))
        if item is not None and item.submitted_at:
            return False
        self.items[(debrief.incident_id, debrief.responder_id)] = replace(
            debrief,
            notice=item.notice if item else None,
            notice_lease_until=item.notice_lease_until if item else None,
        )
        return True

    def call_list(self, limit: int, next_token: str | None) -> CallPage:
        waiting = [d for d in self.items.values() if d.needs_call and d.call_done_at is None]
        return CallPage(sorted(waiting, key=lambda d: d.submitted_at or T0)[:limit], None)

    def call_done(self, incident_id: str, responder_id: str, by: str, at: datetime) -> bool:
        item = self.items.get((incident_id, responder_id))
        if item is None or not item.needs_call or item.call_done_at:
            return False
        item.call_done_at, item.call_done_by = at, by
        return True

    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None:
        item = self.items[(incident_id, responder_id)]
        if item.notice == notice:
            item.notice = item.notice_lease_until = None

    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None:
        item = self.items[(incident_id, responder_id)]
        if item.notice == notice:
            item.notice_lease_until = 0

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool:
        item = self.items[(incident_id, responder_id)]
        if item.notice != notice or (item.notice_lease_until or 0) > now:
            return False
        item.notice_lease_until = lease_until
        return True


class Notifier:
    def __init__(self, failing: set[str] | None = None) -> None:
        self.sent: list[tuple[str, Notice]] = []
        self.failing = failing or set()

    def notify(self, alert: Alert, notice: Notice) -> None:
        if alert.responder_id in self.failing:
            raise RuntimeError("SNS said no")
        self.sent.append((alert.responder_id, notice))

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        raise AssertionError("not for a debrief")


def _alert(rid: str, state: str) -> Alert:
    return Alert("inc-1", rid, state, 1, 200.0, 30.26, 120.16, T0, phone="+8613900000000")


def _rescue(status: str = "closed", outcome: str | None = "rosc") -> Rescue:
    incident = Incident("inc-1", status, 30.259, 120.1605, T0, 2, 0, outcome=outcome)
    alerts = [
        _alert("a", "accepted"),
        _alert("b", "accepted"),
        _alert("c", "stood_down"),
        _alert("d", "declined"),
    ]
    return Rescue(incident, alerts)


def _me(rid: str) -> Caller:
    return Caller(rid, frozenset({"responder"}))


# --- the scale ------------------------------------------------------------------------------------------


def test_the_cut_off_is_the_ies6_threshold_and_asking_is_always_enough():
    assert logic.SCALE == "IES-6" and len(logic.SCALE_ITEMS) == 6 and logic.CUT_OFF == 15
    assert logic.needs_call(False, 14) is False
    assert logic.needs_call(False, 15) is True
    assert logic.needs_call(True, 0) is True
    assert Debrief("i", "r", score=14).band == logic.BAND_LOW
    assert Debrief("i", "r", score=15).band == logic.BAND_HIGH
    assert Debrief("i", "r").band is None
    assert logic.score([4] * 6) == 24


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (replace(CALM, answers=[1] * 5), "ies6:"),
        (replace(CALM, answers=[1] * 7), "ies6:"),
        (replace(CALM, answers=[1, 1, 1, 1, 1, 5]), "ies6.5"),
        (replace(CALM, answers=[-1, 1, 1, 1, 1, 1]), "ies6.0"),
        (replace(CALM, answers=[1, True, 1, 1, 1, 1]), "ies6.1"),  # a bool is not an answer
        (replace(CALM, answers=[1, 1, 1.0, 1, 1, 1]), "ies6.2"),  # type: ignore[list-item]
        (replace(CALM, did=[]), "did:"),
        (replace(CALM, did=["cpr", "cpr"]), "did:"),
        (replace(CALM, did=["cpr", "sang"]), "did:"),
        (replace(CALM, call_me=1), "call_me"),  # type: ignore[arg-type]
        (replace(CALM, note="x" * 501), "note"),
    ],
)
def test_answers_are_strict_and_the_error_names_the_field(answers, field):
    with pytest.raises(ValidationFailed) as raised:
        logic.validate(answers)
    assert raised.value.message.startswith(field)
    assert "sang" not in raised.value.message  # the rule, never the value


def test_every_outcome_but_rosc_and_transported_shares_nothing():
    shared = {o: logic.shared_outcome(_rescue(outcome=o).incident) for o in (*OUTCOMES, "expired")}
    assert {o for o, s in shared.items() if s} == {"rosc", "transported"}
    assert shared["rosc"] == {
        "outcome": "rosc",
        "en": "The patient reached hospital with a pulse.",
        "zh": "患者恢复了心跳，已被送往医院。",
    }
    assert logic.shared_outcome(_rescue(status="on_scene", outcome="rosc").incident) is None


# --- the invitation ----------------------------------------------------------------------------------------


def test_each_acceptor_is_invited_once_and_nobody_else():
    rescue, store, notifier = _rescue(), Store(), Notifier()
    assert logic.invite(rescue, store, notifier, "inc-1", POLICY, T0) == 2
    assert sorted(rid for rid, _ in notifier.sent) == ["a", "b"]
    assert {(n.kind, n.text.template) for _, n in notifier.sent} == {(DEBRIEF, "rescue_debrief")}
    assert all(store.get("inc-1", r).notice is None for r in "ab")  # type: ignore[union-attr]
    assert logic.invite(rescue, store, notifier, "inc-1", POLICY, T0 + timedelta(minutes=5)) == 0  # a retry
    assert len(notifier.sent) == 2


def test_an_open_incident_invites_nobody():
    with pytest.raises(Conflict):
        logic.invite(_rescue(status="on_scene"), Store(), Notifier(), "inc-1", POLICY, T0)


def test_a_failed_invitation_is_retried_by_the_next_finish_and_sent_once():
    rescue, store = _rescue(), Store()
    with pytest.raises(NoticesPending):
        logic.invite(rescue, store, Notifier(failing={"b"}), "inc-1", POLICY, T0)
    assert store.get("inc-1", "b").notice == DEBRIEF  # type: ignore[union-attr]  (its lease given back)
    notifier = Notifier()
    assert logic.invite(rescue, store, notifier, "inc-1", POLICY, T0 + timedelta(seconds=1)) == 1
    assert [rid for rid, _ in notifier.sent] == ["b"]


def test_an_invitation_under_a_live_lease_is_left_to_its_publisher():
    rescue, store = _rescue(), Store()
    store.invite("inc-1", "a", epoch(T0) + 20, T0, 0)  # another finish is sending it now
    notifier = Notifier()
    logic.invite(rescue, store, notifier, "inc-1", POLICY, T0)
    assert [rid for rid, _ in notifier.sent] == ["b"]
    logic.invite(rescue, store, notifier, "inc-1", POLICY, T0 + timedelta(seconds=21))  # it died: taken over
    assert sorted(rid for rid, _ in notifier.sent) == ["a", "b"]


def test_who_answered_before_the_invitation_is_not_asked_again():
    rescue, store, notifier = _rescue(), Store(), Notifier()
    logic.submit(rescue, store, _me("a"), "inc-1", CALM, T0)
    logic.invite(rescue, store, notifier, "inc-1", POLICY, T0)
    assert [rid for rid, _ in notifier.sent] == ["b"]


# --- the responder's side ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["c", "d", "nobody", None])
def test_only_an_acceptor_sees_a_debrief_others_get_the_404_of_no_incident(who):
    rescue, store = _rescue(), Store()
    caller = Caller(who, frozenset({"admin", "dispatcher"}))
    for act in (
        lambda i: logic.submit(rescue, store, caller, i, CALM, T0),
        lambda i: logic.read(rescue, store, caller, i),
    ):
        with pytest.raises(NotFound) as hidden:
            act("inc-1")
        with pytest.raises(NotFound) as missing:
            act("no-such-incident")
        assert (hidden.value.code, hidden.value.message) == (missing.value.code, missing.value.message)


def test_a_debrief_opens_at_the_close():
    with pytest.raises(Conflict) as raised:
        logic.submit(_rescue(status="responding"), Store(), _me("a"), "inc-1", CALM, T0)
    assert raised.value.code == "incident_open"


def test_an_invitation_still_proves_the_accept_after_the_alerts_retention():
    rescue, store = _rescue(), Store()
    logic.invite(rescue, store, Notifier(), "inc-1", POLICY, T0)
    rescue._alerts.clear()  # the alerts went by TTL
    debrief, _ = logic.submit(rescue, store, _me("a"), "inc-1", CALM, T0)
    assert debrief.invited_at == T0 and debrief.score == 3


def test_a_submission_once_a_retry_answers_it_other_answers_409():
    rescue, store = _rescue(), Store()
    first, _ = logic.submit(rescue, store, _me("a"), "inc-1", CALM, T0)
    again, _ = logic.submit(rescue, store, _me("a"), "inc-1", CALM, T0 + timedelta(minutes=1))
    assert again == first and again.submitted_at == T0
    with pytest.raises(Conflict) as raised:
        logic.submit(rescue, store, _me("a"), "inc-1", replace(CALM, call_me=True), T0)
    assert raised.value.code == "debrief_already_submitted"


# --- the call-back list -----------------------------------------------------------------------------------


class Contacts:
    def contacts(self, responder_ids):
        return {r: logic.Contact(f"志愿者{r}", "+8613900000000") for r in responder_ids if r != "b"}


def test_the_call_list_holds_who_asked_or_scored_high_oldest_first_until_the_call_is_done():
    rescue, store = _rescue(), Store()
    logic.submit(rescue, store, _me("b"), "inc-1", replace(CALM, answers=[3, 3, 3, 2, 2, 2]), T0)  # 15
    logic.submit(rescue, store, _me("a"), "inc-1", replace(CALM, call_me=True), T0 + timedelta(minutes=1))
    listed = logic.call_list(store, Contacts(), 20, None).items
    assert [(r.debrief.responder_id, r.contact) for r in listed] == [
        ("b", None),  # the record is gone: still listed, without a phone
        ("a", logic.Contact("志愿者a", "+8613900000000")),
    ]
    admin = Caller("admin-1", frozenset({"admin"}))
    done = logic.mark_call_done(store, admin, "inc-1", "b", T0 + timedelta(hours=1))
    assert (done.call_done_by, done.call_done_at) == ("admin-1", T0 + timedelta(hours=1))
    assert [r.debrief.responder_id for r in logic.call_list(store, Contacts(), 20, None).items] == ["a"]
    again = logic.mark_call_done(
        store, Caller("admin-2", frozenset({"admin"})), "inc-1", "b", T0 + timedelta(hours=2)
    )
    assert (again.call_done_by, again.call_done_at) == ("admin-1", T0 + timedelta(hours=1))


def test_marking_a_call_that_nobody_needs_is_409_and_one_that_does_not_exist_404():
    rescue, store = _rescue(), Store()
    logic.submit(rescue, store, _me("a"), "inc-1", CALM, T0)
    admin = Caller("admin-1", frozenset({"admin"}))
    with pytest.raises(Conflict) as raised:
        logic.mark_call_done(store, admin, "inc-1", "a", T0)
    assert raised.value.code == "no_call_requested"
    logic.invite(rescue, store, Notifier(), "inc-1", POLICY, T0)
    with pytest.raises(NotFound):
        logic.mark_call_done(store, admin, "inc-1", "b", T0)  # invited, never answered
    with pytest.raises(NotFound):
        logic.mark_call_done(store, admin, "inc-1", "zz", T0)
