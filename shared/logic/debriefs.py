"""The debrief after a rescue (docs/volunteers.md, "After a rescue: the debrief").

Every responder who accepted an incident is invited once, when the rescue's finish runs after the close,
to tell what they did, how they feel (the IES-6, a validated six-item short form of the Impact of Event
Scale-Revised: Thoresen et al. 2010) and whether they would like someone to call them. A debrief that
asks for a call, or whose IES-6 score reaches the scale's cut-off, joins the admins' call-back list,
oldest first, until an admin marks the call done. The responder also sees the outcome that may be shared
with them, only for an incident closed with ``rosc`` or ``transported``.

The invitation is a notice as the rescue's are (shared/logic/rescue/notices.py): set with a lease in the
conditional write that opens the debrief (once per incident and responder), published through the rescue's
notifier (app push, SMS without an app), then cleared; a failed publish gives the lease back and the
finish fails so the workflow retries it; a lapsed lease is taken over by the next finish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.concurrency import each
from shared.logic.ports import Contact
from shared.logic.rescue.notices import NoticesPending, deliver
from shared.logic.rescue.policy import Policy, epoch, incident_or_404
from shared.logic.rescue.ports import (
    Alert,
    AlertReader,
    Incident,
    IncidentReader,
    LapsedNotices,
    NoticeLeases,
    Notifier,
)

# The notice's kind (the rescue's notices are alert, stand_down, reroute), also the app's deep link's k=.
DEBRIEF = "debrief"

# --- the scale: IES-6 (Thoresen S, Tambs K, Hussain A, Heir T, Johansen VA, Bisson JI. Brief measure of
# posttraumatic stress reactions: Impact of Event Scale-6. Soc Psychiatry Psychiatr Epidemiol 2010;
# 45(3):405-412. doi:10.1007/s00127-009-0073-x). Items 3, 6, 11, 12, 18 and 21 of the IES-R (Weiss &
# Marmar 1997), each "how much were you distressed or bothered by", 0 not at all .. 4 extremely.
SCALE = "IES-6"
SCALE_SOURCE = (
    "Thoresen S, Tambs K, Hussain A, Heir T, Johansen VA, Bisson JI. Brief measure of posttraumatic stress "
    "reactions: Impact of Event Scale-6. Soc Psychiatry Psychiatr Epidemiol. 2010;45(3):405-412."
)


@dataclass(frozen=True)
class ScaleItem:
    item_id: str  # its number in the IES-R
    en: str
    zh: str


SCALE_ITEMS: tuple[ScaleItem, ...] = (
    ScaleItem("ies_r_3", "Other things kept making me think about it.", "其他事情总让我想起这次救援。"),
    ScaleItem("ies_r_6", "I thought about it when I didn't mean to.", "我不想去想它的时候却想起了它。"),
    ScaleItem("ies_r_11", "I tried not to think about it.", "我尽量不去想它。"),
    ScaleItem(
        "ies_r_12",
        "I was aware that I still had a lot of feelings about it, but I didn't deal with them.",
        "我知道自己对它仍有很多感受，但我没有去处理这些感受。",
    ),
    ScaleItem("ies_r_18", "I had trouble concentrating.", "我难以集中注意力。"),
    ScaleItem("ies_r_21", "I felt watchful and on-guard.", "我感到警觉、处处提防。"),
)
ANSWER_MIN, ANSWER_MAX = 0, 4  # not at all, a little bit, moderately, quite a bit, extremely
ANSWER_LABELS = (
    "not at all 完全没有",
    "a little bit 有一点",
    "moderately 中等",
    "quite a bit 相当多",
    "extremely 极度",
)
# Thoresen et al. 2010: "the optimal threshold for the IES-6 was > 14" (sum 0-24): 15 and above.
CUT_OFF = 15
BAND_HIGH, BAND_LOW = "at_or_above_cut_off", "below_cut_off"

# What the responder did: any of these, at least one.
ACTIONS = (
    "arrived",  # reached the patient
    "cpr",  # chest compressions (and breaths)
    "fetched_aed",
    "attached_aed",
    "shock_delivered",
    "supported_others",  # helped the family, bystanders, guided the ambulance in
    "handed_over_to_ems",
    "did_not_reach_patient",  # stood down on the way, could not find the place, came too late
)
NOTE_MAX = 500

# The outcome a responder may be told, only for these closures: nothing else about the patient.
SHAREABLE_OUTCOMES: Mapping[str, tuple[str, str]] = {
    "rosc": ("The patient reached hospital with a pulse.", "患者恢复了心跳，已被送往医院。"),
    "transported": ("The patient was taken to hospital by the ambulance.", "患者已由救护车送往医院。"),
}
DEBRIEF_RETENTION_DAYS = 365  # a debrief (answers, score, call) goes by TTL a year after it was written


# --- records and ports --------------------------------------------------------------------------------


@dataclass
class Debrief:
    """One responder's debrief of one incident: the invitation, then the answers, then the call."""

    incident_id: str
    responder_id: str
    invited_at: datetime | None = None
    submitted_at: datetime | None = None
    did: list[str] | None = None
    note: str | None = None
    answers: list[int] | None = None  # the IES-6, in SCALE_ITEMS' order
    score: int | None = None
    call_me: bool = False  # the responder asked for a call
    needs_call: bool = False  # asked, or the score at or above the cut-off
    call_done_at: datetime | None = None
    call_done_by: str | None = None
    notice: str | None = None  # the invitation waiting to be published (DEBRIEF), under its lease
    notice_lease_until: int | None = None

    @property
    def band(self) -> str | None:
        return None if self.score is None else BAND_HIGH if self.score >= CUT_OFF else BAND_LOW


