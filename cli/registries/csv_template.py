"""The AED import template for Chinese cities (docs/aed-import-template.csv, every column in
docs/aed-import.md): one row per AED, UTF-8 (with or without Excel's BOM), a header row.

Required columns: source_id, name, lat, lng, opening_hours. Optional: address, crs (wgs84 or gcj02, per
row; empty: the --crs option), placement, floor, indoor (yes/no), access, contact_phone, city. Rows whose
source_id starts with EXAMPLE (the template's sample row) are skipped, so importing the template as it is
adds nothing.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from cli.registries.records import ImportRecord, RegistryFormatError, RegistryRead, clip, wgs84
from shared.errors import ValidationFailed
from shared.logic.hours import validate_opening_hours

SOURCE_PREFIX = "csv:"
REQUIRED = ("source_id", "name", "lat", "lng", "opening_hours")
OPTIONAL = ("address", "crs", "placement", "floor", "indoor", "access", "contact_phone", "city")
COLUMNS = (*REQUIRED, *OPTIONAL)
ACCESS = ("yes", "customers", "permissive", "private", "no")
YES, NO = {"yes", "y", "true", "1", "是"}, {"no", "n", "false", "0", "否"}
EXAMPLE_PREFIX = "EXAMPLE"


def read(path: str | Path, crs: str | None = None) -> RegistryRead:
    result = RegistryRead()
    seen: dict[str, int] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise RegistryFormatError(f"not an AED import CSV: no column {', '.join(missing)}")
        reader.fieldnames = header
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            result.rows += 1
            values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
            source_id = values.get("source_id", "")
            if source_id.upper().startswith(EXAMPLE_PREFIX):
                result.skip("example row")
                continue
            record = _record(result, start, values, crs)
            if record is None:
                continue
            if record.source_id in seen:
                result.reject(start, "source_id repeated", f"first on line {seen[record.source_id]}")
                continue
            seen[record.source_id] = start
            result.records.append(record)
    return result


def _record(
    result: RegistryRead, line: int, row: dict[str, str], default_crs: str | None
) -> ImportRecord | None:
    def reject(reason: str, detail: str | None = None) -> None:
        result.reject(line, reason, detail)

    source_id = row.get("source_id", "")
    if not source_id or len(source_id) > 128:
        reject("source_id missing or longer than 128")
        return None
    name = clip(row.get("name"), 200)
    if not name:
        reject("name missing")
        return None
    try:
        lat, lng = float(row.get("lat", "")), float(row.get("lng", ""))
    except ValueError:
        reject("lat/lng not numbers")
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        reject("lat/lng out of range")
        return None
    crs = (row.get("crs") or default_crs or "wgs84").lower()
    if crs not in ("wgs84", "gcj02"):
        reject("crs not wgs84 or gcj02")
        return None
    try:
        hours = validate_opening_hours(row.get("opening_hours", ""))
    except ValidationFailed:
        reject("opening_hours missing or not valid")
        return None
    indoor_text = row.get("indoor", "").lower()
    if indoor_text and indoor_text not in YES | NO:
        reject("indoor not yes or no")
        return None
    access = row.get("access", "").lower() or None
    if access and access not in ACCESS:
        reject("access not one of " + ", ".join(ACCESS))
        return None
    floor = row.get("floor") or None
    if floor and len(floor) > 20:
        reject("floor longer than 20")
        return None
    lat, lng = wgs84(lat, lng, crs)
    return ImportRecord(
        source_id=source_id,
        lat=lat,
        lng=lng,
        name=name,
        opening_hours=hours,
        address=clip(row.get("address"), 500),
        placement=clip(row.get("placement"), 500),
        floor=floor,
        indoor=None if not indoor_text else indoor_text in YES,
        access=access,
        contact_phone=clip(row.get("contact_phone"), 40),
        city=row.get("city") or None,
        line=line,
    )
