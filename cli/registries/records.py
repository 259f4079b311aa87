"""What every registry reader returns: the AEDs it could read, the rows it refused and why, and the rows it
left out on purpose (aircraft, duplicates, the template's example row)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from shared.geo.datum import to_wgs84
from shared.logic.aed_import import RegistryItem


class RegistryFormatError(Exception):
    """The file is not of the format asked for (missing columns, not GeoJSON...): nothing can be read."""


@dataclass(frozen=True)
class ImportRecord(RegistryItem):
    """One AED as POST /v1/aeds/import takes it (a RegistryItem, lat/lng WGS-84), plus where it was read."""

    city: str | None = None  # e.g. 臺北市: for filtering, not sent
    line: int = 0  # the row (line, feature number) it was read from

    def item(self) -> dict[str, Any]:
        """The API item: the RegistryItem's fields only, empty ones left out."""
        values = {f.name: getattr(self, f.name) for f in fields(RegistryItem)}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str  # a category, counted in the summary: "coordinates outside Taiwan"
    detail: str | None = None  # what exactly, for this row


@dataclass
class RegistryRead:
    records: list[ImportRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows: {"aircraft": 163}
    rows: int = 0  # rows (features) in the file; = records + rejected + skipped

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def reject(self, line: int, reason: str, detail: str | None = None) -> None:
        self.rejected.append(Rejected(line, reason, detail))

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(r.reason for r in self.rejected)


def wgs84(lat: float, lng: float, crs: str | None) -> tuple[float, float]:
    """The position as the API stores it; GCJ-02 (AMap, Tencent) is converted by shared.geo.datum."""
    if crs != "gcj02":
        return lat, lng
    lat, lng = to_wgs84(lat, lng, crs)
    return round(lat, 7), round(lng, 7)  # ~1 cm: the conversion's own error is larger than that


def clip(text: str | None, limit: int) -> str | None:
    """Free text within the API's length limit (names 200, addresses and placements 500)."""
    if text is None:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
