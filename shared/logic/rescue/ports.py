"""What the rescue loop stores and whom it tells: its records, and the store's capabilities as small
Protocols. Each stage depends only on the capabilities it uses (its port, composed below); the DynamoDB
adapter (shared.dal.rescue.DynamoIncidents) implements them all, tests may fake one stage's port alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.logic.messages import Text
from shared.logic.ports import Credit, CreditHistory

# The geo index's kind for open incidents: a second SOS close by in time and place joins the first.
INCIDENT = "incident"
# Who raised an incident: a bystander's SOS through the app, or the 120 dispatch centre's CAD system.
SOURCES = ("app", "dispatch", "console")  # an SOS, a 120 centre, a dispatcher for a caller

# --- records -----------------------------------------------------------------------------------


@dataclass
class Incident:
    incident_id: str
    status: str
    lat: float
    lng: float
    created_at: datetime
    slots_cpr: int
    slots_aed: int
    filled_cpr: int = 0
    filled_aed: int = 0
    aed_options: list[AedOption] | None = None
    created_by: str | None = None
    caller_phone: str | None = None
    note: str | None = None
    wave: int = 1
    unanswered: bool = False
    outcome: str | None = None
    closed_at: str | None = None
    closure_token: str | None = None
    credits_awarded: bool = False  # the finish gave the points (none, when nobody earned any)
    credits_points: int | None = None  # how many, all responders together (once given)
    merged_into: str | None = None  # status "merged": this SOS joined that earlier incident
    centre_told: bool = False  # the dispatch centre was told it is unanswered
    source: str = "app"  # SOURCES: who raised it
    cad_incident_no: str | None = None  # the dispatch centre's own number for it (source "dispatch")
    alerted: int = 0  # responders alerted so far (a count kept on the incident: see count_alerted)
    # Source "dispatch" (shared/logic/dispatch): the centre, and what its call-taker recorded.
    centre_id: str | None = None
    nature: str | None = None  # cardiac_arrest, suspected_cardiac_arrest, unconscious, other
    address: str | None = None
    floor: str | None = None
    call_received_at: datetime | None = None  # when the 120 call came in, as the centre says

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def slots_open(self) -> int:
        return max(0, self.slots_cpr - self.filled_cpr) + max(0, self.slots_aed - self.filled_aed)


@dataclass(frozen=True)
class AedOption:
    aed_id: str
    lat: float
    lng: float
    name: str
    placement: str | None


@dataclass
class Alert:
    incident_id: str
    responder_id: str
    state: str
    wave: int
    distance_m: float
    lat: float
    lng: float
    alerted_at: datetime
    phone: str | None = None
    push_endpoint_arn: str | None = None
    role: str | None = None
    aed_id: str | None = None
    answered_at: datetime | None = None
    stood_down_at: datetime | None = None
    notice: str | None = None
    notice_lease_until: int | None = None
    team_id: str | None = None  # alerted as a member of this team or E-station (shared/logic/teams.py)


@dataclass(frozen=True)
class IncidentEvent:
    incident_id: str
    event_id: str
    type: str
    actor: str | None
    actor_role: str
    at: datetime
    lat: float | None = None
    lng: float | None = None
    detail: str | None = None


@dataclass(frozen=True)
class IncidentSummary:
    """An incident as the dispatchers' list shows it: what the list's index holds (the incident's id
    and creation, and shared.dal.models.rescue.LISTED_ATTRIBUTES), so a page reads no incident."""

    incident_id: str
    status: str
    lat: float
    lng: float
    created_at: datetime
    slots_cpr: int
    slots_aed: int
    filled_cpr: int = 0
    filled_aed: int = 0
    source: str = "app"
    cad_incident_no: str | None = None
    alerted: int = 0
    unanswered: bool = False
    outcome: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True)
class IncidentPage:
    items: list[IncidentSummary]
    next_token: str | None  # None: the last page


@dataclass(frozen=True)
class Award:
    responder_id: str
    reason: str
    points: int


@dataclass(frozen=True)
class Notice:
    kind: str  # alert, stand_down, reroute
    incident_id: str
    text: Text  # a template and its variables (shared/logic/messages.py)

    @property
    def message(self) -> str:
        """The global profile's text (SNS)."""
        return self.text.body


@dataclass(frozen=True)
class AlertLimits:
    """What writing an alert must respect. The responder is not in another rescue (accepted, not yet
    closed), ever; and for a public SOS (``per_hour`` set) has had fewer alerts than the caps this hour
    and this day. Alerts of a dispatcher's incident pass the caps but count towards them."""

    hour: int  # the hour's number since the epoch
    day: int  # the day's number, in the deployment's time zone
    per_hour: int | None
    per_day: int | None
    now_epoch: int


