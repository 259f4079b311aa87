"""The cockpit's rescue figures computed independently from the raw records, as any API client reads them:
every incident from GET /v1/incidents (both lists, paged) and each one's GET /v1/incidents/{id}/timeline.
Nothing here imports the figures' code: the point-in-polygon test, the period, the medians are written
again, so a page (tests of the browser) or the route (integration tests) can be held against it.

``expected_rescue_figures(base_url, token, from_date, to_date, district_area)`` reads over HTTP with
``requests``; ``expected_from(get, ...)`` takes any ``get(path, query) -> JSON`` (the integration tests
call the handlers without HTTP)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Get = Callable[[str, Mapping[str, Any]], Any]
OUTCOMES = ("rosc", "transported", "deceased", "false_alarm", "cancelled", "expired")


def _at(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _inside(area: Mapping[str, Any], lat: float, lng: float) -> bool:
    """Even-odd over every ring of a GeoJSON Polygon or MultiPolygon."""
    polygons = [area["coordinates"]] if area["type"] == "Polygon" else area["coordinates"]
    inside = False
    for polygon in polygons:
        for ring in polygon:
            for i in range(len(ring) - 1):
                (x1, y1), (x2, y2) = ring[i][:2], ring[i + 1][:2]
                if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
    return inside


def _incidents(get: Get, since: datetime) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for status in ("open", "closed"):
        token = None
        while True:
            query: dict[str, Any] = {"status": status, "since": since.isoformat(), "limit": 100}
            if token:
                query["next_token"] = token
            page = get("/v1/incidents", query)
            found += page["items"]
            token = page.get("next_token")
            if not token:
                break
    return found


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def expected_from(
    get: Get,
    from_date: date,
    to_date: date,
    district_area: Mapping[str, Any] | None,
    time_zone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    zone = ZoneInfo(time_zone)
    start = datetime.combine(from_date, time(), zone)
    after = datetime.combine(to_date + timedelta(days=1), time(), zone)
    chosen = [
        i
        for i in _incidents(get, start)
        if start <= _at(i["created_at"]) < after
        and (district_area is None or _inside(district_area, i["lat"], i["lng"]))
    ]
    figures: dict[str, Any] = {
        "incidents": len(chosen),
        "by_source": {"app": 0, "dispatch": 0, "console": 0},
        "alerted": 0,
        "accepted": 0,
        "unanswered": sum(1 for i in chosen if i["unanswered"]),
        "open": sum(1 for i in chosen if i["status"] != "closed"),
        "outcomes": dict.fromkeys(OUTCOMES, 0),
    }
    times: dict[str, list[float]] = {"first_accept": [], "first_arrival": [], "aed_attached": []}
    for incident in chosen:
        figures["by_source"][incident["source"]] = figures["by_source"].get(incident["source"], 0) + 1
        if incident["status"] == "closed" and incident.get("outcome"):
            figures["outcomes"][incident["outcome"]] += 1
        entries = get(f"/v1/incidents/{incident['incident_id']}/timeline", {})["items"]
        alerted = [_at(e["at"]) for e in entries if e["type"] == "alerted"]
        accepted = [_at(e["at"]) for e in entries if e["type"] == "accepted"]
        figures["alerted"] += len(alerted)
        figures["accepted"] += len(accepted)
        if not alerted:
            continue
        first = min(alerted)
        for name, moments in (
            ("first_accept", accepted),
            ("first_arrival", [_at(e["at"]) for e in entries if e["type"] == "arrived"]),
            ("aed_attached", [_at(e["at"]) for e in entries if e["type"] == "aed_attached"]),
        ):
            if moments:
                times[name].append(max(0.0, (min(moments) - first).total_seconds()))
    figures["acceptance_rate"] = (
        round(figures["accepted"] / figures["alerted"], 4) if figures["alerted"] else None
    )
    figures["median_s"] = {name: _median(values) for name, values in times.items()}
    figures["measured"] = {name: len(values) for name, values in times.items()}
    return figures


def expected_rescue_figures(
    base_url: str,
    token: str,
    from_date: date,
    to_date: date,
    district_area: Mapping[str, Any] | None,
    time_zone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path: str, query: Mapping[str, Any]) -> Any:
        reply = session.get(base_url.rstrip("/") + path, params=dict(query), timeout=30)
        reply.raise_for_status()
        return reply.json()

    return expected_from(get, from_date, to_date, district_area, time_zone)
