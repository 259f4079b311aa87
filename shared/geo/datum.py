"""Coordinate datums. AMap/Tencent SDKs answer in GCJ-02; the platform stores WGS-84 only."""

from __future__ import annotations

import eviltransform


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse GCJ-02 by iteration (error well under a metre). Outside China GCJ-02 equals WGS-84."""
    wgs_lat, wgs_lng = eviltransform.gcj2wgs_exact(lat, lng)
    return float(wgs_lat), float(wgs_lng)


def to_wgs84(lat: float, lng: float, crs: str | None) -> tuple[float, float]:
    return gcj02_to_wgs84(lat, lng) if crs == "gcj02" else (lat, lng)
