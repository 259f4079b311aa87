"""The small interfaces logic depends on; shared/dal implements them on DynamoDB, tests may fake them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from shared.logic.messages import Text

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
    # Until when the geo index finds the responder at (presence_lat, presence_lng): the index item's lease,
    # which outlasts presence_expires_at (shared.logic.responders.update_presence says why).
    presence_indexed_until: datetime | None = None


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
class Contact:
    """Whom to reach: a responder's name and phone (read by key)."""

    name: str
    phone: str


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
    def on_duty(self, responder_ids: Collection[str], now: datetime) -> set[str]:
        """Those of ``responder_ids`` whose presence has not lapsed at ``now`` (available, presence_expires_at
        after now): the exact rule, for what the geo index's longer lease may still find."""
        ...

    def save_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None: ...
    def drop_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None:
        """Forget the endpoint if the responder still has this one: their alerts go by SMS again."""
        ...


class DeviceRefused(Exception):
    """The push service will not take this app install's token (malformed, or unknown to it): the app
    sent a bad token, a 422 for it to correct, never a fault of ours."""


class PushRegistry(Protocol):
    def endpoint(self, platform: str, token: str, responder_id: str) -> tuple[str, str | None]:
        """The app install's endpoint, now the responder's; and who had it before, if someone else (a
        phone handed on to another volunteer): None when it was new or already theirs. Raises
        DeviceRefused when the push service refuses the token."""
        ...


class AedRepository(Protocol):
    def create(self, aed: Aed) -> None: ...
    def get(self, aed_id: str) -> Aed | None: ...
    def save(self, aed: Aed, expected_updated_at: datetime | None = None) -> None: ...


class GeoIndex(Protocol):
    """Findable things by position. ``nearby`` answers exactly the things within ``radius_m``
    (haversine), nearest first; ``in_box`` those inside the box. Each is one bounded search: at most
    ``shared.geo.cover.MAX_QUERIES`` Queries anywhere on Earth, poles and ±180° included."""

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
    def positions(
        self, kind: str, entity_ids: Collection[str], lat: float, lng: float, now_epoch: int
    ) -> list[Hit]:
        """These things where the index holds them (read by key, none lapsed at ``now_epoch``), each
        with its distance from (lat, lng); unknown ids are left out."""
        ...

    def in_box(
        self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float
    ) -> list[Hit]: ...


@dataclass(frozen=True)
class Credit:
    """Points a responder earned in a rescue (written at closure by shared.logic.rescue.closure)."""

    incident_id: str
    reason: str
    points: int
    at: datetime


class CreditHistory(Protocol):
    """A responder's credits, as the responders' capability reads them (the rescue store writes them)."""

    def credits(self, responder_id: str) -> list[Credit]: ...


class TextMessages(Protocol):
    """One text to one phone (E.164), from a template (shared/logic/messages.py): SNS in the global
    profile (shared.messaging.sns.SnsTextMessages), a mainland SMS provider in the cn profile."""

    def send(self, phone: str, message: Text) -> None: ...