@dataclass(frozen=True)
class Answers:
    did: list[str]
    answers: list[int]
    call_me: bool
    note: str | None = None


@dataclass(frozen=True)
class CallPage:
    items: list[Debrief]
    next_token: str | None


class DebriefStore(NoticeLeases, LapsedNotices, Protocol):
    def get(self, incident_id: str, responder_id: str) -> Debrief | None: ...
    def of_incident(self, incident_id: str) -> list[Debrief]: ...
    def invite(
        self, incident_id: str, responder_id: str, lease_until: int, at: datetime, expires_at: int
    ) -> bool:
        """The invitation written with its notice, once: False when this responder was invited already or
        has submitted (nothing to ask for)."""
        ...

    def submit(self, debrief: Debrief, expires_at: int) -> bool:
        """The answers, once: False when this responder submitted already."""
        ...

    def call_list(self, limit: int, next_token: str | None) -> CallPage:
        """Debriefs that need a call not yet done, oldest submission first."""
        ...

    def call_done(self, incident_id: str, responder_id: str, by: str, at: datetime) -> bool:
        """Off the call-back list, with who and when: False unless it was on it."""
        ...


class Contacts(Protocol):
    def contacts(self, responder_ids: Sequence[str]) -> dict[str, Contact]: ...


class RescueReader(IncidentReader, AlertReader, Protocol):
    """What the debrief reads of the rescue: the incident and its alerts."""


# --- the scale ------------------------------------------------------------------------------------------


def validate(answers: Answers) -> None:
    """Strict: every item present, each an integer 0..4 (never a bool), the actions known. ValidationFailed
    names the field and the rule, never the value."""
    problems: list[str] = []
    if not isinstance(answers.answers, list) or len(answers.answers) != len(SCALE_ITEMS):
        problems.append(f"ies6: exactly {len(SCALE_ITEMS)} answers, one per item")
    else:
        for i, value in enumerate(answers.answers):
            if type(value) is not int or not ANSWER_MIN <= value <= ANSWER_MAX:
                problems.append(f"ies6.{i}: an integer from {ANSWER_MIN} to {ANSWER_MAX}")
    if not answers.did:
        problems.append("did: at least one of " + ", ".join(ACTIONS))
    elif any(a not in ACTIONS for a in answers.did) or len(set(answers.did)) != len(answers.did):
        problems.append("did: each one of " + ", ".join(ACTIONS) + ", none twice")
    if type(answers.call_me) is not bool:
        problems.append("call_me: true or false")
    if answers.note is not None and len(answers.note) > NOTE_MAX:
        problems.append(f"note: at most {NOTE_MAX} characters")
    if problems:
        raise ValidationFailed("; ".join(problems))


def score(values: Sequence[int]) -> int:
    return sum(values)


def needs_call(call_me: bool, total: int) -> bool:
    """The rule: the responder asked, or the IES-6 sum is at or above the cut-off."""
    return call_me or total >= CUT_OFF


def shared_outcome(incident: Incident) -> dict[str, str] | None:
    texts = SHAREABLE_OUTCOMES.get(incident.outcome or "") if incident.closed else None
    return None if texts is None else {"outcome": str(incident.outcome), "en": texts[0], "zh": texts[1]}


# --- the invitation, at the rescue's finish --------------------------------------------------------------


def invite(
    rescue: RescueReader,
    store: DebriefStore,
    notifier: Notifier,
    incident_id: str,
    policy: Policy,
    now: datetime,
) -> int:
    """Invite every responder who accepted this closed incident, once each; take over invitations whose
    lease lapsed. Returns how many went out now; raises NoticesPending when some could not be sent or
    written yet (the workflow retries the finish, which sends only what is still owed)."""
    incident = incident_or_404(rescue, incident_id)
    if not incident.closed:
        raise Conflict("incident is still open")
    accepted = {a.responder_id: a for a in rescue.alerts(incident_id) if a.state == "accepted"}
    known = {d.responder_id: d for d in store.of_incident(incident_id)}
    now_s, lease = epoch(now), epoch(now) + policy.notice_lease_s
    taken = [
        accepted[d.responder_id]
        for d in known.values()
        if d.notice == DEBRIEF
        and (d.notice_lease_until or 0) <= now_s
        and d.responder_id in accepted
        and store.take_notice(incident_id, d.responder_id, DEBRIEF, now_s, lease)
    ]
    owed = [
        a
        for rid, a in accepted.items()
        if rid not in known or (known[rid].invited_at is None and known[rid].submitted_at is None)
    ]
    expires = now_s + DEBRIEF_RETENTION_DAYS * 86400
    written = each(lambda a: store.invite(incident_id, a.responder_id, lease, now, expires), owed)
    opened = [a for a, ok in zip(owed, written, strict=True) if ok is True]
    failed = deliver(store, notifier, incident, [*taken, *opened], DEBRIEF)
    unwritten = sum(1 for ok in written if isinstance(ok, Exception))
    if failed or unwritten:
        raise NoticesPending(
            f"{incident_id}: {failed} debrief invitations not yet sent, {unwritten} not written"
        )
    return len(taken) + len(opened)


