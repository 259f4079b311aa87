"""Bodies of the responders API: the pool, presence, credits and the app's push device."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Strict, StringConstraints

from shared.api.fields import Body, Crs, Lat, Lng, Phone, Text


class NewResponderBody(Body):
    name: Text
    phone: Phone
    certificate_no: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    certificate_expires_on: date


class PresenceOut(BaseModel):
    lat: float
    lng: float
    expires_at: datetime


class ResponderOut(BaseModel):
    responder_id: str
    name: str
    phone: str
    certificate_no: str
    certificate_expires_on: date
    certificate_valid: bool
    created_at: datetime
    credits: int
    available: bool
    presence: PresenceOut | None = None


class PresenceBody(Body):
    lat: Lat
    lng: Lng
    available: Annotated[bool, Strict()]
    crs: Crs = None


class PresenceAnswer(BaseModel):
    available: bool
    expires_at: datetime | None


class NearbyResponder(BaseModel):
    responder_id: str
    distance_m: float


class NearbyResponders(BaseModel):
    items: list[NearbyResponder]
    next_token: str | None = None


class CreditItem(BaseModel):
    incident_id: str
    reason: str
    points: int
    at: datetime


class Credits(BaseModel):
    balance: int
    items: list[CreditItem]


class DeviceBody(Body):
    # fcm and apns through SNS (global profile); jpush in the cn profile, where token is the JPush
    # registration id (the app's JPush SDK relays to Huawei, Honor, Xiaomi, OPPO, vivo, Meizu and APNs).
    platform: Literal["fcm", "apns", "jpush"]
    token: Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class DeviceAnswer(BaseModel):
    push: bool
