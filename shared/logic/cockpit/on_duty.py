"""Responders on duty now, counted per map cell and shown only where a cell holds at least MIN_COUNT, so
that no volunteer can be located (docs/cockpit.md, Responders on duty).

"On duty" is exactly who dispatch may alert: an item of the responders' geo index whose lease has not ended
(removed on going off duty; shared.logic.responders.update_presence), read with the expiry filter the
search applies, and whose record's presence has not lapsed (the index's lease outlasts it). One bounded
box search over the district's bounding box (at most shared.geo.cover.MAX_QUERIES Queries), the district's
own outline, then the records of those inside (BatchGetItem)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pygeohash

from shared.logic.aed_coverage import Area
from shared.logic.cockpit.districts import contains
from shared.logic.ports import RESPONDER, Hit

# Geohash precision 5: cells of 0.0439 degree of longitude by 0.0439 of latitude, about 4.2 km by 4.9 km at
# Hangzhou's latitude (30 N): a district shows in a handful of cells. Precision 6 (1.06 km by 0.61 km) left
# most cells under 5 even in the demo's dense centre, hiding nearly everyone; at 30,000 on duty a city could
# afford it, but the rule of five matters most where volunteers are few.
PRECISION = 5
MIN_COUNT = 5


class OnDutyIndex(Protocol):
    """shared.dal.geo_index.DynamoGeoIndex: a box search with the search's expiry filter."""

    def in_box(
        self,
        kind: str,
        min_lng: float,
        min_lat: float,
        max_lng: float,
        max_lat: float,
        *,
        now_epoch: int | None = None,
    ) -> list[Hit]: ...


class PresenceRecords(Protocol):
    """shared.dal.responders.DynamoResponders: whose presence has not lapsed."""

    def on_duty(self, responder_ids: Collection[str], now: datetime) -> set[str]: ...


@dataclass(frozen=True)
class Cell:
    geohash: str
    bounds: tuple[float, float, float, float]  # min_lng, min_lat, max_lng, max_lat
    count: int


def cell_bounds(geohash: str) -> tuple[float, float, float, float]:
    centre = pygeohash.decode_exactly(geohash)
    lat, lng, dlat, dlng = centre.latitude, centre.longitude, centre.latitude_error, centre.longitude_error
    return (lng - dlng, lat - dlat, lng + dlng, lat + dlat)


def counted(positions: list[tuple[float, float]]) -> dict[str, Any]:
    """The route's answer for responders at ``positions`` (lat, lng): cells of MIN_COUNT or more only;
    the others counted as ``cells_hidden``; ``total`` only when it is MIN_COUNT or more."""
    counts = Counter(pygeohash.encode(lat, lng, PRECISION) for lat, lng in positions)
    shown = [Cell(g, cell_bounds(g), n) for g, n in sorted(counts.items()) if n >= MIN_COUNT]
    total = len(positions)
    return {
        "precision": PRECISION,
        "min_count": MIN_COUNT,
        "cells": [{"geohash": c.geohash, "bounds": list(c.bounds), "count": c.count} for c in shown],
        "cells_hidden": sum(1 for n in counts.values() if n < MIN_COUNT),
        "total": total if total >= MIN_COUNT else None,
    }


def on_duty(index: OnDutyIndex, records: PresenceRecords, areas: list[Area], now: datetime) -> dict[str, Any]:
    """Those on duty now inside any of ``areas`` (a district; or every district, the whole city), from one
    box search over their bounding box. No area (no district drawn yet): nobody."""
    if not areas:
        return counted([])
    hits = index.in_box(
        RESPONDER,
        min(a.min_lng for a in areas),
        min(a.min_lat for a in areas),
        max(a.max_lng for a in areas),
        max(a.max_lat for a in areas),
        now_epoch=int(now.timestamp()),
    )
    inside = [h for h in hits if any(contains(a, h.lat, h.lng) for a in areas)]
    present = records.on_duty([h.entity_id for h in inside], now)
    return counted([(h.lat, h.lng) for h in inside if h.entity_id in present])
