"""OpenStreetMap defibrillators as GeoJSON (an Overpass turbo export, or any FeatureCollection whose
features carry OSM tags as properties).

- Only features tagged emergency=defibrillator are read; others are skipped and counted.
- source_id is the OSM id: the feature's ``id`` or its ``@id`` property, e.g. "node/123".
- A Point is the AED's position. A Polygon (an AED mapped as an area, or a way exported as one) is read at
  the mean of its outer ring's corners, which for a cabinet- or room-sized outline is inside it; other
  geometries are rejected: map the AED as a node.
- opening_hours is required and must be valid OSM syntax (an AED whose hours are unknown is never sent
  to a rescue, so it is rejected rather than guessed). indoor=yes/no, access, phone are carried over.
- level is OSM's floor index (0 = ground): level:ref, the floor's own name, is used when present; else
  level 0 → "1", 2 → "3", -1 → "B1".
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cli.registries.records import ImportRecord, RegistryFormatError, RegistryRead, clip, wgs84
from shared.errors import ValidationFailed
from shared.logic.hours import validate_opening_hours

SOURCE = "osm"
ACCESS = ("yes", "customers", "permissive", "private", "no")


def read(path: str | Path, crs: str | None = None) -> RegistryRead:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise RegistryFormatError(f"not GeoJSON: {error.msg} at line {error.lineno}") from error
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise RegistryFormatError("not a GeoJSON FeatureCollection (no features list)")
    result = RegistryRead()
    seen: set[str] = set()
    for number, feature in enumerate(features, start=1):
        result.rows += 1
        if not isinstance(feature, dict):
            result.reject(number, "not a GeoJSON feature")
            continue
        tags = feature.get("properties") or {}
        if not isinstance(tags, dict) or tags.get("emergency") != "defibrillator":
            result.skip("not emergency=defibrillator")
            continue
        record = _record(result, number, feature, tags, crs)
        if record is None:
            continue
        if record.source_id in seen:
            result.skip("duplicate")
            continue
        seen.add(record.source_id)
        result.records.append(record)
    return result


def _record(
    result: RegistryRead, number: int, feature: dict[str, Any], tags: dict[str, Any], crs: str | None
) -> ImportRecord | None:
    osm_id = feature.get("id") or tags.get("@id")
    if not isinstance(osm_id, str | int) or not str(osm_id).strip():
        result.reject(number, "no OSM id")
        return None
    position = _position(feature.get("geometry"))
    if position is None:
        result.reject(number, "geometry not a Point or Polygon")
        return None
    lat, lng = position
    hours = _text(tags, "opening_hours")
    if not hours:
        result.reject(number, "opening_hours missing")
        return None
    try:
        hours = validate_opening_hours(hours)
    except ValidationFailed:
        result.reject(number, "opening_hours not valid")
        return None
    lat, lng = wgs84(lat, lng, crs)
    name = _text(tags, "name") or _text(tags, "operator") or "AED"
    placement = _text(tags, "defibrillator:location") or _text(tags, "description")
    indoor = {"yes": True, "no": False}.get(_text(tags, "indoor") or "")
    access = _text(tags, "access")
    return ImportRecord(
        source_id=str(osm_id).strip(),
        lat=lat,
        lng=lng,
        name=clip(name, 200) or "AED",
        opening_hours=hours,
        address=clip(_address(tags), 500),
        placement=clip(placement, 500),
        floor=level_to_floor(_text(tags, "level:ref"), _text(tags, "level")),
        indoor=indoor,
        access=access if access in ACCESS else None,
        contact_phone=clip(
            _text(tags, "emergency:phone") or _text(tags, "phone") or _text(tags, "contact:phone"), 40
        ),
        city=_text(tags, "addr:city"),
        line=number,
    )


def _text(tags: dict[str, Any], key: str) -> str | None:
    value = tags.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _position(geometry: Any) -> tuple[float, float] | None:
    """(lat, lng) of a Point, or the mean of a Polygon's outer-ring corners; None for anything else."""
    if not isinstance(geometry, dict):
        return None
    coordinates: Any = geometry.get("coordinates")
    try:
        if geometry.get("type") == "Point":
            lng, lat = float(coordinates[0]), float(coordinates[1])
        elif geometry.get("type") == "Polygon":
            ring = coordinates[0]
            corners = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
            lng = sum(float(c[0]) for c in corners) / len(corners)
            lat = sum(float(c[1]) for c in corners) / len(corners)
        else:
            return None
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _address(tags: dict[str, Any]) -> str | None:
    full = _text(tags, "addr:full")
    if full:
        return full
    parts = [_text(tags, f"addr:{k}") for k in ("province", "city", "district", "street", "housenumber")]
    return "".join(p for p in parts if p) or None


def level_to_floor(level_ref: str | None, level: str | None) -> str | None:
    """The floor as people say it. level:ref is that already; level counts from 0 at the ground."""
    if level_ref:
        return clip(level_ref, 20)
    try:
        index = int(level or "")
    except ValueError:
        return None  # "0;1" (several levels), "1.5" (a mezzanine): no single floor
    return str(index + 1) if index >= 0 else f"B{-index}"
