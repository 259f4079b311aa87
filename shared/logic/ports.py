"""The small interfaces logic depends on; shared/dal implements them on DynamoDB, tests may fake them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

RESPONDER = "responder"  # geo index kinds
AED_USABLE = "aed"  # status ok: what rescues may be sent to (opening hours are checked at query time)
AED_MAP = "aed-map"  # every AED whatever its status: what the map shows


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


class AedRepository(Protocol):
    def create(self, aed: Aed) -> None: ...
    def get(self, aed_id: str) -> Aed | None: ...
    def save(self, aed: Aed) -> None: ...


class GeoIndex(Protocol):
    def put(
        self,
        kind: str,
        entity_id: str,
        lat: float,
        lng: float,
        expires_at: int | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None: ...
    def remove(self, kind: str, entity_id: str) -> None: ...
    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]: ...
    def in_box(
        self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float
    ) -> list[Hit]: ...