@dataclass(frozen=True)
class SourceLimit:
    """At most ``cap`` SOS from one source (an IP address, a device) in one window of time."""

    source: str  # "ip:203.0.113.9", "device:..."; stored only hashed
    cap: int
    window: int  # the window's number since the epoch
    window_s: int


class SourceOverLimit(Exception):
    """A source sent more SOS than its window allows: ``limit`` is the one it reached."""

    def __init__(self, limit: SourceLimit) -> None:
        super().__init__(limit.source)
        self.limit = limit


@dataclass(frozen=True)
class GuardKey:
    """A once-only key written in the same transaction as a new incident (a 120 centre's webhook-id and
    its CAD number): whoever writes it again finds that incident. ``body_hash`` says what it was written
    for (a retry must match it), ``expires_at`` when it goes (TTL, epoch seconds)."""

    key_hash: str  # stored only hashed (shared.logic.rescue.policy.hashed)
    body_hash: str
    expires_at: int


class DuplicateSos(Exception):
    """The Idempotency-Key was used before: for this incident, with this body or another."""

    def __init__(self, incident_id: str, same_body: bool) -> None:
        super().__init__(incident_id)
        self.incident_id, self.same_body = incident_id, same_body


# --- the store's capabilities, one small Protocol each ------------------------------------------


class IncidentReader(Protocol):
    def get(self, incident_id: str) -> Incident | None: ...


class IncidentCreation(Protocol):
    """The SOS: the incident with its idempotency key (one transaction), then its AED slot."""

    def create(
        self,
        incident: Incident,
        key_hash: str | None,
        body_hash: str,
        limits: list[SourceLimit],
        keys: Sequence[GuardKey] = (),
    ) -> None:
        """Stored with its key and ``keys``, and counted against each source's limit, in one
        transaction: a retry (a key exists: the Idempotency-Key's first, then ``keys`` in order) raises
        DuplicateSos, a source over its limit SourceOverLimit."""
        ...

    def set_aed_options(self, incident_id: str, options: list[AedOption], slots_aed: int) -> None: ...
    def merge(self, incident_id: str, into: str, joined: IncidentEvent) -> bool:
        """The SOS ``incident_id`` (still dispatching) joins ``into``, which records ``joined``; False
        when it is no longer dispatching."""
        ...


# What writing an alert did: written; "already" alerted to this incident (by this request or another
# at the same moment: a double tap); "refused": busy in another rescue, or over a cap.
ALERT_WRITTEN, ALERT_ALREADY, ALERT_REFUSED = "written", "already", "refused"


class AlertWriter(Protocol):
    def add_alert(self, alert: Alert, limits: AlertLimits) -> str:
        """ALERT_WRITTEN, ALERT_ALREADY or ALERT_REFUSED."""
        ...


class AlertReader(Protocol):
    def alerts(self, incident_id: str) -> list[Alert]: ...
    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None: ...


class NoticeLeases(Protocol):
    """A notice is published only under its lease: cleared once sent, given back when the publish
    failed."""

    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None: ...
    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None: ...


class LapsedNotices(Protocol):
    """A notice whose lease lapsed (its publisher died or failed) is taken over by the next one."""

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool: ...


class StandDowns(Protocol):
    def stand_down(self, incident_id: str, responder_id: str, lease_until: int, at: datetime) -> bool: ...


class AlertCounts(Protocol):
    def count_alerted(self, incident_id: str, at_least: int) -> None:
        """The incident's ``alerted`` is at least ``at_least`` (raised to it, never lowered: a writer
        that knows of fewer alerts than another leaves the larger count)."""
        ...


class WaveMarks(Protocol):
    def set_wave(self, incident_id: str, wave: int) -> None: ...
    def mark_unanswered(self, incident_id: str) -> bool: ...
    def mark_centre_told(self, incident_id: str) -> None: ...


class Answers(Protocol):
    def accept(
        self,
        incident_id: str,
        responder_id: str,
        role: str,
        aed_id: str | None,
        now: datetime,
        busy_until: int,
    ) -> bool:
        """The slot, the alert's answer, and the responder busy in this rescue until ``busy_until``
        (its closure releases them sooner)."""
        ...

    def decline(self, incident_id: str, responder_id: str, now: datetime) -> bool: ...


class StatusProgress(Protocol):
    def advance_status(self, incident_id: str, to: str, allowed_from: tuple[str, ...]) -> bool: ...


class EventWriter(Protocol):
    def add_event(self, event: IncidentEvent) -> None: ...


class OnceEvents(Protocol):
    def add_event_once(self, event: IncidentEvent, once_key: str) -> IncidentEvent:
        """Store ``event`` unless an event was stored under ``once_key`` (a hash): then that one."""
        ...


class EventReader(Protocol):
    def events(self, incident_id: str) -> list[IncidentEvent]: ...


