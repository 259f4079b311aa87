"""Districts the cockpit's figures are filtered by: a name and an area (a GeoJSON Polygon or MultiPolygon,
WGS-84, read by the AED coverage's parser, shared.logic.aed_coverage.area_from_geojson). Tens of them: the
list is read whole (docs/cockpit.md, Districts)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.errors import NotFound, ValidationFailed
from shared.logic.aed_coverage import Area, area_from_geojson

DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_NAME = 100
MAX_NOTE = 500


@dataclass(frozen=True)
class District:
    district_id: str
    name: str
    area: dict[str, Any]  # the GeoJSON geometry as given
    updated_at: datetime
    name_en: str | None = None
    note: str | None = None

    @property
    def shape(self) -> Area:
        return area_from_geojson(self.area)

    def shown(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"district_id": self.district_id, "name": self.name, "area": self.area}
        if self.name_en is not None:
            shown["name_en"] = self.name_en
        if self.note is not None:
            shown["note"] = self.note
        return shown


class DistrictStore(Protocol):
    def put(self, district: District) -> None: ...
    def get(self, district_id: str) -> District | None: ...
    def all(self) -> list[District]: ...


def put_district(
    store: DistrictStore,
    district_id: str,
    *,
    name: str,
    area: Mapping[str, Any],
    now: datetime,
    name_en: str | None = None,
    note: str | None = None,
) -> District:
    """Create or redraw a district. The area is validated as the AED coverage validates one (422)."""
    if not DISTRICT_ID.match(district_id):
        raise ValidationFailed("district_id: 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit")
    if not name.strip() or len(name) > MAX_NAME:
        raise ValidationFailed(f"name: 1 to {MAX_NAME} characters")
    if name_en is not None and (not name_en.strip() or len(name_en) > MAX_NAME):
        raise ValidationFailed(f"name_en: 1 to {MAX_NAME} characters")
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed(f"note: at most {MAX_NOTE} characters")
    area_from_geojson(area)  # raises ValidationFailed
    geometry = json.loads(json.dumps(dict(area)))  # a plain copy, as stored
    district = District(district_id, name.strip(), geometry, now, name_en=name_en, note=note)
    store.put(district)
    return district


def list_districts(store: DistrictStore) -> list[District]:
    return sorted(store.all(), key=lambda d: d.district_id)


def district_area(store: DistrictStore, district_id: str | None) -> Area | None:
    """The district's area; None for the whole city (no district given); 404 for an unknown one."""
    if district_id is None:
        return None
    district = store.get(district_id)
    if district is None:
        raise NotFound("district not found")
    return district.shape


def contains(area: Area, lat: float, lng: float) -> bool:
    """Point in the area by the even-odd rule over every ring (so holes are holes), as the coverage's grid
    is cut; a point on an edge may fall either side."""
    if not (area.min_lat <= lat <= area.max_lat and area.min_lng <= lng <= area.max_lng):
        return False
    inside = False
    for polygon in area.polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
    return inside