# --- the responder's side -------------------------------------------------------------------------------


def _own(
    rescue: RescueReader, store: DebriefStore, caller: Caller, incident_id: str
) -> tuple[Incident, Debrief | None]:
    """The incident and the caller's debrief of it, if the caller accepted it; else the 404 of an incident
    that does not exist (nobody learns of others' rescues). An invitation proves the accept (only accepted
    responders are invited) after the alert itself is gone with the rescue's retention."""
    missing = NotFound("incident not found")
    if caller.sub is None:
        raise missing
    debrief = store.get(incident_id, caller.sub)
    if debrief is None or (debrief.invited_at is None and debrief.submitted_at is None):
        alert: Alert | None = rescue.get_alert(incident_id, caller.sub)
        if alert is None or alert.state != "accepted":
            raise missing
    incident = rescue.get(incident_id)
    if incident is None:
        raise missing
    if not incident.closed:
        raise Conflict("the debrief opens when the incident is closed", code="incident_open")
    return incident, debrief


def submit(
    rescue: RescueReader,
    store: DebriefStore,
    caller: Caller,
    incident_id: str,
    answers: Answers,
    now: datetime,
) -> tuple[Debrief, Incident]:
    """The caller's debrief of an incident they accepted, once it closed. Sending the same answers again
    answers the stored debrief (a retry); other answers after a submission are 409."""
    validate(answers)
    incident, existing = _own(rescue, store, caller, incident_id)
    assert caller.sub is not None
    total = score(answers.answers)
    debrief = Debrief(
        incident_id,
        caller.sub,
        invited_at=existing.invited_at if existing else None,
        submitted_at=now,
        did=list(answers.did),
        note=answers.note or None,
        answers=list(answers.answers),
        score=total,
        call_me=answers.call_me,
        needs_call=needs_call(answers.call_me, total),
    )
    first = existing is None or existing.submitted_at is None
    if first and store.submit(debrief, epoch(now) + DEBRIEF_RETENTION_DAYS * 86400):
        return debrief, incident
    stored = store.get(incident_id, caller.sub)
    if stored is not None and _same(stored, debrief):
        return stored, incident
    raise Conflict("this debrief was submitted already", code="debrief_already_submitted")


def _same(stored: Debrief, new: Debrief) -> bool:
    return (stored.did, stored.note, stored.answers, stored.call_me) == (
        new.did,
        new.note,
        new.answers,
        new.call_me,
    )


def read(
    rescue: RescueReader, store: DebriefStore, caller: Caller, incident_id: str
) -> tuple[Debrief, Incident]:
    incident, debrief = _own(rescue, store, caller, incident_id)
    assert caller.sub is not None
    return debrief or Debrief(incident_id, caller.sub), incident


# --- the admins' call-back list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRequest:
    debrief: Debrief
    contact: Contact | None  # None: the responder's record is gone


@dataclass(frozen=True)
class CallRequests:
    items: list[CallRequest]
    next_token: str | None = None


def call_list(store: DebriefStore, contacts: Contacts, limit: int, next_token: str | None) -> CallRequests:
    page = store.call_list(limit, next_token)
    found = contacts.contacts([d.responder_id for d in page.items]) if page.items else {}
    return CallRequests([CallRequest(d, found.get(d.responder_id)) for d in page.items], page.next_token)


def mark_call_done(
    store: DebriefStore, caller: Caller, incident_id: str, responder_id: str, now: datetime
) -> Debrief:
    """Off the list, recording who and when. Marking it again answers the first record (a retry); a debrief
    that never asked for a call is 409; none at all, 404."""
    debrief = store.get(incident_id, responder_id)
    if debrief is None or debrief.submitted_at is None:
        raise NotFound("debrief not found")
    if debrief.call_done_at is not None:
        return debrief
    if not debrief.needs_call:
        raise Conflict("this debrief asked for no call", code="no_call_requested")
    if not store.call_done(incident_id, responder_id, caller.sub or "", now):
        done = store.get(incident_id, responder_id)
        if done is not None and done.call_done_at is not None:
            return done  # marked by another admin at the same moment
        raise Conflict("this debrief asked for no call", code="no_call_requested")
    debrief.call_done_at, debrief.call_done_by = now, caller.sub
    return debrief
