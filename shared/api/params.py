"""Query parameters shared by the search routes (strings on the wire, parsed and bounded here), and the
Idempotency-Key header."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from shared.api.plain import HEADER_MAX_LENGTH
from shared.errors import ValidationFailed

LatQ = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="WGS-84 latitude")]
LngQ = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="WGS-84 longitude")]
RadiusQ = Annotated[float, Query(ge=0, le=5000, allow_inf_nan=False, description="metres, at most 5000")]
LimitQ = Annotated[int, Query(ge=1, le=100, description="page size, at most 100")]
TokenQ = Annotated[str | None, Query(max_length=20, description="from the previous page")]
BboxQ = Annotated[
    str,
    Query(
        pattern=r"^\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*$",
        description="minLng,minLat,maxLng,maxLat; at most 1 degree a side",
    ),
]
CrsQ = Annotated[str | None, Query(pattern="^(wgs84|gcj02)$", description="datum of lat/lng")]

SosIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=HEADER_MAX_LENGTH,
        description="Apps always send one; a retry with the same key and body gets the same incident",
    ),
]
DeviceId = Annotated[
    str | None,
    Header(
        alias="X-Device-Id",
        max_length=HEADER_MAX_LENGTH,
        description=(
            "The app's install id: SOS are limited per device and per IP address, each per window (429 with "
            "Retry-After beyond); the first SOS from a source always passes"
        ),
    ),
]
EventIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=HEADER_MAX_LENGTH,
        description=(
            "A retry with the same key records the event once. arrived, cpr_started and aed_attached are "
            "once per responder and ems_arrived once per incident anyway; shock_delivered needs the key"
        ),
    ),
]


def aware(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationFailed("at: must carry a UTC offset, e.g. 2026-11-30T09:00:00+08:00")
    return at.astimezone(UTC)


def parse_bbox(bbox: str) -> tuple[float, float, float, float]:
    """A map's box as BboxQ takes it: minLng, minLat, maxLng, maxLat, each within range."""
    try:
        min_lng, min_lat, max_lng, max_lat = (float(x) for x in bbox.split(","))
    except ValueError as error:
        raise ValidationFailed("bbox: four numbers, minLng,minLat,maxLng,maxLat") from error
    if not (
        -180 <= min_lng <= 180 and -180 <= max_lng <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90
    ):
        raise ValidationFailed("bbox: coordinates out of range")
    return min_lng, min_lat, max_lng, max_lat
