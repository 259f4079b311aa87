"""The AED map: where each device is, when it can be reached, and whether it can be used.

The geo index holds two kinds: every AED (for the map) and the usable ones (status ``ok``; opening
hours are read at query time, since they change with the clock, not with writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.identity import Caller
from shared.logic.hours import is_open, next_change, validate_opening_hours
from shared.logic.ids import new_id
from shared.logic.ports import AED_MAP, AED_USABLE, CLAIM, Aed, AedRepository, GeoIndex, Hit
from shared.logic.responders import Page, paginate

STATUSES = ("ok", "faulty", "missing", "in_use", "needs_restock", "expired")
MAX_BBOX_SIDE_DEG = 1.0


# Kept apart from NewAedBody: the logic's own input, free of pydantic (a test keeps the fields the same).
@dataclass(frozen=True)
class AedFields:
    """What a manager may set; ``None`` means "not given" (PATCH) — clearing a text field sends ""."""

    lat: float | None = None
    lng: float | None = None
    name: str | None = None
    address: str | None = None
    placement: str | None = None
    opening_hours: str | None = None
    status: str | None = None
    floor: str | None = None
    indoor: bool | None = None
    access: str | None = None
    contact_phone: str | None = None
    manager_id: str | None = None
    pads_expire_on: date | None = None
    battery_expires_on: date | None = None
    given: frozenset[str] = field(default_factory=frozenset)


# Text fields a PATCH clears with "" (the others refuse null).
CLEARABLE = ("address", "placement", "floor", "contact_phone")
REQUIRED = ("lat", "lng", "name", "opening_hours", "status")


def manages(caller: Caller, aed: Aed) -> bool:
    """An aed_manager acts on the AEDs they manage (``manager_id``), admins on every AED."""
    return "admin" in caller.roles or (aed.manager_id is not None and aed.manager_id == caller.sub)


def managed_aed(repo: AedRepository, caller: Caller, aed_id: str) -> Aed:
    """The AED, if the caller manages it. Every AED is on the public map, so another manager is refused
    (403), not told it is unknown; 404 only for an id that does not exist."""
    aed = repo.get(aed_id)
    if aed is None:
        raise NotFound("AED not found")
    if not manages(caller, aed):
        raise Forbidden("only the AED's manager or an admin may do this")
    return aed


def check_manager_named(caller: Caller, manager_id: str | None) -> None:
    """Only an admin hands an AED to another manager (or to nobody): an aed_manager names themself."""
    if "admin" not in caller.roles and manager_id != caller.sub:
        raise Forbidden("manager_id: only an admin assigns an AED to another manager")


def usable(aed: Aed) -> bool:
    """May a rescue be sent to it (opening hours aside, which are read at search time)?"""
    return aed.status == "ok" and aed.suspended_by is None


def index_aed(geo: GeoIndex, aed: Aed) -> None:
    """Put the AED on the map, and in search only while usable. A runner's claim on the usable item
    survives a re-index (a manager renaming a device must not free it for a second runner)."""
    attributes = {"name": aed.name, "status": aed.status, "opening_hours": aed.opening_hours}
    if aed.placement:
        attributes["placement"] = aed.placement
    if aed.floor:
        attributes["floor"] = aed.floor
    if aed.suspended_by:
        attributes["suspended"] = "reported during a rescue; awaiting its manager"
    geo.put(AED_MAP, aed.aed_id, aed.lat, aed.lng, attributes=attributes)
    if usable(aed):
        geo.put(AED_USABLE, aed.aed_id, aed.lat, aed.lng, attributes=attributes, keep=(CLAIM,))
    else:
        geo.remove(AED_USABLE, aed.aed_id)


def create_aed(
    repo: AedRepository, geo: GeoIndex, fields: AedFields, now: datetime, caller: Caller | None = None
) -> Aed:
    """A new AED, managed by ``fields.manager_id`` or else by its creator. ``caller`` None: the platform
    itself (the demo seed), which names the manager in ``fields``."""
    if fields.lat is None or fields.lng is None or not fields.name or not fields.opening_hours:
        raise ValidationFailed("lat, lng, name and opening_hours are required")
    manager_id = fields.manager_id
    if caller is not None:
        manager_id = manager_id or caller.sub
        check_manager_named(caller, manager_id)
    aed = Aed(
        aed_id=new_id(),
        lat=fields.lat,
        lng=fields.lng,
        name=fields.name,
        address=fields.address or None,
        placement=fields.placement or None,
        opening_hours=validate_opening_hours(fields.opening_hours),
        status=fields.status or "ok",
        created_at=now,
        updated_at=now,
        floor=fields.floor or None,
        indoor=fields.indoor,
        access=fields.access,
        contact_phone=fields.contact_phone or None,
        manager_id=manager_id,
        pads_expire_on=fields.pads_expire_on,
        battery_expires_on=fields.battery_expires_on,
    )
    repo.create(aed)
    index_aed(geo, aed)
    return aed


def patch_aed(
    repo: AedRepository, geo: GeoIndex, caller: Caller, aed_id: str, fields: AedFields, now: datetime
) -> Aed:
    aed = managed_aed(repo, caller, aed_id)
    if "manager_id" in fields.given:
        check_manager_named(caller, fields.manager_id)
    changes: dict[str, Any] = {}
    for name in fields.given:
        value = getattr(fields, name)
        if name in REQUIRED and value is None:
            raise ValidationFailed(f"{name}: may not be null")
        changes[name] = value or None if name in CLEARABLE else value
    if "opening_hours" in changes:
        changes["opening_hours"] = validate_opening_hours(changes["opening_hours"])
    updated = replace(aed, **changes, updated_at=now)
    repo.save(updated, expected_updated_at=aed.updated_at)
    index_aed(geo, updated)
    return updated


def nearby_aeds(
    geo: GeoIndex,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    limit: int,
    next_token: str | None,
    at: datetime,
    time_zone: str,
) -> Page:
    """Usable AEDs (status ok, open at ``at``) nearest first."""
    hits = geo.nearby(AED_USABLE, lat, lng, radius_m, now_epoch=int(at.timestamp()))
    open_hits = [h for h in hits if is_open(h.attributes.get("opening_hours", ""), at, time_zone)]
    return paginate(open_hits, limit, next_token)


def map_state(attributes: Mapping[str, object], at: datetime, time_zone: str) -> dict[str, object]:
    """How the public map marks an AED at ``at``: ``out_of_service`` (faulty, missing, in use, expired,
    or suspended by a report from a rescue), else ``open`` or ``closed`` by its hours; and when that
    changes next (``next_change_at``: when a closed one opens, or an open one closes; None for 24/7)."""
    hours = str(attributes.get("opening_hours", ""))
    if attributes.get("status") != "ok" or attributes.get("suspended"):
        return {"state": "out_of_service", "open_now": False, "next_change_at": None}
    opened = is_open(hours, at, time_zone)
    change = next_change(hours, at, time_zone)
    return {
        "state": "open" if opened else "closed",
        "open_now": opened,
        "next_change_at": change.isoformat() if change else None,
    }


def aeds_in_box(geo: GeoIndex, min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[Hit]:
    if not (min_lng < max_lng and min_lat < max_lat):
        raise ValidationFailed("bbox: must be minLng,minLat,maxLng,maxLat with min < max")
    if max_lng - min_lng > MAX_BBOX_SIDE_DEG or max_lat - min_lat > MAX_BBOX_SIDE_DEG:
        raise ValidationFailed("bbox: at most 1 degree a side")
    return geo.in_box(AED_MAP, min_lng, min_lat, max_lng, max_lat)