class AedReroutes(Protocol):
    def drop_aed_option(self, incident_id: str, aed_id: str) -> Incident | None: ...
    def reassign_aed(
        self,
        incident_id: str,
        responder_id: str,
        old_aed_id: str,
        new_aed_id: str | None,
        lease_until: int | None,
    ) -> bool: ...


class Closures(Protocol):
    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None: ...
    def release(self, incident_id: str, responder_ids: list[str]) -> None:
        """These responders are no longer busy in this rescue (the next one may alert them)."""
        ...

    def expire(self, incident_id: str, at: int) -> None:
        """The rescue's alerts and events (responders' phones and positions) are deleted at ``at``."""
        ...

    def store_closure_token(self, incident_id: str, token: str) -> bool: ...


class CreditAwards(Protocol):
    def award(self, incident_id: str, awards: list[Award], at: datetime) -> bool: ...


class IncidentListing(Protocol):
    def list_incidents(
        self, listing: str, since: datetime | None, limit: int, next_token: str | None
    ) -> IncidentPage:
        """The ``listing`` ("open" or "closed") list, newest first, created at ``since`` or later: one
        page of at most ``limit``. A ``next_token`` this store did not issue for this very list raises
        ValidationFailed."""
        ...


class IncidentCredits(Protocol):
    def credits_of(self, incident_id: str, responder_ids: list[str]) -> dict[str, list[Credit]]:
        """The points each of these responders was given for this incident."""
        ...


# --- each stage's port ---------------------------------------------------------------------------


class Redelivery(AlertReader, NoticeLeases, LapsedNotices, Protocol):
    """notices.deliver_pending: every notice whose lease lapsed, taken over and published."""


class StandDownStore(AlertReader, NoticeLeases, StandDowns, Protocol):
    """notices.stand_down_the_rest: whoever is still only alerted, stood down and told so."""


class IntakeStore(IncidentReader, IncidentCreation, AlertWriter, AlertCounts, Redelivery, Protocol):
    """intake.py: the SOS stored (or found again by its key), wave 1 written and published."""


class WaveStore(
    IncidentReader,
    AlertWriter,
    AlertCounts,
    WaveMarks,
    EventWriter,
    OnceEvents,
    Redelivery,
    StandDownStore,
    Protocol,
):
    """waves.py: the workflow's re-delivery, later waves and the unanswered mark."""


class AssignmentStore(
    IncidentReader, Answers, StatusProgress, EventWriter, OnceEvents, AedReroutes, StandDownStore, Protocol
):
    """assignment.py: answers and roles, events on scene, AED reports and re-routing."""


class ClosureStore(
    IncidentReader,
    Closures,
    EventWriter,
    EventReader,
    CreditAwards,
    AlertCounts,
    Redelivery,
    StandDownStore,
    Protocol,
):
    """closure.py: the close, the workflow's wait for it, the finish (stand-downs, AEDs, points)."""


class ViewStore(IncidentReader, AlertReader, EventReader, Protocol):
    """view.py: who may see what of an incident."""


class ConsoleStore(IncidentReader, IncidentListing, AlertReader, EventReader, IncidentCredits, Protocol):
    """console.py: the dispatchers' list of incidents, and a rescue's timeline."""


class IncidentStore(
    IncidentReader,
    IncidentCreation,
    AlertWriter,
    AlertReader,
    AlertCounts,
    NoticeLeases,
    LapsedNotices,
    StandDowns,
    WaveMarks,
    Answers,
    StatusProgress,
    EventWriter,
    OnceEvents,
    EventReader,
    AedReroutes,
    Closures,
    CreditAwards,
    IncidentListing,
    IncidentCredits,
    CreditHistory,
    Protocol,
):
    """Every capability at once: what the DynamoDB adapter offers (shared/wiring.py hands it out as
    this), so it fits every stage's port, and the credit history the responders' capability reads
    (shared.logic.ports.CreditHistory)."""


# --- the rest of the world -------------------------------------------------------------------------


class AedUse(Protocol):
    """An AED's life in a rescue (shared.logic.aed_faults.AedFaults): on a patient, then restock."""

    def start_use(self, aed_id: str, incident_id: str, now: datetime) -> object: ...
    def end_use(self, aed_id: str, incident_id: str, now: datetime) -> object: ...


class AedClaims(Protocol):
    def release(self, aed_id: str, incident_id: str) -> None: ...


class Notifier(Protocol):
    def notify(self, alert: Alert, notice: Notice) -> None: ...
    def tell_dispatch_centre(self, incident_id: str, message: str) -> None: ...


class Workflow(Protocol):
    def start(self, incident_id: str, payload: Mapping[str, object]) -> None: ...
    def resume(self, token: str) -> None: ...
