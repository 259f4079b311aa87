"""The small interfaces logic depends on; shared/dal implements them on DynamoDB, tests may fake them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

RESPONDER = "responder"  # geo index kinds
AED_USABLE = "aed"  # status ok: what rescues may be sent to (opening hours are checked at query time)
AED_MAP = "aed-map"  # every AED whatever its status: what the map shows
CLAIM = "claimed_by"  # on a usable AED's index item: the incident whose runner is fetching it


@dataclass
class Responder:
    responder_id: str
    name: str
    phone: str
    certificate_no: str
    certificate_expires_on: date
    created_at: datetime
    credits_balance: int = 0
    available: bool = False
    presence_lat: float | None = None
    presence_lng: float | None = None
    presence_expires_at: datetime | None = None
    push_endpoint_arn: str | None = None


@dataclass
class Aed:
    aed_id: str
    lat: float
    lng: float
    name: str
    opening_hours: str
    status: str
    created_at: datetime
    updated_at: datetime
    address: str | None = None
    placement: str | None = None
    floor: str | None = None  # as people say it: "1", "5", "B1"
    indoor: bool | None = None
    access: str | None = None  # OpenStreetMap access=*: yes, customers, permissive, private, no
    contact_phone: str | None = None  # the venue's emergency number, as published (not always E.164)
    manager_id: str | None = None  # the aed_manager (Cognito sub) who answers for its upkeep
    source: str | None = None  # the registry it was imported from, e.g. "taiwan-mohw"
    source_id: str | None = None  # its stable id in that registry: re-imports update, never duplicate
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    last_inspected_on: date | None = None
    fault: str | None = None  # the confirmed fault behind status faulty/missing: locked, broken...
    # A fault reported from inside a rescue takes the AED out of every search until its manager
    # confirms or clears the report (the report's id).
    suspended_by: str | None = None
    in_use_by: str | None = None  # the incident whose patient it is attached to


@dataclass(frozen=True)
class Hit:
    entity_id: str
    lat: float
    lng: float
    distance_m: float
    attributes: Mapping[str, str]


class ResponderRepository(Protocol):
    def create(self, responder: Responder) -> None: ...
    def get(self, responder_id: str) -> Responder | None: ...
    def save_presence(self, responder: Responder) -> None: ...
    def save_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None: ...


class PushRegistry(Protocol):
    def endpoint(self, platform: str, token: str, responder_id: str) -> str: ...


class AedRepository(Protocol):
    def create(self, aed: Aed) -> None: ...
    def get(self, aed_id: str) -> Aed | None: ...
    def save(self, aed: Aed, expected_updated_at: datetime | None = None) -> None: ...


class GeoIndex(Protocol):
    def put(
        self,
        kind: str,
        entity_id: str,
        lat: float,
        lng: float,
        expires_at: int | None = None,
        attributes: Mapping[str, str] | None = None,
        keep: Collection[str] = (),
    ) -> None: ...
    def remove(self, kind: str, entity_id: str) -> None: ...
    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]: ...
    def in_box(
        self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float
    ) -> list[Hit]: ...


# --- the rescue loop ---------------------------------------------------------------------------


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
    credits_awarded: bool = False

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
    notice: str | None = None
    notice_lease_until: int | None = None


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
class Award:
    responder_id: str
    reason: str
    points: int


@dataclass(frozen=True)
class Credit:
    incident_id: str
    reason: str
    points: int
    at: datetime


class DuplicateSos(Exception):
    """The Idempotency-Key was used before: for this incident, with this body or another."""

    def __init__(self, incident_id: str, same_body: bool) -> None:
        super().__init__(incident_id)
        self.incident_id, self.same_body = incident_id, same_body


class IncidentStore(Protocol):
    def create(self, incident: Incident, key_hash: str | None, body_hash: str) -> None: ...
    def get(self, incident_id: str) -> Incident | None: ...
    def set_aed_options(self, incident_id: str, options: list[AedOption], slots_aed: int) -> None: ...
    def add_alert(self, alert: Alert) -> bool: ...
    def alerts(self, incident_id: str) -> list[Alert]: ...
    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None: ...
    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None: ...
    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None: ...
    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool: ...
    def accept(
        self, incident_id: str, responder_id: str, role: str, aed_id: str | None, now: datetime
    ) -> bool: ...
    def decline(self, incident_id: str, responder_id: str, now: datetime) -> bool: ...
    def stand_down(self, incident_id: str, responder_id: str, lease_until: int) -> bool: ...
    def add_event(self, event: IncidentEvent) -> None: ...
    def events(self, incident_id: str) -> list[IncidentEvent]: ...
    def advance_status(self, incident_id: str, to: str, allowed_from: tuple[str, ...]) -> bool: ...
    def drop_aed_option(self, incident_id: str, aed_id: str) -> Incident | None: ...
    def reassign_aed(
        self,
        incident_id: str,
        responder_id: str,
        old_aed_id: str,
        new_aed_id: str | None,
        lease_until: int | None,
    ) -> bool: ...
    def set_wave(self, incident_id: str, wave: int) -> None: ...
    def mark_unanswered(self, incident_id: str) -> bool: ...
    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None: ...
    def store_closure_token(self, incident_id: str, token: str) -> bool: ...
    def award(self, incident_id: str, awards: list[Award], at: datetime) -> bool: ...
    def credits(self, responder_id: str) -> list[Credit]: ...


class AedUse(Protocol):
    """An AED's life in a rescue (shared.logic.aed_service.AedService): on a patient, then restock."""

    def start_use(self, aed_id: str, incident_id: str, now: datetime) -> object: ...
    def end_use(self, aed_id: str, incident_id: str, now: datetime) -> object: ...


class AedClaims(Protocol):
    def release(self, aed_id: str, incident_id: str) -> None: ...


@dataclass(frozen=True)
class Notice:
    kind: str  # alert, stand_down, reroute
    incident_id: str
    message: str


class Notifier(Protocol):
    def notify(self, alert: Alert, notice: Notice) -> None: ...
    def tell_dispatch_centre(self, incident_id: str, message: str) -> None: ...


class Workflow(Protocol):
    def start(self, incident_id: str, payload: Mapping[str, object]) -> None: ...
    def resume(self, token: str) -> None: ...


class TextMessages(Protocol):
    """One text to one phone (E.164); the SNS adapter is shared.messaging.sns.SnsTextMessages."""

    def send(self, phone: str, message: str) -> None: ...
