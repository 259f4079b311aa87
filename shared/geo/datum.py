"""Coordinate datums. AMap/Tencent SDKs answer in GCJ-02; the platform stores WGS-84 only."""

from __future__ import annotations

import eviltransform


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse GCJ-02 by iteration (error well under a metre). Outside China GCJ-02 equals WGS-84."""
    wgs_lat, wgs_lng = eviltransform.gcj2wgs_exact(lat, lng)
    return float(wgs_lat), float(wgs_lng)


def storable(degrees: float) -> float:
    """A coordinate as DynamoDB can hold it: its numbers cannot be smaller in magnitude than 1e-130, so
    anything below 1e-100 degrees (far under a nanometre) is 0."""
    return 0.0 if abs(degrees) < 1e-100 else degrees


def to_wgs84(lat: float, lng: float, crs: str | None) -> tuple[float, float]:
    """Every coordinate the API takes passes here: converted to WGS-84 and made storable."""
    lat, lng = gcj02_to_wgs84(lat, lng) if crs == "gcj02" else (lat, lng)
    return storable(lat), storable(lng)
